package library

import (
	"regexp"
	"strings"

	"github.com/papermail/papermail/internal/model"
)

// BibEntry is one parsed BibTeX entry: its type and key and its fields by
// lowercase name, values with macros expanded and the outer braces or
// quotes removed (inner braces and LaTeX kept).
type BibEntry struct {
	Type, Key string
	Fields    map[string]string
	// Line is the 1-based line of the entry's '@'.
	Line int
}

// fieldInValueRE matches a line inside a value that looks like the next
// field ("  year = 2021").
var fieldInValueRE = regexp.MustCompile(`\n[ \t]*[A-Za-z][A-Za-z_-]*[ \t]*=[ \t]*[{"0-9A-Za-z]`)

// bibMonths are BibTeX's predefined month macros.
var bibMonths = map[string]string{"jan": "January", "feb": "February", "mar": "March", "apr": "April", "may": "May", "jun": "June",
	"jul": "July", "aug": "August", "sep": "September", "oct": "October", "nov": "November", "dec": "December"}

// ParseBibTeX reads every entry of a BibTeX file. Text outside entries is
// a comment, as in BibTeX; @comment and @preamble are skipped and @string
// macros expanded. Problems are reported per entry; when there are any,
// the entries are nil.
func ParseBibTeX(src string) ([]BibEntry, error) {
	ps := &problems{format: FormatBibTeX}
	out := scanBibTeX(src, ps)
	if err := ps.err(); err != nil {
		return nil, err
	}
	return out, nil
}

func parseBibTeX(src string, ps *problems) []model.LibraryEntry {
	bibs := scanBibTeX(src, ps)
	var out []model.LibraryEntry
	keys := make(map[string]int, len(bibs)) // lowercase key -> entry number
	for i, b := range bibs {
		if b.Key != "" {
			// BibTeX refuses a repeated key (case does not count): which
			// of the two entries a citation means is unknowable.
			k := strings.ToLower(b.Key)
			if first, ok := keys[k]; ok {
				ps.add(i+1, b.Line, b.Key, "the key %q is already used by entry %d", b.Key, first)
				continue
			}
			keys[k] = i + 1
		}
		f := b.Fields
		arxiv := ""
		if strings.EqualFold(f["archiveprefix"], "arxiv") || strings.EqualFold(f["eprinttype"], "arxiv") || strings.HasPrefix(strings.TrimSpace(f["eprint"]), "arXiv:") {
			arxiv = f["eprint"]
		}
		if arxiv == "" && strings.Contains(strings.ToLower(f["journal"]), "arxiv") {
			if j := f["journal"]; strings.Contains(j, ":") {
				arxiv = j[strings.LastIndexByte(j, ':')+1:]
			}
		}
		e, ok := entry(f["title"], f["abstract"], arxiv, f["doi"], f["url"])
		if !ok {
			ps.add(i+1, b.Line, b.Key, "no title, arXiv id or DOI")
			continue
		}
		out = append(out, e)
	}
	return out
}

// bibScanner walks a BibTeX source.
type bibScanner struct {
	s      string
	i      int
	line   int
	macros map[string]string
}

func (sc *bibScanner) skipSpace() {
	for sc.i < len(sc.s) {
		switch sc.s[sc.i] {
		case '\n':
			sc.line++
		case ' ', '\t', '\r', '\f', '\v':
		default:
			return
		}
		sc.i++
	}
}

// scanBibTeX reads every entry; malformed entries are problems and the
// scanner resumes at the next line starting with '@'.
func scanBibTeX(src string, ps *problems) []BibEntry {
	sc := &bibScanner{s: src, line: 1, macros: make(map[string]string)}
	var out []BibEntry
	n := 0
	for {
		// Find the next '@' (anything before it is a comment).
		j := strings.IndexByte(sc.s[sc.i:], '@')
		if j < 0 {
			break
		}
		sc.line += strings.Count(sc.s[sc.i:sc.i+j], "\n")
		sc.i += j + 1
		start := sc.line
		typ := sc.ident()
		if typ == "" {
			continue // a stray '@' in a comment
		}
		sc.skipSpace()
		if sc.i >= len(sc.s) || (sc.s[sc.i] != '{' && sc.s[sc.i] != '(') {
			continue // "@" followed by a word, as in an address in a comment
		}
		ltyp := strings.ToLower(typ)
		if ltyp == "comment" {
			sc.skipBalanced()
			continue
		}
		n++
		entryNo := n
		if ltyp == "preamble" || ltyp == "string" {
			n-- // not a paper
		}
		e, msg := sc.entry(ltyp, start)
		if msg != "" {
			if ltyp == "preamble" || ltyp == "string" {
				ps.add(0, sc.line, "", "@%s: %s", ltyp, msg)
			} else {
				ps.add(entryNo, sc.line, e.Key, "%s", msg)
			}
			sc.resync()
			continue
		}
		if ltyp == "preamble" || ltyp == "string" {
			continue
		}
		out = append(out, e)
	}
	return out
}

