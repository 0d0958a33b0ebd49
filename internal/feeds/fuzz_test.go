package feeds

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// addSeeds adds fixture files and extra inputs to a fuzz corpus.
func addSeeds(f *testing.F, files []string, extra ...string) {
	f.Helper()
	for _, name := range files {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range extra {
		f.Add([]byte(s))
	}
}

// checkParsed asserts what every successful Parse guarantees, and that a
// failed one returns nothing and says where.
func checkParsed(t *testing.T, data []byte, format string) {
	t.Helper()
	papers, err := parseString(string(data), format)
	if err != nil {
		if papers != nil {
			t.Fatalf("error %v with %d papers", err, len(papers))
		}
		var pe *ParseError
		if !errors.As(err, &pe) || pe.Source != "src" || !strings.HasPrefix(err.Error(), "src: ") {
			t.Fatalf("error %q (%T) does not name the source", err, err)
		}
		return
	}
	for i, p := range papers {
		if p.Title == "" || utf8.RuneCountInString(p.Title) > MaxTitleChars || utf8.RuneCountInString(p.Abstract) > MaxAbstractChars {
			t.Fatalf("paper %d: bad title/abstract size: %q", i, p.Title)
		}
		if p.ID == "" || (NormalizeArxivID(p.ID) != p.ID && !isTitleID(p.ID)) {
			t.Fatalf("paper %d: bad id %q", i, p.ID)
		}
		if p.Source == "" || p.Ingested.IsZero() {
			t.Fatalf("paper %d: source %q ingested %v", i, p.Source, p.Ingested)
		}
		for _, s := range append(append([]string{p.Title, p.Abstract, p.AISummary, p.Venue, p.PrimaryCategory}, p.Authors...), p.Affiliations...) {
			checkClean(t, s)
		}
		if p.DOI != "" && NormalizeDOI(p.DOI) != p.DOI {
			t.Fatalf("paper %d: DOI %q is not normalized", i, p.DOI)
		}
	}
}

// checkClean asserts the shape of CleanText output.
func checkClean(t *testing.T, s string) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Fatalf("invalid UTF-8 in %q", s)
	}
	if s != strings.TrimSpace(s) || strings.Contains(s, "  ") {
		t.Fatalf("untrimmed or doubled space in %q", s)
	}
	for _, r := range s {
		if unicode.IsControl(r) || r != ' ' && unicode.IsSpace(r) {
			t.Fatalf("control or odd space %U in %q", r, s)
		}
	}
}

func FuzzParseHF(f *testing.F) {
	addSeeds(f, []string{"hf-daily.json"}, `[]`, `[{"paper":{"id":"2401.00001v3","title":"{\\em T}"}}]`, `[{"title":"x"},`, `{"a":1}`, `[null]`, `["x"]`, `[{"paper":{"title":"A","upvotes":-3}}] x`)
	f.Fuzz(func(t *testing.T, data []byte) { checkParsed(t, data, FormatHF) })
}

func FuzzParseArxiv(f *testing.F) {
	addSeeds(f, []string{"arxiv-api.xml", "arxiv-rss.xml", "arxiv-atom-daily.xml"}, `<feed><entry><title>A</title>`, `<rss><channel><item><title>&eacute;</title></item></channel></rss>`, `<html></html>`, `<feed><entry><id>oai:arXiv.org:hep-th/9901001v2</id><title>T (arXiv:1301.00001v1 [cs.CL])</title></entry></feed>`)
	f.Fuzz(func(t *testing.T, data []byte) { checkParsed(t, data, FormatArxiv) })
}

func FuzzParseBiorxiv(f *testing.F) {
	addSeeds(f, []string{"biorxiv-details.json", "biorxiv-empty.json"}, `{}`, `{"collection":null}`, `{"messages":[{"status":"no posts found"}]}`, `{"collection":[{"title":"A","doi":"10.1101/x","version":2}]}`, `{"collection":[{"title":"A","authors":";;, ;Smith,"}]} x`)
	f.Fuzz(func(t *testing.T, data []byte) { checkParsed(t, data, FormatBiorxiv) })
}

func FuzzParseRSS(f *testing.F) {
	addSeeds(f, []string{"journal-rss2.xml", "journal-atom.xml", "journal-rdf.xml"}, `<rss><channel><item><title>&lt;b&gt;A</title><guid>doi:10.1/(x</guid></item></channel></rss>`, `<feed><title>J</title><entry><title>A</title><link type="application/pdf" href="x"/></entry></feed>`, `<rss><channel><item><title>A</title><author>a@b (</author></item></channel></rss>`)
	f.Fuzz(func(t *testing.T, data []byte) { checkParsed(t, data, FormatRSS) })
}

func FuzzParsePage(f *testing.F) {
	addSeeds(f, []string{"page-listing.txt"}, "SubscribeA\n"+strings.Repeat("x ", 120), "Title\r\n\r\narXiv:2401.00001\r\n"+strings.Repeat("abstract ", 30), "[2401.00001] T\nshort abstract here with six words.\nNext")
	f.Fuzz(func(t *testing.T, data []byte) { checkParsed(t, data, FormatPage) })
}

func FuzzParseJSONL(f *testing.F) {
	addSeeds(f, []string{"papers.jsonl"}, `{"title":"A"}`, "{\"id\":\"t:0123456789abcdef\",\"title\":\"A\"}\n\n{", `{"title":"A","published":"2024-13-01T00:00:00Z"}`, `[]`)
	f.Fuzz(func(t *testing.T, data []byte) { checkParsed(t, data, FormatJSONL) })
}

func FuzzCleanText(f *testing.F) {
	for _, s := range []string{"", "{\\em x} \\textbf{y} $a$ $$b$$ ``c'' d~e f--g h---i", "\\\"{o}\\'\\i \\c c \\H{", "\\frac{1}{2}}{", "$\\$", "\\href{a}{b", "\x00\xff\u00a0 a", "{{{\\em", "--->~~``''"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := CleanText(s)
		checkClean(t, out)
		if len(out) > 4*len(s)+8 {
			t.Fatalf("CleanText grew %d bytes to %d", len(s), len(out))
		}
		if id := NormalizeArxivID(s); id != "" && NormalizeArxivID(id) != id {
			t.Fatalf("NormalizeArxivID(%q) = %q is not a fixed point", s, id)
		}
		if doi := NormalizeDOI(s); doi != "" && NormalizeDOI(doi) != doi {
			t.Fatalf("NormalizeDOI(%q) = %q is not a fixed point", s, doi)
		}
		if id := TitleID(s); !isTitleID(id) {
			t.Fatalf("TitleID(%q) = %q", s, id)
		}
	})
}
