package feeds

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/papermail/papermail/internal/usertext"
)

// CleanText makes one text field (title, abstract, author name) tidy:
// whitespace runs become one space and the ends are trimmed, control
// characters and invalid UTF-8 are dropped, and LaTeX leftovers common in
// arXiv metadata are rendered as plain text:
//
//	{\em x}, {\bf x}, \emph{x}, \textit{x}, \textbf{x}, \url{x}  ->  x
//	\% \& \_ \# \$ \{ \}                                     ->  % & _ # $ { }
//	$x^2$ (inline math: no space inside the dollars)           ->  x^2
//	``x''                                                      ->  "x"
//	a~b (a tie between two words)                              ->  a b
//	--  ---                                                    ->  –  —
//	\"o  \'e  {\"u}  \alpha  \eg  \ldots                       ->  ö  é  ü  α  e.g.  …
//
// Everything else, including plain braces, unknown commands, a "~" meaning
// "approximately" ("~30%"), currency ("$5 and $10") and command-line flags
// ("--verbose"), is left alone. The result is NFC-normalized.
func CleanText(s string) string {
	if isPlain(s) {
		return s
	}
	c := cleaner{s: s}
	c.b.Grow(len(s))
	c.run()
	out := c.b.String()
	if c.needNFC {
		out = norm.NFC.String(out)
	}
	return out
}

// isPlain reports whether s needs no work: printable ASCII without the
// characters CleanText treats specially, single spaces and no space at
// either end.
func isPlain(s string) bool {
	if s == "" {
		return true
	}
	if s[0] == ' ' || s[len(s)-1] == ' ' {
		return false
	}
	prevSpace := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f {
			return false
		}
		switch c {
		case '\\', '{', '}', '$', '~':
			return false
		case '-', '`', '\'':
			if i+1 < len(s) && s[i+1] == c {
				return false
			}
		case ' ':
			if prevSpace {
				return false
			}
			prevSpace = true
			continue
		}
		prevSpace = false
	}
	return true
}

// cleaner is the state of one CleanText pass.
type cleaner struct {
	s       string
	b       strings.Builder
	space   bool   // a space is pending before the next visible character
	groups  []byte // kinds of the open braces: keepBrace, dropBrace, fracBrace
	quotes  int    // open `` quotes
	mathEnd int    // 1 + offset of the dollar closing the current math; 0 outside math
	mathLen int    // length of that closing delimiter
	// needNFC is set once input text beyond ASCII or an accent mark is
	// written; the symbols CleanText itself inserts are already NFC.
	needNFC bool
}

// Kinds of open braces.
const (
	keepBrace = iota // plain text brace, written back
	dropBrace        // markup brace, dropped
	fracBrace        // numerator of \frac: "}{" becomes "/"
)

// argCommands take one argument whose text is kept.
var argCommands = map[string]bool{
	"emph": true, "textit": true, "textbf": true, "texttt": true, "textrm": true,
	"textsf": true, "textsc": true, "textsl": true, "textup": true, "textmd": true,
	"textnormal": true, "text": true, "mathrm": true, "mathbf": true, "mathit": true,
	"mathsf": true, "mathtt": true, "mathcal": true, "mathbb": true, "mathfrak": true,
	"boldsymbol": true, "bm": true, "underline": true, "url": true, "mbox": true,
	"hbox": true, "operatorname": true, "uline": true, "textsuperscript": true,
	"textsubscript": true, "hat": true, "bar": true, "vec": true, "tilde": true,
	"overline": true, "widehat": true, "widetilde": true, "sqrt": true,
}

// dropCommands take one argument that is dropped with them.
var dropCommands = map[string]bool{
	"cite": true, "citep": true, "citet": true, "ref": true, "eqref": true,
	"label": true, "footnote": true, "thanks": true, "vspace": true, "hspace": true,
}

// switchCommands change the font of the rest of their group: {\em x}.
var switchCommands = map[string]bool{
	"em": true, "bf": true, "it": true, "sc": true, "tt": true, "rm": true,
	"sf": true, "sl": true, "bfseries": true, "itshape": true, "ttfamily": true,
	"rmfamily": true, "sffamily": true, "scshape": true, "mdseries": true,
	"upshape": true, "normalfont": true, "tiny": true, "small": true,
	"footnotesize": true, "normalsize": true, "large": true, "Large": true,
	"LARGE": true, "huge": true, "Huge": true, "displaystyle": true,
	"textstyle": true, "scriptstyle": true,
}

