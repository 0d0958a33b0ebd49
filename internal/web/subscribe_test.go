package web_test

import (
	"encoding/json"
	"errors"
	"html"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/papermail/papermail/internal/config"
	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/store"
	"github.com/papermail/papermail/internal/token"
	"github.com/papermail/papermail/internal/web"
)

func TestSubscribePage(t *testing.T) {
	e := newEnv(t)
	r := e.get("/")
	if r.status != http.StatusOK {
		t.Fatalf("GET /: %d", r.status)
	}
	for _, want := range []string{`<html lang="en">`, `action="/subscribe"`, `name="email"`, `name="interests"`,
		`<label for="email">`, `<label for="interests">`, `<select id="timezone" name="timezone"`,
		`<option value="Europe/Berlin">`, `formaction="/preview"`, web.GoodInterests[0]} {
		if !strings.Contains(r.body, want) {
			t.Errorf("subscribe page lacks %q", want)
		}
	}
	// The inline style and script run only with the response's nonce.
	csp := r.header.Get("Content-Security-Policy")
	n := nonceAttr.FindString(r.body)
	if n == "" || !strings.Contains(csp, "'nonce-"+strings.TrimSuffix(strings.TrimPrefix(n, `nonce="`), `"`)+"'") {
		t.Errorf("nonce %s not in CSP %q", n, csp)
	}
	// Maildir delivery on a loopback address: the page links the mailbox.
	if !strings.Contains(r.body, `href="/mailbox"`) {
		t.Error("subscribe page does not link the mailbox")
	}
}

func TestSubscribeNewAddress(t *testing.T) {
	e := newEnv(t, func(c *config.Config) {
		c.Mail.ConfirmFrom = "papermail confirmations <confirm@papermail.example>"
		c.Mail.ReplyTo = "help@papermail.example"
	})
	r := e.subscribe("  Reader@Example.ORG ", "speculative decoding\ngraph neural networks")
	if r.status != http.StatusOK || !strings.Contains(r.body, "Check your inbox") {
		t.Fatalf("subscribe: %d\n%s", r.status, r.body)
	}
	sub, err := e.st.SubscriberByEmail("reader@example.org")
	if err != nil {
		t.Fatal(err)
	}
	conf := e.confirmation(sub.ID)
	if sub.State != model.StatePending || sub.Source != "web" || sub.Hour != model.HourDefault || conf.Nonce == "" ||
		!conf.SentAt.Equal(testStart) || strings.Join(sub.Interests, "|") != "speculative decoding|graph neural networks" {
		t.Errorf("stored subscriber %+v, confirmation %+v", sub, conf)
	}
	items := e.outboxItems()
	if len(items) != 1 {
		t.Fatalf("outbox holds %d items, want 1", len(items))
	}
	it := items[0]
	m := it.Mail.Message()
	if it.Kind != "confirm" || it.To != sub.Email || it.SubscriberID != sub.ID || m.To != sub.Email ||
		m.From != "papermail confirmations <confirm@papermail.example>" || m.ReplyTo != "help@papermail.example" ||
		!m.AutoSubmitted || m.Bulk || m.ListUnsubscribe != "" || m.Subject == "" || m.HTML == "" {
		t.Errorf("confirmation item %+v message %+v", it, m)
	}
	// The link carries a token for this subscriber that expires in 7 days.
	link := e.confirmURL(it)
	tok := link[strings.LastIndexByte(link, '/')+1:]
	c, err := e.signer.Verify(tok, token.Confirm, conf.Nonce, testStart)
	if err != nil || c.ID != sub.ID || !c.Expires.Equal(testStart.Add(7*24*time.Hour)) {
		t.Errorf("confirm token claims %+v, %v", c, err)
	}
	if _, err := e.signer.Verify(tok, token.Confirm, conf.Nonce, testStart.Add(7*24*time.Hour)); err == nil {
		t.Error("confirm token still valid after 7 days")
	}
}

