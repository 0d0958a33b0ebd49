package web

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"time"
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
	parts             int
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
	if err := m.walk(h, msg.Body, 0); err != nil {
		return nil, err
	}
	return m, nil
}

// walk collects the text parts of one MIME entity.
func (m *parsedMail) walk(h textproto.MIMEHeader, body io.Reader, depth int) error {
	if m.parts++; m.parts > maxMIMEParts {
		return errors.New("mail has too many parts")
	}
	ct := h.Get("Content-Type")
	if ct == "" {
		ct = "text/plain; charset=us-ascii"
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return fmt.Errorf("content type %q: %w", ct, err)
	}
	if strings.HasPrefix(mt, "multipart/") {
		if depth >= maxMIMEDepth {
			return errors.New("mail parts are nested too deeply")
		}
		if params["boundary"] == "" {
			return errors.New("multipart mail without boundary")
		}
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return fmt.Errorf("mail part: %w", err)
			}
			if err := m.walk(p.Header, p, depth+1); err != nil {
				return err
			}
		}
	}
	if mt != "text/plain" && mt != "text/html" {
		return nil
	}
	if strings.HasPrefix(strings.ToLower(h.Get("Content-Disposition")), "attachment") {
		return nil
	}
	raw, err := io.ReadAll(decodeTransfer(h.Get("Content-Transfer-Encoding"), body))
	if err != nil {
		return fmt.Errorf("decode %s part: %w", mt, err)
	}
	text := string(raw)
	if cs := strings.ToLower(params["charset"]); cs == "iso-8859-1" || cs == "latin1" {
		text = latin1(raw)
	}
	text = strings.ToValidUTF8(strings.ReplaceAll(text, "\r\n", "\n"), "\uFFFD")
	switch {
	case mt == "text/plain" && m.text == "":
		m.text = text
	case mt == "text/html" && m.html == "":
		m.html = text
	}
	return nil
}

// decodeTransfer undoes a Content-Transfer-Encoding.
func decodeTransfer(cte string, r io.Reader) io.Reader {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "quoted-printable":
		return quotedprintable.NewReader(r)
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, &stripSpace{r: r})
	}
	return r
}

// stripSpace drops the line breaks and spaces of base64 bodies.
type stripSpace struct{ r io.Reader }

// Read reads from the underlying reader, dropping white space.
func (s *stripSpace) Read(p []byte) (int, error) {
	for {
		n, err := s.r.Read(p)
		k := 0
		for _, c := range p[:n] {
			if c != '\r' && c != '\n' && c != ' ' && c != '\t' {
				p[k] = c
				k++
			}
		}
		if k > 0 || err != nil {
			return k, err
		}
	}
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
