package library

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/papermail/papermail/internal/model"
)

func parseFile(t *testing.T, name string) ([]model.LibraryEntry, string, error) {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return Parse(f, FormatAuto)
}

func TestParseFormats(t *testing.T) {
	tests := []struct {
		file, format string
		n            int
		check        func(t *testing.T, es []model.LibraryEntry)
	}{
		{"speech-20.bib", FormatBibTeX, 20, func(t *testing.T, es []model.LibraryEntry) {
			if es[0].Title != "Streaming End-to-End Speech Recognition with Chunked Attention" || es[0].ArxivID != "2301.00101" {
				t.Errorf("entry 1 = %+v", es[0])
			}
			if es[1].DOI != "10.5550/icassp.1001" || !strings.HasPrefix(es[1].Abstract, "Pretraining on unlabeled audio") {
				t.Errorf("entry 2 = %+v", es[1])
			}
		}},
		{"zotero.json", FormatCSLJSON, 3, func(t *testing.T, es []model.LibraryEntry) {
			if es[0].ArxivID != "1706.03762" || es[1].DOI != "10.1109/cvpr.2016.90" || es[2].ArxivID != "2005.14165" {
				t.Errorf("entries = %+v", es)
			}
		}},
		{"library.ris", FormatRIS, 2, func(t *testing.T, es []model.LibraryEntry) {
			if es[0].Title != "Attention Is All You Need" || es[0].ArxivID != "1706.03762" || !strings.HasSuffix(es[0].Abstract, "convolutional neural networks.") {
				t.Errorf("entry 1 = %+v", es[0])
			}
			if es[1].Title != "Deep Residual Learning for Image Recognition" || es[1].DOI != "10.1109/cvpr.2016.90" {
				t.Errorf("entry 2 = %+v", es[1])
			}
		}},
		{"ids.txt", FormatIDs, 5, func(t *testing.T, es []model.LibraryEntry) {
			want := []string{"1706.03762", "2005.14165", "2302.13971", "", "2106.09685"}
			for i, w := range want {
				if es[i].ArxivID != w {
					t.Errorf("entry %d = %+v, want arXiv %q", i+1, es[i], w)
				}
			}
			if es[3].DOI != "10.1109/cvpr.2016.90" {
				t.Errorf("entry 4 = %+v", es[3])
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			es, format, err := parseFile(t, tt.file)
			if err != nil {
				t.Fatal(err)
			}
			if format != tt.format || len(es) != tt.n {
				t.Fatalf("format %s with %d entries, want %s with %d", format, len(es), tt.format, tt.n)
			}
			tt.check(t, es)
		})
	}
}

// TestMalformedRefused: a malformed file is refused as a whole, naming
// the entry and its line.
func TestMalformedRefused(t *testing.T) {
	es, _, err := parseFile(t, "malformed.bib")
	if err == nil || es != nil {
		t.Fatalf("parsed %d entries, err %v; want a refusal", len(es), err)
	}
	var le *Error
	if !errors.As(err, &le) || !errors.Is(err, ErrInvalid) {
		t.Fatalf("error %T %v", err, err)
	}
	if !strings.Contains(err.Error(), "entry 3 (broken3), line 12: field title: unbalanced braces") {
		t.Errorf("error %q does not name entry 3 at line 12", err)
	}
	for _, tt := range []struct{ name, src, want string }{
		{"bib truncated", "@article{a,\n title = {A},\n", "entry 1 (a)"},
		{"bib no title", "@article{a, title={A}}\n@misc{b, year=2020}", "entry 2 (b), line 2: no title, arXiv id or DOI"},
		{"bib unknown macro", "@article{a, title = foo}", "unknown macro foo"},
		{"bib missing comma", "@article{a, title = {A} year = 2}", "want a comma or the end of the entry"},
		{"bib repeated key", "@article{a, title={A}}\n@article{B, title={B}}\n@misc{A, title={C}}", "entry 3 (A), line 3: the key \"A\" is already used by entry 1"},
		{"bib empty", "% only a comment\n", "no entries found"},
		{"ris no ER", "TY  - JOUR\nTI  - A\n", "entry 1, line 1: record has no \"ER  -\" line"},
		{"ris junk first", "hello\nTY  - JOUR\n", "want a line such as"},
		{"csl truncated", `[{"title":"A"},{"title":`, "entry 2"},
		{"csl wrong type", `[{"title":"A"},{"title":["B"]}]`, "entry 2, line 1: field title holds a JSON array"},
		{"ids bad line", "1706.03762\nnot an id\n", "entry 2, line 2: \"not an id\" is neither an arXiv id nor a DOI"},
		{"binary", "@article{a, title={\xff}}", "not UTF-8"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			es, _, err := Parse(strings.NewReader(tt.src), FormatAuto)
			if err == nil || es != nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse = %d entries, %v; want an error with %q", len(es), err, tt.want)
			}
		})
	}
}

