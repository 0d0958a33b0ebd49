package web_test

import (
	"context"
	"encoding/json"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/papermail/papermail/internal/app"
	"github.com/papermail/papermail/internal/config"
	"github.com/papermail/papermail/internal/deliverability"
	"github.com/papermail/papermail/internal/digest"
	"github.com/papermail/papermail/internal/links"
	"github.com/papermail/papermail/internal/mailer"
	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/store"
	"github.com/papermail/papermail/internal/subscription"
	"github.com/papermail/papermail/internal/token"
	"github.com/papermail/papermail/internal/web"
)

// testStart is the test clock's start: a day after the fixture papers.
var testStart = time.Date(2026, 3, 10, 8, 0, 0, 0, time.UTC)

// env is a running server on a real store with a Maildir sender.
type env struct {
	t      *testing.T
	cfg    config.Config
	st     *store.Store
	srv    *web.Server
	ts     *httptest.Server
	signer *token.Signer
	links  *links.Builder
	runner *digest.Runner
	outbox *digest.Outbox
	sender digest.Sender
	subs   *subscription.Service

	mu  sync.Mutex
	now time.Time
}

// envOption changes the configuration before the server is built.
type envOption func(*config.Config)

// newEnv starts a server on a fresh store holding the fixture papers;
// mail goes to a Maildir under the data folder unless an option sets an
// SMTP host.
func newEnv(t *testing.T, opts ...envOption) *env {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Digest.Timezone = "UTC"
	cfg.HTTP.Listen = "127.0.0.1:8080"
	cfg.Mail.From = "papermail <digest@papermail.example>"
	// The test server runs locally like demo, which serves the mailbox;
	// tests of a production setup turn it off.
	cfg.HTTP.Mailbox = true
	for _, o := range opts {
		o(&cfg)
	}
	e := &env{t: t, now: testStart}
	// The listener exists before the server, so base_url can name it;
	// the server then runs with the http.Server of HTTPServer.
	e.ts = httptest.NewUnstartedServer(nil)
	// An option may set base_url to a bare path: papermail then sits
	// behind a proxy that strips that path.
	prefix := ""
	if strings.HasPrefix(cfg.BaseURL, "/") {
		prefix = cfg.BaseURL
	}
	cfg.BaseURL = "http://" + e.ts.Listener.Addr().String() + prefix
	e.cfg = cfg
	st, err := app.OpenStore(cfg, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e.st = st
	papers := loadPapers(t)
	if _, err := st.PutPapers(papers, testStart.Add(-12*time.Hour)); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var sender digest.Sender
	if !cfg.UsesMaildir() {
		// Few, quick retries against the tests' SMTP servers.
		sc := app.SMTPConfig(cfg)
		sc.TLS, sc.Connections, sc.MaxAttempts, sc.Timeout, sc.RetryBase = "none", 1, 2, 10*time.Second, 10*time.Millisecond
		if sender, err = mailer.NewSMTP(sc, nil, mailer.Hooks{}); err != nil {
			t.Fatal(err)
		}
	}
	p, err := app.Build(cfg, st, app.Options{Log: log, Sender: sender, Now: e.clock})
	if err != nil {
		t.Fatal(err)
	}
	e.srv, e.signer, e.links, e.runner, e.outbox, e.sender, e.subs = p.Web, p.Signer, p.Links, p.Runner, p.Outbox, p.Sender, p.Subscriptions
	e.ts.Config = e.srv.HTTPServer(e.ts.Listener.Addr().String())
	if prefix != "" {
		e.ts.Config.Handler = http.StripPrefix(prefix, e.ts.Config.Handler)
	}
	e.ts.Start()
	t.Cleanup(e.ts.Close)
	return e
}

func loadPapers(t *testing.T) []model.Paper {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "papers.json"))
	if err != nil {
		t.Fatal(err)
	}
	var papers []model.Paper
	if err := json.Unmarshal(b, &papers); err != nil {
		t.Fatal(err)
	}
	return papers
}

func (e *env) clock() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now
}

func (e *env) advance(d time.Duration) {
	e.mu.Lock()
	e.now = e.now.Add(d)
	e.mu.Unlock()
}

