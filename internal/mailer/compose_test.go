package mailer

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-msgauth/dkim"
)

func digestMessage() *Message {
	return &Message{
		From:            "Paper Mäil <digest@example.org>",
		ReplyTo:         "Help <help@example.org>",
		To:              "reader@example.net",
		Subject:         "Über — 🚀",
		Text:            "Today's papers\n\n1. Attention is all you need\nhttps://arxiv.org/abs/1706.03762\n",
		HTML:            "<html><body><h1>Today's papers</h1><p>1. <a href=\"https://arxiv.org/abs/1706.03762\">Attention</a></p></body></html>",
		Date:            time.Date(2025, 3, 4, 7, 30, 0, 0, time.UTC),
		ListUnsubscribe: "https://digest.example.org/u/abc123?t=tok",
		ListID:          "papermail digest <digest.example.org>",
		Bulk:            true,
		EntityRefID:     "run-2025-03-04-42",
	}
}

// parse reads raw with net/mail and fails the test on error.
func parse(t *testing.T, raw []byte) *mail.Message {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("net/mail cannot parse the message: %v\n%s", err, raw)
	}
	return m
}

// assertWireFormat checks CRLF line endings and the 998-octet limit.
func assertWireFormat(t *testing.T, raw []byte) {
	t.Helper()
	for i, line := range bytes.Split(raw, []byte("\r\n")) {
		if bytes.ContainsAny(line, "\r\n") {
			t.Fatalf("line %d has a bare CR or LF: %q", i+1, line)
		}
		if len(line) > 998 {
			t.Fatalf("line %d is %d octets long", i+1, len(line))
		}
	}
}

// readPart decodes one quoted-printable MIME part.
func readPart(t *testing.T, p *multipart.Part) string {
	t.Helper()
	if enc := p.Header.Get("Content-Transfer-Encoding"); enc != "quoted-printable" {
		t.Fatalf("part encoding = %q, want quoted-printable", enc)
	}
	b, err := io.ReadAll(quotedprintable.NewReader(p))
	if err != nil {
		t.Fatalf("decode part: %v", err)
	}
	return strings.ReplaceAll(string(b), "\r\n", "\n")
}

func TestComposeStructure(t *testing.T) {
	c, err := NewComposer(nil)
	if err != nil {
		t.Fatal(err)
	}
	m := digestMessage()
	raw, err := c.Compose(m)
	if err != nil {
		t.Fatalf("compose: %v", err)
	}
	assertWireFormat(t, raw)
	pm := parse(t, raw)
	h := pm.Header

	var dec mime.WordDecoder
	subj, err := dec.DecodeHeader(h.Get("Subject"))
	if err != nil || subj != "Über — 🚀" {
		t.Errorf("subject = %q (%v), raw %q", subj, err, h.Get("Subject"))
	}
	if !strings.Contains(h.Get("Subject"), "=?UTF-8?q?") && !strings.Contains(h.Get("Subject"), "=?UTF-8?Q?") {
		t.Errorf("non-ASCII subject is not an encoded-word: %q", h.Get("Subject"))
	}
	from, err := h.AddressList("From")
	if err != nil || len(from) != 1 || from[0].Name != "Paper Mäil" || from[0].Address != "digest@example.org" {
		t.Errorf("From = %v (%v)", from, err)
	}
	if strings.Contains(h.Get("From"), "ä") {
		t.Errorf("From display name is not encoded: %q", h.Get("From"))
	}
	if to, err := h.AddressList("To"); err != nil || to[0].Address != "reader@example.net" {
		t.Errorf("To = %v (%v)", to, err)
	}
	if rt, err := h.AddressList("Reply-To"); err != nil || rt[0].Address != "help@example.org" {
		t.Errorf("Reply-To = %v (%v)", rt, err)
	}
	if d, err := h.Date(); err != nil || !d.Equal(m.Date) {
		t.Errorf("Date = %v (%v)", d, err)
	}
	id := h.Get("Message-ID")
	if !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@example.org>") || id != "<"+m.MessageID+">" {
		t.Errorf("Message-ID = %q, stored %q", id, m.MessageID)
	}
	if host, _ := os.Hostname(); host != "" && host != "example.org" && strings.Contains(id, host) {
		t.Errorf("Message-ID %q leaks the host name %q", id, host)
	}
	for k, want := range map[string]string{
		"MIME-Version":          "1.0",
		"List-Unsubscribe":      "<https://digest.example.org/u/abc123?t=tok>",
		"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
		"List-Id":               "papermail digest <digest.example.org>",
		"Precedence":            "bulk",
		"X-Entity-Ref-Id":       "run-2025-03-04-42",
		"Auto-Submitted":        "",
		"User-Agent":            "",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}

	mt, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type = %q (%v)", h.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(pm.Body, params["boundary"])
	var types, bodies []string
	for {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("next part: %v", err)
		}
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		types = append(types, ct)
		bodies = append(bodies, readPart(t, p))
	}
	if !slices.Equal(types, []string{"text/plain", "text/html"}) {
		t.Fatalf("part order = %v, want text/plain then text/html", types)
	}
	if bodies[0] != m.Text || bodies[1] != m.HTML {
		t.Errorf("bodies do not round-trip:\n%q\n%q", bodies[0], bodies[1])
	}

	// Composing again keeps the stored id: retries send the same message.
	again, err := c.Compose(m)
	if err != nil || parse(t, again).Header.Get("Message-ID") != id {
		t.Errorf("second compose changed the Message-ID (%v)", err)
	}
}

