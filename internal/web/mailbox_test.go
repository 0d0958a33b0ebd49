package web_test

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/papermail/papermail/internal/config"
	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/smtptest"
	"github.com/papermail/papermail/internal/web"
)

func TestMailboxOnlyLocal(t *testing.T) {
	smtp := smtptest.StartT(t, smtptest.Options{})
	tests := []struct {
		name    string
		key     bool
		listen  string
		smtp    bool
		enabled bool
	}{
		{"maildir on 127.0.0.1", true, "127.0.0.1:8080", false, true},
		{"maildir on localhost", true, "localhost:8080", false, true},
		{"maildir on ::1", true, "[::1]:8080", false, true},
		// serve with Maildir on loopback behind a proxy: no mailbox
		// unless the operator asked for one.
		{"serve without http.mailbox", false, "127.0.0.1:8080", false, false},
		{"maildir on all addresses", true, ":8080", false, false},
		{"maildir on 0.0.0.0", true, "0.0.0.0:8080", false, false},
		{"maildir on a public address", true, "192.0.2.7:8080", false, false},
		{"smtp on 127.0.0.1", true, "127.0.0.1:8080", true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(c *config.Config) {
				c.HTTP.Mailbox = tc.key
				c.HTTP.Listen = tc.listen
				if tc.smtp {
					c.SMTP.Host, c.SMTP.Port, c.SMTP.TLS = smtp.Host(), smtp.Port(), "none"
				}
			})
			want := http.StatusNotFound
			if tc.enabled {
				want = http.StatusOK
			}
			if r := e.get("/mailbox"); r.status != want {
				t.Errorf("GET /mailbox: %d, want %d", r.status, want)
			}
			if got := strings.Contains(e.get("/").body, `href="/mailbox"`); got != tc.enabled {
				t.Errorf("subscribe page links the mailbox: %v", got)
			}
			if !tc.enabled {
				r := e.post("/mailbox/send-now", url.Values{"csrf": {web.CSRFToken(e.srv, "/mailbox/send-now")}, "email": {"a@example.org"}})
				if r.status != http.StatusNotFound {
					t.Errorf("POST send-now: %d", r.status)
				}
			}
		})
	}
}

// TestMailboxOnlyForLoopbackHost sends real requests to a server that
// serves the mailbox, naming other hosts: a site whose DNS name was
// rebound to 127.0.0.1 (its own name in Host), the public name a proxy
// passes on, or a loopback Host with the headers a proxy adds. Each gets
// the plain 404 page, and no page links the mailbox for them.
func TestMailboxOnlyForLoopbackHost(t *testing.T) {
	e := newEnv(t)
	e.addSubscriber("mb@example.org", model.StateActive)
	sendNow := url.Values{"csrf": {web.CSRFToken(e.srv, "/mailbox/send-now")}, "email": {"mb@example.org"}}
	port := e.ts.Listener.Addr().(*net.TCPAddr).Port
	refused := [][]string{
		{"Host", "attacker.example"},
		{"Host", fmt.Sprintf("attacker.example:%d", port)},
		{"Host", "papers.example.org"},
		{"Host", "127.0.0.1.nip.io"},
		{"Host", "localhost.attacker.example"},
		{"Host", "10.0.0.1:8080"},
		{"X-Forwarded-For", "203.0.113.9"},
		{"Forwarded", "for=203.0.113.9"},
		{"X-Forwarded-Host", "papers.example.org"},
		{"X-Real-IP", "203.0.113.9"},
		{"Via", "1.1 proxy.example"},
		{"X-Forwarded-Proto", "https"},
		{"X-Forwarded-Server", "proxy.example"},
		{"CF-Connecting-IP", "203.0.113.9"},
		{"True-Client-IP", "203.0.113.9"},
	}
	for _, h := range refused {
		for _, p := range []string{"/mailbox", "/mailbox/1.M1P1Q1.host"} {
			if r := e.do("GET", p, nil, h...); r.status != http.StatusNotFound || !strings.Contains(r.body, "Page not found") {
				t.Errorf("GET %s with %s: %q: %d, want the 404 page", p, h[0], h[1], r.status)
			}
		}
		if r := e.do("POST", "/mailbox/send-now", sendNow, h...); r.status != http.StatusNotFound {
			t.Errorf("POST send-now with %s: %q: %d, want 404", h[0], h[1], r.status)
		}
		if r := e.do("GET", "/", nil, h...); strings.Contains(r.body, "/mailbox") {
			t.Errorf("subscribe page for %s: %q links the mailbox", h[0], h[1])
		}
	}
	if names := e.maildirFiles(); len(names) != 0 {
		t.Errorf("refused send-now delivered %d mails", len(names))
	}
	for _, host := range []string{fmt.Sprintf("127.0.0.1:%d", port), fmt.Sprintf("localhost:%d", port), "LOCALHOST", "127.0.0.2", "[::1]:8080"} {
		if r := e.do("GET", "/mailbox", nil, "Host", host); r.status != http.StatusOK {
			t.Errorf("GET /mailbox for Host %q: %d, want 200", host, r.status)
		}
	}
}

