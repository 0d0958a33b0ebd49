package deliverability

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
	"strings"
)

// Bodies are the decoded text and HTML parts of a message.
type Bodies struct {
	Text, HTML string
}

// maxPart bounds one decoded part, far above any digest.
const maxPart = 8 << 20

// ReadBodies decodes the text/plain and text/html parts of a raw message:
// a single part or a multipart/alternative, quoted-printable or base64.
// Line ends become LF. It fails on a message it cannot parse or a second
// part of one type.
func ReadBodies(raw []byte) (Bodies, error) {
	var b Bodies
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return b, fmt.Errorf("deliverability: parse message: %w", err)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		return b, fmt.Errorf("deliverability: message Content-Type: %w", err)
	}
	if !strings.HasPrefix(mt, "multipart/") {
		return b, b.add(mt, m.Header.Get("Content-Transfer-Encoding"), m.Body)
	}
	if params["boundary"] == "" {
		return b, errors.New("deliverability: multipart message without a boundary")
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, fmt.Errorf("deliverability: read MIME part: %w", err)
		}
		pt, _, err := mime.ParseMediaType(p.Header.Get("Content-Type"))
		if err != nil {
			return b, fmt.Errorf("deliverability: part Content-Type: %w", err)
		}
		// multipart.Reader decodes quoted-printable itself and drops the header.
		if err := b.add(pt, p.Header.Get("Content-Transfer-Encoding"), p); err != nil {
			return b, err
		}
	}
}

func (b *Bodies) add(mediaType, cte string, r io.Reader) error {
	var dst *string
	switch mediaType {
	case "text/plain":
		dst = &b.Text
	case "text/html":
		dst = &b.HTML
	default:
		return nil
	}
	if *dst != "" {
		return fmt.Errorf("deliverability: two %s parts", mediaType)
	}
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "", "7bit", "8bit", "binary":
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	case "base64":
		r = newBase64Reader(r)
	default:
		return fmt.Errorf("deliverability: unknown Content-Transfer-Encoding %q", cte)
	}
	body, err := io.ReadAll(io.LimitReader(r, maxPart+1))
	if err != nil {
		return fmt.Errorf("deliverability: decode %s part: %w", mediaType, err)
	}
	if len(body) > maxPart {
		return fmt.Errorf("deliverability: %s part is larger than %d bytes", mediaType, maxPart)
	}
	*dst = strings.ReplaceAll(string(body), "\r\n", "\n")
	return nil
}

// newBase64Reader decodes base64 with line breaks.
func newBase64Reader(r io.Reader) io.Reader {
	return base64.NewDecoder(base64.StdEncoding, &skipSpace{r: r})
}

// skipSpace drops CR, LF, spaces and tabs.
type skipSpace struct{ r io.Reader }

func (s *skipSpace) Read(p []byte) (int, error) {
	for {
		n, err := s.r.Read(p)
		k := 0
		for _, c := range p[:n] {
			if !strings.ContainsRune("\r\n \t", rune(c)) {
				p[k] = c
				k++
			}
		}
		if k > 0 || err != nil {
			return k, err
		}
	}
}