// wordCommands are replaced by text.
var wordCommands = map[string]string{
	"eg": "e.g.", "ie": "i.e.", "etc": "etc.", "etal": "et al.", "vs": "vs.",
	"cf": "cf.", "wrt": "w.r.t.", "ldots": "…", "dots": "…", "cdots": "⋯",
	"LaTeX": "LaTeX", "TeX": "TeX", "textendash": "–", "textemdash": "—",
	"times": "×", "pm": "±", "mp": "∓", "leq": "≤", "le": "≤", "geq": "≥",
	"ge": "≥", "neq": "≠", "ne": "≠", "approx": "≈", "sim": "∼", "simeq": "≃",
	"infty": "∞", "to": "→", "rightarrow": "→", "leftarrow": "←",
	"Rightarrow": "⇒", "cdot": "·", "circ": "∘", "in": "∈", "partial": "∂",
	"nabla": "∇", "sum": "∑", "prod": "∏", "int": "∫", "sqrt": "√",
	"ell": "ℓ", "log": "log", "exp": "exp", "min": "min", "max": "max",
	"alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε",
	"varepsilon": "ε", "zeta": "ζ", "eta": "η", "theta": "θ", "vartheta": "ϑ",
	"iota": "ι", "kappa": "κ", "lambda": "λ", "mu": "μ", "nu": "ν", "xi": "ξ",
	"pi": "π", "rho": "ρ", "sigma": "σ", "tau": "τ", "upsilon": "υ", "phi": "φ",
	"varphi": "φ", "chi": "χ", "psi": "ψ", "omega": "ω", "Gamma": "Γ",
	"Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ", "Pi": "Π",
	"Sigma": "Σ", "Upsilon": "Υ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω",
	"ss": "ß", "o": "ø", "O": "Ø", "ae": "æ", "AE": "Æ", "aa": "å", "AA": "Å",
	"l": "ł", "L": "Ł", "quad": " ", "qquad": " ", "newline": " ", "par": " ",
	"textbackslash": "\\", "textasciitilde": "~", "S": "§",
}

// accents maps a LaTeX accent command to its Unicode combining mark.
var accents = map[string]rune{
	"'": '\u0301', "`": '\u0300', "^": '\u0302', "\"": '\u0308', "~": '\u0303',
	"=": '\u0304', ".": '\u0307', "c": '\u0327', "v": '\u030c', "u": '\u0306',
	"H": '\u030b', "r": '\u030a', "k": '\u0328',
}

// pendingSpace writes the space recorded by addSpace, if any.
func (c *cleaner) pendingSpace() {
	if c.space {
		c.b.WriteByte(' ')
		c.space = false
	}
}

func (c *cleaner) writeByte(ch byte) {
	c.pendingSpace()
	c.b.WriteByte(ch)
}

func (c *cleaner) writeString(s string) {
	if s != "" {
		c.pendingSpace()
		c.b.WriteString(s)
	}
}

func (c *cleaner) writeRune(r rune) {
	c.pendingSpace()
	c.b.WriteRune(r)
	c.needNFC = true
}

// addSpace records a space; it is written only between visible characters.
func (c *cleaner) addSpace() {
	if c.b.Len() > 0 {
		c.space = true
	}
}

// special marks the bytes run looks at one by one; runs of other bytes
// are copied in one go.
var special = func() (t [256]bool) {
	for b := range 256 {
		t[b] = b < 0x20 || b >= 0x7f
	}
	for _, b := range []byte("\\{}$~`'- ") {
		t[b] = true
	}
	return t
}()

// plainRun returns the end of the run of bytes from i that copy as they
// are: ordinary printable ASCII, single inner spaces, and hyphens,
// apostrophes and backquotes that are not doubled.
func plainRun(s string, i int) int {
	j := i
	for j < len(s) {
		b := s[j]
		if !special[b] {
			j++
			continue
		}
		next := byte(0)
		if j+1 < len(s) {
			next = s[j+1]
		}
		switch b {
		case ' ':
			if j == i || next == 0 || special[next] && next != '-' && next != '\'' && next != '`' {
				return j
			}
		case '-', '\'', '`':
			if next == b {
				return j
			}
		default:
			return j
		}
		j++
	}
	return j
}

