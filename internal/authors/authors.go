// Package authors owns what makes two author names the same person:
// "Yann LeCun", "Y. LeCun", "LeCun, Yann", "Yann A. LeCun" and "Yann Le
// Cun" are one name; "Xavier LeCun" is another person who shares the
// surname. It parses the ways feeds, libraries and readers write names
// (given-first, "Surname, Given", initials with or without dots,
// PubMed-style "LeCun YA", particles such as "van" or "de la", diacritics)
// and matches them. It is used to follow authors.
package authors

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Limits on followed names.
const (
	// MaxNames is how many authors one reader may follow.
	MaxNames = 50
	// MaxNameChars is the longest name, in characters.
	MaxNameChars = 100
)

// ErrInvalid is wrapped by errors about names that cannot be followed.
var ErrInvalid = errors.New("invalid author name")

// Name is a parsed person's name.
type Name struct {
	// Text is the name as written, trimmed.
	Text string
	// Surname is the folded surname without spaces or hyphens ("Le Cun",
	// "LeCun" -> "lecun"; "van Dijk" -> "vandijk").
	Surname string
	// core is Surname without its particles ("van Dijk" -> "dijk").
	core string
	// Given are the folded given names in order; an initial is one letter.
	Given []string
	// swappable marks a comma-less name of two full words, which may be
	// written in either order ("Chen Wei", "Wei Chen").
	swappable bool
	first     string // folded first word, for swapped order
	// compound is the surname with the last given name joined to it, for
	// a comma-less name of three or more words whose last two may be a
	// double surname written without a hyphen ("José Hernández Orallo"
	// is also "José Hernández-Orallo"); empty otherwise.
	compound string
}

// particles are the lowercase surname prefixes dropped from the surname
// key, so "Pieter van Dijk", "P. van Dijk" and "van Dijk, Pieter" agree.
var particles = map[string]bool{
	"van": true, "von": true, "de": true, "der": true, "den": true, "del": true, "della": true,
	"di": true, "da": true, "dos": true, "das": true, "du": true, "la": true, "le": true,
	"ter": true, "ten": true, "zu": true, "af": true, "av": true, "bin": true, "ibn": true, "al": true,
	"y": true, "e": true,
}

// suffixes are dropped at the end of a name.
var suffixes = map[string]bool{"jr": true, "sr": true, "ii": true, "iii": true, "iv": true, "phd": true}

// Parse reads one written name. It never fails; a name with no letters
// has an empty Surname and matches nothing.
func Parse(s string) Name {
	n := Name{Text: strings.TrimSpace(s)}
	text := n.Text
	var surname, given []string
	if last, rest, ok := strings.Cut(text, ","); ok {
		// "Surname, Given" (a suffix after a second comma is dropped).
		rest, _, _ = strings.Cut(rest, ",")
		surname, given = words(last), words(rest)
		if len(surname) > 0 && len(given) > 0 && isSuffix(given) {
			given = nil
		}
	} else {
		ws := words(text)
		for len(ws) > 1 && suffixes[Fold(ws[len(ws)-1])] {
			ws = ws[:len(ws)-1]
		}
		switch {
		case len(ws) >= 2 && isPubMedInitials(ws[len(ws)-1]):
			// "LeCun YA": initials written after the surname.
			surname = ws[:len(ws)-1]
			for _, r := range ws[len(ws)-1] {
				given = append(given, string(r))
			}
		case len(ws) >= 1:
			// Given names first; the surname is the last word with the
			// lowercase particles before it ("Pieter van Dijk").
			i := len(ws) - 1
			for i > 1 && isParticle(ws[i-1]) {
				i--
			}
			surname, given = ws[i:], ws[:i]
		}
	}
	var key, core strings.Builder
	for _, w := range surname {
		f := strings.ReplaceAll(Fold(w), "-", "")
		key.WriteString(f)
		if !particles[f] {
			core.WriteString(f)
		}
	}
	n.Surname, n.core = key.String(), core.String()
	if n.core == "" {
		n.core = n.Surname
	}
	for _, g := range given {
		for part := range strings.SplitSeq(g, "-") {
			f := Fold(part)
			if f == "" || particles[f] && isLowerWord(part) {
				continue
			}
			if len(f) > 1 && isInitials(part) { // "JA" or "J.A."
				for _, r := range f {
					n.Given = append(n.Given, string(r))
				}
				continue
			}
			n.Given = append(n.Given, f)
		}
	}
	if !strings.Contains(text, ",") && len(n.Given) == 1 && utf8.RuneCountInString(n.Given[0]) > 1 && len(surname) == 1 {
		n.swappable, n.first = true, n.Given[0]
	}
	if !strings.Contains(text, ",") && len(n.Given) >= 2 && len(given) >= 2 {
		last := given[len(given)-1]
		if f := Fold(last); utf8.RuneCountInString(f) > 1 && !strings.Contains(last, ".") && !isInitials(last) && !strings.Contains(f, "-") {
			n.compound = f + n.Surname
		}
	}
	return n
}