func TestMailboxShowsMail(t *testing.T) {
	e := newEnv(t)
	e.subscribe("m@example.org", "speech recognition")
	e.flushOutbox()
	names := e.maildirFiles()
	if len(names) != 1 {
		t.Fatalf("maildir holds %v", names)
	}
	list := e.get("/mailbox")
	if list.status != http.StatusOK || !strings.Contains(list.body, "m@example.org") || !strings.Contains(list.body, `href="/mailbox/`+names[0]+`"`) {
		t.Fatalf("list: %d\n%s", list.status, list.body)
	}
	r := e.get("/mailbox/" + names[0])
	if r.status != http.StatusOK || !strings.Contains(r.body, `<iframe src="/mailbox/`+names[0]+`/html" sandbox=`) ||
		!strings.Contains(r.header.Get("Content-Security-Policy"), "frame-src 'self'") {
		t.Fatalf("mail: %d\n%s", r.status, r.body)
	}
	// The confirmation link is clickable in the text part.
	f, err := os.Open(filepath.Join(e.cfg.MaildirPath(), "new", names[0]))
	if err != nil {
		t.Fatal(err)
	}
	m, err := readMail(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	link := confirmLink.FindString(m.Text)
	if !strings.Contains(r.body, `<a href="`+link+`">`+link+`</a>`) {
		t.Errorf("confirmation link not clickable:\n%s", r.body)
	}
	h := e.get("/mailbox/" + names[0] + "/html")
	csp := h.header.Get("Content-Security-Policy")
	if h.status != http.StatusOK || !strings.HasPrefix(csp, "sandbox") || strings.Contains(csp, "allow-scripts") ||
		!strings.Contains(csp, "frame-ancestors 'self'") || h.header.Get("X-Frame-Options") != "SAMEORIGIN" ||
		!strings.Contains(h.body, "/confirm/") || !strings.HasPrefix(h.body, `<!DOCTYPE html><base target="_blank">`) {
		t.Errorf("html part: %d %q\n%s", h.status, csp, h.body)
	}
}

func TestMailboxRefusesOtherFiles(t *testing.T) {
	e := newEnv(t)
	e.subscribe("m@example.org", "speech recognition")
	e.flushOutbox()
	secret := filepath.Join(e.cfg.DataDir, "secret.txt")
	if err := os.WriteFile(secret, []byte("do not show"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A link planted in the Maildir pointing outside it.
	if err := os.Symlink(secret, filepath.Join(e.cfg.MaildirPath(), "new", "1.M1P1Q1.evil")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(e.cfg.MaildirPath(), "new", "1.M2P2Q2.dir"), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"..", "../../secret.txt", "..%2f..%2fsecret.txt", "%2e%2e", ".hidden",
		"new", "x%00y", "a%5c..%5c..%5csecret.txt", "1.M1P1Q1.evil", "1.M2P2Q2.dir", strings.Repeat("a", 300),
		"1.M1P1Q1.evil/html"} {
		r := e.get("/mailbox/" + name)
		if r.status == http.StatusOK || strings.Contains(r.body, "do not show") {
			t.Errorf("/mailbox/%s: %d\n%s", name, r.status, r.body)
		}
	}
	if list := e.get("/mailbox"); strings.Contains(list.body, "1.M1P1Q1.evil") || strings.Contains(list.body, "1.M2P2Q2.dir") {
		t.Errorf("list shows a link or folder:\n%s", list.body)
	}
}

func TestMailboxSendNow(t *testing.T) {
	e := newEnv(t)
	e.addSubscriber("d@example.org", model.StateActive, "language model inference")
	e.addSubscriber("p@example.org", model.StatePending)
	tok := e.formToken("/mailbox", "/mailbox/send-now")
	if r := e.post("/mailbox/send-now", url.Values{"email": {"d@example.org"}}); r.status != http.StatusForbidden {
		t.Errorf("without CSRF token: %d", r.status)
	}
	if n := len(e.maildirFiles()); n != 0 {
		t.Fatalf("%d mails before sending", n)
	}
	r := e.post("/mailbox/send-now", url.Values{"csrf": {tok}, "email": {"d@example.org"}})
	if r.status != http.StatusOK || !strings.Contains(r.body, "was sent") {
		t.Fatalf("send now: %d\n%s", r.status, r.body)
	}
	names := e.maildirFiles()
	if len(names) != 1 {
		t.Fatalf("maildir holds %v", names)
	}
	page := e.get("/mailbox/" + names[0])
	if !strings.Contains(page.body, "Efficient Attention Kernels") || !strings.Contains(page.body, "/unsubscribe/") {
		t.Errorf("digest page:\n%s", page.body)
	}
	// A second request the same day sends nothing more.
	r = e.post("/mailbox/send-now", url.Values{"csrf": {tok}, "email": {"d@example.org"}})
	if r.status != http.StatusOK || !strings.Contains(r.body, "already had") || len(e.maildirFiles()) != 1 {
		t.Errorf("second send: %d\n%s", r.status, r.body)
	}
	for email, want := range map[string]string{"nobody@example.org": "No subscriber", "p@example.org": "is pending", "<b>@x": "Email:"} {
		r := e.post("/mailbox/send-now", url.Values{"csrf": {tok}, "email": {email}})
		if r.status != http.StatusBadRequest || !strings.Contains(r.body, want) || strings.Contains(r.body, "<b>@x") {
			t.Errorf("%s: %d, want %q", email, r.status, want)
		}
	}
}

// TestConfirmationOverSMTP delivers the confirmation mail to a real SMTP
// server and follows its link.
func TestConfirmationOverSMTP(t *testing.T) {
	smtp := smtptest.StartT(t, smtptest.Options{})
	e := newEnv(t, func(c *config.Config) { c.SMTP.Host, c.SMTP.Port, c.SMTP.TLS = smtp.Host(), smtp.Port(), "none" })
	e.subscribe("s@example.org", "robot learning")
	e.subscribe("s@example.org", "robot learning") // within 15 minutes: no second mail
	e.flushOutbox()
	msgs := smtp.Messages()
	if len(msgs) != 1 || msgs[0].To[0] != "s@example.org" {
		t.Fatalf("SMTP server got %d messages", len(msgs))
	}
	m, err := readMail(bytes.NewReader(msgs[0].Data))
	if err != nil {
		t.Fatal(err)
	}
	head := string(msgs[0].Data[:bytes.Index(msgs[0].Data, []byte("\r\n\r\n"))])
	if !strings.Contains(head, "Auto-Submitted: auto-generated") || strings.Contains(head, "List-Unsubscribe") || strings.Contains(head, "Precedence: bulk") {
		t.Errorf("confirmation headers:\n%s", head)
	}
	link := confirmLink.FindString(m.Text)
	if link == "" {
		t.Fatalf("no link in\n%s", m.Text)
	}
	path := e.path(link)
	if r := e.post(path, url.Values{"csrf": {e.formToken(path, path)}}); r.status != http.StatusOK {
		t.Fatalf("confirm: %d", r.status)
	}
	if sub, _ := e.st.SubscriberByEmail("s@example.org"); sub.State != model.StateActive {
		t.Errorf("state %s", sub.State)
	}
}

// TestFormInputIsCleaned: control characters and bidi overrides typed
// into a query or a form never come back in a page (the form is shown
// again with what was typed).
func TestFormInputIsCleaned(t *testing.T) {
	e := newEnv(t)
	hostile := "graph \x1b[31mneural\x07 networks \u202egnp.exe\u2066x\u2069\u009b"
	r := e.get("/preview?interests=" + url.QueryEscape(hostile) + "&email=" + url.QueryEscape("a\x1b@example.org"))
	if r.status != http.StatusOK || !strings.Contains(r.body, "graph neural networks") {
		t.Fatalf("preview: %d, the cleaned interests are not shown\n%s", r.status, r.body)
	}
	tok := e.formToken("/", "/subscribe")
	p := e.post("/subscribe", url.Values{"csrf": {tok}, "email": {"not an address\x1b"}, "interests": {hostile}})
	for _, page := range []response{r, p} {
		for _, bad := range []string{"\x1b", "\x07", "\u202e", "\u2066", "\u2069", "\u009b"} {
			if strings.Contains(page.body, bad) {
				t.Errorf("page holds %q raw", bad)
			}
		}
	}
}

// TestSubscribeIDNAddress: an address at an internationalized domain is
// accepted by the form and stored in its ASCII (punycode) form.
func TestSubscribeIDNAddress(t *testing.T) {
	e := newEnv(t)
	tok := e.formToken("/", "/subscribe")
	r := e.post("/subscribe", url.Values{"csrf": {tok}, "email": {"user@bücher.example"}, "interests": {"graph neural networks"}, "timezone": {"UTC"}})
	if r.status != http.StatusOK {
		t.Fatalf("subscribe user@bücher.example: %d\n%s", r.status, r.body)
	}
	sub, err := e.st.SubscriberByEmail("user@xn--bcher-kva.example")
	if err != nil || sub.State != model.StatePending {
		t.Errorf("stored subscriber: %+v, %v; want user@xn--bcher-kva.example pending", sub, err)
	}
}