func (c *cleaner) run() {
	s := c.s
	for i := 0; i < len(s); {
		if j := plainRun(s, i); j > i {
			c.writeString(s[i:j])
			i = j
			continue
		}
		ch := s[i]
		if ch >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			switch {
			case r == utf8.RuneError && size == 1, r == '\ufeff', r == '\u200b':
			case unicode.IsSpace(r):
				c.addSpace()
			case unicode.IsControl(r), usertext.NotText(r):
				// C1 controls, and the bidi overrides and marks that
				// make text read in another order than it is stored.
			default:
				c.writeString(s[i : i+size])
				c.needNFC = true
			}
			i += size
			continue
		}
		switch ch {
		case ' ', '\t', '\n', '\r', '\v', '\f':
			c.addSpace()
			i++
		case '\\':
			i = c.command(i)
		case '{':
			i = c.open(i)
		case '}':
			if n := len(c.groups); n > 0 {
				kind := c.groups[n-1]
				c.groups = c.groups[:n-1]
				switch {
				case kind == fracBrace && i+1 < len(s) && s[i+1] == '{':
					// \frac{a}{b} -> a/b
					c.writeByte('/')
					c.groups = append(c.groups, dropBrace)
					i += 2
					continue
				case kind != keepBrace:
					i++
					continue
				}
			}
			c.writeByte('}')
			i++
		case '$':
			i = c.dollar(i)
		case '~':
			// A tie between two words is a space; "~30%" after a space
			// means "about" and stays, as does "/~user" in a URL.
			if i > 0 && i+1 < len(s) && !isSpaceByte(s[i-1]) && s[i-1] != '/' && s[i-1] != '~' && !isSpaceByte(s[i+1]) && s[i+1] != '~' {
				c.addSpace()
			} else {
				c.writeByte('~')
			}
			i++
		case '`':
			if i+1 < len(s) && s[i+1] == '`' {
				c.writeByte('"')
				c.quotes++
				i += 2
			} else {
				c.writeByte('`')
				i++
			}
		case '\'':
			if c.quotes > 0 && i+1 < len(s) && s[i+1] == '\'' {
				c.writeByte('"')
				c.quotes--
				i += 2
			} else {
				c.writeByte('\'')
				i++
			}
		case '-':
			i = c.dashes(i)
		default:
			if ch < 0x20 || ch == 0x7f {
				i++ // control character
				continue
			}
			c.writeByte(ch)
			i++
		}
	}
}

func isSpaceByte(b byte) bool {
	return b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '\v' || b == '\f'
}

func isLetter(b byte) bool { return b|0x20 >= 'a' && b|0x20 <= 'z' }

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

// dashes handles a run of '-' starting at i.
func (c *cleaner) dashes(i int) int {
	s := c.s
	j := i
	for j < len(s) && s[j] == '-' {
		j++
	}
	n := j - i
	prevSpace := i == 0 || isSpaceByte(s[i-1])
	flag := prevSpace && j < len(s) && isLetter(s[j]) // --verbose
	arrow := (j < len(s) && s[j] == '>') || (i > 0 && s[i-1] == '!')
	switch {
	case n == 2 && !flag && !arrow:
		c.writeString("–")
	case n == 3 && !flag && !arrow:
		c.writeString("—")
	default:
		c.writeString(s[i:j])
	}
	return j
}

// open handles '{' at i. A group that starts with a command ({\em x},
// {\"u}) or is empty is LaTeX markup and its braces are dropped; other
// braces are kept as text.
func (c *cleaner) open(i int) int {
	s := c.s
	if i+1 < len(s) && s[i+1] == '}' {
		return i + 2
	}
	if strings.HasPrefix(s[i:], "{,}") { // thousands separator: 4{,}000
		c.writeByte(',')
		return i + 3
	}
	if i+1 < len(s) && s[i+1] == '\\' {
		c.groups = append(c.groups, dropBrace)
		return i + 1
	}
	c.groups = append(c.groups, keepBrace)
	c.writeByte('{')
	return i + 1
}

// dollar handles '$' at i: the delimiters of inline ($x$) or display
// ($$x$$) math are dropped when they pair up as TeX math does: no space
// after the opening dollar, none before the closing one, and no digit
// right after it (so "$5 and $10" stays).
func (c *cleaner) dollar(i int) int {
	s := c.s
	if c.mathEnd > 0 {
		switch {
		case c.mathEnd-1 == i:
			c.mathEnd = 0
			return i + c.mathLen
		case c.mathEnd-1 > i:
			c.writeByte('$')
			return i + 1
		}
		c.mathEnd = 0 // the closing dollar was consumed by a command
	}
	if strings.HasPrefix(s[i:], "$$") {
		if k := strings.Index(s[i+2:], "$$"); k > 0 {
			c.mathEnd, c.mathLen = i+2+k+1, 2
			return i + 2
		}
		c.writeString("$$")
		return i + 2
	}
	if i+1 < len(s) && !isSpaceByte(s[i+1]) {
		for j := i + 1; j < len(s); j++ {
			if s[j] != '$' || s[j-1] == '\\' {
				continue
			}
			if j > i+1 && !isSpaceByte(s[j-1]) && (j+1 == len(s) || !isDigit(s[j+1]) && s[j+1] != '$') {
				c.mathEnd, c.mathLen = j+1, 1
				return i + 1
			}
			break
		}
	}
	c.writeByte('$')
	return i + 1
}