// joined is n read with its last given name as the first half of a
// double surname ("José Hernández Orallo" as "Hernández-Orallo, José"),
// and whether n can be read so.
func (n Name) joined() (Name, bool) {
	if n.compound == "" {
		return Name{}, false
	}
	j := Name{Text: n.Text, Surname: n.compound, core: n.compound, Given: n.Given[:len(n.Given)-1]}
	return j, true
}

// words splits a name into words at spaces and after dots ("Y.A.LeCun"
// -> "Y.", "A.", "LeCun"), dropping empty ones.
func words(s string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || r == '~' }) {
		for w != "" {
			i := strings.IndexByte(w, '.')
			if i < 0 || i == len(w)-1 {
				out = append(out, w)
				break
			}
			if w[i+1] == '-' { // "S.-H." stays one hyphenated word
				j := strings.IndexByte(w[i+2:], '.')
				if j < 0 || i+2+j == len(w)-1 {
					out = append(out, w)
					break
				}
				out = append(out, w[:i+2+j+1])
				w = w[i+2+j+1:]
				continue
			}
			out = append(out, w[:i+1])
			w = w[i+1:]
		}
	}
	return out
}

// isParticle reports whether w is a surname particle ("van", "Le"); a
// capitalized one-letter word ("E") is a middle initial instead.
func isParticle(w string) bool {
	if strings.Contains(w, ".") {
		return false
	}
	f := Fold(w)
	return particles[w] || particles[f] && len(f) > 1
}

// isLowerWord reports whether w has no uppercase letter.
func isLowerWord(w string) bool { return strings.ToLower(w) == w }

// isSuffix reports whether the given names are only a suffix ("Jr.").
func isSuffix(given []string) bool {
	return len(given) == 1 && suffixes[Fold(given[0])]
}

// isPubMedInitials reports whether w is one to three uppercase letters
// without dots ("YA"), the way PubMed writes given names.
func isPubMedInitials(w string) bool {
	n := 0
	for _, r := range w {
		if !unicode.IsUpper(r) {
			return false
		}
		n++
	}
	return n >= 1 && n <= 3
}

// isInitials reports whether a given-name word is several initials:
// "J.A." or an all-uppercase "JA".
func isInitials(w string) bool {
	if strings.Count(w, ".") >= 2 {
		return true
	}
	letters := 0
	for _, r := range w {
		if r == '.' {
			continue
		}
		if !unicode.IsUpper(r) {
			return false
		}
		letters++
	}
	return letters >= 2 && letters <= 3
}

// special folds letters that do not decompose into a base letter and a
// mark.
var special = map[rune]string{
	'ø': "o", 'Ø': "o", 'ł': "l", 'Ł': "l", 'ß': "ss", 'æ': "ae", 'Æ': "ae",
	'œ': "oe", 'Œ': "oe", 'đ': "d", 'Đ': "d", 'ð': "d", 'þ': "th", 'ı': "i",
}

// Fold is a name word as names are compared: lowercase, without
// diacritics ("Ødegård" -> "odegard"), only letters, digits and inner
// hyphens kept.
func Fold(w string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(w) {
		switch {
		case unicode.Is(unicode.Mn, r):
		case special[r] != "":
			b.WriteString(special[r])
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToLower(r))
		case r == '-' || r == '\u2010' || r == '\u2011':
			if b.Len() > 0 {
				b.WriteByte('-')
			}
		}
	}
	return strings.Trim(b.String(), "-")
}

// Same reports whether a and b name the same person: equal surnames and
// given names that agree as far as both go (an initial agrees with any
// name starting with it; a missing middle name agrees with any). A name
// without a given name matches nothing, since a bare surname is shared
// by many people. Two-word names without a comma also match in swapped
// order when both are written in full ("Chen Wei", "Wei Chen").
func Same(a, b Name) bool {
	aj, aok := a.joined()
	bj, bok := b.joined()
	return same(a, b) || aok && same(aj, b) || bok && same(a, bj)
}

