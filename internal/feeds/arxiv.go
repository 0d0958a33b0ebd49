package feeds

import (
	"bytes"
	"cmp"
	"encoding/xml"
	"errors"
	"fmt"
	"html"
	"io"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/papermail/papermail/internal/model"
)

// xmlEntry holds the fields of an Atom <entry> or RSS <item> that
// papermail reads; elements are matched by local name, so the Atom, RSS
// 2.0, RSS 1.0 (RDF) and arXiv/Dublin Core extension shapes share it.
type xmlEntry struct {
	About       string `xml:"about,attr"` // RSS 1.0 rdf:about
	ID          string `xml:"id"`
	GUID        string `xml:"guid"`
	Title       string `xml:"title"`
	Summary     string `xml:"summary"`
	Description string `xml:"description"`
	Content     string `xml:"content"` // Atom content
	Encoded     string `xml:"encoded"` // content:encoded
	Published   string `xml:"published"`
	Updated     string `xml:"updated"`
	PubDate     string `xml:"pubDate"`
	Date        string `xml:"date"`            // dc:date
	PubDate2    string `xml:"publicationDate"` // prism:publicationDate
	CoverDate   string `xml:"coverDate"`       // prism:coverDate
	Issued      string `xml:"issued"`          // dcterms:issued
	Authors     []struct {
		Name        string   `xml:"name"`
		Text        string   `xml:",chardata"`
		Affiliation []string `xml:"affiliation"` // arxiv:affiliation
	} `xml:"author"`
	Creators []string `xml:"creator"` // dc:creator
	Links    []struct {
		Href  string `xml:"href,attr"`
		Rel   string `xml:"rel,attr"`
		Type  string `xml:"type,attr"`
		Title string `xml:"title,attr"`
		Text  string `xml:",chardata"`
	} `xml:"link"`
	DOI         string   `xml:"doi"`             // prism:doi
	Identifiers []string `xml:"identifier"`      // dc:identifier
	Journal     string   `xml:"publicationName"` // prism:publicationName
	Primary     struct {
		Term string `xml:"term,attr"`
	} `xml:"primary_category"`
	Categories []struct {
		Term string `xml:"term,attr"`
		Text string `xml:",chardata"`
	} `xml:"category"`
}

var (
	// announceRE matches the "arXiv:2401.01234v1 Announce Type: new
	// Abstract:" head of rss.arxiv.org summaries.
	announceRE = regexp.MustCompile(`(?is)^\s*arXiv:(\S+)\s+Announce\s+Type:\s*\S+\s*(?:Abstract:\s*)?`)
	// titleTailRE matches the "(arXiv:1234.5678v1 [cs.CL] UPDATED)" tail of
	// old arXiv RSS titles.
	titleTailRE = regexp.MustCompile(`\s*\(arXiv:([^\s)\]]+)[^)]*\)\s*$`)
	// tagRE matches HTML tags in old RSS creator lists.
	tagRE = regexp.MustCompile(`<[^>]*>`)
)

