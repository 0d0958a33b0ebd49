package mimepart

import (
	"fmt"
	"io"
	"net/textproto"
	"strings"
)

// MaxBody bounds one decoded text or HTML body that ReadBodies returns.
const MaxBody = 8 << 20

// Bodies are the texts a reader of a message sees: its first text/plain
// and text/html parts that are not attachments.
type Bodies struct {
	Text, HTML string
	// TextParts and HTMLParts count the parts of each type, the first
	// included, so a check can refuse a message that has several.
	TextParts, HTMLParts int
}

// ReadBodies walks the entity with header h and body and decodes its
// bodies: transfer encodings undone, ISO-8859-1 turned into UTF-8, line
// ends LF, invalid UTF-8 replaced. A body larger than MaxBody is an error.
func ReadBodies(h textproto.MIMEHeader, body io.Reader, opt Options) (Bodies, error) {
	var b Bodies
	err := Walk(h, body, opt, func(p *Part) error {
		var dst *string
		switch {
		case p.Attachment:
			return nil
		case p.MediaType == "text/plain":
			b.TextParts++
			dst = &b.Text
		case p.MediaType == "text/html":
			b.HTMLParts++
			dst = &b.HTML
		default:
			return nil
		}
		if *dst != "" {
			return nil
		}
		raw, err := io.ReadAll(io.LimitReader(p.Body, MaxBody+1))
		if err != nil {
			return fmt.Errorf("decode %s part: %w", p.MediaType, err)
		}
		if len(raw) > MaxBody {
			return fmt.Errorf("%s part is larger than %d bytes", p.MediaType, MaxBody)
		}
		text := string(raw)
		if cs := strings.ToLower(p.Params["charset"]); cs == "iso-8859-1" || cs == "latin1" {
			text = Latin1(raw)
		}
		*dst = strings.ToValidUTF8(toLF(text), "\uFFFD")
		return nil
	})
	return b, err
}

// Latin1 converts ISO-8859-1 bytes to UTF-8.
func Latin1(b []byte) string {
	var sb strings.Builder
	sb.Grow(len(b))
	for _, c := range b {
		sb.WriteRune(rune(c))
	}
	return sb.String()
}

// toLF ends every line with LF alone: CRs before an LF go, however many
// there are ("\r\r\n" would leave a CRLF after one replacement).
func toLF(s string) string {
	for strings.Contains(s, "\r\n") {
		s = strings.ReplaceAll(s, "\r\n", "\n")
	}
	return s
}