func TestComposeVariants(t *testing.T) {
	c, _ := NewComposer(nil)
	long := "<p>" + strings.Repeat("x", 5000) + "</p>"
	tests := []struct {
		name  string
		edit  func(m *Message)
		check func(t *testing.T, pm *mail.Message, raw []byte)
	}{
		{"long single-line html", func(m *Message) { m.HTML = long }, func(t *testing.T, pm *mail.Message, raw []byte) {
			if !bytes.Contains(raw, []byte("=\r\n")) {
				t.Error("long line was not soft-wrapped")
			}
		}},
		{"text only", func(m *Message) { m.HTML = "" }, func(t *testing.T, pm *mail.Message, _ []byte) {
			if ct := pm.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
				t.Errorf("Content-Type = %q", ct)
			}
		}},
		{"html only", func(m *Message) { m.Text = "" }, func(t *testing.T, pm *mail.Message, _ []byte) {
			if ct := pm.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
				t.Errorf("Content-Type = %q", ct)
			}
		}},
		{"transactional", func(m *Message) {
			m.Bulk, m.AutoSubmitted, m.ListUnsubscribe, m.ListID = false, true, "", ""
		}, func(t *testing.T, pm *mail.Message, _ []byte) {
			h := pm.Header
			if h.Get("Auto-Submitted") != "auto-generated" || h.Get("Precedence") != "" || h.Get("List-Unsubscribe-Post") != "" {
				t.Errorf("headers: Auto-Submitted %q Precedence %q List-Unsubscribe-Post %q",
					h.Get("Auto-Submitted"), h.Get("Precedence"), h.Get("List-Unsubscribe-Post"))
			}
		}},
		{"http unsubscribe for local use", func(m *Message) { m.ListUnsubscribe = "http://localhost:8080/u/x" }, func(t *testing.T, pm *mail.Message, _ []byte) {
			if pm.Header.Get("List-Unsubscribe") != "<http://localhost:8080/u/x>" || pm.Header.Get("List-Unsubscribe-Post") == "" {
				t.Errorf("List-Unsubscribe = %q", pm.Header.Get("List-Unsubscribe"))
			}
		}},
		{"given message id", func(m *Message) { m.MessageID = "<abc.1@example.org>" }, func(t *testing.T, pm *mail.Message, _ []byte) {
			if pm.Header.Get("Message-ID") != "<abc.1@example.org>" {
				t.Errorf("Message-ID = %q", pm.Header.Get("Message-ID"))
			}
		}},
		{"non-ascii list name", func(m *Message) { m.ListID = "Papiere für dich <digest.example.org>" }, func(t *testing.T, pm *mail.Message, _ []byte) {
			var dec mime.WordDecoder
			if got, _ := dec.DecodeHeader(pm.Header.Get("List-Id")); got != "Papiere für dich <digest.example.org>" {
				t.Errorf("List-Id = %q", pm.Header.Get("List-Id"))
			}
		}},
		{"zero date is now", func(m *Message) { m.Date = time.Time{} }, func(t *testing.T, pm *mail.Message, _ []byte) {
			if d, err := pm.Header.Date(); err != nil || time.Since(d) > time.Minute {
				t.Errorf("Date = %v (%v)", d, err)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := digestMessage()
			tc.edit(m)
			raw, err := c.Compose(m)
			if err != nil {
				t.Fatalf("compose: %v", err)
			}
			assertWireFormat(t, raw)
			tc.check(t, parse(t, raw), raw)
		})
	}
}