func TestSubscribeSameAnswerForEveryState(t *testing.T) {
	e := newEnv(t, noRateLimit)
	recent := e.addSubscriber("recent@example.org", model.StatePending)
	e.confirmationSent(recent, testStart.Add(-time.Minute))
	old := e.addSubscriber("old@example.org", model.StatePending)
	e.confirmationSent(old, testStart.Add(-time.Hour))
	e.addSubscriber("active@example.org", model.StateActive)
	e.addSubscriber("paused@example.org", model.StatePaused)
	e.addSubscriber("gone@example.org", model.StateUnsubscribed)
	e.addSubscriber("bounced@example.org", model.StateBounced)

	tests := []struct {
		email string
		mail  bool // a confirmation is queued
		state model.State
	}{
		{"new@example.org", true, model.StatePending},
		{"recent@example.org", false, model.StatePending},
		{"old@example.org", true, model.StatePending},
		{"active@example.org", false, model.StateActive},
		{"paused@example.org", false, model.StatePaused},
		// Until the owner confirms, the opt-out and the bounce stay recorded.
		{"gone@example.org", true, model.StateUnsubscribed},
		{"bounced@example.org", true, model.StateBounced},
	}
	var first response
	for i, tc := range tests {
		before := len(e.outboxItems())
		r := e.subscribe(tc.email, "speech recognition")
		if i == 0 {
			first = r
		}
		if r.status != first.status || normalize(r.body) != normalize(first.body) {
			t.Errorf("%s: answer differs from a new address's: %d vs %d\n%s", tc.email, r.status, first.status, r.body)
		}
		if got := len(e.outboxItems()) - before; got != map[bool]int{true: 1}[tc.mail] {
			t.Errorf("%s: %d confirmation mails queued, want mail=%v", tc.email, got, tc.mail)
		}
		sub, err := e.st.SubscriberByEmail(tc.email)
		if err != nil || sub.State != tc.state {
			t.Errorf("%s: state %q (%v), want %q", tc.email, sub.State, err, tc.state)
		}
	}
	if first.status != http.StatusOK {
		t.Errorf("status %d", first.status)
	}
	// Active subscribers keep their interests: a stranger cannot change them.
	if sub, _ := e.st.SubscriberByEmail("active@example.org"); sub.Interests[0] != "language model inference" {
		t.Errorf("active subscriber's interests changed to %q", sub.Interests)
	}
}

// TestSubscribeKeepsStoredProfile: a subscribe request nobody has
// authenticated, for an address on the list that gets no digests
// (unsubscribed, bounced, pending), changes nothing stored about it. The
// new values wait with the confirmation, its mail and page show them, and
// they apply only when the confirmation is POSTed.
func TestSubscribeKeepsStoredProfile(t *testing.T) {
	for _, state := range []model.State{model.StateUnsubscribed, model.StateBounced, model.StatePending} {
		t.Run(string(state), func(t *testing.T) {
			e := newEnv(t, noRateLimit)
			sub := e.addSubscriber("owner@example.org", state, "speech recognition in noisy rooms")
			e.st.UpdateSubscriber(sub.ID, func(x *model.Subscriber) error {
				x.Timezone = "Europe/Berlin"
				x.Authors, x.Categories, x.CategoryMode = []string{"Old Author"}, []string{"cs.SD"}, "filter"
				x.Library = []model.LibraryEntry{{Title: "Noisy speech", ArxivID: "2101.00001"}}
				return nil
			})
			stored := func() string {
				b, _ := json.Marshal(e.sub(sub.ID))
				return string(b)
			}
			before := stored()
			oldLink := e.path(mustLink(e.links.Confirm(sub.ID, "nonce-owner@example.org", testStart)))

			tok := e.formToken("/", "/subscribe")
			r := e.post("/subscribe", url.Values{"csrf": {tok}, "email": {"owner@example.org"},
				"interests": {"cryptocurrency trading bots"}, "timezone": {"Asia/Tokyo"}, "authors": {"Bengio, Yoshua"}})
			if r.status != http.StatusOK {
				t.Fatalf("subscribe: %d\n%s", r.status, r.body)
			}
			if got := stored(); got != before {
				t.Fatalf("the subscribe request rewrote the stored subscriber:\n%s\n%s", before, got)
			}
			items := e.outboxItems()
			if len(items) != 1 {
				t.Fatalf("%d mails queued, want 1", len(items))
			}
			// The link of an earlier confirmation mail cannot confirm the
			// new values.
			if r := e.get(oldLink); r.status != http.StatusForbidden {
				t.Errorf("earlier link GET: %d", r.status)
			}
			path := e.path(e.confirmURL(items[0]))
			p := e.get(path)
			if p.status != http.StatusOK || !strings.Contains(p.body, "cryptocurrency trading bots") {
				t.Fatalf("confirm page %d:\n%s", p.status, p.body)
			}
			if got := stored(); got != before {
				t.Fatal("GET of the confirm page changed the subscriber")
			}
			if r := e.post(path, url.Values{"csrf": {e.formToken(path, path)}}); r.status != http.StatusOK {
				t.Fatalf("confirm: %d\n%s", r.status, r.body)
			}
			got := e.sub(sub.ID)
			if got.State != model.StateActive || got.Interests[0] != "cryptocurrency trading bots" || got.Timezone != "Asia/Tokyo" {
				t.Errorf("after confirming: %+v", got)
			}
			// The authors typed replace the stored ones; what the form
			// does not offer (categories, library) stays as it was.
			if strings.Join(got.Authors, "|") != "Bengio, Yoshua" || strings.Join(got.Categories, "|") != "cs.SD" ||
				got.CategoryMode != "filter" || len(got.Library) != 1 || got.Library[0].Title != "Noisy speech" {
				t.Errorf("after confirming: authors %q, categories %q (%s), library %v", got.Authors, got.Categories, got.CategoryMode, got.Library)
			}
			if _, err := e.st.Confirmation(sub.ID); !errors.Is(err, store.ErrNoConfirmation) {
				t.Errorf("confirmation kept after use: %v", err)
			}
		})
	}
}

