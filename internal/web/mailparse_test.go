package web

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/papermail/papermail/internal/mimepart"
)

func TestParseMail(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "multipart.eml"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := parseMail(strings.NewReader(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	wantText := "Hello reader – please confirm:\nhttp://127.0.0.1:8080/confirm/abc_DEF-123\nSoft line break done."
	if m.text != wantText {
		t.Errorf("text %q, want %q", m.text, wantText)
	}
	if !strings.Contains(m.html, `Hello <b>reader</b> – <a href="http://127.0.0.1:8080/confirm/abc_DEF-1">`) {
		t.Errorf("html %q", m.html)
	}
	if m.subject != "Confirm your papermail subscription – now" || m.to != "reader@example.org" ||
		!m.date.Equal(time.Date(2026, 3, 10, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("header %+v", m)
	}
	h, err := readHeader(strings.NewReader(string(raw)))
	if err != nil || h.subject != m.subject || h.from != m.from {
		t.Errorf("readHeader %+v %v", h, err)
	}
}

func TestParseMailRefusesBrokenMail(t *testing.T) {
	nested := "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
	for range mimepart.DefaultMaxDepth + 1 {
		nested += "--b\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
	}
	for name, raw := range map[string]string{
		"malformed header": "no colon here\r\n\r\nbody",
		"bad content type": "Content-Type: text/\r\n\r\nbody",
		"no boundary":      "Content-Type: multipart/mixed\r\n\r\nbody",
		"too deep":         nested,
	} {
		if _, err := parseMail(strings.NewReader(raw)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestLinkify(t *testing.T) {
	got := linkify("Open http://a.example/x?y=1&z=2. Or (https://b.example/p), then stop.")
	var links []string
	var joined strings.Builder
	for _, p := range got {
		joined.WriteString(p.Text)
		if p.URL != "" {
			links = append(links, p.URL)
		}
	}
	if strings.Join(links, " ") != "http://a.example/x?y=1&z=2 https://b.example/p" {
		t.Errorf("links %q", links)
	}
	if joined.String() != "Open http://a.example/x?y=1&z=2. Or (https://b.example/p), then stop." {
		t.Errorf("text changed: %q", joined.String())
	}
}

func TestLimitKey(t *testing.T) {
	if limitKey("2001:db8:1:2:3:4:5:6") != limitKey("2001:db8:1:2:ffff::1") {
		t.Error("one IPv6 /64 counts as several clients")
	}
	if limitKey("2001:db8:1:2::1") == limitKey("2001:db8:1:3::1") {
		t.Error("two IPv6 /64 count as one client")
	}
	if limitKey("192.0.2.1") != "192.0.2.1" {
		t.Error("IPv4 key changed")
	}
}

func FuzzParseMail(f *testing.F) {
	raw, err := os.ReadFile(filepath.Join("testdata", "multipart.eml"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(raw))
	f.Add("Subject: =?utf-8?b?w6k=?=\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: base64\r\n\r\n6Q==\r\n")
	f.Add("Content-Type: multipart/alternative; boundary=x\r\n\r\n--x\r\n\r\nplain\r\n--x--\r\n")
	f.Fuzz(func(t *testing.T, s string) {
		m, err := parseMail(strings.NewReader(s))
		if err != nil {
			return
		}
		for _, v := range []string{m.text, m.html, m.subject, m.from, m.to} {
			if !utf8.ValidString(v) {
				t.Errorf("invalid UTF-8 %q", v)
			}
		}
	})
}

func FuzzLinkify(f *testing.F) {
	f.Add("see https://example.org/a?b=c, and http://x.y/z.")
	f.Add("http://")
	f.Fuzz(func(t *testing.T, s string) {
		var b strings.Builder
		for _, p := range linkify(s) {
			b.WriteString(p.Text)
			if p.URL != "" && (p.URL != p.Text || !strings.HasPrefix(p.URL, "http")) {
				t.Errorf("piece %+v", p)
			}
		}
		if b.String() != s {
			t.Errorf("pieces join to %q, want %q", b.String(), s)
		}
	})
}
