package web

import (
	"fmt"
	"io"
	"mime"
	"net/mail"
	"net/textproto"
	"strings"
	"time"

	"github.com/papermail/papermail/internal/mimepart"
)

// maxMailSize bounds a message the mailbox reads; its MIME nesting and
// parts are bounded by mimepart's defaults.
const maxMailSize = 16 << 20

// parsedMail is what the mailbox shows of a message.
type parsedMail struct {
	from, to, subject string
	date              time.Time
	text, html        string
}

var wordDecoder = &mime.WordDecoder{CharsetReader: func(charset string, in io.Reader) (io.Reader, error) {
	if strings.EqualFold(charset, "iso-8859-1") || strings.EqualFold(charset, "latin1") {
		b, err := io.ReadAll(io.LimitReader(in, maxMailSize))
		return strings.NewReader(mimepart.Latin1(b)), err
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
	m, _, err := readMessage(r)
	return m, err
}

// parseMail reads a whole message: its header and the first text/plain
// and text/html parts, with transfer encodings undone.
func parseMail(r io.Reader) (*parsedMail, error) {
	m, msg, err := readMessage(r)
	if err != nil {
		return nil, err
	}
	b, err := mimepart.ReadBodies(textproto.MIMEHeader(msg.Header), msg.Body, mimepart.Options{})
	if err != nil {
		return nil, err
	}
	m.text, m.html = b.Text, b.HTML
	return m, nil
}

// readMessage reads the header of a message; the body is left to read.
func readMessage(r io.Reader) (*parsedMail, *mail.Message, error) {
	msg, err := mail.ReadMessage(io.LimitReader(r, maxMailSize))
	if err != nil {
		return nil, nil, fmt.Errorf("read mail header: %w", err)
	}
	m := &parsedMail{from: decodeHeader(msg.Header.Get("From")), to: decodeHeader(msg.Header.Get("To")),
		subject: decodeHeader(msg.Header.Get("Subject"))}
	m.date, _ = msg.Header.Date()
	return m, msg, nil
}
