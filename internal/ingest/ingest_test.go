package ingest

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/papermail/papermail/internal/feeds"
	"github.com/papermail/papermail/internal/store"
)

var testNow = time.Date(2024, 1, 10, 7, 0, 0, 0, time.UTC)

func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "papermail.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func countPapers(t *testing.T, st *store.Store) int {
	t.Helper()
	n, err := st.CountPapers()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestSourceNewFormats: the bioRxiv and journal fixtures ingest, and the
// stored papers keep their links, DOIs and categories.
func TestSourceNewFormats(t *testing.T) {
	st := openStore(t)
	total := 0
	for _, tt := range []struct {
		file, format string
		papers       int
	}{
		{"biorxiv-details.json", feeds.FormatAuto, 3},
		{"journal-rss2.xml", feeds.FormatRSS, 2},
		{"journal-atom.xml", feeds.FormatRSS, 1},
		{"journal-rdf.xml", feeds.FormatRSS, 1},
		{"arxiv-api.xml", feeds.FormatArxiv, 3},
	} {
		res, err := Source(context.Background(), st, filepath.Join("..", "feeds", "testdata", tt.file), tt.format, testNow, nil)
		if err != nil {
			t.Fatalf("%s: %v", tt.file, err)
		}
		if res.Papers != tt.papers || res.Added != tt.papers {
			t.Errorf("%s: %+v, want %d papers added", tt.file, res, tt.papers)
		}
		total += tt.papers
	}
	if n := countPapers(t, st); n != total {
		t.Errorf("store holds %d papers, want %d", n, total)
	}
	p, err := st.Paper(feeds.TitleID("Sleep spindles gate the replay of place-cell sequences in the mouse hippocampus"))
	if err != nil {
		t.Fatal(err)
	}
	if p.DOI != "10.1101/2024.01.05.574321" || p.PDFLink() != "https://www.biorxiv.org/content/10.1101/2024.01.05.574321v1.full.pdf" || p.Primary() != "neuroscience" || p.Venue != "bioRxiv" {
		t.Errorf("stored bioRxiv paper = %+v", p)
	}
	a, err := st.Paper("2401.01234")
	if err != nil {
		t.Fatal(err)
	}
	if a.PDFLink() != "https://arxiv.org/pdf/2401.01234v2" || len(a.Affiliations) != 1 || a.Primary() != "cs.CL" {
		t.Errorf("stored arXiv paper = %+v", a)
	}
}

// TestSourceHostileRefused: a hostile source is refused by name and
// place, and the store stays exactly as it was.
func TestSourceHostileRefused(t *testing.T) {
	st := openStore(t)
	if _, err := Source(context.Background(), st, filepath.Join("..", "feeds", "testdata", "journal-atom.xml"), feeds.FormatRSS, testNow, nil); err != nil {
		t.Fatal(err)
	}
	before := countPapers(t, st)
	for _, tt := range []struct {
		file, format string
		want         []string
	}{
		{"biorxiv-hostile.json", feeds.FormatBiorxiv, []string{"biorxiv-hostile.json: line 4: entry 3: doi", "is not a DOI"}},
		{"journal-hostile.xml", feeds.FormatRSS, []string{"journal-hostile.xml: line 11: entry 2: date: cannot read date"}},
	} {
		src := filepath.Join("testdata", tt.file)
		_, err := Source(context.Background(), st, src, tt.format, testNow, nil)
		if err == nil {
			t.Fatalf("%s: ingested, want an error", tt.file)
		}
		for _, w := range tt.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not contain %q", tt.file, err, w)
			}
		}
		if n := countPapers(t, st); n != before {
			t.Errorf("%s: store holds %d papers after a refused source, want %d", tt.file, n, before)
		}
	}
}
