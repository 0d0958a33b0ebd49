package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/papermail/papermail/internal/library"
)

// TestCite: every stored paper's cite link downloads a BibTeX entry that
// parses, over real HTTP; unknown papers are a 404 and nothing changes.
func TestCite(t *testing.T) {
	e := newEnv(t)
	papers := loadPapers(t)
	before := e.snapshot()
	for _, p := range papers {
		link := e.links.Cite(p.ID)
		res := e.get(e.path(link))
		if res.status != http.StatusOK {
			t.Fatalf("%s: status %d", link, res.status)
		}
		if ct := res.header.Get("Content-Type"); ct != "application/x-bibtex; charset=utf-8" {
			t.Errorf("%s: Content-Type %q", link, ct)
		}
		if cd := res.header.Get("Content-Disposition"); !strings.HasPrefix(cd, `attachment; filename="`) || !strings.HasSuffix(cd, `.bib"`) {
			t.Errorf("%s: Content-Disposition %q", link, cd)
		}
		entries, err := library.ParseBibTeX(res.body)
		if err != nil || len(entries) != 1 {
			t.Fatalf("%s: not one valid BibTeX entry (%v):\n%s", link, err, res.body)
		}
		if got := entries[0].Fields["title"]; !strings.Contains(got, strings.Fields(p.Title)[0]) {
			t.Errorf("%s: title %q, paper %q", link, got, p.Title)
		}
		if p.ArxivID() != "" && entries[0].Fields["eprint"] != p.ID {
			t.Errorf("%s: eprint %q, want %s", link, entries[0].Fields["eprint"], p.ID)
		}
	}
	for _, path := range []string{"/cite/9999.99999.bib", "/cite/2401.00001", "/cite/"} {
		if res := e.get(path); res.status != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", path, res.status)
		}
	}
	if after := e.snapshot(); after != before {
		t.Errorf("GET /cite changed the store")
	}
}