// ident reads a BibTeX identifier (entry type, key part, field name).
func (sc *bibScanner) ident() string {
	st := sc.i
	for sc.i < len(sc.s) {
		c := sc.s[sc.i]
		if c <= ' ' || strings.IndexByte(`"#%'(),={}`, c) >= 0 {
			break
		}
		sc.i++
	}
	return sc.s[st:sc.i]
}

// skipBalanced skips a {...} or (...) group (for @comment).
func (sc *bibScanner) skipBalanced() {
	if sc.i >= len(sc.s) {
		return
	}
	open := sc.s[sc.i]
	closeC := closer(open)
	depth := 0
	for ; sc.i < len(sc.s); sc.i++ {
		switch c := sc.s[sc.i]; {
		case c == '\n':
			sc.line++
		case c == open:
			depth++
		case c == closeC:
			depth--
			if depth == 0 {
				sc.i++
				return
			}
		}
	}
}

// resync moves to the next line that starts with '@' after an error.
func (sc *bibScanner) resync() {
	k := strings.Index(sc.s[min(sc.i, len(sc.s)):], "\n@")
	if k < 0 {
		sc.i = len(sc.s)
		return
	}
	sc.line += strings.Count(sc.s[sc.i:sc.i+k+1], "\n")
	sc.i += k + 1
}

// closer is the character that closes an entry or group opened by open.
func closer(open byte) byte {
	if open == '(' {
		return ')'
	}
	return '}'
}

// entry reads "{key, name = value, ...}" after the type.
func (sc *bibScanner) entry(typ string, line int) (BibEntry, string) {
	e := BibEntry{Type: typ, Line: line, Fields: make(map[string]string)}
	closeC := closer(sc.s[sc.i])
	sc.i++
	sc.skipSpace()
	switch typ {
	case "preamble":
		if _, msg := sc.value(); msg != "" {
			return e, msg
		}
		return e, sc.end(closeC)
	case "string":
		name := strings.ToLower(sc.ident())
		sc.skipSpace()
		if name == "" || sc.i >= len(sc.s) || sc.s[sc.i] != '=' {
			return e, `want "name = value"`
		}
		sc.i++
		sc.skipSpace()
		v, msg := sc.value()
		if msg == "" {
			msg = sc.end(closeC)
		}
		if msg == "" {
			sc.macros[name] = v
		}
		return e, msg
	}
	// The key runs to the first comma (BibTeX allows most characters).
	st := sc.i
	for sc.i < len(sc.s) && sc.s[sc.i] != ',' && sc.s[sc.i] != closeC && sc.s[sc.i] != '\n' {
		sc.i++
	}
	e.Key = strings.TrimSpace(sc.s[st:sc.i])
	if sc.i >= len(sc.s) {
		return e, "unexpected end of file (truncated?)"
	}
	if sc.s[sc.i] == closeC {
		sc.i++
		return e, "" // an entry with a key and no fields
	}
	if sc.s[sc.i] == '\n' {
		sc.skipSpace()
		if sc.i >= len(sc.s) || sc.s[sc.i] != ',' {
			return e, "want a comma after the citation key"
		}
	}
	sc.i++ // ','
	for {
		sc.skipSpace()
		if sc.i >= len(sc.s) {
			return e, "unexpected end of file: missing closing " + string(closeC) + " (truncated?)"
		}
		if sc.s[sc.i] == closeC {
			sc.i++
			return e, ""
		}
		name := strings.ToLower(sc.ident())
		if name == "" {
			return e, "want a field name, found " + quoteByte(sc.s[sc.i])
		}
		sc.skipSpace()
		if sc.i >= len(sc.s) || sc.s[sc.i] != '=' {
			return e, "field " + name + `: want "=" after the field name`
		}
		sc.i++
		sc.skipSpace()
		v, msg := sc.value()
		if msg != "" {
			return e, "field " + name + ": " + msg
		}
		e.Fields[name] = v
		sc.skipSpace()
		if sc.i >= len(sc.s) {
			return e, "unexpected end of file: missing closing " + string(closeC) + " (truncated?)"
		}
		switch sc.s[sc.i] {
		case ',':
			sc.i++
		case closeC:
		default:
			return e, "field " + name + ": want a comma or the end of the entry, found " + quoteByte(sc.s[sc.i])
		}
	}
}