// arxiv parses an Atom or RSS feed: an arXiv one (format arxiv) or a
// journal's table of contents (format rss, which also reads DOIs, HTML
// descriptions and the journal's name).
func (p *parser) arxiv() error {
	d := xml.NewDecoder(bytes.NewReader(p.data))
	d.Entity = xml.HTMLEntity
	d.Strict = true
	// The source was checked to be UTF-8 already; a declared legacy
	// charset on UTF-8 (mostly ASCII) text is read as it is.
	d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	root := ""
	entry := 0
	feedTitle := "" // the channel's or feed's own title, read before its entries
	for {
		line, _ := d.InputPos()
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return p.xmlError(err, d, entry)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		if root == "" {
			root = se.Name.Local
			switch root {
			case "feed", "rss", "RDF":
			default:
				return p.errAt(line, 0, "want an Atom or RSS feed, found root element <%s>", root)
			}
			continue
		}
		if se.Name.Local == "title" && entry == 0 && feedTitle == "" && p.format == FormatRSS {
			var t string
			if err := d.DecodeElement(&t, &se); err != nil {
				return p.xmlError(err, d, entry)
			}
			feedTitle = CleanText(stripHTML(t))
			continue
		}
		if se.Name.Local == "link" && entry == 0 && p.base == nil && p.format == FormatRSS {
			// The channel's (RSS) or feed's (Atom, rel alternate) own
			// page: the base for entries' relative links when the feed
			// was read from a file.
			var l struct {
				Href string `xml:"href,attr"`
				Rel  string `xml:"rel,attr"`
				Text string `xml:",chardata"`
			}
			if err := d.DecodeElement(&l, &se); err != nil {
				return p.xmlError(err, d, entry)
			}
			if l.Rel == "" || l.Rel == "alternate" {
				p.base = baseURL(cmp.Or(l.Href, l.Text))
			}
			continue
		}
		if se.Name.Local != "entry" && se.Name.Local != "item" {
			continue
		}
		entry++
		line, _ = d.InputPos()
		var e xmlEntry
		if err := d.DecodeElement(&e, &se); err != nil {
			return p.xmlError(err, d, entry)
		}
		pp, err := e.paper(p.format, feedTitle)
		if err != nil {
			return p.errAt(line, entry, "%w", err)
		}
		if err := p.add(pp, line, entry); err != nil {
			return err
		}
	}
	if root == "" && len(bytes.TrimSpace(p.data)) > 0 {
		return p.errAt(1, 0, "no XML element found")
	}
	return nil
}

// xmlError places an XML decoding error.
func (p *parser) xmlError(err error, d *xml.Decoder, entry int) error {
	if se, ok := errors.AsType[*xml.SyntaxError](err); ok {
		msg := se.Msg
		if msg == "unexpected EOF" {
			msg = "unexpected end of input (truncated?)"
		}
		return &ParseError{Source: p.name, Line: se.Line, Offset: d.InputOffset(), Entry: entry, Err: fmt.Errorf("invalid XML: %s", msg)}
	}
	line, _ := d.InputPos()
	return &ParseError{Source: p.name, Line: line, Offset: d.InputOffset(), Entry: entry, Err: fmt.Errorf("invalid XML: %w", err)}
}

