package mailer

import "strings"

// Quoted-printable (RFC 2045 section 6.7) written in runs: the digests'
// lines are mostly printable ASCII, so each run of literal characters is
// copied at once instead of byte by byte, as mime/quotedprintable's
// Writer does.

// qpLiteral marks the bytes that stand for themselves: printable ASCII
// but "=", and space and tab (encoded at the end of a line only).
var qpLiteral = func() (t [256]bool) {
	for c := '!'; c <= '~'; c++ {
		t[c] = c != '='
	}
	t[' '], t['\t'] = true, true
	return t
}()

const qpHex = "0123456789ABCDEF"

// load8 packs s[i:i+8] into a word, s[i] lowest (the compiler makes it
// one load).
func load8(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// literal8 reports whether all eight bytes packed in x stand for
// themselves: each is a space or printable ASCII but "=" (a tab, also
// literal, takes the byte-wise path). A digest's lines are long runs of
// such bytes; testing eight at once is what makes the scan cheap.
func literal8(x uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	// A byte is zero after the XOR, or below 0x20, when subtracting
	// sets its high bit where it was clear.
	zero := func(v uint64) uint64 { return (v - ones) & ^v & highs }
	below := (x - 0x20*ones) & ^x & highs
	return (x&highs)|below|zero(x^(0x7f*ones))|zero(x^('='*ones)) == 0
}

// qpMax is the longest encoded line, the soft break's "=" included.
const qpMax = 76

// appendQP appends s quoted-printable encoded. Line breaks (LF, CRLF or a
// lone CR) become CRLF; no encoded line is longer than 76 characters.
func appendQP(b []byte, s string) []byte {
	for len(s) > 0 {
		// Lines end in LF (or CRLF): IndexByte finds them much faster
		// than IndexAny looking for CR and LF at once; a lone CR ends a
		// line too.
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			i = len(s)
		}
		line := s[:i]
		if cr := strings.IndexByte(line, '\r'); cr >= 0 && (cr < len(line)-1 || i == len(s)) {
			i, line = cr, line[:cr] // a lone CR
		} else if cr >= 0 {
			line = line[:cr] // CRLF
		}
		b = appendQPLine(b, line)
		if i == len(s) {
			return b
		}
		b = append(b, '\r', '\n')
		s = s[i+1:]
	}
	return b
}

// appendQPLine encodes one line (without its line break), breaking it
// softly ("=" CRLF) where it would grow beyond qpMax; the output is
// mime/quotedprintable's, byte for byte.
func appendQPLine(b []byte, line string) []byte {
	col := 0
	isWS := func(c byte) bool { return c == ' ' || c == '\t' }
	for i := 0; i < len(line); {
		c := line[i]
		if qpLiteral[c] && !(i == len(line)-1 && isWS(c)) {
			j := i + 1
			for j+8 <= len(line) && literal8(load8(line, j)) {
				j += 8
			}
			for j < len(line) && qpLiteral[line[j]] {
				j++
			}
			if j == len(line) && isWS(line[j-1]) {
				j-- // trailing white space is encoded
			}
			for i < j {
				// A column is kept for a soft break's "=" even where the
				// line ends (as mime/quotedprintable does).
				room := qpMax - 1 - col
				if room <= 0 {
					b = append(b, "=\r\n"...)
					col = 0
					continue
				}
				n := min(room, j-i)
				b = append(b, line[i:i+n]...)
				col += n
				i += n
			}
			continue
		}
		if col+3 > qpMax-1 {
			b = append(b, "=\r\n"...)
			col = 0
		}
		b = append(b, '=', qpHex[c>>4], qpHex[c&15])
		col += 3
		i++
	}
	return b
}
