package feeds

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

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
	Published   string `xml:"published"`
	Updated     string `xml:"updated"`
	PubDate     string `xml:"pubDate"`
	Date        string `xml:"date"` // dc:date
	Authors     []struct {
		Name string `xml:"name"`
		Text string `xml:",chardata"`
	} `xml:"author"`
	Creators []string `xml:"creator"` // dc:creator
	Links    []struct {
		Href string `xml:"href,attr"`
		Rel  string `xml:"rel,attr"`
		Text string `xml:",chardata"`
	} `xml:"link"`
	Primary struct {
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

// arxiv parses an Atom or RSS feed.
func (p *parser) arxiv() error {
	d := xml.NewDecoder(bytes.NewReader(p.data))
	d.Entity = xml.HTMLEntity
	d.Strict = true
	// The source was checked to be UTF-8 already; a declared legacy
	// charset on UTF-8 (mostly ASCII) text is read as it is.
	d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	root := ""
	entry := 0
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
		if se.Name.Local != "entry" && se.Name.Local != "item" {
			continue
		}
		entry++
		line, _ = d.InputPos()
		var e xmlEntry
		if err := d.DecodeElement(&e, &se); err != nil {
			return p.xmlError(err, d, entry)
		}
		pp, err := e.paper()
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
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		msg := se.Msg
		if msg == "unexpected EOF" {
			msg = "unexpected end of input (truncated?)"
		}
		return &ParseError{Source: p.name, Line: se.Line, Offset: d.InputOffset(), Entry: entry, Err: fmt.Errorf("invalid XML: %s", msg)}
	}
	line, _ := d.InputPos()
	return &ParseError{Source: p.name, Line: line, Offset: d.InputOffset(), Entry: entry, Err: fmt.Errorf("invalid XML: %w", err)}
}

// paper maps one entry to a model.Paper.
func (e *xmlEntry) paper() (model.Paper, error) {
	pp := model.Paper{Title: e.Title, Abstract: first(e.Summary, e.Description), Source: FormatArxiv}
	if strings.HasPrefix(strings.TrimSpace(pp.Abstract), "<p>") { // old RSS: HTML abstract
		pp.Abstract = tagRE.ReplaceAllString(pp.Abstract, " ")
	}
	if strings.Contains(e.ID, "arxiv.org/api/errors") {
		return pp, fmt.Errorf("the arXiv API answered with an error: %s", CleanText(first(e.Summary, e.Title)))
	}
	id := first(NormalizeArxivID(e.ID), NormalizeArxivID(e.GUID), NormalizeArxivID(e.About))
	if m := announceRE.FindStringSubmatchIndex(pp.Abstract); m != nil {
		id = first(id, NormalizeArxivID(pp.Abstract[m[2]:m[3]]))
		pp.Abstract = pp.Abstract[m[1]:]
	}
	if m := titleTailRE.FindStringSubmatchIndex(pp.Title); m != nil {
		id = first(id, NormalizeArxivID(pp.Title[m[2]:m[3]]))
		pp.Title = pp.Title[:m[0]]
	}
	for _, l := range e.Links {
		id = first(id, NormalizeArxivID(first(l.Href, l.Text)))
		if pp.URL == "" && (l.Rel == "" || l.Rel == "alternate") {
			pp.URL = strings.TrimSpace(first(l.Href, l.Text))
		}
	}
	if id != "" {
		pp.ID = id
		pp.URL = "https://arxiv.org/abs/" + id
	}
	for _, a := range e.Authors {
		pp.Authors = append(pp.Authors, first(strings.TrimSpace(a.Name), strings.TrimSpace(a.Text)))
	}
	if len(pp.Authors) == 0 {
		for _, c := range e.Creators {
			pp.Authors = append(pp.Authors, splitNames(c)...)
		}
	}
	if e.Primary.Term != "" {
		pp.Categories = append(pp.Categories, e.Primary.Term)
	}
	for _, c := range e.Categories {
		pp.Categories = append(pp.Categories, first(c.Term, strings.TrimSpace(c.Text)))
	}
	var err error
	if pp.Published, err = parseTime(first(e.Published, e.PubDate, e.Date, e.Updated)); err != nil {
		return pp, fmt.Errorf("date: %w", err)
	}
	return pp, nil
}

// splitNames splits a Dublin Core creator list ("A. One, B. Two and C.
// Three", possibly with HTML links) into names.
func splitNames(s string) []string {
	if strings.Contains(s, "<") {
		s = tagRE.ReplaceAllString(s, "")
	}
	var names []string
	for _, part := range strings.Split(s, ",") {
		for _, n := range strings.Split(part, " and ") {
			n = strings.TrimSpace(n)
			n = strings.TrimSpace(strings.TrimPrefix(n, "and "))
			if n != "" {
				names = append(names, n)
			}
		}
	}
	return names
}