// paper maps one entry to a model.Paper. format is FormatArxiv or
// FormatRSS; venue is the feed's own title (rss only).
func (e *xmlEntry) paper(format, venue string) (model.Paper, error) {
	pp := model.Paper{Title: e.Title, Abstract: cmp.Or(e.Summary, e.Description), Source: format}
	if format == FormatRSS {
		// Journal feeds carry HTML in titles and descriptions (escaped or
		// in CDATA); some put the abstract only in content:encoded, others
		// a teaser in the description and the abstract in content.
		pp.Title = stripHTML(pp.Title)
		pp.Abstract = stripHTML(cmp.Or(e.Summary, e.Description))
		if full := stripHTML(cmp.Or(e.Content, e.Encoded)); len(full) > len(pp.Abstract) &&
			(pp.Abstract == "" || utf8.RuneCountInString(full) <= MaxAbstractChars) {
			pp.Abstract = full // a whole article in content never pushes a feed over the limit
		}
		pp.Venue = CleanText(cmp.Or(e.Journal, venue))
	} else if strings.HasPrefix(strings.TrimSpace(pp.Abstract), "<p>") { // old RSS: HTML abstract
		pp.Abstract = tagRE.ReplaceAllString(pp.Abstract, " ")
	}
	if strings.Contains(e.ID, "arxiv.org/api/errors") {
		return pp, fmt.Errorf("the arXiv API answered with an error: %s", CleanText(cmp.Or(e.Summary, e.Title)))
	}
	id := cmp.Or(NormalizeArxivID(e.ID), NormalizeArxivID(e.GUID), NormalizeArxivID(e.About))
	if m := announceRE.FindStringSubmatchIndex(pp.Abstract); m != nil {
		id = cmp.Or(id, NormalizeArxivID(pp.Abstract[m[2]:m[3]]))
		pp.Abstract = pp.Abstract[m[1]:]
	}
	if m := titleTailRE.FindStringSubmatchIndex(pp.Title); m != nil {
		id = cmp.Or(id, NormalizeArxivID(pp.Title[m[2]:m[3]]))
		pp.Title = pp.Title[:m[0]]
	}
	for _, l := range e.Links {
		href := strings.TrimSpace(cmp.Or(l.Href, l.Text))
		id = cmp.Or(id, NormalizeArxivID(href))
		switch {
		case l.Title == "pdf" || l.Type == "application/pdf":
			pp.PDFURL = cmp.Or(pp.PDFURL, httpsArxiv(href))
		case l.Title == "doi":
			pp.DOI = cmp.Or(pp.DOI, NormalizeDOI(href))
		case pp.URL == "" && (l.Rel == "" || l.Rel == "alternate"):
			pp.URL = href
		}
	}
	pp.DOI = cmp.Or(pp.DOI, NormalizeDOI(e.DOI))
	if format == FormatRSS {
		for _, s := range e.Identifiers {
			pp.DOI = cmp.Or(pp.DOI, NormalizeDOI(s))
		}
		pp.DOI = cmp.Or(pp.DOI, NormalizeDOI(e.GUID), NormalizeDOI(e.ID), NormalizeDOI(e.About))
		pp.URL = cmp.Or(pp.URL, httpURL(e.GUID), httpURL(e.ID), httpURL(e.About))
		if pp.URL == "" && pp.DOI != "" {
			pp.URL = "https://doi.org/" + pp.DOI
		}
	}
	if id != "" {
		pp.ID = id
		pp.URL = "https://arxiv.org/abs/" + id
	}
	for _, a := range e.Authors {
		pp.Authors = append(pp.Authors, cmp.Or(strings.TrimSpace(a.Name), rssAuthor(a.Text)))
		for _, af := range a.Affiliation {
			if af = CleanText(af); af != "" && !slices.Contains(pp.Affiliations, af) {
				pp.Affiliations = append(pp.Affiliations, af)
			}
		}
	}
	if len(pp.Authors) == 0 {
		for _, c := range e.Creators {
			pp.Authors = append(pp.Authors, splitNames(c)...)
		}
	}
	if e.Primary.Term != "" {
		pp.PrimaryCategory = strings.TrimSpace(e.Primary.Term)
		pp.Categories = append(pp.Categories, e.Primary.Term)
	}
	for _, c := range e.Categories {
		pp.Categories = append(pp.Categories, cmp.Or(c.Term, strings.TrimSpace(c.Text)))
	}
	var err error
	if pp.Published, err = parseTime(cmp.Or(e.Published, e.PubDate, e.Date, e.PubDate2, e.Issued, e.CoverDate, e.Updated)); err != nil {
		return pp, fmt.Errorf("date: %w", err)
	}
	return pp, nil
}

// httpsArxiv upgrades an http://arxiv.org link to https; other links stay.
func httpsArxiv(u string) string {
	if rest, ok := strings.CutPrefix(u, "http://arxiv.org/"); ok {
		return "https://arxiv.org/" + rest
	}
	return u
}

// httpURL returns s when it is an http(s) URL, else "".
func httpURL(s string) string {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://") {
		return s
	}
	return ""
}

// htmlTagRE matches the HTML (and JATS/MathML) tags journals put in
// titles and abstracts. It names the tags, so a "<" in running text
// ("p<0.05") is left alone. Group 1 is the tag name.
var htmlTagRE = regexp.MustCompile(`(?i)</?(p|br|hr|i|b|u|em|strong|small|sub|sup|span|div|a|img|h[1-6]|ul|ol|li|dl|dt|dd|table|thead|tbody|tr|td|th|figure|figcaption|blockquote|cite|abbr|font|section|article|header|footer|math|mi|mo|mn|msub|msup|mrow|mfrac|jats:[a-z-]+|mml:[a-z-]+)(?:\s[^<>]*)?/?>`)