// end reads the character c that closes a @preamble or @string entry.
func (sc *bibScanner) end(c byte) string {
	sc.skipSpace()
	if sc.i >= len(sc.s) || sc.s[sc.i] != c {
		return "missing closing " + string(c)
	}
	sc.i++
	return ""
}

// value reads a field value: pieces joined by '#', each a {braced} or
// "quoted" string, a number or a macro name.
func (sc *bibScanner) value() (string, string) {
	var b strings.Builder
	for {
		sc.skipSpace()
		if sc.i >= len(sc.s) {
			return "", "unexpected end of file in a value (truncated?)"
		}
		switch c := sc.s[sc.i]; {
		case c == '{' || c == '"':
			read := sc.braced
			if c == '"' {
				read = sc.quoted
			}
			s, msg := read()
			if msg != "" {
				return "", msg
			}
			b.WriteString(s)
		case c >= '0' && c <= '9':
			st := sc.i
			for sc.i < len(sc.s) && sc.s[sc.i] >= '0' && sc.s[sc.i] <= '9' {
				sc.i++
			}
			b.WriteString(sc.s[st:sc.i])
		default:
			name := strings.ToLower(sc.ident())
			if name == "" {
				return "", "want a value, found " + quoteByte(c)
			}
			if v, ok := sc.macros[name]; ok {
				b.WriteString(v)
			} else if m, ok := bibMonths[name]; ok {
				b.WriteString(m)
			} else {
				return "", "unknown macro " + name + " (quote text in braces or \"...\")"
			}
		}
		sc.skipSpace()
		if sc.i < len(sc.s) && sc.s[sc.i] == '#' {
			sc.i++
			continue
		}
		return b.String(), ""
	}
}

// braced reads "{...}" with balanced inner braces and returns the inside.
func (sc *bibScanner) braced() (string, string) {
	st, line := sc.i+1, sc.line
	depth := 0
	for ; sc.i < len(sc.s); sc.i++ {
		switch sc.s[sc.i] {
		case '\n':
			sc.line++
		case '\\':
			if sc.i+1 < len(sc.s) && (sc.s[sc.i+1] == '{' || sc.s[sc.i+1] == '}') {
				sc.i++
			}
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				sc.i++
				v := sc.s[st : sc.i-1]
				if fieldInValueRE.MatchString(v) {
					// "title = {A,\n year = 2021\n}": the brace meant to
					// close the title is missing and the value ran on.
					sc.line = line
					return "", "unbalanced braces: the '{' opened on line " + itoa(line) + " is not closed where its value ends (the next field is inside it)"
				}
				return v, ""
			}
		case '@':
			// A line starting with '@' inside an open brace is almost
			// always the next entry: the brace was never closed.
			if sc.i > 0 && sc.s[sc.i-1] == '\n' {
				sc.line = line
				return "", "unbalanced braces: a '{' opened on line " + itoa(line) + " is not closed before the next entry"
			}
		}
	}
	sc.line = line
	return "", "unbalanced braces: a '{' opened on line " + itoa(line) + " is never closed"
}

// quoted reads "..." (braces inside balanced) and returns the inside.
func (sc *bibScanner) quoted() (string, string) {
	st, line := sc.i+1, sc.line
	depth := 0
	for sc.i++; sc.i < len(sc.s); sc.i++ {
		switch sc.s[sc.i] {
		case '\n':
			sc.line++
		case '{':
			depth++
		case '}':
			depth--
			if depth < 0 {
				return "", "unbalanced braces in a quoted value"
			}
		case '"':
			if depth == 0 {
				sc.i++
				return sc.s[st : sc.i-1], ""
			}
		}
	}
	sc.line = line
	return "", `a '"' opened on line ` + itoa(line) + " is never closed"
}

func quoteByte(c byte) string {
	if c < ' ' || c > '~' {
		return "a control or non-ASCII character"
	}
	return "'" + string(c) + "'"
}

func itoa(n int) string {
	const digits = "0123456789"
	if n == 0 {
		return "0"
	}
	var b []byte
	for n > 0 {
		b = append([]byte{digits[n%10]}, b...)
		n /= 10
	}
	return string(b)
}
