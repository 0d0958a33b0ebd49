package mailer

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"net/mail"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-msgauth/dkim"
)

// maxLine is the RFC 5322 limit for a line without its CRLF.
const maxLine = 998

// Composer renders Messages to RFC 5322 bytes and signs them with DKIM when
// configured. It is safe for concurrent use.
type Composer struct {
	dkim *dkim.SignOptions // nil: no signing
	// from, replyTo and listID keep the header made from the last From,
	// Reply-To and List-Id value: a run composes every message with the
	// same ones, so they are parsed and encoded once, not per message.
	from, replyTo, listID atomic.Pointer[derived]
}

// derived is the header value out made from the field value in (and,
// for From, the address's domain).
type derived struct{ in, out, domain string }

// derive returns the header made from v by build, reusing the last one
// kept in p when it was made from the same v. Errors are not kept.
func derive(p *atomic.Pointer[derived], v string, build func(string) (*derived, error)) (*derived, error) {
	if d := p.Load(); d != nil && d.in == v {
		return d, nil
	}
	d, err := build(v)
	if err != nil {
		return nil, err
	}
	d.in = v
	p.Store(d)
	return d, nil
}

// fromHeader parses a From value into its header and domain.
func fromHeader(v string) (*derived, error) {
	from, err := mail.ParseAddress(v)
	if err != nil {
		return nil, fmt.Errorf("%w: From %q: %v", ErrInvalidMessage, v, err)
	}
	d := &derived{out: from.String(), domain: domainOf(from.Address)}
	if d.domain == "" {
		return nil, fmt.Errorf("%w: From %q has no domain", ErrInvalidMessage, v)
	}
	return d, nil
}

// replyToHeader parses a Reply-To value into its header.
func replyToHeader(v string) (*derived, error) {
	a, err := mail.ParseAddress(v)
	if err != nil {
		return nil, fmt.Errorf("%w: Reply-To %q: %v", ErrInvalidMessage, v, err)
	}
	return &derived{out: a.String()}, nil
}

// listIDHeader formats a List-Id value (see formatListID).
func listIDHeader(v string) (*derived, error) {
	id, err := formatListID(v)
	if err != nil {
		return nil, err
	}
	return &derived{out: id}, nil
}

// NewComposer loads and checks the DKIM key; d == nil disables signing.
func NewComposer(d *DKIMConfig) (*Composer, error) {
	if d == nil {
		return &Composer{}, nil
	}
	if d.Domain == "" || d.Selector == "" || d.PrivateKeyFile == "" {
		return nil, fmt.Errorf("mailer: DKIM needs domain, selector and private key file (have domain %q, selector %q, key %q)",
			d.Domain, d.Selector, d.PrivateKeyFile)
	}
	signer, err := loadDKIMKey(d.PrivateKeyFile)
	if err != nil {
		return nil, err
	}
	return &Composer{dkim: &dkim.SignOptions{
		Domain:                 d.Domain,
		Selector:               d.Selector,
		Signer:                 signer,
		HeaderCanonicalization: dkim.CanonicalizationRelaxed,
		BodyCanonicalization:   dkim.CanonicalizationRelaxed,
	}}, nil
}

// WriteEML composes m and writes it to w.
func (c *Composer) WriteEML(w io.Writer, m *Message) error {
	b, err := c.Compose(m)
	if err != nil {
		return err
	}
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("mailer: write message: %w", err)
	}
	return nil
}

// header appends "name: value" and CRLF.
func header(b []byte, name, value string) []byte {
	b = append(b, name...)
	b = append(b, ": "...)
	b = append(b, value...)
	return append(b, "\r\n"...)
}

// appendSubject appends the Subject header. A subject that is not plain
// ASCII becomes encoded-words (RFC 2047), each on a folded line of its
// own; a plain one is folded at spaces so that lines stay near 78
// characters.
func appendSubject(b []byte, subject string) []byte {
	v := mime.QEncoding.Encode("UTF-8", subject)
	b = append(b, "Subject:"...)
	if v != subject {
		for _, w := range strings.Split(v, " ") {
			b = append(b, "\r\n "...)
			b = append(b, w...)
		}
		return append(b, "\r\n"...)
	}
	col := len("Subject:")
	for i, w := range strings.Split(v, " ") {
		if i > 0 && col+1+len(w) > 78 {
			b = append(b, "\r\n"...)
			col = 0
		}
		b = append(b, ' ')
		b = append(b, w...)
		col += 1 + len(w)
	}
	return append(b, "\r\n"...)
}

// appendPart appends the headers and the quoted-printable body of a text
// part of type typ.
func appendPart(b []byte, typ, body string) []byte {
	b = append(b, "Content-Transfer-Encoding: quoted-printable\r\nContent-Type: "...)
	b = append(b, typ...)
	b = append(b, "; charset=UTF-8\r\n\r\n"...)
	return appendQP(b, body)
}

