package deliverability

import (
	"bytes"
	"fmt"
	"io"
	"net/mail"
	"net/textproto"
	"strings"

	"github.com/papermail/papermail/internal/mimepart"
)

// Bodies are the decoded text and HTML parts of a message.
type Bodies struct {
	Text, HTML string
}

// maxPart bounds one decoded part, far above any digest.
const maxPart = 8 << 20

// ReadBodies decodes the text/plain and text/html parts of a raw message
// (a single part or a multipart, quoted-printable or base64). Line ends
// become LF. It fails on a message it cannot parse or a second part of
// one type.
func ReadBodies(raw []byte) (Bodies, error) {
	var b Bodies
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return b, fmt.Errorf("deliverability: parse message: %w", err)
	}
	if err := mimepart.Walk(textproto.MIMEHeader(m.Header), m.Body, mimepart.Options{}, b.add); err != nil {
		return b, fmt.Errorf("deliverability: %w", err)
	}
	return b, nil
}

func (b *Bodies) add(p *mimepart.Part) error {
	var dst *string
	switch p.MediaType {
	case "text/plain":
		dst = &b.Text
	case "text/html":
		dst = &b.HTML
	default:
		return nil
	}
	if *dst != "" {
		return fmt.Errorf("two %s parts", p.MediaType)
	}
	body, err := io.ReadAll(io.LimitReader(p.Body, maxPart+1))
	if err != nil {
		return fmt.Errorf("decode %s part: %w", p.MediaType, err)
	}
	if len(body) > maxPart {
		return fmt.Errorf("%s part is larger than %d bytes", p.MediaType, maxPart)
	}
	*dst = toLF(string(body))
	return nil
}

// toLF ends every line with LF alone: CRs before an LF go, however many
// there are ("\r\r\n" would leave a CRLF after one replacement).
func toLF(s string) string {
	for strings.Contains(s, "\r\n") {
		s = strings.ReplaceAll(s, "\r\n", "\n")
	}
	return s
}
