package render

import (
	htmltemplate "html/template"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
)

// A run's readers share most of what their digests show; what is only
// theirs is a handful of strings: their address and their signed links. A
// Batch renders a template that shows such strings (the head, each paper's
// item, the foot) once per shape of them and cuts the output where they
// went, so each reader's part is the cut pieces joined around their own
// strings: no template runs for a reader whose shape was seen.
//
// The reader's own characters ("holes") are, in a signed link, every run
// of at least minToken URL-safe base64 characters (the token) and, in an
// address, its letters and digits. The shape is the string with those
// characters masked; readers whose strings have one shape share a render.
// The first reader of a shape costs two runs: one with random sentinels
// in the holes, whose output is cut at the sentinels (as they are, or as
// html/template escapes them in text, which an address with "+" or "&"
// needs), so no piece holds a reader's string; and the reader's own, which
// is their part, and the cut is used only when the pieces joined around
// the reader's strings give that part exactly. That holds
// when the template shows the strings whole, escaped alike character by
// character, and decides nothing on their letters; a template that cuts,
// reorders or tests them fails the check and renders for every reader on
// the reader's own strings, as without a Batch.

// minToken is the shortest run of URL-safe base64 characters taken as a
// signed token (papermail's are 44 characters and more).
const minToken = 16

// holeKind says which characters of a reader string are the reader's own.
type holeKind uint8

const (
	holeToken holeKind = iota // runs of at least minToken of [A-Za-z0-9_-]
	holeEmail                 // letters and digits of a plain address
)

func isB64(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// span is one hole: field f of the view, bytes [i, j).
type span struct{ f, i, j int }

// holes finds the holes of fields.
func holes(fields []*string, kinds []holeKind) []span {
	var out []span
	for f, p := range fields {
		s := *p
		if kinds[f] == holeEmail {
			// Only an address of a single line of printable ASCII: its
			// other characters stay in the shape.
			if len(s) >= 3 && strings.IndexByte(s, '@') > 0 && printable(s) {
				out = append(out, span{f, 0, len(s)})
			}
			continue
		}
		for i := 0; i < len(s); {
			if !isB64(s[i]) {
				i++
				continue
			}
			j := i
			for j < len(s) && isB64(s[j]) {
				j++
			}
			if j-i >= minToken {
				out = append(out, span{f, i, j})
			}
			i = j
		}
	}
	return out
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// cut is a rendered template cut at the holes and where a paragraph
// starts (after a blank line, before a line opening an HTML element), so
// a Batch holds a paragraph that many cuts show once: the pieces in
// order, each followed by its gap. A nil cut means the template does not
// show the holes as they are; it is run for every reader.
type cut struct {
	pieces []string
	gaps   []gap
}

// gap is what follows a piece: hole (-1 for none) as it is or, esc, as
// html/template escapes it in text.
type gap struct {
	hole int32
	esc  bool
}

// escText is html/template escaping a string in text (and quoted
// attribute) context: the form an address with "+", "&" or quotes takes in
// the HTML part.
var escText = htmltemplate.Must(htmltemplate.New("esc").Parse("{{.}}"))

func escapeText(s string) string {
	var b strings.Builder
	if err := escText.Execute(&b, s); err != nil {
		return "\x00" // never found in an output: the check fails
	}
	return b.String()
}

// needsEscape reports whether html/template changes s in text context.
func needsEscape(s string) bool { return strings.ContainsAny(s, "\x00\"&'+<>") }

// makeCut cuts outA (the template run with the sentinels sent in the
// holes) and checks the cut against out (run with the reader's own vals).
func makeCut(outA, out string, sent, vals []string) *cut {
	type find struct {
		at, n int
		gap   gap
	}
	var finds []find
	for h := range sent {
		forms := []string{sent[h]}
		if needsEscape(sent[h]) {
			forms = append(forms, escapeText(sent[h]))
		}
		for e, form := range forms {
			for off := 0; ; {
				i := strings.Index(outA[off:], form)
				if i < 0 {
					break
				}
				finds = append(finds, find{off + i, len(form), gap{int32(h), e == 1}})
				off += i + len(form)
			}
		}
	}
	if len(finds) == 0 && len(sent) > 0 {
		return nil
	}
	// Order by position; overlapping finds cannot be cut.
	slices.SortFunc(finds, func(a, b find) int { return a.at - b.at })
	c := &cut{}
	last := 0
	add := func(piece string, g gap) {
		for i := 0; i < len(piece)-1; i++ {
			if piece[i] == '\n' && (piece[i+1] == '\n' || piece[i+1] == '<') {
				c.pieces = append(c.pieces, piece[:i+1])
				c.gaps = append(c.gaps, gap{hole: -1})
				piece, i = piece[i+1:], -1
			}
		}
		c.pieces = append(c.pieces, piece)
		c.gaps = append(c.gaps, g)
	}
	for _, f := range finds {
		if f.at < last {
			return nil
		}
		add(outA[last:f.at], f.gap)
		last = f.at + f.n
	}
	add(outA[last:], gap{hole: -1})
	if c.join(vals) != out {
		return nil
	}
	return c
}

// join puts vals (raw hole strings) into the gaps.
func (c *cut) join(vals []string) string {
	n := 0
	for i, p := range c.pieces {
		n += len(p)
		if h := c.gaps[i].hole; h >= 0 {
			n += len(vals[h]) + 8
		}
	}
	var b strings.Builder
	b.Grow(n)
	for i, p := range c.pieces {
		b.WriteString(p)
		switch g := c.gaps[i]; {
		case g.hole < 0:
		case g.esc && needsEscape(vals[g.hole]):
			b.WriteString(escapeText(vals[g.hole]))
		default:
			b.WriteString(vals[g.hole])
		}
	}
	return b.String()
}

// b64 is the alphabet of tokens.
const b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// sentinel fills the holes hs of the masked fields at random. Token
// sentinels hold "-" and "_" as tokens do, so a template (or an escaper)
// that treats those apart from letters fails the check.
func sentinel(fields []*string, kinds []holeKind, hs []span) []string {
	vals := make([]string, len(hs))
	for h, sp := range hs {
		v := []byte((*fields[sp.f])[sp.i:sp.j])
		for k := range v {
			switch {
			case kinds[sp.f] == holeEmail:
				if isAlnum(v[k]) {
					v[k] = b64[rand.IntN(62)]
				}
			case k == 1:
				v[k] = '-'
			case k == 2:
				v[k] = '_'
			default:
				v[k] = b64[rand.IntN(64)]
			}
		}
		vals[h] = string(v)
	}
	return vals
}

// shapeKey appends to key the fields with their holes masked, each
// length-prefixed.
func shapeKey(key []byte, fields []*string, kinds []holeKind, hs []span) []byte {
	h := 0
	for f, p := range fields {
		s := *p
		key = strconv.AppendInt(key, int64(len(s)), 10)
		key = append(key, ':')
		start := len(key)
		key = append(key, s...)
		for ; h < len(hs) && hs[h].f == f; h++ {
			for k := hs[h].i; k < hs[h].j; k++ {
				if kinds[f] == holeToken || isAlnum(s[k]) {
					key[start+k] = 'x'
				}
			}
		}
	}
	return key
}