// newBoundary returns a random multipart boundary.
func newBoundary() string {
	var r [24]byte
	_, _ = rand.Read(r[:])
	return hex.EncodeToString(r[:])
}

// Compose renders m: CRLF line endings, no line over 998 octets,
// MIME-Version, Date, Message-ID, encoded-words for non-ASCII headers,
// quoted-printable bodies, multipart/alternative with the text part first,
// then the DKIM signature when configured. It fills in m.Date and
// m.MessageID when they are empty. Field values with CR, LF or NUL are
// refused (header injection) with an error wrapping ErrInvalidMessage.
func (c *Composer) Compose(m *Message) ([]byte, error) {
	if m == nil {
		return nil, fmt.Errorf("%w: nil message", ErrInvalidMessage)
	}
	if err := checkFields(m); err != nil {
		return nil, err
	}
	from, err := derive(&c.from, m.From, fromHeader)
	if err != nil {
		return nil, err
	}
	to, err := mail.ParseAddress(m.To)
	if err != nil {
		return nil, fmt.Errorf("%w: To %q: %v", ErrInvalidMessage, m.To, err)
	}
	if m.Text == "" && m.HTML == "" {
		return nil, fmt.Errorf("%w: no text or HTML body", ErrInvalidMessage)
	}

	if m.Date.IsZero() {
		m.Date = time.Now()
	}
	if m.MessageID == "" {
		m.MessageID = newMessageID(from.domain)
	}
	var replyTo *derived
	if m.ReplyTo != "" {
		if replyTo, err = derive(&c.replyTo, m.ReplyTo, replyToHeader); err != nil {
			return nil, err
		}
	}
	listID := ""
	if m.ListID != "" {
		d, err := derive(&c.listID, m.ListID, listIDHeader)
		if err != nil {
			return nil, err
		}
		listID = d.out
	}

	need := 2048 + len(m.Text) + len(m.Text)/8 + len(m.HTML) + len(m.HTML)/4
	var b []byte
	if p, _ := composed.Get().(*[]byte); p != nil && cap(*p) >= need {
		b = (*p)[:0]
	} else {
		b = make([]byte, 0, need)
	}
	b = header(b, "From", from.out)
	b = header(b, "To", (&mail.Address{Address: to.Address}).String())
	var signed []string
	if replyTo != nil {
		b = header(b, "Reply-To", replyTo.out)
		signed = append(signed, "Reply-To")
	}
	b = appendSubject(b, m.Subject)
	b = header(b, "Date", m.Date.Format(time.RFC1123Z))
	b = header(b, "Message-ID", "<"+m.MessageID+">")
	b = header(b, "MIME-Version", "1.0")
	if listID != "" {
		b = header(b, "List-Id", listID)
		signed = append(signed, "List-Id")
	}
	if m.ListUnsubscribe != "" {
		// RFC 8058 one-click unsubscribe (https, or http for local use).
		b = header(b, "List-Unsubscribe", "<"+m.ListUnsubscribe+">")
		b = header(b, "List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
		signed = append(signed, "List-Unsubscribe", "List-Unsubscribe-Post")
	}
	if m.Bulk {
		b = header(b, "Precedence", "bulk")
		b = header(b, "X-Auto-Response-Suppress", "All")
	}
	if m.AutoSubmitted {
		b = header(b, "Auto-Submitted", "auto-generated")
	}
	if m.EntityRefID != "" {
		b = header(b, "X-Entity-Ref-ID", m.EntityRefID)
	}
	// The bodies are quoted-printable, lines of at most 76 octets ending
	// in CRLF: only the header fields can be too long.
	if err := checkLines(b); err != nil {
		return nil, err
	}
	switch {
	case m.Text != "" && m.HTML != "":
		boundary := newBoundary()
		b = append(b, "Content-Type: multipart/alternative;\r\n boundary="...)
		b = append(b, boundary...)
		b = append(b, "\r\n\r\n"...)
		for _, p := range [...]struct{ typ, body string }{{"text/plain", m.Text}, {"text/html", m.HTML}} {
			b = append(b, "--"...)
			b = append(b, boundary...)
			b = append(b, "\r\n"...)
			b = appendPart(b, p.typ, p.body)
			b = append(b, "\r\n"...)
		}
		b = append(b, "--"...)
		b = append(b, boundary...)
		b = append(b, "--\r\n"...)
	case m.Text != "":
		b = appendPart(b, "text/plain", m.Text)
	default:
		b = appendPart(b, "text/html", m.HTML)
	}
	if c.dkim == nil {
		return b, nil
	}
	return c.sign(b, signed)
}

// composed holds the buffers of messages given back with Release.
var composed sync.Pool

// Release gives back the bytes of a composed message the transport has
// finished with (its job is done), so a later Compose writes into them
// instead of allocating (a digest is some 30 KB: a run's allocation
// fell by a seventh). raw must not be used after.
func (c *Composer) Release(raw []byte) {
	if cap(raw) > 0 {
		composed.Put(&raw)
	}
}

// sign prepends a DKIM-Signature covering the standard headers plus extra.
func (c *Composer) sign(raw []byte, extra []string) ([]byte, error) {
	opts := *c.dkim
	opts.HeaderKeys = append([]string{"From", "To", "Subject", "Date", "Message-ID"}, extra...)
	opts.HeaderKeys = append(opts.HeaderKeys, "MIME-Version", "Content-Type")
	s, err := dkim.NewSigner(&opts)
	if err != nil {
		return nil, fmt.Errorf("mailer: DKIM signer for %s: %w", opts.Domain, err)
	}
	if _, err := s.Write(raw); err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("mailer: DKIM sign: %w", err)
	}
	if err := s.Close(); err != nil {
		return nil, fmt.Errorf("mailer: DKIM sign: %w", err)
	}
	sig := s.Signature()
	out := make([]byte, 0, len(sig)+len(raw))
	out = append(out, sig...)
	return append(out, raw...), nil
}

