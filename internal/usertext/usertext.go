// Package usertext cleans text that people type (web forms, imported
// files) before papermail stores or shows it, and escapes what must never
// reach a terminal raw. It owns the rule of which characters are not text:
// C0 and C1 control characters (ESC starts terminal escape sequences, BEL
// rings), DEL, the Unicode bidirectional overrides, embeddings and
// isolates (which make "gpj.exe" read as "exe.jpg") and the directional
// marks, invalid UTF-8, and the invisible byte-order mark.
package usertext

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// Clean returns s without the characters that are not text. Line breaks
// (\n, \r\n, \r, U+2028, U+2029) become \n and tabs stay, since a text
// area may hold several lines; every other control character is dropped,
// with a whole terminal escape sequence (ESC [ ... final byte) when one
// starts. Invalid UTF-8 is dropped too.
func Clean(s string) string {
	if isClean(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			// invalid UTF-8: dropped
		case r == '\r':
			b.WriteByte('\n')
			if i+1 < len(s) && s[i+1] == '\n' {
				n++
			}
		case r == '\u2028' || r == '\u2029':
			b.WriteByte('\n')
		case r == '\n' || r == '\t':
			b.WriteRune(r)
		case r == 0x1b:
			n += escapeLen(s[i+1:])
		case NotText(r):
			// dropped
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// Line is Clean for a one-line field (a name, an address): line breaks
// and tabs become spaces.
func Line(s string) string {
	s = Clean(s)
	if strings.ContainsAny(s, "\n\t") {
		s = strings.NewReplacer("\n", " ", "\t", " ").Replace(s)
	}
	return s
}

// escapeLen is the length of the rest of a terminal escape sequence whose
// ESC was just read: a CSI sequence "[" parameters, intermediates and a
// final byte, an OSC sequence "]" up to BEL or ST, or a single character.
func escapeLen(s string) int {
	if s == "" {
		return 0
	}
	switch s[0] {
	case '[':
		for i := 1; i < len(s); i++ {
			switch c := s[i]; {
			case c >= 0x40 && c <= 0x7e: // final byte
				return i + 1
			case c < 0x20 || c > 0x7e: // not part of a sequence
				return i
			}
		}
		return len(s)
	case ']':
		for i := 1; i < len(s); i++ {
			if s[i] == 0x07 {
				return i + 1
			}
			if s[i] == 0x1b && i+1 < len(s) && s[i+1] == '\\' {
				return i + 2
			}
		}
		return len(s)
	}
	if s[0] >= 0x20 && s[0] < 0x7f {
		return 1
	}
	return 0
}

// NotText reports whether r is one of the characters Clean drops: a C0 or
// C1 control (tab and line feed included: callers that keep them test
// first), DEL, a bidirectional control or mark, or the byte-order mark.
func NotText(r rune) bool {
	switch {
	case r < 0x20, r >= 0x7f && r <= 0x9f:
		return true
	case r >= 0x202a && r <= 0x202e, // embeddings and overrides
		r >= 0x2066 && r <= 0x2069,            // isolates
		r == 0x200e, r == 0x200f, r == 0x061c, // directional marks
		r == 0xfeff: // byte-order mark, zero-width no-break space
		return true
	}
	return false
}

// isClean reports whether Clean would return s unchanged.
func isClean(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			return isCleanUnicode(s[i:])
		}
		if c < 0x20 && c != '\n' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

func isCleanUnicode(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool {
		return r == utf8.RuneError || r == '\r' || r == '\u2028' || r == '\u2029' || (NotText(r) && r != '\n' && r != '\t')
	})
}

// Printable returns s as it may go to a terminal: every character that is
// not printable (controls, bidi controls, invisible format characters,
// invalid UTF-8) is written as a Go escape such as \x1b or \u202e, and a
// backslash as \\ so the escapes cannot be faked. Plain text comes back
// unchanged.
func Printable(s string) string {
	if utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool { return r == '\\' || !printable(r) }) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			b.WriteString(`\x`)
			b.WriteString(strconv.FormatUint(uint64(s[i])|0x100, 16)[1:])
		case r == '\\':
			b.WriteString(`\\`)
		case !printable(r):
			q := strconv.QuoteRuneToASCII(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteRune(r)
		}
		i += n
	}
	return b.String()
}

func printable(r rune) bool {
	return r == ' ' || (unicode.IsPrint(r) && !NotText(r) && !unicode.Is(unicode.Cf, r))
}

// EscapeJSON rewrites encoded JSON so that it holds no character a
// terminal acts on: every one Printable would escape is written as a
// \uXXXX escape, which JSON reads back as the same character.
// encoding/json already escapes C0 controls; this adds C1 controls, bidi
// controls and other invisible format characters.
func EscapeJSON(b []byte) []byte {
	if !bytes.ContainsFunc(b, func(r rune) bool { return r >= 0x80 && !printable(r) }) {
		return b
	}
	out := make([]byte, 0, len(b)+16)
	for _, r := range string(b) {
		if r < 0x80 || printable(r) {
			out = utf8.AppendRune(out, r)
			continue
		}
		for _, u := range utf16.Encode([]rune{r}) {
			out = append(out, fmt.Sprintf(`\u%04x`, u)...)
		}
	}
	return out
}
