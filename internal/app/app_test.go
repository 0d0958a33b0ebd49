package app

import (
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/papermail/papermail/internal/config"
	"github.com/papermail/papermail/internal/mailer"
	"github.com/papermail/papermail/internal/store"
	"github.com/papermail/papermail/internal/token"
)

func testConfig(t *testing.T) config.Config {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.BaseURL = "https://papers.example.org"
	return cfg
}

// TestBuildHonoursTheConfig: links are signed with the configured secret
// when there is one (else the store's), and the sender is the one the
// configuration names.
func TestBuildHonoursTheConfig(t *testing.T) {
	for _, secret := range []string{"", "a configured secret of enough length, 32+ bytes"} {
		cfg := testConfig(t)
		cfg.Secret = secret
		st, err := OpenStore(cfg, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		p, err := Build(cfg, st, Options{})
		if err != nil {
			t.Fatal(err)
		}
		key := st.Secret()
		if secret != "" {
			key = []byte(secret)
		}
		want, err := token.NewSigner(key)
		if err != nil {
			t.Fatal(err)
		}
		link := p.Links.Preferences(7)
		tok := link[len(link)-len(filepath.Base(link)):]
		if c, err := want.Verify(tok, token.Preferences, "", time.Now()); err != nil || c.ID != 7 {
			t.Errorf("secret %q: link %s does not verify with it: %v", secret, link, err)
		}
		if _, ok := p.Sender.(*mailer.Maildir); !ok {
			t.Errorf("no smtp.host: sender %T, want the Maildir", p.Sender)
		}
		if p.Runner == nil || p.Outbox == nil || p.Subscriptions == nil || p.Engine == nil || p.Web == nil {
			t.Fatalf("parts missing: %+v", p)
		}
		// The web server is built too, and serves its pages.
		ts := httptest.NewServer(p.Web.Handler())
		resp, err := http.Get(ts.URL + "/")
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		ts.Close()
		if err != nil || resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `action="/subscribe"`) {
			t.Errorf("GET / on the built web server: %d %v\n%s", resp.StatusCode, err, body)
		}
	}
	cfg := testConfig(t)
	cfg.SMTP.Host, cfg.SMTP.TLS = "127.0.0.1", "none"
	st, err := OpenStore(cfg, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	p, err := Build(cfg, st, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := p.Sender.(*mailer.SMTP); !ok {
		t.Errorf("smtp.host set: sender %T, want SMTP", p.Sender)
	}
	if c := SMTPConfig(cfg); c.Timeout != config.DefaultSMTPTimeout || c.Connections != config.DefaultConnections {
		t.Errorf("SMTP config %+v does not carry the configuration's defaults", c)
	}
}
