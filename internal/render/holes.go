package render

import (
	htmltemplate "html/template"
	"math/rand/v2"
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
// The template runs on the shape twice, with two different random
// sentinels in the holes; the first output is cut at the sentinels (as
// they are, or as html/template escapes them in text, which an address
// with "+" or "&" needs), and the cut is used only when the pieces joined
// around the second sentinels give the second output exactly. That holds
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

// cut is a rendered template cut at the holes: pieces[0], hole at[0],
// pieces[1], ... A nil cut means the template does not show the holes as
// they are; it is run for every reader.
type cut struct {
	pieces []string
	at     []int  // hole index of each gap
	esc    []bool // the gap is the hole as html/template escapes it in text
}

// size is about what c holds in bytes.
func (c *cut) size() int {
	n := 0
	for _, p := range c.pieces {
		n += len(p) + 16
	}
	return n + 16*len(c.at)
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

// sentinels are two random fillings of a shape's holes.
type sentinels struct{ a, b []string }

// makeCut cuts out1 (the template run with the first sentinels in the
// holes) and checks the cut against out2 (run with the second).
func makeCut(out1, out2 string, s sentinels) *cut {
	type find struct {
		at, n, hole int
		esc         bool
	}
	var finds []find
	for h := range s.a {
		forms := []string{s.a[h]}
		if needsEscape(s.a[h]) {
			forms = append(forms, escapeText(s.a[h]))
		}
		for e, form := range forms {
			for off := 0; ; {
				i := strings.Index(out1[off:], form)
				if i < 0 {
					break
				}
				finds = append(finds, find{off + i, len(form), h, e == 1})
				off += i + len(form)
			}
		}
	}
	if len(finds) == 0 {
		return nil
	}
	// Order by position; overlapping finds cannot be cut.
	for i := 1; i < len(finds); i++ {
		for j := i; j > 0 && finds[j].at < finds[j-1].at; j-- {
			finds[j], finds[j-1] = finds[j-1], finds[j]
		}
	}
	c := &cut{}
	last := 0
	for _, f := range finds {
		if f.at < last {
			return nil
		}
		c.pieces = append(c.pieces, out1[last:f.at])
		c.at = append(c.at, f.hole)
		c.esc = append(c.esc, f.esc)
		last = f.at + f.n
	}
	c.pieces = append(c.pieces, out1[last:])
	if c.join(s.b, nil) != out2 {
		return nil
	}
	return c
}

// join puts vals (raw hole strings) into the gaps; escaped, when not nil,
// gives a hole's escaped form (else it is computed).
func (c *cut) join(vals []string, escaped []string) string {
	n := 0
	for _, p := range c.pieces {
		n += len(p)
	}
	for _, h := range c.at {
		n += len(vals[h]) + 8
	}
	var b strings.Builder
	b.Grow(n)
	for i, p := range c.pieces {
		b.WriteString(p)
		if i == len(c.at) {
			break
		}
		h := c.at[i]
		switch {
		case !c.esc[i] || !needsEscape(vals[h]):
			b.WriteString(vals[h])
		case escaped != nil && escaped[h] != "":
			b.WriteString(escaped[h])
		default:
			b.WriteString(escapeText(vals[h]))
		}
	}
	return b.String()
}

// b64 is the alphabet of tokens.
const b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// sentinelsFor fills the holes hs of the masked fields twice at random.
// Token sentinels hold "-" and "_" as tokens do, so a template (or an
// escaper) that treats those apart from letters fails the check.
func sentinelsFor(fields []*string, kinds []holeKind, hs []span) sentinels {
	var s sentinels
	for pass := range 2 {
		vals := make([]string, len(hs))
		for h, sp := range hs {
			v := []byte((*fields[sp.f])[sp.i:sp.j])
			for k := range v {
				switch {
				case kinds[sp.f] == holeEmail:
					if isAlnum(v[k]) {
						v[k] = b64[rand.IntN(62)]
					}
				case k == 1+pass:
					v[k] = '-'
				case k == 2-pass:
					v[k] = '_'
				default:
					v[k] = b64[rand.IntN(64)]
				}
			}
			vals[h] = string(v)
		}
		if pass == 0 {
			s.a = vals
		} else {
			s.b = vals
		}
	}
	return s
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
