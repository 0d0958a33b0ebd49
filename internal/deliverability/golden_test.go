package deliverability

import (
	"bytes"
	"flag"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/papermail/papermail/internal/model"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// goldenNow is the fixed clock of the golden messages.
var goldenNow = time.Date(2026, 3, 2, 7, 0, 0, 0, time.UTC)

// goldenInterests put a paper with a non-ASCII title first, so the
// subject needs encoded-words.
var goldenInterests = []string{"private fine-tuning of language models", "weather forecasting"}

// TestGoldenDigest composes a whole digest through the digest runner into
// the Maildir (sample papers, fixed clock and secret, Ed25519 DKIM key)
// and compares it, volatile parts masked, with testdata/digest.eml.golden.
// It checks the structure a receiving server and a mail client rely on
// and that the DKIM signature verifies, and fails once a signed part
// changes.
func TestGoldenDigest(t *testing.T) {
	in, record := signedInstance(t, "ed25519", Options{Now: goldenNow, Secret: testSecret})
	sub, err := in.AddReader("reader@example.org", goldenInterests)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := in.Digest(testCtx(t, time.Minute), sub)
	if err != nil {
		t.Fatal(err)
	}
	checkLines(t, raw)
	h := checkStructure(t, raw)
	for name, want := range map[string]string{
		"From":                  `"Papermail" <digest@papers.example.org>`,
		"To":                    "<reader@example.org>",
		"List-Id":               "papermail digest <digest.papers.example.org>",
		"List-Unsubscribe":      "<" + in.Links.Unsubscribe(sub.ID) + ">",
		"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
		"Precedence":            "bulk",
		"Auto-Submitted":        "",
	} {
		if got := h.Get(name); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	subject := checkSubject(t, h, "Your papers for Mon 2 Mar: Private Fine-Tuning à la Carte")

	vs := verifyDKIM(t, raw, record)
	if len(vs) != 1 || vs[0].Err != nil || vs[0].Domain != testDomain {
		t.Fatalf("DKIM: %d signatures, first %+v; want one valid signature of %s", len(vs), first(vs), testDomain)
	}
	for _, k := range []string{"From", "To", "Subject", "Date", "Message-ID", "List-Id", "List-Unsubscribe", "List-Unsubscribe-Post", "MIME-Version", "Content-Type"} {
		if !contains(vs[0].HeaderKeys, k) {
			t.Errorf("DKIM h= %v does not cover %s", vs[0].HeaderKeys, k)
		}
	}
	// Any change to a signed header or the body breaks the signature.
	for _, c := range []struct{ name, old, new string }{
		{"subject", "Subject:\r\n =?UTF-8?q?Your_papers", "Subject:\r\n =?UTF-8?q?Your_Papers"},
		{"list-unsubscribe", "List-Unsubscribe: <https://", "List-Unsubscribe: <http://"},
		{"list-unsubscribe-post", "List-Unsubscribe-Post: List-Unsubscribe=One-Click", "List-Unsubscribe-Post: List-Unsubscribe=None"},
		{"to", "To: <reader@example.org>", "To: <someone@example.org>"},
		{"body", "    Paper:\r\n", "    Paper;\r\n"},
	} {
		changed := bytes.Replace(raw, []byte(c.old), []byte(c.new), 1)
		if bytes.Equal(changed, raw) {
			t.Errorf("tamper %s: %q not found in the message", c.name, c.old)
			continue
		}
		if vs := verifyDKIM(t, changed, record); len(vs) != 1 || vs[0].Err == nil {
			t.Errorf("DKIM still verifies after changing the %s", c.name)
		}
	}
	if t.Failed() {
		t.Logf("subject %q; message:\n%s", subject, raw)
	}
	golden(t, "digest.eml", normalize(t, raw))
}

// TestGoldenConfirmation composes a confirmation mail the way the
// subscribe form queues it (outbox, then the Maildir) and compares it with
// testdata/confirm.eml.golden, its random token masked.
func TestGoldenConfirmation(t *testing.T) {
	in, record := signedInstance(t, "ed25519", Options{Now: goldenNow, Secret: testSecret})
	sub, raw, err := in.Confirmation(testCtx(t, time.Minute), "new.reader@example.org", []string{"speech recognition", "Bayesian optimisation"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := in.Store.Confirmation(sub.ID); sub.State != model.StatePending || err != nil {
		t.Fatalf("subscriber after queuing the confirmation: %+v", sub)
	}
	checkLines(t, raw)
	h := checkStructure(t, raw)
	for name, want := range map[string]string{
		"From":                  `"Papermail" <digest@papers.example.org>`,
		"Auto-Submitted":        "auto-generated",
		"List-Unsubscribe":      "",
		"List-Unsubscribe-Post": "",
		"Precedence":            "",
	} {
		if got := h.Get(name); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	checkSubject(t, h, "Confirm your papermail subscription")
	confirm := in.ConfirmURL(sub)
	b, err := ReadBodies(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.Text, "\n"+confirm+"\n") || !strings.Contains(b.HTML, `href="`+confirm+`"`) {
		t.Errorf("the confirmation link %s is not in both parts", confirm)
	}
	vs := verifyDKIM(t, raw, record)
	if len(vs) != 1 || vs[0].Err != nil {
		t.Fatalf("DKIM: %d signatures, first %+v; want one valid signature", len(vs), first(vs))
	}
	tok := confirm[strings.LastIndexByte(confirm, '/')+1:]
	golden(t, "confirm.eml", normalize(t, raw, tok))
}

// checkStructure checks the DKIM-Signature in front, MIME-Version, Date,
// the Message-ID domain and a multipart/alternative of exactly a
// text/plain then a text/html part, both UTF-8 quoted-printable, and
// returns the header.
func checkStructure(t *testing.T, raw []byte) mail.Header {
	t.Helper()
	if !bytes.HasPrefix(raw, []byte("DKIM-Signature: ")) {
		t.Error("the message does not start with its DKIM-Signature")
	}
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("message does not parse: %v", err)
	}
	if v := m.Header.Get("MIME-Version"); v != "1.0" {
		t.Errorf("MIME-Version %q", v)
	}
	if _, err := m.Header.Date(); err != nil {
		t.Errorf("Date: %v", err)
	}
	if id := m.Header.Get("Message-ID"); !regexp.MustCompile(`^<[0-9a-f]{32}@papers\.example\.org>$`).MatchString(id) {
		t.Errorf("Message-ID %q is not a random id on the From domain", id)
	}
	if id := m.Header.Get("X-Entity-Ref-ID"); id == "" {
		t.Error("no X-Entity-Ref-ID")
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" || params["boundary"] == "" {
		t.Fatalf("Content-Type %q (%v), want multipart/alternative with a boundary", m.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	var types []string
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("MIME part %d: %v", len(types)+1, err)
		}
		ct := p.Header.Get("Content-Type")
		// multipart.Reader decodes quoted-printable and drops the header.
		if _, ok := p.Header["Content-Transfer-Encoding"]; ok {
			t.Errorf("part %s is not quoted-printable: %s", ct, p.Header.Get("Content-Transfer-Encoding"))
		}
		body, err := io.ReadAll(p)
		if err != nil || len(body) == 0 {
			t.Errorf("part %s: %d bytes, %v", ct, len(body), err)
		}
		types = append(types, ct)
	}
	if want := []string{"text/plain; charset=UTF-8", "text/html; charset=UTF-8"}; strings.Join(types, ",") != strings.Join(want, ",") {
		t.Errorf("parts %q, want %q (text first, then HTML)", types, want)
	}
	return m.Header
}

// checkSubject checks that the raw Subject is ASCII (encoded-words where
// needed) and that it decodes to a text starting with want.
func checkSubject(t *testing.T, h mail.Header, want string) string {
	t.Helper()
	rawSubj := h.Get("Subject")
	for _, r := range rawSubj {
		if r > 0x7e {
			t.Errorf("raw Subject has a non-ASCII character: %q", rawSubj)
			break
		}
	}
	if strings.ContainsFunc(want, func(r rune) bool { return r > 0x7e }) && !strings.Contains(rawSubj, "=?UTF-8?") {
		t.Errorf("Subject %q has no encoded-word although its text is not ASCII", rawSubj)
	}
	s, err := new(mime.WordDecoder).DecodeHeader(rawSubj)
	if err != nil {
		t.Fatalf("Subject %q: %v", rawSubj, err)
	}
	if !strings.HasPrefix(s, want) {
		t.Errorf("Subject %q, want it to start with %q", s, want)
	}
	return s
}

// normalize masks what changes from run to run: the order of the header
// fields (sorted by name), Date, Message-ID (its
// domain stays), X-Entity-Ref-ID, the DKIM b=, bh= and t= values, the
// MIME boundary and each secret (which may be cut by quoted-printable soft
// line breaks; the mask keeps its length, so lines stay as they were).
// Line ends become LF.
func normalize(t *testing.T, raw []byte, secrets ...string) string {
	t.Helper()
	head, body, ok := strings.Cut(string(raw), "\r\n\r\n")
	if !ok {
		t.Fatal("message has no blank line after the header")
	}
	var fields []string
	for _, line := range strings.Split(head, "\r\n") {
		if n := len(fields); n > 0 && (strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t")) {
			fields[n-1] += "\r\n" + line
		} else {
			fields = append(fields, line)
		}
	}
	var boundary string
	for i, f := range fields {
		name, value, _ := strings.Cut(f, ":")
		switch strings.ToLower(name) {
		case "date":
			fields[i] = name + ": <date>"
		case "x-entity-ref-id":
			fields[i] = name + ": <entity-ref-id>"
		case "message-id":
			fields[i] = name + ": <message-id@" + strings.TrimSuffix(value[strings.LastIndexByte(value, '@')+1:], ">") + ">"
		case "dkim-signature":
			var tags []string
			for _, tag := range strings.Split(unfold(value), ";") {
				k, v, _ := strings.Cut(strings.TrimSpace(tag), "=")
				if k = strings.TrimSpace(k); k == "" {
					continue
				}
				if k == "b" || k == "bh" || k == "t" {
					v = "<" + k + ">"
				}
				tags = append(tags, k+"="+strings.Join(strings.Fields(v), ""))
			}
			fields[i] = name + ": " + strings.Join(tags, "; ")
		case "content-type":
			if _, params, err := mime.ParseMediaType(unfold(value)); err == nil {
				boundary = params["boundary"]
			}
		}
	}
	// go-mail writes preformatted fields (List-*, X-Entity-Ref-ID,
	// Auto-Submitted) in map order; compare the fields in name order.
	slices.SortStableFunc(fields, func(a, b string) int {
		return strings.Compare(strings.ToLower(a[:strings.IndexByte(a+":", ':')]), strings.ToLower(b[:strings.IndexByte(b+":", ':')]))
	})
	out := strings.Join(fields, "\r\n") + "\r\n\r\n" + body
	if boundary != "" {
		out = strings.ReplaceAll(out, boundary, "BOUNDARY")
	}
	for _, s := range secrets {
		out = mask(out, s)
	}
	return strings.ReplaceAll(out, "\r\n", "\n")
}

// mask replaces every occurrence of secret in s, also one cut by "=\r\n"
// soft line breaks, with as many X, keeping the soft breaks.
func mask(s, secret string) string {
	if secret == "" {
		return s
	}
	parts := make([]string, 0, len(secret))
	for _, r := range secret {
		parts = append(parts, regexp.QuoteMeta(string(r)))
	}
	re := regexp.MustCompile(strings.Join(parts, `(?:=\r\n)?`))
	return re.ReplaceAllStringFunc(s, func(m string) string {
		b := []byte(m)
		for i := 0; i < len(b); i++ {
			if b[i] == '=' && i+2 < len(b) && b[i+1] == '\r' && b[i+2] == '\n' {
				i += 2
				continue
			}
			b[i] = 'X'
		}
		return string(b)
	})
}

func unfold(s string) string {
	return strings.NewReplacer("\r\n", "", "\n", "").Replace(s)
}

// golden compares got with testdata/name.golden, or writes it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update to write it)", err, t.Name())
	}
	if got == string(want) {
		return
	}
	g, w := strings.Split(got, "\n"), strings.Split(string(want), "\n")
	i := 0
	for i < len(g) && i < len(w) && g[i] == w[i] {
		i++
	}
	from, to := max(i-3, 0), i+4
	t.Errorf("%s differs from the composed message at line %d (go test -run %s -update rewrites it after review)\n--- golden:\n%s\n--- got:\n%s",
		path, i+1, t.Name(), strings.Join(w[from:min(to, len(w))], "\n"), strings.Join(g[from:min(to, len(g))], "\n"))
}

// first returns the first verification or nil.
func first[T any](s []*T) *T {
	if len(s) == 0 {
		return nil
	}
	return s[0]
}
