package e2e

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// get fetches path from a running daemon with the given Host header.
func (d *daemon) get(t *testing.T, host, path string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", "http://"+d.addr+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestMailboxBelongsToDemo runs the real binary: `serve` with Maildir
// delivery on a loopback listener (a production setup behind a proxy) has
// no mailbox; http.mailbox with a public base_url is refused at start,
// naming the key; `demo` serves the mailbox to 127.0.0.1 and not to a
// request naming another host.
func TestMailboxBelongsToDemo(t *testing.T) {
	t.Run("serve", func(t *testing.T) {
		in := newInstance(t, nil, "PAPERMAIL_BASE_URL=http://127.0.0.1:8080")
		d := in.serve(t)
		if code, _ := d.get(t, "", "/mailbox"); code != http.StatusNotFound {
			t.Errorf("serve without http.mailbox: GET /mailbox = %d, want 404", code)
		}
		resp, err := http.PostForm("http://"+d.addr+"/mailbox/send-now", url.Values{"email": {"x@example.org"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("serve without http.mailbox: POST /mailbox/send-now = %d, want 404", resp.StatusCode)
		}
		d.stop(t)
	})
	t.Run("public base_url refused", func(t *testing.T) {
		in := newInstance(t, nil, "PAPERMAIL_HTTP_MAILBOX=true")
		_, stderr := in.run(true, "serve")
		if !strings.Contains(stderr, "http.mailbox") || !strings.Contains(stderr, "https://papers.example.org") {
			t.Errorf("serve with http.mailbox and a public base_url: stderr %q does not name the key and the URL", stderr)
		}
	})
	t.Run("demo", func(t *testing.T) {
		in := newInstance(t, nil, "PAPERMAIL_BASE_URL=http://127.0.0.1:8080")
		d := in.start(t, "demo")
		code, body := d.get(t, "", "/mailbox")
		if code != http.StatusOK || !strings.Contains(body, "reader@example.org") {
			t.Errorf("demo: GET /mailbox on 127.0.0.1 = %d, want 200 listing the demo digest\n%s", code, body)
		}
		if code, _ := d.get(t, "rebound.attacker.example", "/mailbox"); code != http.StatusNotFound {
			t.Errorf("demo: GET /mailbox for Host rebound.attacker.example = %d, want 404", code)
		}
		d.stop(t)
	})
}