func TestComposeRefusesBadInput(t *testing.T) {
	c, _ := NewComposer(nil)
	tests := []struct {
		name string
		edit func(m *Message)
		want string
	}{
		{"CRLF in subject", func(m *Message) { m.Subject = "Hi\r\nBcc: victim@example.com" }, "Subject"},
		{"LF in subject", func(m *Message) { m.Subject = "Hi\nBcc: victim@example.com" }, "Subject"},
		{"CRLF in To", func(m *Message) { m.To = "reader@example.net\r\nBcc: victim@example.com" }, "To"},
		{"CR in From", func(m *Message) { m.From = "A <a@example.org>\rBcc: v@example.com" }, "From"},
		{"LF in unsubscribe", func(m *Message) { m.ListUnsubscribe = "https://x.example/u\nBcc: v@x" }, "List-Unsubscribe"},
		{"NUL in entity id", func(m *Message) { m.EntityRefID = "a\x00b" }, "X-Entity-Ref-ID"},
		{"bad From", func(m *Message) { m.From = "not an address" }, "From"},
		{"bad To", func(m *Message) { m.To = "nobody" }, "To"},
		{"no body", func(m *Message) { m.Text, m.HTML = "", "" }, "body"},
		{"mailto unsubscribe", func(m *Message) { m.ListUnsubscribe = "mailto:u@example.org" }, "List-Unsubscribe"},
		{"relative unsubscribe", func(m *Message) { m.ListUnsubscribe = "/u/x" }, "List-Unsubscribe"},
		{"bad list id", func(m *Message) { m.ListID = "no angle brackets" }, "List-Id"},
		{"bad message id", func(m *Message) { m.MessageID = "has space@example.org" }, "Message-ID"},
		{"huge header", func(m *Message) { m.ListUnsubscribe = "https://x.example/" + strings.Repeat("a", 1200) }, "998"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := digestMessage()
			tc.edit(m)
			raw, err := c.Compose(m)
			if err == nil {
				t.Fatalf("accepted:\n%s", raw)
			}
			if !errors.Is(err, ErrInvalidMessage) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q should wrap ErrInvalidMessage and mention %q", err, tc.want)
			}
			if temp, bounce, reason := Classify(err); temp || bounce || reason != "invalid message" {
				t.Errorf("Classify = %v %v %q, want permanent invalid message", temp, bounce, reason)
			}
		})
	}
	if _, err := c.Compose(nil); !errors.Is(err, ErrInvalidMessage) {
		t.Errorf("nil message: %v", err)
	}
}

func TestWriteEML(t *testing.T) {
	c, _ := NewComposer(nil)
	var buf bytes.Buffer
	if err := c.WriteEML(&buf, digestMessage()); err != nil {
		t.Fatal(err)
	}
	if parse(t, buf.Bytes()).Header.Get("To") != "<reader@example.net>" {
		t.Errorf("To = %q", parse(t, buf.Bytes()).Header.Get("To"))
	}
	if err := c.WriteEML(&buf, &Message{}); !errors.Is(err, ErrInvalidMessage) {
		t.Errorf("empty message: %v", err)
	}
}

