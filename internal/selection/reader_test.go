package selection

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/papermail/papermail/internal/model"
)

// readerPapers is the fixture with authors and categories added, and two
// off-topic papers by people who share a surname.
func readerPapers(t *testing.T) []model.Paper {
	t.Helper()
	papers := loadFixture(t)
	for i := range papers {
		p := &papers[i]
		switch p.ID {
		case "2501.00001", "2501.00002", "2501.00006", "2501.00008", "2501.00012":
			p.Categories = []string{"cs.CV"}
		case "2501.00003", "2501.00005", "2501.00009", "2501.00013", "2501.00015":
			p.Categories = []string{"cs.CL", "cs.LG"}
		case "2501.00014":
			p.Categories = []string{"cs.RO"}
		}
	}
	at := time.Date(2025, 3, 1, 5, 0, 0, 0, time.UTC)
	return append(papers,
		model.Paper{ID: "2501.00101", Title: "Soil Microbes and Nitrogen Uptake in Wheat Fields", Abstract: "We sample soil microbes across forty wheat fields and relate their diversity to nitrogen uptake by the crop over two seasons.", Authors: []string{"Ana Ruiz", "Y. LeCun"}, Categories: []string{"q-bio.PE"}, Published: at},
		model.Paper{ID: "2501.00102", Title: "Glacier Retreat Measured from Historical Photographs", Abstract: "Historical photographs of alpine glaciers are aligned with satellite images to measure a century of retreat.", Authors: []string{"Xavier LeCun"}, Categories: []string{"physics.geo-ph"}, Published: at},
	)
}

func TestFollowedAuthors(t *testing.T) {
	ix := NewIndex(readerPapers(t), Options{Now: fixtureNow})
	for _, name := range []string{"Yann LeCun", "LeCun, Yann", "Yann A. LeCun"} {
		picks := selectFor(ix, Profile{Interests: []string{"speculative decoding"}, Authors: []string{name}}, 10)
		got := ids(picks)
		if !slices.Contains(got, "2501.00101") {
			t.Errorf("%s: the followed author's off-topic paper is not picked: %v", name, got)
		}
		if slices.Contains(got, "2501.00102") {
			t.Errorf("%s: a paper by another LeCun is picked: %v", name, got)
		}
		if !slices.Contains(got, "2501.00003") {
			t.Errorf("%s: the interest's paper is gone: %v", name, got)
		}
		for _, p := range picks {
			want := ""
			if p.Paper.ID == "2501.00101" {
				want = strings.Replace(name, "LeCun, Yann", "Yann LeCun", 1) // as written, given name first
			}
			if p.Followed != want {
				t.Errorf("%s: %s Followed = %q, want %q", name, p.Paper.ID, p.Followed, want)
			}
		}
	}
	// Authors alone make a profile.
	if got := ids(selectFor(ix, Profile{Authors: []string{"Xavier LeCun"}}, 10)); !slices.Equal(got, []string{"2501.00102"}) {
		t.Errorf("authors only: %v", got)
	}
}

func TestCategories(t *testing.T) {
	ix := NewIndex(readerPapers(t), Options{Now: fixtureNow})
	interest := []string{"large language models"}
	plain := ids(selectFor(ix, Profile{Interests: interest}, 20))
	filtered := selectFor(ix, Profile{Interests: interest, Categories: []string{"cs.CV"}, CategoryFilter: true}, 20)
	for _, p := range filtered {
		if len(p.Paper.Categories) > 0 && !slices.Contains(p.Paper.Categories, "cs.CV") {
			t.Errorf("filter cs.CV picked %s in %v", p.Paper.ID, p.Paper.Categories)
		}
		if !slices.Contains(plain, p.Paper.ID) {
			t.Errorf("filter picked %s, which the interest alone does not match", p.Paper.ID)
		}
	}
	// Uncategorized papers are judged by their text: 2501.00010
	// (mixture of experts) has no category and stays when it matches.
	if slices.Contains(plain, "2501.00010") && !slices.Contains(ids(filtered), "2501.00010") {
		t.Errorf("filter dropped an uncategorized paper: %v", ids(filtered))
	}
	// Boost moves a cs.CL paper up, never adds an unmatched one.
	boosted := ids(selectFor(ix, Profile{Interests: []string{"compression"}, Categories: []string{"cs.CL"}}, 20))
	base := ids(selectFor(ix, Profile{Interests: []string{"compression"}}, 20))
	if len(boosted) != len(base) {
		t.Fatalf("boost changed the picked set: %v vs %v", boosted, base)
	}
	if slices.Index(boosted, "2501.00015") > slices.Index(base, "2501.00015") {
		t.Errorf("boost did not raise the cs.CL paper: %v vs %v", boosted, base)
	}
	// Categories alone (filter) pick the category's papers.
	only := ids(selectFor(ix, Profile{Categories: []string{"cs.RO"}, CategoryFilter: true}, 20))
	if !slices.Equal(only, []string{"2501.00014"}) {
		t.Errorf("categories only: %v", only)
	}
}

