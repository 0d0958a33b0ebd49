// Package mimepart walks the entities of a MIME message (RFC 2045, 2046):
// it descends into multiparts and hands each leaf entity — a text, an
// attachment, a message/* report part — to the caller with its media type
// and its body, the Content-Transfer-Encoding undone, within bounds on
// nesting and on the number of parts; ReadBodies decodes from it the text
// and HTML a reader sees. The web mailbox, the deliverability checks and
// the bounce reader all read mail through it.
package mimepart

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/textproto"
	"strings"
)

// Errors of a walk, wrapped with where they happened.
var (
	ErrTooDeep      = errors.New("mime: parts nested too deeply")
	ErrTooManyParts = errors.New("mime: too many parts")
	ErrNoBoundary   = errors.New("mime: multipart without a boundary")
	ErrContentType  = errors.New("mime: unreadable Content-Type")
	ErrEncoding     = errors.New("mime: unknown Content-Transfer-Encoding")
)

// Default bounds of a walk.
const (
	DefaultMaxDepth = 8
	DefaultMaxParts = 100
)

// Options bound a walk; zero fields take the defaults.
type Options struct {
	// MaxDepth is how deep entities may nest: the message is at depth 0,
	// the parts of a multipart one deeper than it.
	MaxDepth int
	// MaxParts bounds the entities of the message, multiparts included.
	MaxParts int
	// Lenient skips what cannot be read — an entity with an unreadable
	// Content-Type or encoding, a multipart without a boundary or broken
	// off, entities nested too deeply or beyond MaxParts — and keeps
	// walking, where a strict walk fails with the error.
	Lenient bool
}

// Part is one leaf entity.
type Part struct {
	Header textproto.MIMEHeader
	// MediaType is the lower-case media type, "text/plain" when the
	// header names none (RFC 2045's default); Params its parameters.
	MediaType string
	Params    map[string]string
	// Depth is the entity's nesting, 0 for a message of one part.
	Depth int
	// Attachment reports a Content-Disposition of attachment.
	Attachment bool
	// Body reads the content with its transfer encoding undone.
	Body io.Reader
}

// Walk calls fn for every leaf entity of the entity with header h and
// body, in order, descending into multipart entities. An error of fn ends
// the walk and is returned as it is.
func Walk(h textproto.MIMEHeader, body io.Reader, opt Options, fn func(*Part) error) error {
	if opt.MaxDepth <= 0 {
		opt.MaxDepth = DefaultMaxDepth
	}
	if opt.MaxParts <= 0 {
		opt.MaxParts = DefaultMaxParts
	}
	w := walker{opt: opt, fn: fn}
	return w.walk(h, body, 0)
}

type walker struct {
	opt   Options
	fn    func(*Part) error
	parts int
}

// skip is what a walk does with a problem: nothing in a lenient walk,
// fail in a strict one.
func (w *walker) skip(err error) error {
	if w.opt.Lenient {
		return nil
	}
	return err
}

func (w *walker) walk(h textproto.MIMEHeader, body io.Reader, depth int) error {
	if depth > w.opt.MaxDepth {
		return w.skip(ErrTooDeep)
	}
	if w.parts++; w.parts > w.opt.MaxParts {
		return w.skip(fmt.Errorf("%w (more than %d)", ErrTooManyParts, w.opt.MaxParts))
	}
	ct := h.Get("Content-Type")
	if strings.TrimSpace(ct) == "" {
		ct = "text/plain; charset=us-ascii"
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return w.skip(fmt.Errorf("%w %q: %v", ErrContentType, ct, err))
	}
	if !strings.HasPrefix(mt, "multipart/") {
		dec, err := Decode(h.Get("Content-Transfer-Encoding"), body)
		if err != nil {
			return w.skip(fmt.Errorf("%s part: %w", mt, err))
		}
		disp, _, _ := mime.ParseMediaType(h.Get("Content-Disposition"))
		return w.fn(&Part{Header: h, MediaType: mt, Params: params, Depth: depth, Attachment: disp == "attachment", Body: dec})
	}
	if params["boundary"] == "" {
		return w.skip(fmt.Errorf("%w (%s)", ErrNoBoundary, mt))
	}
	mr := multipart.NewReader(body, params["boundary"])
	for {
		// Raw parts: the walk undoes every transfer encoding itself
		// (NextPart would decode quoted-printable and drop the header).
		p, err := mr.NextRawPart()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return w.skip(fmt.Errorf("mime: read part of %s: %w", mt, err))
		}
		if err := w.walk(p.Header, p, depth+1); err != nil {
			return err
		}
	}
}

// Decode undoes a Content-Transfer-Encoding: 7bit, 8bit and binary (or
// none) read as they are, quoted-printable and base64 (line breaks and
// blanks ignored) are decoded; any other is ErrEncoding.
func Decode(cte string, r io.Reader) (io.Reader, error) {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "", "7bit", "8bit", "binary":
		return r, nil
	case "quoted-printable":
		return quotedprintable.NewReader(r), nil
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, &stripSpace{r: r}), nil
	}
	return nil, fmt.Errorf("%w %q", ErrEncoding, cte)
}

// stripSpace drops the line breaks and blanks of base64 text.
type stripSpace struct{ r io.Reader }

// Read implements io.Reader.
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
