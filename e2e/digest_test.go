package e2e

import (
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"regexp"
	"strings"
	"testing"

	"github.com/papermail/papermail/internal/smtptest"
	"github.com/papermail/papermail/internal/testutil"
)

// part is one decoded MIME part.
type part struct {
	contentType string
	body        string
}

// parseDigest parses a raw message and checks its structure.
func parseDigest(t *testing.T, raw []byte) (*mail.Message, []part) {
	t.Helper()
	if strings.Contains(strings.ReplaceAll(string(raw), "\r\n", ""), "\n") {
		t.Fatal("message has bare LF line endings")
	}
	for i, line := range strings.Split(string(raw), "\r\n") {
		if len(line) > 998 {
			t.Fatalf("line %d is %d octets", i+1, len(line))
		}
	}
	msg, err := mail.ReadMessage(strings.NewReader(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q: %v", msg.Header.Get("Content-Type"), err)
	}
	var parts []part
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var r io.Reader = p
		if strings.EqualFold(p.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
			r = quotedprintable.NewReader(p)
		}
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		parts = append(parts, part{ct, string(b)})
	}
	if len(parts) != 2 || parts[0].contentType != "text/plain" || parts[1].contentType != "text/html" {
		t.Fatalf("parts %v, want text/plain then text/html", parts)
	}
	return msg, parts
}

// TestDigestEndToEnd is the "done when": ingest the real page, add
// three subscribers with different interests, run the digest, and get three
// well-formed digests on their topics at a real SMTP server; a second run
// the same day sends nothing.
func TestDigestEndToEnd(t *testing.T) {
	srv := smtptest.StartT(t, smtptest.Options{})
	in := newInstance(t, srv)

	out := in.ok("ingest", "--format", "page", testutil.SharedData(t, "papers-page.txt"))
	if !strings.Contains(out, "251 added") && !strings.Contains(out, "251 papers") {
		t.Fatalf("ingest output: %s", out)
	}
	// Flags after the address, and before it.
	in.ok("subscribers", "add", "seg@example.org", "--interests", "semantic segmentation", "--confirmed")
	in.ok("subscribers", "add", "--confirmed", "--interests", "neural machine translation", "mt@example.org")
	in.ok("subscribers", "add", "Moe@Example.org", "--interests", "mixture of experts; sparse gating", "--confirmed")
	in.run(true, "subscribers", "add", "moe@example.org", "--interests", "x", "--confirmed") // duplicate address
	in.run(true, "subscribers", "add", "Eve <eve@example.org>", "--interests", "x", "--confirmed")

	var st struct {
		Papers      int            `json:"papers"`
		Subscribers map[string]int `json:"subscribers"`
		Runs        []struct {
			Date                  string
			Sent, Failed, Skipped int
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(in.ok("status", "--format", "json")), &st); err != nil {
		t.Fatal(err)
	}
	if st.Papers != 251 || st.Subscribers["active"] != 3 {
		t.Fatalf("status %+v", st)
	}

	in.ok("digest")
	if srv.Count() != 3 {
		t.Fatalf("SMTP server received %d messages, want 3", srv.Count())
	}
	topics := map[string]*regexp.Regexp{
		"seg@example.org": regexp.MustCompile(`(?i)segmentation`),
		"mt@example.org":  regexp.MustCompile(`(?i)translation`),
		"moe@example.org": regexp.MustCompile(`(?i)mixture[- ]of[- ]experts|\bMoE\b|experts`),
	}
	for _, m := range srv.Messages() {
		if len(m.To) != 1 {
			t.Fatalf("recipients %v", m.To)
		}
		to := m.To[0]
		msg, parts := parseDigest(t, m.Data)
		h := msg.Header
		if got, _ := mail.ParseAddress(h.Get("To")); got == nil || got.Address != to {
			t.Errorf("%s: To header %q", to, h.Get("To"))
		}
		from, err := mail.ParseAddress(h.Get("From"))
		if err != nil || from.Address != "digest@papers.example.org" {
			t.Errorf("%s: From %q", to, h.Get("From"))
		}
		if _, err := h.Date(); err != nil {
			t.Errorf("%s: Date: %v", to, err)
		}
		if id := h.Get("Message-ID"); !strings.HasSuffix(id, "@papers.example.org>") {
			t.Errorf("%s: Message-ID %q not on the sending domain", to, id)
		}
		if h.Get("Subject") == "" || h.Get("MIME-Version") != "1.0" {
			t.Errorf("%s: Subject/MIME-Version missing", to)
		}
		lu := h.Get("List-Unsubscribe")
		if !strings.HasPrefix(lu, "<https://papers.example.org/unsubscribe/") {
			t.Errorf("%s: List-Unsubscribe %q", to, lu)
		}
		if h.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" || h.Get("List-Id") == "" {
			t.Errorf("%s: one-click headers missing", to)
		}
		text, html := parts[0].body, parts[1].body
		for _, body := range []string{text, html} {
			if !strings.Contains(body, "https://papers.example.org/unsubscribe/") || !strings.Contains(body, "https://papers.example.org/preferences/") {
				t.Errorf("%s: body lacks the unsubscribe or preferences link", to)
			}
		}
		// Every numbered paper in the text part is on the subscriber's topic.
		n := strings.Count(text, "\n    Why: ")
		if n == 0 {
			t.Errorf("%s: no paper says why it was picked", to)
		}
		if c := len(topics[to].FindAllString(text, -1)); c < n {
			t.Errorf("%s: %d papers but only %d mentions of the topic:\n%s", to, n, c, text)
		}
	}

	// A second digest the same day sends nothing.
	in.ok("digest")
	if srv.Count() != 3 {
		t.Fatalf("second digest sent more: %d messages", srv.Count())
	}
	json.Unmarshal([]byte(in.ok("status", "--format", "json")), &st)
	if len(st.Runs) != 1 || st.Runs[0].Sent != 3 {
		t.Fatalf("runs %+v", st.Runs)
	}
	// Preview prints json with id, title, score, matched.
	var prev []struct {
		ID, Title string
		Score     float64
		Matched   []string
	}
	if err := json.Unmarshal([]byte(in.ok("preview", "--interests", "semantic segmentation", "--limit", "5", "--format", "json")), &prev); err != nil {
		t.Fatal(err)
	}
	if len(prev) == 0 || len(prev) > 5 || prev[0].ID == "" || len(prev[0].Matched) == 0 || prev[0].Score <= 0 {
		t.Fatalf("preview %+v", prev)
	}
}
