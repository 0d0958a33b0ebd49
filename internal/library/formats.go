package library

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"io"
	"strings"

	"github.com/papermail/papermail/internal/feeds"
	"github.com/papermail/papermail/internal/model"
)

// parseRIS reads RIS records: "TY  - " opens one, "ER  - " closes it; each
// line in between is "XX  - value" (a line without a tag continues the
// previous field).
func parseRIS(src string, ps *problems) []model.LibraryEntry {
	var out []model.LibraryEntry
	type rec struct {
		line                        int
		title, abstract, doi, url   string
		arxiv, lastTag, titleFromT2 string
		open                        bool
	}
	var r rec
	n := 0
	set := func(dst *string, v string) {
		if *dst == "" {
			*dst = v
		} else if r.lastTag == "AB" || r.lastTag == "N2" {
			*dst += " " + v
		}
	}
	lines := strings.Split(strings.ReplaceAll(src, "\r\n", "\n"), "\n")
	for i, l := range lines {
		ln := i + 1
		if strings.TrimSpace(l) == "" {
			continue
		}
		tag, val, ok := risLine(l)
		if !ok {
			if !r.open {
				ps.add(n+1, ln, "", "want a line such as \"TY  - JOUR\" to start a record, found %q", short(l))
				return nil
			}
			// Continuation of the previous field.
			switch r.lastTag {
			case "AB", "N2":
				r.abstract += " " + strings.TrimSpace(l)
			case "TI", "T1":
				r.title += " " + strings.TrimSpace(l)
			}
			continue
		}
		switch {
		case tag == "TY":
			if r.open {
				ps.add(n, r.line, "", "record has no \"ER  -\" line before the next \"TY  -\"")
			}
			n++
			r = rec{line: ln, open: true}
		case !r.open:
			ps.add(n+1, ln, "", "tag %s outside a record (want \"TY  -\" first)", tag)
			return nil
		case tag == "ER":
			e, ok := entry(cmp.Or(r.title, r.titleFromT2), r.abstract, r.arxiv, r.doi, r.url)
			if !ok {
				ps.add(n, r.line, "", "no title, arXiv id or DOI")
			} else {
				out = append(out, e)
			}
			r = rec{}
			continue
		case tag == "TI" || tag == "T1":
			set(&r.title, val)
		case tag == "BT" || tag == "CT":
			if r.titleFromT2 == "" {
				r.titleFromT2 = val
			}
		case tag == "AB" || tag == "N2":
			if r.abstract == "" {
				r.abstract = val
			} else {
				r.abstract += " " + val
			}
		case tag == "DO":
			set(&r.doi, val)
		case tag == "UR" || tag == "L1" || tag == "L2":
			if r.url == "" || feeds.NormalizeArxivID(val) != "" {
				r.url = val
			}
		case tag == "AN" || tag == "M3" || tag == "N1":
			if r.arxiv == "" && feeds.NormalizeArxivID(val) != "" && strings.Contains(strings.ToLower(val), "arxiv") {
				r.arxiv = val
			}
		}
		r.lastTag = tag
	}
	if r.open {
		ps.add(n, r.line, "", "record has no \"ER  -\" line (truncated?)")
	}
	return out
}

// risLine splits "XX  - value"; the dash may be followed by nothing.
func risLine(l string) (tag, val string, ok bool) {
	l = strings.TrimRight(l, " \t\r")
	if len(l) < 5 || l[2] != ' ' || l[3] != ' ' || l[4] != '-' {
		return "", "", false
	}
	t := l[:2]
	for i := range 2 {
		c := t[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return "", "", false
		}
	}
	return t, strings.TrimSpace(l[5:]), true
}

// cslItem is the part of a CSL-JSON item (Zotero's export) papermail
// reads.
type cslItem struct {
	ID       any    `json:"id"`
	Title    string `json:"title"`
	Abstract string `json:"abstract"`
	DOI      string `json:"DOI"`
	URL      string `json:"URL"`
	Number   string `json:"number"`
	Archive  string `json:"archive"`
}

// parseCSL reads a CSL-JSON array of items (or an object with "items").
func parseCSL(data []byte, ps *problems) []model.LibraryEntry {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) > 0 && trimmed[0] == '{' {
		var wrap struct {
			Items json.RawMessage `json:"items"`
		}
		if err := json.Unmarshal(data, &wrap); err != nil || len(wrap.Items) == 0 {
			ps.add(0, 1, "", "want a CSL-JSON array of items (as Zotero exports)")
			return nil
		}
		data = wrap.Items
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		ps.add(0, 1, "", "invalid JSON: %v", err)
		return nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		ps.add(0, 1, "", "want a CSL-JSON array of items")
		return nil
	}
	var out []model.LibraryEntry
	for n := 1; dec.More(); n++ {
		line := bytes.Count(data[:dec.InputOffset()], []byte{'\n'}) + 1
		var it cslItem
		if err := dec.Decode(&it); err != nil {
			if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
				ps.add(n, line, "", "field %s holds a JSON %s, want a string", te.Field, te.Value)
				if len(ps.list) >= maxProblems {
					return nil
				}
				continue
			}
			if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
				ps.add(n, line, "", "unexpected end of JSON (truncated?)")
			} else {
				ps.add(n, line, "", "invalid JSON: %v", err)
			}
			return nil
		}
		arxiv := ""
		if strings.EqualFold(it.Archive, "arxiv") || strings.Contains(strings.ToLower(it.Number), "arxiv") {
			arxiv = it.Number
		}
		e, ok := entry(it.Title, it.Abstract, arxiv, it.DOI, it.URL)
		if !ok {
			key := ""
			if s, isStr := it.ID.(string); isStr {
				key = s
			}
			ps.add(n, line, short(key), "no title, arXiv id or DOI")
			continue
		}
		out = append(out, e)
	}
	if _, err := dec.Token(); err != nil {
		ps.add(0, bytes.Count(data, []byte{'\n'})+1, "", "unexpected end of JSON (truncated?)")
	}
	return out
}

// parseIDs reads one arXiv id, DOI or paper URL per line; "#" starts a
// comment and blank lines are skipped.
func parseIDs(src string, ps *problems) []model.LibraryEntry {
	var out []model.LibraryEntry
	n := 0
	for i, l := range strings.Split(src, "\n") {
		if k := strings.Index(l, "#"); k >= 0 && !strings.Contains(l[:k], "://") {
			l = l[:k]
		}
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "%") {
			continue
		}
		n++
		e := model.LibraryEntry{ArxivID: feeds.NormalizeArxivID(l)}
		if e.ArxivID == "" {
			e.DOI = feeds.NormalizeDOI(l)
		}
		if e.ArxivID == "" && strings.HasPrefix(e.DOI, "10.48550/arxiv.") {
			e.ArxivID, e.DOI = feeds.NormalizeArxivID(strings.TrimPrefix(e.DOI, "10.48550/arxiv.")), ""
		}
		if e.ArxivID == "" && e.DOI == "" {
			ps.add(n, i+1, "", "%q is neither an arXiv id nor a DOI", short(l))
			continue
		}
		out = append(out, e)
	}
	return out
}

// short cuts text quoted in messages.
func short(s string) string { return shorten(strings.TrimSpace(s), 60) }