func mustLink(u string, _ time.Time) string { return u }

func TestConfirmationAtMostEvery15Minutes(t *testing.T) {
	e := newEnv(t, noRateLimit)
	for _, step := range []struct {
		after time.Duration
		total int
	}{{0, 1}, {time.Minute, 1}, {13 * time.Minute, 1}, {2 * time.Minute, 2}, {5 * time.Minute, 2}, {15 * time.Minute, 3}} {
		e.advance(step.after)
		if r := e.subscribe("again@example.org", "robot learning"); r.status != http.StatusOK {
			t.Fatalf("subscribe: %d", r.status)
		}
		if n := len(e.outboxItems()); n != step.total {
			t.Fatalf("after %v more: %d confirmation mails, want %d", step.after, n, step.total)
		}
	}
}

func TestSubscribeRateLimit(t *testing.T) {
	e := newEnv(t, func(c *config.Config) { c.HTTP.TrustProxy = true })
	tok := e.formToken("/", "/subscribe")
	post := func(i int, ip string) response {
		return e.post("/subscribe", url.Values{"csrf": {tok}, "email": {"r" + string(rune('a'+i)) + "@example.org"},
			"interests": {"speech"}}, "X-Forwarded-For", ip)
	}
	for i := range config.DefaultSubscribeRate {
		if r := post(i, "192.0.2.1"); r.status != http.StatusOK {
			t.Fatalf("post %d: %d", i+1, r.status)
		}
	}
	r := post(6, "192.0.2.1")
	if r.status != http.StatusTooManyRequests || !strings.Contains(r.body, "Too many requests") || r.header.Get("Retry-After") == "" {
		t.Fatalf("6th post: %d %q\n%s", r.status, r.header.Get("Retry-After"), r.body)
	}
	if _, err := e.st.SubscriberByEmail("rg@example.org"); err == nil {
		t.Error("the refused post was stored")
	}
	if r := post(7, "192.0.2.2"); r.status != http.StatusOK {
		t.Errorf("another client: %d", r.status)
	}
	e.advance(61 * time.Second)
	tok = e.formToken("/", "/subscribe")
	if r := post(8, "192.0.2.1"); r.status != http.StatusOK {
		t.Errorf("after a minute: %d", r.status)
	}
}

func TestSubscribeRateLimitOff(t *testing.T) {
	e := newEnv(t, noRateLimit)
	for i := range 12 {
		if r := e.subscribe("x@example.org", "speech"); r.status != http.StatusOK {
			t.Fatalf("post %d: %d", i+1, r.status)
		}
	}
}

func TestSubscribeRejectsBadInput(t *testing.T) {
	e := newEnv(t, noRateLimit)
	long := strings.Repeat("word ", 50)
	var topics []string
	for i := range 21 {
		topics = append(topics, "topic "+strconv.Itoa(i))
	}
	many := strings.Join(topics, ";")
	tests := []struct {
		name, email, interests, zone, want string
	}{
		{"script email", `<script>alert(1)</script>@example.org`, "speech", "", "Email:"},
		{"display name", `Eve <eve@example.org>`, "speech", "", "Email:"},
		{"two addresses", `a@example.org, b@example.org`, "speech", "", "Email:"},
		{"header injection", "a@example.org\r\nBcc: b@example.org", "speech", "", "Email:"},
		{"no domain dot", "a@localhost", "speech", "", "Email:"},
		{"empty interests", "a@example.org", "  \n ; ", "", "at least one"},
		{"interest too long", "a@example.org", long, "", "too long"},
		{"too many interests", "a@example.org", many, "", "too many"},
		{"punctuation only", "a@example.org", "!!!", "", "no words"},
		{"local zone", "a@example.org", "speech", "Local", "Time zone"},
		{"path zone", "a@example.org", "speech", "../../etc/passwd", "Time zone"},
		{"unknown zone", "a@example.org", "speech", "Mars/Olympus_Mons", "Time zone"},
		{"script interests", "a@example.org", strings.Repeat("<script>alert(1)</script>", 10), "", "too long"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok := e.formToken("/", "/subscribe")
			r := e.post("/subscribe", url.Values{"csrf": {tok}, "email": {tc.email}, "interests": {tc.interests}, "timezone": {tc.zone}})
			if r.status != http.StatusBadRequest || !strings.Contains(r.body, tc.want) || !strings.Contains(r.body, `action="/subscribe"`) {
				t.Fatalf("%d, want 400 with %q and the form:\n%s", r.status, tc.want, r.body)
			}
			if strings.Contains(r.body, "<script>alert") {
				t.Error("input echoed unescaped")
			}
			if n := len(e.outboxItems()); n != 0 {
				t.Errorf("%d mails queued", n)
			}
		})
	}
	if n, _ := e.st.CountSubscribers(); n[model.StatePending] != 0 {
		t.Errorf("bad input stored %d subscribers", n[model.StatePending])
	}
}