// writeKey writes a PEM key into a temp dir and returns its path.
func writeKey(t testing.TB, pemBytes []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "dkim.key")
	if err := os.WriteFile(p, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func lookupFor(record string) func(string) ([]string, error) {
	return func(domain string) ([]string, error) {
		if domain == "sel._domainkey.example.org" {
			return []string{record}, nil
		}
		return nil, errors.New("no such record: " + domain)
	}
}

func verify(t *testing.T, raw []byte, record string) *dkim.Verification {
	t.Helper()
	vs, err := dkim.VerifyWithOptions(bytes.NewReader(raw), &dkim.VerifyOptions{LookupTXT: lookupFor(record)})
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if len(vs) != 1 {
		t.Fatalf("%d signatures, want 1", len(vs))
	}
	return vs[0]
}

func TestDKIMSignatureVerifies(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)})
	pkcs1Record, err := DKIMRecordForKey(pkcs1)
	if err != nil {
		t.Fatal(err)
	}
	type keyCase struct {
		name   string
		pem    []byte
		record string
	}
	cases := []keyCase{{"rsa pkcs1", pkcs1, pkcs1Record}}
	for _, alg := range []string{"rsa", "ed25519"} {
		p, rec, err := GenerateDKIMKey(alg)
		if err != nil {
			t.Fatalf("generate %s: %v", alg, err)
		}
		if !strings.HasPrefix(rec, "v=DKIM1; k="+alg+"; p=") {
			t.Errorf("record %q", rec)
		}
		if again, err := DKIMRecordForKey(p); err != nil || again != rec {
			t.Errorf("DKIMRecordForKey = %q, %v; want %q", again, err, rec)
		}
		cases = append(cases, keyCase{alg + " pkcs8", p, rec})
	}
	for _, kc := range cases {
		t.Run(kc.name, func(t *testing.T) {
			c, err := NewComposer(&DKIMConfig{Domain: "example.org", Selector: "sel", PrivateKeyFile: writeKey(t, kc.pem)})
			if err != nil {
				t.Fatalf("NewComposer: %v", err)
			}
			raw, err := c.Compose(digestMessage())
			if err != nil {
				t.Fatalf("compose: %v", err)
			}
			assertWireFormat(t, raw)
			if !bytes.HasPrefix(raw, []byte("DKIM-Signature:")) {
				t.Fatalf("message does not start with the signature:\n%.200s", raw)
			}
			v := verify(t, raw, kc.record)
			if v.Err != nil {
				t.Fatalf("signature does not verify: %v", v.Err)
			}
			if v.Domain != "example.org" {
				t.Errorf("d= %q", v.Domain)
			}
			signed := strings.ToLower(strings.Join(v.HeaderKeys, ":"))
			for _, h := range []string{"from", "to", "subject", "date", "message-id", "list-id", "list-unsubscribe", "list-unsubscribe-post", "mime-version", "content-type"} {
				if !slices.Contains(strings.Split(signed, ":"), h) {
					t.Errorf("h= %q does not cover %s", signed, h)
				}
			}
			for _, tamper := range []struct{ old, new string }{
				{"List-Unsubscribe: <https://digest.example.org/u/abc123?t=tok>", "List-Unsubscribe: <https://evil.example/u>"},
				{"List-Unsubscribe-Post: List-Unsubscribe=One-Click", "List-Unsubscribe-Post: nothing"},
				{"To: <reader@example.net>", "To: <other@example.net>"},
				{"Today's papers", "Todays papers!"},
			} {
				if !bytes.Contains(raw, []byte(tamper.old)) {
					t.Fatalf("message lacks %q", tamper.old)
				}
				bad := bytes.Replace(raw, []byte(tamper.old), []byte(tamper.new), 1)
				if v := verify(t, bad, kc.record); v.Err == nil {
					t.Errorf("changing %q still verifies", tamper.old)
				}
			}
		})
	}
}

