package e2e

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/papermail/papermail/internal/smtptest"
)

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// TestTypedControlsNeverReachTheTerminal types ESC sequences, BEL, C1
// controls and bidi overrides into the real subscribe form of a running
// daemon, then lists the subscribers the way an operator does, as text
// and as JSON: none of those characters reaches the output, and the
// interests are still there.
func TestTypedControlsNeverReachTheTerminal(t *testing.T) {
	in := newInstance(t, nil, "PAPERMAIL_HTTP_SUBSCRIBE_RATE=0")
	in.ok("subscribers", "add", "first@example.org", "--interests", "speech recognition", "--confirmed")
	d := in.serve(t)
	resp, err := http.Get("http://" + d.addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfRe.FindSubmatch(page)
	if m == nil {
		t.Fatalf("no csrf token on the subscribe page:\n%s", page)
	}
	hostile := "graph \x1b[31mneural\x1b[0m networks\x07; \u202egnp.exe\u202c; \u2066isolated\u2069 \u009b31m retrieval"
	form := url.Values{"csrf": {string(m[1])}, "email": {"typed\u202e@example.org"}, "interests": {hostile}, "timezone": {"UTC"}}
	resp, err = http.PostForm("http://"+d.addr+"/subscribe", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	form.Set("email", "typed@example.org")
	resp, err = http.PostForm("http://"+d.addr+"/subscribe", form)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("subscribe: %d\n%s", resp.StatusCode, body)
	}
	for _, format := range []string{"text", "json"} {
		out := in.ok("subscribers", "list", "--format", format)
		if !strings.Contains(out, "typed@example.org") || !strings.Contains(out, "neural") {
			t.Errorf("list --format %s lacks the typed subscriber:\n%s", format, out)
		}
		for _, bad := range []string{"\x1b", "\x07", "\u202e", "\u202c", "\u2066", "\u2069", "\u009b"} {
			if strings.Contains(out, bad) {
				t.Errorf("list --format %s prints %q raw:\n%q", format, bad, out)
			}
		}
	}
	d.stop(t)
}

// TestFeedServerTextNeverReachesTheTerminal: a feed server answering with
// an error whose reason phrase and body carry terminal escapes and bidi
// overrides: `papermail ingest URL` names the failure on stderr with those
// characters escaped, and nothing raw reaches the terminal.
func TestFeedServerTextNeverReachesTheTerminal(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, "oops \x1b]0;pwned\x07\x1b[2J\u202eexe.gpj\u202c \u009b31m")
	}))
	defer srv.Close()
	in := newInstance(t, nil)
	in.ok("subscribers", "add", "first@example.org", "--interests", "speech recognition", "--confirmed")
	_, stderr := in.run(true, "ingest", srv.URL+"/feed.json")
	if !strings.Contains(stderr, "500") || !strings.Contains(stderr, "oops") {
		t.Errorf("ingest stderr does not name the failure:\n%s", stderr)
	}
	if strings.ContainsAny(stderr, "\x1b\x07\u202e\u202c\u009b") {
		t.Errorf("the feed server's text reached the terminal raw: %q", stderr)
	}
	if out := in.ok("status"); strings.ContainsAny(out, "\x1b\x07\u202e\u202c\u009b") {
		t.Errorf("status prints the feed server's text raw: %q", out)
	}
}

// TestBounceTextNeverReachesTheTerminal: anyone can mail a bounce report
// to the VERP address; its diagnostic text, with terminal escapes and a
// bidi override, is escaped in what `papermail bounces` prints and in the
// subscriber list.
func TestBounceTextNeverReachesTheTerminal(t *testing.T) {
	srv := smtptest.StartT(t, smtptest.Options{})
	in := newInstance(t, srv, "PAPERMAIL_MAIL_VERP=true", "PAPERMAIL_MAIL_RETURN_PATH=bounces@papers.example.org")
	in.listOf(2)
	in.ok("digest")
	var verpAddr, rcpt string
	for _, m := range srv.Messages() {
		if m.To[0] == "reader01@example.org" {
			verpAddr, rcpt = m.From, m.To[0]
		}
	}
	dsn := strings.Replace(dsnFor(verpAddr, rcpt, "whatever@relay"), "Recipient address rejected",
		"Recipient \x1b]0;pwned\x07\x1b[2J\u202eaddress\u202c rejected \u009b31m", 1)
	cmd := exec.Command(binary, "bounces", "-")
	cmd.Env, cmd.Dir = in.env, in.dir
	cmd.Stdin = strings.NewReader(dsn)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "bounced") {
		t.Fatalf("bounces: %v\n%s", err, out)
	}
	t.Logf("bounces:\n%s", out)
	for what, text := range map[string]string{"bounces": string(out), "subscribers list": in.ok("subscribers", "list"),
		"status": in.ok("status")} {
		if strings.ContainsAny(text, "\x1b\x07\u202e\u202c\u009b") {
			t.Errorf("%s prints the report's text raw: %q", what, text)
		}
	}
}