func TestSubscribeEscapesInterests(t *testing.T) {
	e := newEnv(t)
	r := e.subscribe("x@example.org", `<script>alert("x")</script>; "><img src=x onerror=alert(1)>`)
	if r.status != http.StatusOK {
		t.Fatalf("%d\n%s", r.status, r.body)
	}
	sub, err := e.st.SubscriberByEmail("x@example.org")
	if err != nil {
		t.Fatal(err)
	}
	// The confirmation page shows the interests escaped.
	link := e.confirmURL(e.outboxItems()[0])
	p := e.get(e.path(link))
	if p.status != http.StatusOK || strings.Contains(p.body, "<script>alert") || strings.Contains(p.body, "<img src=x") ||
		!strings.Contains(p.body, "&lt;script&gt;") {
		t.Errorf("confirm page %d:\n%s", p.status, p.body)
	}
	pp := e.get(e.path(e.links.Preferences(sub.ID)))
	if strings.Contains(pp.body, "<script>alert") || strings.Contains(pp.body, "<img src=x") {
		t.Errorf("preferences page echoes input raw:\n%s", pp.body)
	}
}

func TestPreview(t *testing.T) {
	e := newEnv(t)
	before := e.snapshot()
	r := e.get("/preview?" + url.Values{"email": {"p@example.org"}, "interests": {"speculative decoding"}}.Encode())
	if r.status != http.StatusOK || !strings.Contains(r.body, "What a digest for these interests would hold") ||
		!strings.Contains(r.body, "Faster Speculative Decoding") || !strings.Contains(r.body, `value="p@example.org"`) {
		t.Fatalf("preview %d:\n%s", r.status, r.body)
	}
	// Titles from feeds are escaped.
	r = e.get("/preview?" + url.Values{"interests": {"robot learning from demonstrations"}}.Encode())
	if !strings.Contains(r.body, "Robot Learning from Human Demonstrations &lt;script&gt;") || strings.Contains(r.body, "<script>alert") {
		t.Errorf("preview of a title with markup:\n%s", r.body)
	}
	r = e.get("/preview?" + url.Values{"interests": {""}}.Encode())
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, "at least one") {
		t.Errorf("empty preview: %d", r.status)
	}
	if after := e.snapshot(); after != before {
		t.Errorf("GET /preview changed the store:\n%s\n%s", before, after)
	}
}

// noRateLimit turns the subscribe rate limit off.
func noRateLimit(c *config.Config) { c.HTTP.SubscribeRate = 0 }

// TestPreviewFollowedAuthors: the subscribe page's preview ranks followed
// authors as the digest will, with interests empty or not: the followed
// author's paper is listed as followed whatever its topic; another name
// form of the same person matches, another person with the surname not.
func TestPreviewFollowedAuthors(t *testing.T) {
	e := newEnv(t)
	for _, tt := range []struct {
		name, interests, authors string
		want, absent             []string
	}{
		{"authors only", "", "Franklin, R.", []string{"Graph Neural Networks Predict Molecular Properties", "By R. Franklin, whom you follow"}, nil},
		{"with interests", "speculative decoding", "Knuth, Donald E.", []string{"Faster Speculative Decoding", "Diffusion Models for Long Video Generation", "whom you follow"}, nil},
		{"other person", "", "Benjamin Franklin", nil, []string{"whom you follow", "Graph Neural Networks Predict Molecular Properties"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := e.get("/preview?" + url.Values{"interests": {tt.interests}, "authors": {tt.authors}}.Encode())
			if r.status != http.StatusOK {
				t.Fatalf("preview %d:\n%s", r.status, r.body)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.body, w) {
					t.Errorf("preview lacks %q", w)
				}
			}
			for _, w := range tt.absent {
				if strings.Contains(r.body, w) {
					t.Errorf("preview holds %q", w)
				}
			}
			if !strings.Contains(r.body, html.EscapeString(tt.authors)) {
				t.Errorf("the form lost the authors %q", tt.authors)
			}
		})
	}
	r := e.get("/preview?" + url.Values{"interests": {""}, "authors": {"Franklin"}}.Encode())
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, "author 1") {
		t.Errorf("a surname alone: %d", r.status)
	}
}