func TestLibrary(t *testing.T) {
	ix := NewIndex(readerPapers(t), Options{Now: fixtureNow})
	lib := []LibraryEntry{
		{Label: "Semi-Supervised Classification with Graph Convolutional Networks", Text: "Semi-Supervised Classification with Graph Convolutional Networks\nWe present a scalable approach for semi-supervised learning on graph-structured data based on convolutional neural networks that operate directly on graphs."},
		{Label: "Neural Message Passing for Quantum Chemistry", Text: "Neural Message Passing for Quantum Chemistry\nSupervised learning on molecules: message passing neural networks predict quantum properties of molecular graphs."},
	}
	picks := selectFor(ix, Profile{Library: lib}, 5)
	if len(picks) == 0 || picks[0].Paper.ID != "2501.00004" {
		t.Fatalf("library on graph networks picked %v", ids(picks))
	}
	if picks[0].Like == "" || picks[0].Interest != picks[0].Like {
		t.Errorf("pick does not name the library paper: %+v", picks[0])
	}
	for _, p := range picks {
		if p.Paper.ID == "2501.00014" || p.Paper.ID == "2501.00102" {
			t.Errorf("library on graphs picked unrelated %s", p.Paper.ID)
		}
	}
	// An entry found among the indexed papers is not sent back.
	got := ids(selectFor(ix, Profile{Library: []LibraryEntry{{Label: "x", Text: "x", ID: "2501.00004"}}}, 5))
	if slices.Contains(got, "2501.00004") {
		t.Errorf("the reader's own paper was picked: %v", got)
	}
}

// TestLibraryTitlesOnly: libraries of titles alone (as many exports are)
// over the real listing page: one on a topic the page has pulls papers
// on it, one on a topic the page lacks pulls almost nothing. (A dev check:
// the figures tuned libraryRef.)
func TestLibraryTitlesOnly(t *testing.T) {
	now := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	ix := NewIndex(loadPage(t, now.Add(-6*time.Hour)), Options{Now: now})
	lib := func(titles ...string) []LibraryEntry {
		var out []LibraryEntry
		for _, ti := range titles {
			out = append(out, LibraryEntry{Label: ti, Text: ti})
		}
		return out
	}
	seg := ix.Select(ix.Compile(Profile{Library: lib("Fully Convolutional Networks for Semantic Segmentation",
		"U-Net: Convolutional Networks for Biomedical Image Segmentation", "DeepLab: Semantic Image Segmentation with Deep Convolutional Nets",
		"Mask R-CNN", "Pyramid Scene Parsing Network")}), 8)
	on := 0
	for _, p := range seg {
		if strings.Contains(strings.ToLower(p.Paper.Title+" "+p.Paper.Abstract), "segmentation") {
			on++
		}
		if p.Like == "" {
			t.Errorf("pick %q does not name a library paper", p.Paper.Title)
		}
	}
	if on < 6 {
		t.Errorf("segmentation library: %d of %d picks about segmentation", on, len(seg))
	}
	astro := ix.Select(ix.Compile(Profile{Library: lib("Dark Energy Survey Year 3 Results: Cosmological Constraints from Galaxy Clustering",
		"The Stellar Mass Function of Galaxies at High Redshift", "Exoplanet Atmospheres Observed with the James Webb Space Telescope",
		"Gravitational Waves from Binary Neutron Star Mergers", "Measuring the Hubble Constant with Type Ia Supernovae")}), 8)
	if len(astro) > 2 {
		t.Errorf("astrophysics library over machine-learning papers picked %d", len(astro))
	}
}
