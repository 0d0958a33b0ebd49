package render

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// textBlock is text that a text-part helper (wrap, hang) has already
// cleaned and laid out on lines; the cleaner that guards every action of a
// text template lets it through unchanged.
type textBlock string

// ellipsis ends shortened text.
const ellipsis = "…"

// isBreak reports whether r separates words: ASCII and Unicode spaces other
// than the no-break ones, and every control character (so line breaks, tabs
// and stray controls from input all become plain word gaps).
func isBreak(r rune) bool {
	switch {
	case r == ' ':
		return true
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
		return true
	case r < 0x80:
		return false
	case r == 0xa0, r == 0x2007, r == 0x202f, r == 0xfeff:
		return false // no-break spaces join words
	case r == 0x2028, r == 0x2029:
		return true
	}
	return unicode.Is(unicode.Zs, r)
}

// isControl reports whether r must never reach a plain-text part or a
// header as is: C0 and C1 controls, DEL, and the Unicode line and
// paragraph separators.
func isControl(r rune) bool {
	return r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) || r == 0x2028 || r == 0x2029
}

// needsClean reports quickly whether s holds invalid UTF-8 or a control
// character (see isControl); false means s is safe as is.
func needsClean(s string) bool {
	high := false
	for i := 0; i < len(s); i++ {
		switch b := s[i]; {
		case b < 0x20 || b == 0x7f:
			return true
		case b < 0x80:
		case b == 0xc2: // C1 controls are C2 80..C2 9F
			high = true
			if i+1 < len(s) && s[i+1] <= 0x9f {
				return true
			}
		case b == 0xe2: // U+2028 and U+2029 are E2 80 A8 and E2 80 A9
			high = true
			if i+2 < len(s) && s[i+1] == 0x80 && (s[i+2] == 0xa8 || s[i+2] == 0xa9) {
				return true
			}
		default:
			high = true
		}
	}
	return high && !utf8.ValidString(s)
}

// hasBreak reports whether s holds a word gap (see isBreak).
func hasBreak(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c == 0x7f {
			return true
		} else if c >= utf8.RuneSelf {
			return strings.ContainsFunc(s[i:], isBreak)
		}
	}
	return false
}

// cleanLine replaces every control character in s (including CR, LF, tab
// and the Unicode line separators) with a space and invalid UTF-8 with
// U+FFFD, so s cannot start a new line or smuggle controls. It does not
// allocate when s is already clean.
func cleanLine(s string) string {
	if !needsClean(s) {
		return s
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		if isControl(r) {
			return ' '
		}
		return r
	}, s)
}

// oneLine turns s into a single header-safe line: runs of spaces and
// controls become one space, the ends are trimmed, and the result is cut
// to at most limit runes.
func oneLine(s string, limit int) string {
	var b strings.Builder
	b.Grow(len(s))
	gap := false
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		if isBreak(r) || isControl(r) {
			gap = b.Len() > 0
			continue
		}
		if gap {
			b.WriteByte(' ')
			gap = false
		}
		b.WriteRune(r)
	}
	return Shorten(b.String(), limit)
}

// runeWidth is the number of terminal columns r takes: 0 for combining
// marks and zero-width characters, 2 for East Asian wide characters and
// emoji, 1 otherwise. It is an approximation good enough for wrapping.
func runeWidth(r rune) int {
	switch {
	case r < 0x300:
		return 1
	case r == 0x200b, r == 0x200c, r == 0x200d, r == 0x2060, r == 0xfeff,
		r >= 0xfe00 && r <= 0xfe0f:
		return 0
	case r >= 0x1100 && r <= 0x115f, r >= 0x2e80 && r <= 0x303e, r >= 0x3041 && r <= 0x33ff,
		r >= 0x3400 && r <= 0x4dbf, r >= 0x4e00 && r <= 0x9fff, r >= 0xa000 && r <= 0xa4cf,
		r >= 0xac00 && r <= 0xd7a3, r >= 0xf900 && r <= 0xfaff, r >= 0xfe30 && r <= 0xfe4f,
		r >= 0xff00 && r <= 0xff60, r >= 0xffe0 && r <= 0xffe6,
		r >= 0x1f300 && r <= 0x1f64f, r >= 0x1f900 && r <= 0x1f9ff, r >= 0x1f680 && r <= 0x1f6ff,
		r >= 0x20000 && r <= 0x3fffd:
		return 2
	case unicode.In(r, unicode.Mn, unicode.Me):
		return 0
	}
	return 1
}

// Width is the number of terminal columns s takes (see runeWidth).
func Width(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			for _, r := range s[i:] {
				n += runeWidth(r)
			}
			return n
		}
		n++
	}
	return n
}

// isURL reports whether a word is a link that wrapping must never break.
func isURL(w string) bool {
	return strings.Contains(w, "://") || strings.HasPrefix(w, "www.") || strings.HasPrefix(w, "mailto:")
}

// Wrap lays s out on lines of at most width columns, each starting with
// indent. See Hang.
func Wrap(width int, indent, s string) string { return string(hang(width, indent, indent, s)) }

// Hang lays s out on lines of at most width columns: the first line starts
// with first, the others with rest. Any run of spaces, line breaks or
// control characters in s is one word gap, so input cannot add lines or
// controls of its own. Links are never broken: a link longer than a line
// stands alone on its line; other words longer than a line are split. Hang
// returns "" when s has no words.
func Hang(width int, first, rest, s string) string { return string(hang(width, first, rest, s)) }

