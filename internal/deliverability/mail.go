package deliverability

import (
	"bytes"
	"errors"
	"fmt"
	"net/mail"
	"net/textproto"

	"github.com/papermail/papermail/internal/mimepart"
)

// Bodies are the decoded text and HTML parts of a message.
type Bodies = mimepart.Bodies

// ReadBodies decodes the text/plain and text/html parts of a raw message
// (a single part or a multipart, quoted-printable or base64). Line ends
// become LF. It fails on a message it cannot parse or a second part of
// one type.
func ReadBodies(raw []byte) (Bodies, error) {
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Bodies{}, fmt.Errorf("deliverability: parse message: %w", err)
	}
	b, err := mimepart.ReadBodies(textproto.MIMEHeader(m.Header), m.Body, mimepart.Options{})
	switch {
	case err != nil:
		return b, fmt.Errorf("deliverability: %w", err)
	case b.TextParts > 1:
		return b, errors.New("deliverability: two text/plain parts")
	case b.HTMLParts > 1:
		return b, errors.New("deliverability: two text/html parts")
	}
	return b, nil
}