func TestDKIMKeyErrors(t *testing.T) {
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKCS8PrivateKey(ecKey)
	tests := []struct {
		name string
		pem  []byte
		want string
	}{
		{"not pem", []byte("hello"), "no PEM block"},
		{"certificate", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{1}}), "not a private key"},
		{"broken pkcs8", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1, 2, 3}}), "parse private key"},
		{"ecdsa", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER}), "unsupported key type"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeKey(t, tc.pem)
			_, err := NewComposer(&DKIMConfig{Domain: "example.org", Selector: "sel", PrivateKeyFile: path})
			if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v should name %s and say %q", err, path, tc.want)
			}
			if _, err := DKIMRecordForKey(tc.pem); err == nil {
				t.Error("DKIMRecordForKey accepted the key")
			}
		})
	}
	missing := filepath.Join(t.TempDir(), "missing.key")
	if _, err := NewComposer(&DKIMConfig{Domain: "example.org", Selector: "s", PrivateKeyFile: missing}); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing file: %v", err)
	}
	if _, err := NewComposer(&DKIMConfig{Domain: "example.org"}); err == nil {
		t.Error("incomplete DKIM config accepted")
	}
	if _, _, err := GenerateDKIMKey("dsa"); err == nil {
		t.Error("unknown algorithm accepted")
	}
}

func FuzzCompose(f *testing.F) {
	f.Add("Über — 🚀", "Paper Mäil", "reader@example.net", "text\nmore", "<p>x</p>")
	f.Add("Hi\r\nBcc: x@example.com", "A", "b@example.net", "t", "")
	f.Add(strings.Repeat("long subject words ", 80), "\"quoted, name\"", "c@example.net", strings.Repeat("y", 3000), "")
	f.Add("=?utf-8?q?x?=", "N\x00", "d@example.net\n", "", "h")
	c, _ := NewComposer(nil)
	f.Fuzz(func(t *testing.T, subject, name, to, text, html string) {
		m := &Message{From: mime.QEncoding.Encode("utf-8", name) + " <from@example.org>", To: to, Subject: subject, Text: text, HTML: html}
		if name == "" {
			m.From = "from@example.org"
		}
		raw, err := c.Compose(m)
		if err != nil {
			if !errors.Is(err, ErrInvalidMessage) {
				t.Fatalf("error does not wrap ErrInvalidMessage: %v", err)
			}
			return
		}
		assertWireFormat(t, raw)
		pm := parse(t, raw)
		if len(pm.Header["Bcc"]) != 0 || len(pm.Header["Subject"]) != 1 || len(pm.Header["To"]) != 1 {
			t.Fatalf("header injection: %v", pm.Header)
		}
		if addr, err := pm.Header.AddressList("To"); err != nil || len(addr) != 1 {
			t.Fatalf("To %q does not parse: %v", pm.Header.Get("To"), err)
		}
		simple := utf8.ValidString(subject) && !strings.Contains(subject, "=?") && !strings.Contains(subject, "  ") &&
			subject == strings.TrimSpace(subject) && !strings.ContainsFunc(subject, func(r rune) bool { return r < ' ' || r == 0x7f })
		if simple {
			var dec mime.WordDecoder
			if got, err := dec.DecodeHeader(pm.Header.Get("Subject")); err != nil || got != subject {
				t.Fatalf("subject %q came back as %q (%v)", subject, got, err)
			}
		}
	})
}

func FuzzDKIMRecordForKey(f *testing.F) {
	p, _, err := GenerateDKIMKey("ed25519")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(p)
	f.Add([]byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"))
	f.Add([]byte("-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		rec, err := DKIMRecordForKey(b)
		if err == nil && !strings.HasPrefix(rec, "v=DKIM1; k=") {
			t.Fatalf("record %q", rec)
		}
	})
}