// checkFields refuses control characters that would end a header line.
func checkFields(m *Message) error {
	for _, f := range [...]struct{ name, v string }{
		{"From", m.From}, {"Reply-To", m.ReplyTo}, {"To", m.To}, {"Subject", m.Subject},
		{"Message-ID", m.MessageID}, {"List-Unsubscribe", m.ListUnsubscribe},
		{"List-Id", m.ListID}, {"X-Entity-Ref-ID", m.EntityRefID},
	} {
		if strings.ContainsAny(f.v, "\r\n\x00") {
			return fmt.Errorf("%w: %s contains a line break or NUL (header injection refused): %q", ErrInvalidMessage, f.name, f.v)
		}
	}
	if m.MessageID != "" {
		m.MessageID = strings.TrimSuffix(strings.TrimPrefix(m.MessageID, "<"), ">")
		if !printableASCII(m.MessageID, " <>") || !strings.Contains(m.MessageID, "@") {
			return fmt.Errorf("%w: Message-ID %q must be printable ASCII id@domain without spaces", ErrInvalidMessage, m.MessageID)
		}
	}
	if m.EntityRefID != "" && !printableASCII(m.EntityRefID, " ") {
		return fmt.Errorf("%w: X-Entity-Ref-ID %q must be printable ASCII without spaces", ErrInvalidMessage, m.EntityRefID)
	}
	if m.ListUnsubscribe != "" {
		u, err := url.Parse(m.ListUnsubscribe)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || !printableASCII(m.ListUnsubscribe, " <>") {
			return fmt.Errorf("%w: List-Unsubscribe %q must be an absolute http(s) URL", ErrInvalidMessage, m.ListUnsubscribe)
		}
	}
	return nil
}

// printableASCII reports whether s is printable ASCII (space included)
// without any byte of deny.
func printableASCII(s, deny string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || strings.IndexByte(deny, c) >= 0 {
			return false
		}
	}
	return true
}

// formatListID encodes the phrase of "phrase <list.id>" when needed.
func formatListID(v string) (string, error) {
	i := strings.LastIndexByte(v, '<')
	if i < 0 || !strings.HasSuffix(v, ">") {
		return "", fmt.Errorf("%w: List-Id %q must look like \"name <list.example.org>\"", ErrInvalidMessage, v)
	}
	id := v[i+1 : len(v)-1]
	if id == "" || !printableASCII(id, " <>") {
		return "", fmt.Errorf("%w: List-Id %q has an invalid id", ErrInvalidMessage, v)
	}
	phrase := strings.TrimSpace(v[:i])
	if phrase == "" {
		return "<" + id + ">", nil
	}
	return mime.QEncoding.Encode("utf-8", phrase) + " <" + id + ">", nil
}

// checkLines verifies that every line ends in CRLF and is short enough.
func checkLines(b []byte) error {
	for n := 1; len(b) > 0; n++ {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			if i == 0 || b[i-1] != '\r' {
				return fmt.Errorf("mailer: rendered line %d ends in a bare LF", n)
			}
			line, b = b[:i-1], b[i+1:]
		} else {
			b = nil
		}
		if len(line) > maxLine {
			return fmt.Errorf("%w: line %d is %d octets long (limit %d); shorten the header value", ErrInvalidMessage, n, len(line), maxLine)
		}
	}
	return nil
}

// newMessageID returns a random id on the sender's domain (never the host
// name, which would leak it and hurt deliverability).
func newMessageID(domain string) string {
	var r [16]byte
	_, _ = rand.Read(r[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(r[:]) + "@" + domain
}

// domainOf returns the part after the last @ of addr.
func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return addr[i+1:]
	}
	return ""
}
