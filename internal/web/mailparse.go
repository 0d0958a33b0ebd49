package web

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"net/mail"
	"net/textproto"
	"strings"
	"time"

	"github.com/papermail/papermail/internal/mimepart"
)

// Limits of the mail parser.
const (
	maxMailSize  = 16 << 20
	maxMIMEDepth = 8
	maxMIMEParts = 100
)

// parsedMail is what the mailbox shows of a message.
type parsedMail struct {
	from, to, subject string
	date              time.Time
	text, html        string
}

var wordDecoder = &mime.WordDecoder{CharsetReader: func(charset string, in io.Reader) (io.Reader, error) {
	if strings.EqualFold(charset, "iso-8859-1") || strings.EqualFold(charset, "latin1") {
		b, err := io.ReadAll(io.LimitReader(in, maxMailSize))
		return strings.NewReader(latin1(b)), err
	}
	return nil, fmt.Errorf("unsupported charset %q", charset)
}}

// decodeHeader decodes RFC 2047 encoded words, keeping the raw value
// when it cannot.
func decodeHeader(v string) string {
	if d, err := wordDecoder.DecodeHeader(v); err == nil {
		v = d
	}
	return strings.ToValidUTF8(v, "\uFFFD")
}

// readHeader reads only the header of a message.
func readHeader(r io.Reader) (*parsedMail, error) {
	msg, err := mail.ReadMessage(io.LimitReader(r, maxMailSize))
	if err != nil {
		return nil, fmt.Errorf("read mail header: %w", err)
	}
	m := &parsedMail{from: decodeHeader(msg.Header.Get("From")), to: decodeHeader(msg.Header.Get("To")),
		subject: decodeHeader(msg.Header.Get("Subject"))}
	m.date, _ = msg.Header.Date()
	return m, nil
}

// parseMail reads a whole message: its header and the first text/plain
// and text/html parts, with transfer encodings undone.
func parseMail(r io.Reader) (*parsedMail, error) {
	msg, err := mail.ReadMessage(io.LimitReader(r, maxMailSize))
	if err != nil {
		return nil, fmt.Errorf("read mail header: %w", err)
	}
	m := &parsedMail{from: decodeHeader(msg.Header.Get("From")), to: decodeHeader(msg.Header.Get("To")),
		subject: decodeHeader(msg.Header.Get("Subject"))}
	m.date, _ = msg.Header.Date()
	h := textproto.MIMEHeader(msg.Header)
	if err := m.walk(h, msg.Body); err != nil {
		return nil, err
	}
	return m, nil
}

// walk collects the first text/plain and text/html parts that are not
// attachments.
func (m *parsedMail) walk(h textproto.MIMEHeader, body io.Reader) error {
	opt := mimepart.Options{MaxDepth: maxMIMEDepth, MaxParts: maxMIMEParts}
	return mimepart.Walk(h, body, opt, func(p *mimepart.Part) error {
		if (p.MediaType != "text/plain" && p.MediaType != "text/html") || p.Attachment {
			return nil
		}
		raw, err := io.ReadAll(p.Body)
		if err != nil {
			return fmt.Errorf("decode %s part: %w", p.MediaType, err)
		}
		text := string(raw)
		if cs := strings.ToLower(p.Params["charset"]); cs == "iso-8859-1" || cs == "latin1" {
			text = latin1(raw)
		}
		text = strings.ToValidUTF8(strings.ReplaceAll(text, "\r\n", "\n"), "\uFFFD")
		switch {
		case p.MediaType == "text/plain" && m.text == "":
			m.text = text
		case p.MediaType == "text/html" && m.html == "":
			m.html = text
		}
		return nil
	})
}

// latin1 converts ISO-8859-1 bytes to UTF-8.
func latin1(b []byte) string {
	var buf bytes.Buffer
	buf.Grow(len(b))
	for _, c := range b {
		buf.WriteRune(rune(c))
	}
	return buf.String()
}