// inlineTags are removed without leaving a space ("<i>p</i>-value").
var inlineTags = map[string]bool{"i": true, "b": true, "u": true, "em": true, "strong": true, "small": true, "sub": true, "sup": true, "span": true, "a": true, "abbr": true, "cite": true, "font": true, "jats:italic": true, "jats:bold": true, "jats:sub": true, "jats:sup": true}

// leadParaRE matches a first paragraph that only names the issue and DOI
// ("<p>Nature, Published online: 9 January 2024; doi:10.1038/...</p>"),
// which some journals put before the abstract.
var leadParaRE = regexp.MustCompile(`(?is)^\s*<p>(?:[^<]|<a\s[^>]*>|</a>)*?(?:published online|doi:)(?:[^<]|<a\s[^>]*>|</a>)*</p>`)

// stripHTML removes HTML tags and decodes HTML character references, for
// feeds whose text fields are HTML.
func stripHTML(s string) string {
	if strings.IndexByte(s, '<') >= 0 {
		if m := leadParaRE.FindStringIndex(s); m != nil && strings.TrimSpace(s[m[1]:]) != "" {
			s = s[m[1]:]
		}
		s = htmlTagRE.ReplaceAllStringFunc(s, func(tag string) string {
			if inlineTags[strings.ToLower(htmlTagRE.FindStringSubmatch(tag)[1])] {
				return ""
			}
			return " "
		})
	}
	if strings.IndexByte(s, '&') >= 0 {
		s = html.UnescapeString(s)
	}
	return s
}

// rssAuthor reads an RSS 2.0 <author>, which is an address optionally
// followed by the name in parentheses ("ed@example.org (M. Rossi)"); a
// bare address is no name.
func rssAuthor(s string) string {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "@") {
		return s
	}
	if i, j := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')'); i >= 0 && j > i {
		return strings.TrimSpace(s[i+1 : j])
	}
	return ""
}

// doiRE matches a DOI: the "10." directory indicator, a registrant code
// and a suffix.
var doiRE = regexp.MustCompile(`\b10\.[0-9]{4,9}/[^\s"<>]+`)

// NormalizeDOI extracts a DOI from s ("doi:10.1/x", "https://doi.org/10.1/x",
// a bare DOI) and returns it lowercased without trailing punctuation, or
// "" when s holds none.
func NormalizeDOI(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || !strings.Contains(s, "10.") {
		return ""
	}
	if strings.Contains(strings.ToLower(s), "arxiv.org/") {
		return "" // an arXiv link's version path is no DOI
	}
	m := doiRE.FindString(s)
	if m == "" {
		return ""
	}
	if u, err := url.PathUnescape(m); err == nil {
		m = u
	}
	for {
		m = strings.TrimRight(m, ".,;:'\"")
		// A closing bracket ends the DOI only when it closes nothing in it
		// ("(see 10.1/x)" versus "10.1/abc(1)").
		if n := len(m); n > 0 && strings.ContainsRune(")]}", rune(m[n-1])) {
			open := map[byte]byte{')': '(', ']': '[', '}': '{'}[m[n-1]]
			if strings.Count(m, string(open)) < strings.Count(m, string(m[n-1])) {
				m = m[:n-1]
				continue
			}
		}
		break
	}
	if strings.HasSuffix(m, "/") || !strings.Contains(m, "/") || len(m) > 300 {
		return ""
	}
	return strings.ToLower(m)
}

// splitNames splits a Dublin Core creator list ("A. One, B. Two and C.
// Three", possibly with HTML links) into names.
func splitNames(s string) []string {
	if strings.Contains(s, "<") {
		s = tagRE.ReplaceAllString(s, "")
	}
	var names []string
	for part := range strings.SplitSeq(s, ",") {
		for n := range strings.SplitSeq(part, " and ") {
			n = strings.TrimSpace(n)
			n = strings.TrimSpace(strings.TrimPrefix(n, "and "))
			if n != "" {
				names = append(names, n)
			}
		}
	}
	return names
}