// client does not follow redirects and keeps no cookies.
var client = &http.Client{Timeout: 30 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// response is a finished request.
type response struct {
	status int
	header http.Header
	body   string
}

// do sends a request with optional headers (pairs of name, value).
func (e *env) do(method, path string, form url.Values, headers ...string) response {
	e.t.Helper()
	u := path
	if !strings.HasPrefix(u, "http") {
		u = e.ts.URL + path
	}
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if http.CanonicalHeaderKey(headers[i]) == "Host" {
			req.Host = headers[i+1]
			continue
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

func (e *env) get(path string) response { e.t.Helper(); return e.do("GET", path, nil) }

func (e *env) post(path string, form url.Values, headers ...string) response {
	e.t.Helper()
	return e.do("POST", path, form, headers...)
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// formToken fetches a page and returns the CSRF token of its first form
// posting to action.
func (e *env) formToken(page, action string) string {
	e.t.Helper()
	r := e.get(page)
	if r.status != http.StatusOK {
		e.t.Fatalf("GET %s: %d\n%s", page, r.status, r.body)
	}
	for _, form := range strings.Split(r.body, "<form")[1:] {
		if !strings.Contains(form, `action="`+html.EscapeString(action)+`"`) {
			continue
		}
		if m := csrfInput.FindStringSubmatch(form); m != nil {
			return m[1]
		}
	}
	e.t.Fatalf("GET %s: no form posting to %s in\n%s", page, action, r.body)
	return ""
}

// path strips the server address from a link.
func (e *env) path(link string) string {
	return strings.TrimPrefix(link, e.ts.URL)
}

// addSubscriber stores a subscriber directly, with a confirmation of
// nonce "nonce-" + email waiting for it (as if it had been asked to
// confirm before reaching state).
func (e *env) addSubscriber(email string, state model.State, interests ...string) model.Subscriber {
	e.t.Helper()
	if len(interests) == 0 {
		interests = []string{"language model inference"}
	}
	sub := model.Subscriber{Email: email, Interests: interests, State: state, Created: testStart, Hour: model.HourDefault,
		Frequency: model.FrequencyDaily}
	if state == model.StateActive {
		sub.ConfirmedAt = testStart
	}
	c := model.Confirmation{Nonce: "nonce-" + email, SentAt: testStart.Add(-24 * time.Hour)}
	if err := e.st.Subscribe(&sub, &c, func(*model.Subscriber) (*store.OutboxItem, error) { return nil, nil }); err != nil {
		e.t.Fatal(err)
	}
	return sub
}

// confirmationSent dates the confirmation waiting for sub.
func (e *env) confirmationSent(sub model.Subscriber, at time.Time) {
	e.t.Helper()
	c := e.confirmation(sub.ID)
	c.SentAt = at
	if err := e.st.Subscribe(&sub, &c, func(*model.Subscriber) (*store.OutboxItem, error) { return nil, nil }); err != nil {
		e.t.Fatal(err)
	}
}

// confirmation returns the confirmation waiting for a subscriber.
func (e *env) confirmation(id uint64) model.Confirmation {
	e.t.Helper()
	c, err := e.st.Confirmation(id)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *env) sub(id uint64) model.Subscriber {
	e.t.Helper()
	sub, err := e.st.Subscriber(id)
	if err != nil {
		e.t.Fatal(err)
	}
	return sub
}

// snapshot is everything a request could change, as JSON.
func (e *env) snapshot() string {
	e.t.Helper()
	var parts []any
	err := e.st.ForEachSubscriber(100, func(b []model.Subscriber) error {
		for _, s := range b {
			hist, err := e.st.SentHistory(s.ID)
			if err != nil {
				return err
			}
			conf, _ := e.st.Confirmation(s.ID)
			parts = append(parts, s, hist, conf)
		}
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	n, err := e.st.OutboxLen()
	if err != nil {
		e.t.Fatal(err)
	}
	var clicks []int
	for _, p := range loadPapers(e.t) {
		sp, err := e.st.Paper(p.ID)
		if err != nil {
			e.t.Fatal(err)
		}
		clicks = append(clicks, sp.Clicks)
	}
	b, _ := json.Marshal(map[string]any{"subs": parts, "outbox": n, "clicks": clicks})
	return string(b)
}

// outboxItems returns the queued transactional mails.
func (e *env) outboxItems() []store.OutboxItem {
	e.t.Helper()
	items, err := e.st.DueOutbox(time.Now().Add(24*time.Hour*365), 0)
	if err != nil {
		e.t.Fatal(err)
	}
	return items
}

var confirmLink = regexp.MustCompile(`https?://[^\s"<>]+/confirm/[A-Za-z0-9_-]+`)

// confirmURL finds the confirmation link in a queued confirmation mail.
func (e *env) confirmURL(item store.OutboxItem) string {
	e.t.Helper()
	m := item.Mail.Message()
	u := confirmLink.FindString(m.Text)
	if u == "" {
		e.t.Fatalf("no confirmation link in %q", m.Text)
	}
	return u
}

// subscribe posts the subscribe form as a browser would.
func (e *env) subscribe(email, interests string, headers ...string) response {
	e.t.Helper()
	tok := e.formToken("/", "/subscribe")
	return e.post("/subscribe", url.Values{"csrf": {tok}, "email": {email}, "interests": {interests}}, headers...)
}

var nonceAttr = regexp.MustCompile(`nonce="[^"]*"`)

// normalize blanks the per-response nonces and CSRF tokens of a page.
func normalize(body string) string {
	body = nonceAttr.ReplaceAllString(body, `nonce=""`)
	return csrfInput.ReplaceAllString(body, `name="csrf" value=""`)
}

// flushOutbox delivers the queued transactional mail.
func (e *env) flushOutbox() {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := e.outbox.Flush(ctx); err != nil {
		e.t.Fatal(err)
	}
}

// maildirFiles lists the mail files in the Maildir's new folder.
func (e *env) maildirFiles() []string {
	e.t.Helper()
	entries, err := os.ReadDir(filepath.Join(e.cfg.MaildirPath(), "new"))
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, x := range entries {
		out = append(out, x.Name())
	}
	return out
}

// readMail decodes the text and HTML bodies of a mail.
func readMail(r io.Reader) (deliverability.Bodies, error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		return deliverability.Bodies{}, err
	}
	return deliverability.ReadBodies(raw)
}

var textURL = regexp.MustCompile(`https?://[^\s<>"]+`)

// textURLs are the addresses in a plain text, without the punctuation
// that may follow them in a sentence.
func textURLs(text string) []string {
	var out []string
	for _, u := range textURL.FindAllString(text, -1) {
		out = append(out, strings.TrimRight(u, ".,;:!?)]}'\""))
	}
	return out
}