func TestManyEntries(t *testing.T) {
	var b strings.Builder
	for i := range 3000 {
		b.WriteString("@article{k")
		b.WriteString(itoa(i))
		b.WriteString(", title = {Paper number ")
		b.WriteString(itoa(i))
		b.WriteString("}, abstract = {Some words.}}\n")
	}
	es, _, err := Parse(strings.NewReader(b.String()), FormatAuto)
	if err != nil || len(es) != 3000 {
		t.Fatalf("%d entries, %v", len(es), err)
	}
	b.WriteString(strings.Repeat("@misc{x, title={T}}\n", 1))
	for i := 3000; i < MaxEntries+1; i++ {
		b.WriteString("@misc{m" + itoa(i) + ", title = {More " + itoa(i) + "}}\n")
	}
	if _, _, err := Parse(strings.NewReader(b.String()), FormatAuto); err == nil || !strings.Contains(err.Error(), "more than the limit") {
		t.Errorf("over the limit: %v", err)
	}
}

// TestCiteIsValidBibTeX: the cite entry of papers with hostile text
// parses with our BibTeX parser and gives the fields back.
func TestCiteIsValidBibTeX(t *testing.T) {
	papers := []model.Paper{
		{ID: "2401.01234", Title: "Grounded Decoding for Faithful Summaries", Authors: []string{"Leila Haddad", "Pieter van Dijk", "Smith and Sons"},
			Categories: []string{"cs.CL"}, Published: time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC), URL: "https://huggingface.co/papers/2401.01234"},
		{ID: "t:0123456789abcdef", Title: "Braces } { and 100% of $x_1$ & #tags \\ here", Authors: []string{"Zoë Øster"}, DOI: "10.1101/2024.01.05.574321",
			Venue: "bioRxiv", URL: "https://www.biorxiv.org/content/10.1101/2024.01.05.574321v1"},
		{ID: "t:fedcba9876543210", Title: "A journal article", Venue: "Journal of Tests", DOI: "10.5555/jt.1", URL: "https://example.org/a?x={1}"},
	}
	for _, p := range papers {
		out := Cite(&p)
		es, err := ParseBibTeX(out)
		if err != nil || len(es) != 1 {
			t.Fatalf("Cite(%s) does not parse: %v\n%s", p.ID, err, out)
		}
		e := es[0]
		if e.Key == "" || e.Fields["title"] == "" {
			t.Errorf("Cite(%s) lacks key or title:\n%s", p.ID, out)
		}
		if strings.Count(out, "{") != strings.Count(out, "}") {
			t.Errorf("Cite(%s): braces unbalanced:\n%s", p.ID, out)
		}
		lib, _, err := Parse(strings.NewReader(out), FormatBibTeX)
		if err != nil || len(lib) != 1 {
			t.Fatalf("Cite(%s) as a library: %v", p.ID, err)
		}
		if p.ArxivID() != "" && (lib[0].ArxivID != p.ID || e.Fields["archiveprefix"] != "arXiv" || e.Fields["primaryclass"] != "cs.CL") {
			t.Errorf("Cite(%s) arXiv fields: %+v\n%s", p.ID, e.Fields, out)
		}
		if p.DOI != "" && lib[0].DOI != p.DOI {
			t.Errorf("Cite(%s) DOI %q, want %q", p.ID, lib[0].DOI, p.DOI)
		}
	}
	first := Cite(&papers[0])
	if !strings.HasPrefix(first, "@misc{haddad2024grounded,\n") || !strings.Contains(first, "author = {Leila Haddad and Pieter van Dijk and {Smith and Sons}}") || !strings.Contains(first, "url = {https://arxiv.org/abs/2401.01234}") {
		t.Errorf("cite entry:\n%s", first)
	}
	// A person's name stays unbraced, so BibTeX splits it into first and
	// last names.
	if second := Cite(&papers[1]); !strings.Contains(second, "author = {Zoë Øster},") || !strings.HasPrefix(second, "@misc{oster") {
		t.Errorf("cite entry of a one-author paper:\n%s", second)
	}
	if third := Cite(&papers[2]); !strings.HasPrefix(third, "@article{") || !strings.Contains(third, "journal = {Journal of Tests}") {
		t.Errorf("journal cite entry:\n%s", third)
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"speech-20.bib", "malformed.bib", "zotero.json", "library.ris", "ids.txt"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{"@string{a = \"x\" # a}", "@comment{ @article{ }", "@preamble{\"\\x\"}", "@article(k, title = \"{A}\")", "TY  - \nER  - ", "[]", "{\"items\":[{}]}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		es, _, err := Parse(strings.NewReader(string(data)), FormatAuto)
		if err != nil {
			if es != nil || !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v with %d entries", err, len(es))
			}
			return
		}
		if len(es) == 0 || len(es) > MaxEntries {
			t.Fatalf("%d entries without error", len(es))
		}
		for _, e := range es {
			if e.Title == "" && e.ArxivID == "" && e.DOI == "" {
				t.Fatalf("empty entry %+v", e)
			}
		}
	})
}

func FuzzCite(f *testing.F) {
	f.Add("Title {with} braces", "A. Author", "10.1/x", "bioRxiv")
	f.Add("\\end{document}", "} and {", "", "")
	f.Fuzz(func(t *testing.T, title, author, doi, venue string) {
		p := model.Paper{ID: "2401.00001", Title: title, Authors: []string{author}, DOI: doi, Venue: venue}
		out := Cite(&p)
		if es, err := ParseBibTeX(out); err != nil || len(es) != 1 {
			t.Fatalf("Cite does not parse: %v\n%s", err, out)
		}
	})
}
