package library

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/papermail/papermail/internal/authors"
	"github.com/papermail/papermail/internal/model"
)

// Cite writes p as one BibTeX entry: @article for a journal paper, else
// @misc with the arXiv eprint fields (the form arXiv itself gives), with
// title, authors, year, DOI and URL where known. Values are braced and
// escaped, so the entry parses whatever the paper's text holds.
func Cite(p *model.Paper) string {
	typ := "misc"
	if p.Venue != "" && p.ArxivID() == "" && !isPreprintServer(p.Venue) {
		typ = "article"
	}
	var b strings.Builder
	b.WriteString("@" + typ + "{" + CiteKey(p) + ",\n")
	field := func(name, v string) {
		if v = strings.TrimSpace(v); v != "" {
			b.WriteString("  " + name + " = {" + v + "},\n")
		}
	}
	// Double braces keep the title's capitals as written.
	if t := escape(p.Title); t != "" {
		b.WriteString("  title = {{" + t + "}},\n")
	}
	authors := make([]string, 0, len(p.Authors))
	for _, a := range p.Authors {
		if a = escape(a); a != "" {
			authors = append(authors, bibName(a))
		}
	}
	if len(authors) > 0 {
		b.WriteString("  author = {" + strings.Join(authors, " and ") + "},\n")
	}
	if y := year(p); y != "" {
		field("year", y)
		field("month", strings.ToLower(p.Published.UTC().Format("Jan")))
	}
	if typ == "article" {
		field("journal", escape(p.Venue))
	} else if p.Venue != "" && p.ArxivID() == "" {
		field("publisher", escape(p.Venue))
		field("howpublished", escape(p.Venue))
	}
	if id := p.ArxivID(); id != "" {
		field("eprint", id)
		field("archivePrefix", "arXiv")
		field("primaryClass", escape(p.Primary()))
	}
	field("doi", escape(p.DOI))
	field("url", escapeURL(cmp.Or(p.AbsLink(), p.Link())))
	s := b.String()
	return strings.TrimSuffix(s, ",\n") + "\n}\n"
}

// bibName writes one escaped author name for an author list. A person's
// name is written as it is ("Zoë Ødegård", "van Dijk, Pieter"), so
// BibTeX splits it into first and last names and styles can abbreviate
// it; a name BibTeX would misread (one holding the word "and", like a
// group "Smith and Sons", or more than one comma) is braced as a whole.
func bibName(a string) string {
	if strings.Count(a, ",") > 1 || slices.ContainsFunc(strings.Fields(a), func(w string) bool { return strings.EqualFold(w, "and") }) {
		return "{" + a + "}"
	}
	return a
}

// isPreprintServer reports whether venue names a preprint server rather
// than a journal.
func isPreprintServer(venue string) bool {
	switch strings.ToLower(venue) {
	case "biorxiv", "medrxiv", "arxiv", "chemrxiv", "ssrn", "research square", "preprints.org":
		return true
	}
	return false
}

func year(p *model.Paper) string {
	if p.Published.IsZero() {
		return ""
	}
	return strconv.Itoa(p.Published.UTC().Year())
}

// CiteKey is the entry's citation key: the first author's surname, the
// year and the first long word of the title, in ASCII letters and digits
// ("haddad2024grounded"); the paper's id when there is no author.
func CiteKey(p *model.Paper) string {
	var b strings.Builder
	if len(p.Authors) > 0 {
		f := strings.Fields(p.Authors[0])
		if len(f) > 0 {
			last := f[len(f)-1]
			if i := strings.IndexByte(p.Authors[0], ','); i > 0 {
				last = p.Authors[0][:i]
			}
			b.WriteString(asciiWord(last))
		}
	}
	b.WriteString(year(p))
	for w := range strings.FieldsSeq(p.Title) {
		if a := asciiWord(w); len(a) > 3 {
			b.WriteString(a)
			break
		}
	}
	if b.Len() < 4 {
		return "paper" + asciiWord(strings.ReplaceAll(p.ID, ".", ""))
	}
	return b.String()
}

// asciiWord folds s to lowercase ASCII letters and digits ("Ødegård" ->
// "odegard"; see authors.Fold).
func asciiWord(s string) string {
	var b strings.Builder
	for _, r := range authors.Fold(s) {
		if r < 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// escape makes text safe inside a braced BibTeX value: the characters
// TeX treats specially are escaped, braces and backslashes from the feed
// included, and line breaks become spaces.
func escape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '\\':
			b.WriteString(`\textbackslash{}`)
		case '{':
			b.WriteString(`\textbraceleft{}`) // braces stay balanced for BibTeX
		case '}':
			b.WriteString(`\textbraceright{}`)
		case '%', '&', '$', '#', '_':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '~':
			b.WriteString(`\textasciitilde{}`)
		case '^':
			b.WriteString(`\textasciicircum{}`)
		case '\n', '\r', '\t':
			b.WriteByte(' ')
		default:
			if r < ' ' || r == 0x7f {
				continue
			}
			b.WriteRune(r)
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// escapeURL keeps a URL usable in a BibTeX url field: only braces and
// the characters that end a value are percent-encoded.
func escapeURL(u string) string {
	r := strings.NewReplacer("{", "%7B", "}", "%7D", "\\", "%5C", " ", "%20", "\n", "", "\r", "")
	return r.Replace(u)
}