func hang(width int, first, rest, s string) textBlock {
	return textBlock(appendHang(nil, width, first, rest, s))
}

// appendHang appends Hang's result to dst.
func appendHang(dst []byte, width int, first, rest, s string) []byte {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	b := dst
	start := len(dst)
	restW := Width(rest)
	col := Width(first)
	started := false // a word is on the current line
	for i := 0; i < len(s); {
		// Skip the gap, then find the word and its width.
		if c := s[i]; c < utf8.RuneSelf {
			if c <= ' ' || c == 0x7f {
				i++
				continue
			}
		} else if r, size := utf8.DecodeRuneInString(s[i:]); isBreak(r) {
			i += size
			continue
		}
		j, w := i, 0
		for j < len(s) {
			if c := s[j]; c < utf8.RuneSelf {
				if c <= ' ' || c == 0x7f {
					break
				}
				j++
				w++
				continue
			}
			r, size := utf8.DecodeRuneInString(s[j:])
			if isBreak(r) {
				break
			}
			j += size
			w += runeWidth(r)
		}
		word := s[i:j]
		i = j
		if len(b) == start {
			b = slices.Grow(b, len(s)+len(first)+(len(s)/max(width-restW, 8)+1)*(len(rest)+1))
			b = append(b, first...)
		}
		if started {
			if col+1+w <= width {
				b = append(b, ' ')
				b = append(b, word...)
				col += 1 + w
				continue
			}
			b = append(b, '\n')
			b = append(b, rest...)
			col = restW
		}
		started = true
		if col+w <= width || isURL(word) {
			b = append(b, word...)
			col += w
			continue
		}
		// Split an overlong word, keeping at least one rune per line.
		for word != "" {
			n, cw := 0, 0
			for _, r := range word {
				rw := runeWidth(r)
				if n > 0 && col+cw+rw > width {
					break
				}
				n += utf8.RuneLen(r)
				cw += rw
			}
			b = append(b, word[:n]...)
			col += cw
			if word = word[n:]; word != "" {
				b = append(b, '\n')
				b = append(b, rest...)
				col = restW
			}
		}
	}
	return b
}

// Shorten cuts s to at most limit runes, ending at a word boundary with "…"
// when anything was cut. A single word longer than the limit is cut inside
// the word. s is returned unchanged when it fits.
func Shorten(s string, limit int) string {
	end, cut := cutPoint(s, limit)
	if !cut {
		return s
	}
	return s[:end] + ellipsis
}

// cutPoint finds where Shorten cuts s: the byte offset to keep, and
// whether s must be cut at all.
func cutPoint(s string, limit int) (int, bool) {
	if len(s) <= limit { // bytes >= runes
		return len(s), false
	}
	if limit <= 1 {
		return 0, utf8.RuneCountInString(s) > limit
	}
	// keep is the byte offset after limit-1 runes (room for the ellipsis).
	keep, n, more := 0, 0, false
	for i := range s {
		if n == limit-1 {
			keep = i
		} else if n == limit {
			more = true
			break
		}
		n++
	}
	if !more { // at most limit runes
		return len(s), false
	}
	end := keep
	if r, _ := utf8.DecodeRuneInString(s[keep:]); !isBreak(r) {
		// Back off to the last gap, unless that would drop more than half.
		for k := keep; k > keep/2; {
			r, size := utf8.DecodeLastRuneInString(s[:k])
			if isBreak(r) {
				end = k - size
				break
			}
			k -= size
		}
	}
	end = len(strings.TrimRightFunc(s[:end], func(r rune) bool {
		return isBreak(r) || strings.ContainsRune(",;:-–—", r)
	}))
	if end == 0 {
		end = keep
	}
	return end, true
}

// ShortenParts is Shorten for highlighted text: it cuts parts to at most
// limit runes in all at a word boundary and ends them with a "…" segment. The
// slice is returned unchanged, without allocating, when it fits.
func ShortenParts(parts []Segment, limit int) []Segment {
	total := 0
	for _, p := range parts {
		total += len(p.Text)
	}
	if total <= limit {
		return parts
	}
	var b strings.Builder
	b.Grow(total)
	for _, p := range parts {
		b.WriteString(p.Text)
	}
	end, cut := cutPoint(b.String(), limit)
	if !cut {
		return parts
	}
	out := make([]Segment, 0, len(parts)+1)
	for _, p := range parts {
		if end <= 0 {
			break
		}
		if len(p.Text) > end {
			p.Text = p.Text[:end]
		}
		end -= len(p.Text)
		out = append(out, p)
	}
	return append(out, Segment{Text: ellipsis})
}

// Authors formats an author list for a digest: the first limit names
// joined by ", ", then " et al." when there are more; limit <= 0 means
// all.
func Authors(names []string, limit int) string {
	if limit <= 0 || len(names) <= limit {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:limit], ", ") + " et al."
}

// cleanValue guards every output action of a text template: strings lose
// their control characters (see cleanLine), other values are printed and
// cleaned the same way, and text laid out by wrap/hang passes unchanged.
func cleanValue(v any) any {
	switch x := v.(type) {
	case textBlock:
		return x
	case string:
		return cleanLine(x)
	case nil, bool, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64:
		return v
	}
	return cleanLine(fmt.Sprint(v))
}