// command handles a backslash at i and returns the index after what it
// consumed.
func (c *cleaner) command(i int) int {
	s := c.s
	if i+1 >= len(s) {
		c.writeByte('\\')
		return i + 1
	}
	n := s[i+1]
	switch n {
	case '%', '&', '_', '#', '$', '{', '}':
		c.writeByte(n)
		return i + 2
	case '\\', ' ', ',', ';', '\n', '\t', '\r':
		c.addSpace()
		return i + 2
	case '!', '/', '-':
		return i + 2
	case '\'', '`', '^', '"', '~', '=', '.':
		if j, ok := c.accent(string(n), i+2); ok {
			return j
		}
		c.writeByte('\\')
		return i + 1
	}
	if !isLetter(n) {
		c.writeByte('\\')
		return i + 1
	}
	j := i + 1
	for j < len(s) && isLetter(s[j]) {
		j++
	}
	name := s[i+1 : j]
	switch {
	case argCommands[name] || dropCommands[name] || name == "href" || name == "frac" || name == "tfrac" || name == "dfrac":
		k := j
		for k < len(s) && s[k] == ' ' {
			k++
		}
		if k >= len(s) || s[k] != '{' {
			if dropCommands[name] {
				return j
			}
			if w, ok := wordCommands[name]; ok {
				c.writeString(w)
				return j
			}
			c.writeString(s[i:j])
			return j
		}
		if name == "href" { // \href{url}{text}: keep the text
			end := matchBrace(s, k)
			if end < 0 {
				c.writeString(s[i:j])
				return j
			}
			k = end + 1
			if k >= len(s) || s[k] != '{' {
				return k
			}
		}
		if dropCommands[name] {
			if end := matchBrace(s, k); end >= 0 {
				return end + 1
			}
			return len(s)
		}
		if name == "sqrt" {
			c.writeString("√")
		}
		kind := byte(dropBrace)
		if name == "frac" || name == "tfrac" || name == "dfrac" {
			kind = fracBrace
		}
		c.groups = append(c.groups, kind)
		return k + 1
	case switchCommands[name]:
		if j < len(s) && s[j] == ' ' {
			j++
		}
		return j
	case len(name) == 1 && accents[name] != 0:
		// \c{c}, \v{s}, \u{a}, \H{o}, \r{a}, \k{a}, or "\c c".
		if k, ok := c.accent(name, j); ok {
			return k
		}
	}
	if w, ok := wordCommands[name]; ok {
		c.writeString(w)
		return j
	}
	c.writeString(s[i:j]) // unknown command: leave it
	return j
}

// accent writes the letter after an accent command (at j: "o", "{o}" or
// " o" for letter-named accents) with its combining mark.
func (c *cleaner) accent(name string, j int) (int, bool) {
	s := c.s
	mark := accents[name]
	if isLetter(name[0]) && j < len(s) && s[j] == ' ' {
		j++
	}
	if j >= len(s) {
		return 0, false
	}
	braced := s[j] == '{'
	if braced {
		j++
	}
	if j < len(s) && s[j] == '\\' && j+1 < len(s) && (s[j+1] == 'i' || s[j+1] == 'j') && (j+2 == len(s) || !isLetter(s[j+2])) {
		// \'{\i}: dotless i takes the accent.
		j++
	}
	if j >= len(s) {
		return 0, false
	}
	r, size := utf8.DecodeRuneInString(s[j:])
	if !unicode.IsLetter(r) {
		return 0, false
	}
	j += size
	if braced {
		if j >= len(s) || s[j] != '}' {
			return 0, false
		}
		j++
	}
	c.writeRune(r)
	c.writeRune(mark)
	return j, true
}

// matchBrace returns the index of the brace closing the one at k, or -1.
func matchBrace(s string, k int) int {
	depth := 0
	for i := k; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}
