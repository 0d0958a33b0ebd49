package feeds

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/papermail/papermail/internal/authors"
	"github.com/papermail/papermail/internal/model"
)

// biorxivItem is one element of the "collection" array of the bioRxiv /
// medRxiv details API (api.biorxiv.org/details/{biorxiv,medrxiv}/...).
// Each version of a preprint is its own element.
type biorxivItem struct {
	DOI                    string `json:"doi"`
	Title                  string `json:"title"`
	Authors                string `json:"authors"` // "Last, F.; Last, F. M."
	CorrespondingInstitute string `json:"author_corresponding_institution"`
	Date                   string `json:"date"` // YYYY-MM-DD of this version
	Version                any    `json:"version"`
	Category               string `json:"category"`
	Abstract               string `json:"abstract"`
	Server                 string `json:"server"`
}

// biorxiv parses one answer of the details API: an object with a
// "messages" array (the first message's status says whether the query
// worked) and a "collection" array of preprints.
func (p *parser) biorxiv() error {
	if len(bytes.TrimSpace(p.data)) == 0 {
		return nil // an empty source holds no papers
	}
	dec := json.NewDecoder(bytes.NewReader(p.data))
	tok, err := dec.Token()
	if err != nil {
		return p.jsonError(err, 1, 0)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return &ParseError{Source: p.name, Line: 1, Offset: 0, Err: fmt.Errorf("want a bioRxiv details API object, found %s", jsonKind(tok))}
	}
	status, sawCollection := "", false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return p.jsonError(err, 0, 0)
		}
		key, _ := tok.(string)
		switch key {
		case "messages":
			var msgs []struct {
				Status string `json:"status"`
			}
			line := lineAt(p.data, int(dec.InputOffset()))
			if err := dec.Decode(&msgs); err != nil {
				return p.jsonError(err, line, 0)
			}
			if len(msgs) > 0 {
				status = strings.TrimSpace(msgs[0].Status)
			}
		case "collection":
			sawCollection = true
			if err := p.biorxivCollection(dec); err != nil {
				return err
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return p.jsonError(err, 0, 0)
			}
		}
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return p.jsonError(err, 0, 0)
	}
	if _, err := dec.Token(); err != io.EOF {
		off := int(dec.InputOffset())
		return &ParseError{Source: p.name, Line: lineAt(p.data, off), Offset: int64(off), Err: errors.New("data after the end of the JSON object")}
	}
	// The API answers a query that matched nothing with an empty
	// collection and a "no posts found" status; any other status without
	// papers is an error worth reporting.
	if len(p.papers) == 0 && status != "" && !strings.EqualFold(status, "ok") && !strings.HasPrefix(strings.ToLower(status), "no posts") {
		return &ParseError{Source: p.name, Line: 1, Offset: -1, Err: fmt.Errorf("the bioRxiv API answered with an error: %s", CleanText(status))}
	}
	if !sawCollection && status == "" {
		return &ParseError{Source: p.name, Line: 1, Offset: 0, Err: errors.New(`want a bioRxiv details API object with "messages" and "collection", found neither`)}
	}
	return nil
}

// biorxivCollection reads the "collection" array, one paper per element.
func (p *parser) biorxivCollection(dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return p.jsonError(err, 0, 0)
	}
	if tok == nil {
		return nil // "collection": null
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		off := int(dec.InputOffset())
		return &ParseError{Source: p.name, Line: lineAt(p.data, off), Offset: int64(off), Err: fmt.Errorf(`"collection" is %s, want an array`, jsonKind(tok))}
	}
	return jsonEntries[biorxivItem](p, dec)
}

// paper maps one preprint to a model.Paper. Its id is the title's
// (TitleID), so the versions of one preprint fold into one paper, the
// latest in the source winning.
func (it *biorxivItem) paper() (model.Paper, error) {
	pp := model.Paper{
		Title:    stripHTML(it.Title),
		Abstract: stripHTML(it.Abstract),
		DOI:      NormalizeDOI(it.DOI),
		Venue:    CleanText(it.Server),
		Source:   FormatBiorxiv,
	}
	if it.DOI != "" && pp.DOI == "" {
		return pp, fmt.Errorf("doi %q is not a DOI", short(it.DOI))
	}
	for a := range strings.SplitSeq(it.Authors, ";") {
		if n := authors.Display(a); n != "" {
			pp.Authors = append(pp.Authors, n)
		}
	}
	if inst := CleanText(it.CorrespondingInstitute); inst != "" && !strings.EqualFold(inst, "NA") {
		pp.Affiliations = []string{inst}
	}
	if c := CleanText(it.Category); c != "" {
		pp.PrimaryCategory = c
		pp.Categories = []string{c}
	}
	var err error
	if pp.Published, err = parseTime(it.Date); err != nil {
		return pp, fmt.Errorf("date: %w", err)
	}
	version := ""
	switch v := it.Version.(type) {
	case string:
		version = strings.TrimSpace(v)
	case float64:
		if v >= 1 && v < 1000 && v == float64(int(v)) {
			version = fmt.Sprint(int(v))
		}
	case nil:
	default:
		return pp, fmt.Errorf("version is a JSON %T, want a number or a string", v)
	}
	if pp.DOI != "" {
		host := "www.biorxiv.org"
		if strings.EqualFold(pp.Venue, "medrxiv") {
			host = "www.medrxiv.org"
		}
		page := "https://" + host + "/content/" + pp.DOI
		if version != "" && allDigits(version) {
			page += "v" + version
		}
		pp.URL = page
		pp.PDFURL = page + ".full.pdf"
	}
	return pp, nil
}