// same is Same without reading a double surname written without a
// hyphen.
func same(a, b Name) bool {
	if a.Surname == "" || b.Surname == "" || len(a.Given) == 0 || len(b.Given) == 0 {
		return false
	}
	if (a.Surname == b.Surname || a.core == b.core) && givenAgree(a.Given, b.Given) {
		return true
	}
	return a.swappable && b.swappable && a.first == b.Surname && b.first == a.Surname && a.first != ""
}

// givenAgree compares given names position by position.
func givenAgree(a, b []string) bool {
	if strings.Join(a, "") == strings.Join(b, "") {
		return true // "Sunhee" and "Sun-Hee"
	}
	for i := 0; i < len(a) && i < len(b); i++ {
		x, y := a[i], b[i]
		switch {
		case len(x) == 1 || len(y) == 1:
			if x[0] != y[0] {
				return false
			}
		case x != y:
			return false
		}
	}
	return true
}

// Keys are the lookup keys a name can be found under: the surname, the
// surname without particles, for a two-word name its first word (in
// case it is written the other way round) and, for a name of three or
// more words, its last two words as one double surname. Two names Same
// reports equal share a key.
func (n Name) Keys() []string {
	out := make([]string, 0, 4)
	for _, k := range [4]string{n.Surname, n.core, n.first, n.compound} {
		if k != "" && !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

// Display writes a name given first ("LeCun, Yann" -> "Yann LeCun");
// other names are returned trimmed.
func Display(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	last, rest, ok := strings.Cut(s, ",")
	if !ok {
		return s
	}
	given, suffix, _ := strings.Cut(rest, ",")
	given, last = strings.TrimSpace(given), strings.TrimSpace(last)
	if given == "" || last == "" {
		return cmp.Or(last, given)
	}
	out := given + " " + last
	if suffix = strings.TrimSpace(suffix); suffix != "" {
		out += " " + suffix
	}
	return out
}

// Set is a reader's followed authors, matched against paper authors.
type Set struct {
	names     []Name
	bySurname map[string][]int
}

// NewSet builds a set from names as ParseList returns them.
func NewSet(names []string) *Set {
	s := &Set{bySurname: make(map[string][]int, len(names))}
	for _, t := range names {
		n := Parse(t)
		if n.Surname == "" || len(n.Given) == 0 {
			continue
		}
		for _, k := range n.Keys() {
			s.bySurname[k] = append(s.bySurname[k], len(s.names))
		}
		s.names = append(s.names, n)
	}
	return s
}

// Names returns the parsed names of the set.
func (s *Set) Names() []Name {
	if s == nil {
		return nil
	}
	return s.names
}

// Len is the number of names in the set.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	return len(s.names)
}

// Match returns the followed name (as the reader wrote it, given name
// first: see Display) of the first of authors who is in the set, and
// whether there was one.
func (s *Set) Match(authors []string) (string, bool) {
	if s.Len() == 0 {
		return "", false
	}
	for _, a := range authors {
		n := Parse(a)
		for _, key := range n.Keys() {
			for _, i := range s.bySurname[key] {
				if Same(s.names[i], n) {
					return Display(s.names[i].Text), true
				}
			}
		}
	}
	return "", false
}

// ParseList reads a reader's list of names separated by semicolons or
// new lines ("Yann LeCun; Bengio, Yoshua"), trims them, drops repeats of
// one person, and checks each: it must hold a given name or initial and
// a surname, and stay under MaxNameChars. Errors name the entry (1-based)
// and wrap ErrInvalid.
func ParseList(s string) ([]string, error) {
	var out []string
	var parsed []Name
	entry := 0
	for line := range strings.SplitSeq(strings.ReplaceAll(s, "\r", ""), "\n") {
		for part := range strings.SplitSeq(line, ";") {
			part = strings.Join(strings.Fields(part), " ")
			if part == "" {
				continue
			}
			entry++
			if utf8.RuneCountInString(part) > MaxNameChars {
				return nil, fmt.Errorf("author %d is longer than %d characters: %w", entry, MaxNameChars, ErrInvalid)
			}
			n := Parse(part)
			if n.Surname == "" || len(n.Given) == 0 {
				return nil, fmt.Errorf("author %d %q: give a first name or initial and a surname (\"Yann LeCun\", \"Y. LeCun\" or \"LeCun, Yann\"): %w", entry, part, ErrInvalid)
			}
			if slices.ContainsFunc(parsed, func(p Name) bool { return p.Surname == n.Surname && slices.Equal(p.Given, n.Given) }) {
				continue // the same person again
			}
			parsed = append(parsed, n)
			out = append(out, part)
		}
	}
	if len(out) > MaxNames {
		return nil, fmt.Errorf("%d authors, more than the limit of %d: %w", len(out), MaxNames, ErrInvalid)
	}
	return out, nil
}
