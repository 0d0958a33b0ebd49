package feeds

import (
	"os"
	"strings"
	"testing"

	"github.com/papermail/papermail/internal/model"
)

// sampleLines returns the lines of the real page.
func sampleLines(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(samplePage(t))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimRight(string(data), "\n"), "\n")
}

func TestParseSamplePage(t *testing.T) {
	lines := sampleLines(t)
	f, err := os.Open(samplePage(t))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	papers, err := Parse(f, FormatAuto, "papers-page.txt", testNow)
	if err != nil {
		t.Fatal(err)
	}
	if len(papers) != 252 {
		t.Fatalf("got %d papers, want 252", len(papers))
	}
	const firstTitle = "A Survey and Taxonomy of Adversarial Neural Networks for Text-to-Image Synthesis"
	if papers[0].Title != firstTitle {
		t.Errorf("first title = %q, want %q", papers[0].Title, firstTitle)
	}
	ids := map[string]int{}
	for i, p := range papers {
		ids[p.ID]++
		// Titles are the page's title lines (odd lines from line 3), as is.
		wantTitle := strings.TrimPrefix(lines[2+2*i], "Subscribe")
		if p.Title != wantTitle {
			t.Errorf("paper %d: title %q, want %q", i+1, p.Title, wantTitle)
		}
		if want := CleanText(lines[3+2*i]); p.Abstract != want {
			t.Errorf("paper %d: abstract %.60q..., want %.60q...", i+1, p.Abstract, want)
		}
		if strings.Contains(p.Title, "Subscribe") || strings.Contains(p.Title, "Get trending") || strings.Contains(p.Title, "inbox") {
			t.Errorf("paper %d: page chrome in title %q", i+1, p.Title)
		}
		if p.ID != TitleID(p.Title) || p.Source != FormatPage || !p.Ingested.Equal(testNow) || !p.Published.IsZero() || !p.TrendingAt.IsZero() {
			t.Errorf("paper %d: id %q source %q ingested %v published %v", i+1, p.ID, p.Source, p.Ingested, p.Published)
		}
		if len(p.Abstract) < 200 {
			t.Errorf("paper %d %q: abstract too short: %q", i+1, p.Title, p.Abstract)
		}
	}
	if len(ids) != 251 {
		t.Errorf("got %d distinct ids, want 251", len(ids))
	}
	var dups []model.Paper
	for _, p := range papers {
		if ids[p.ID] > 1 {
			dups = append(dups, p)
		}
	}
	if len(dups) != 2 || dups[0].Title != "Fully Convolutional Networks for Semantic Segmentation" || dups[0].Abstract == dups[1].Abstract {
		t.Errorf("want the two versions of one paper as duplicates, got %+v", dups)
	}
}

// TestParseSamplePageLayouts re-lays the real page with CRLF, blank lines
// between entries and between title and abstract, and stray chrome: the
// papers stay the same.
func TestParseSamplePageLayouts(t *testing.T) {
	lines := sampleLines(t)
	base, err := parseString(strings.Join(lines, "\n"), FormatPage)
	if err != nil {
		t.Fatal(err)
	}
	relayout := map[string]func(i int, l string) string{
		"crlf":            func(i int, l string) string { return l + "\r\n" },
		"blank between":   func(i int, l string) string { return l + "\n" + map[bool]string{true: "\n", false: ""}[i%2 == 1] },
		"blank after all": func(i int, l string) string { return l + "\n\n" },
		"chrome and votes": func(i int, l string) string {
			if i > 2 && i%2 == 0 {
				return "Upvote\n" + "17\n" + l + "\n"
			}
			return "  " + l + "\t\n"
		},
	}
	for name, f := range relayout {
		t.Run(name, func(t *testing.T) {
			var b strings.Builder
			for i, l := range lines {
				b.WriteString(f(i, l))
			}
			got, err := parseString(b.String(), FormatPage)
			if err != nil {
				t.Fatal(err)
			}
			checkPapers(t, got, base)
		})
	}
}

func TestParsePageFixture(t *testing.T) {
	got := parseFixture(t, "page-listing.txt", FormatAuto)
	quant := "Quantized Attention Kernels for Edge Devices"
	long := "A Very Long Title About Benchmarking Retrieval-Augmented Generation Systems Under Distribution Shift, Adversarial Queries, Noisy Corpora, Multilingual Inputs and Other Conditions That Practitioners Meet in Production Deployments"
	if len([]rune(long)) < pageLongChars {
		t.Fatalf("fixture title is %d characters, want at least %d to test long titles", len([]rune(long)), pageLongChars)
	}
	page := func(id, title, abstract string) model.Paper {
		p := model.Paper{ID: id, Title: title, Abstract: abstract, Ingested: testNow, Source: "page"}
		if p.ID == "" {
			p.ID = TitleID(title)
		} else {
			p.URL = "https://arxiv.org/abs/" + id
		}
		return p
	}
	want := []model.Paper{
		page("", quant, "We design attention kernels that run entirely in 4-bit integer arithmetic on microcontrollers. A lookup-table softmax and block-wise rescaling keep accuracy within one point of the float baseline while cutting latency by a factor of six on three boards."),
		page("", "Subscribe to Fewer Features: Sparse Probing of Vision Transformers", "Linear probes on vision transformer features often rely on thousands of dimensions. We show that a probe restricted to sixteen features, chosen by a greedy sparsity path, recovers most of the accuracy and names features a person can inspect and interpret."),
		page("2401.05555", "Learning to Rank Code Reviews by Reviewer Effort", "Code review queues grow faster than reviewers can read them. We learn to rank pending reviews by the effort they will need, using diffs, author history and file ownership, and cut median time-to-first-response by 23% in a month-long deployment at two companies."),
		page("", long, "We collect eleven retrieval-augmented generation systems and evaluate them under shifts in topic, query phrasing, corpus noise and language. No system is best under every shift; simple query rewriting closes half of the gap between the best and the worst system in most settings we tested."),
		page("", quant, "We design attention kernels that run entirely in 4-bit integer arithmetic on microcontrollers. Version two adds results on a fourth board and compares against vendor libraries, which are slower by a factor of three to five across all sequence lengths."),
		page("", "Graph Rewiring Reduces Oversquashing", "Rewiring sparse graphs before message passing helps."),
		page("2312.07777", "A Note on Tiny Proofs", "We show that every proof in a small fragment of arithmetic can be compressed to logarithmic length, and give a matching lower bound for a family of tautologies built from pigeonhole statements. The argument is short and self-contained."),
	}
	checkPapers(t, got, want)
}

func TestParsePageShapes(t *testing.T) {
	abs := strings.Repeat("This abstract sentence is long enough to count. ", 5)
	abs2 := strings.Repeat("Another abstract with different words in it. ", 5)
	cleanAbs, cleanAbs2 := CleanText(abs), CleanText(abs2)
	tests := []struct {
		name, src string
		titles    []string
		abstracts []string
		ids       []string
	}{
		{"empty", "", nil, nil, nil},
		{"chrome only", "Get trending papers in your email inbox!\nSubscribe\nSign in\n\n", nil, nil, nil},
		{"glued sign in", "Sign inSubscribe2D Diffusion Priors\n" + abs, []string{"2D Diffusion Priors"}, []string{cleanAbs}, nil},
		{"not glued", "Subscribers and Churn\n" + abs, []string{"Subscribers and Churn"}, []string{cleanAbs}, nil},
		{"intro paragraph dropped", abs2 + "\n\nTitle One\n" + abs, []string{"Title One"}, []string{cleanAbs}, nil},
		{"two-paragraph abstract", "Title One\n" + abs + "\n" + abs2 + "\nTitle Two\n" + abs, []string{"Title One", "Title Two"}, []string{cleanAbs + " " + cleanAbs2, cleanAbs}, nil},
		{"dangling title at end dropped", "Title One\n" + abs + "\nLoad more papers", []string{"Title One"}, []string{cleanAbs}, nil},
		{"id lines after", "Title One\n" + abs + "\narXiv:2401.00001v2\nTitle Two\n" + abs2 + "\nhttps://arxiv.org/abs/2401.00002\n",
			[]string{"Title One", "Title Two"}, []string{cleanAbs, cleanAbs2}, []string{"2401.00001", "2401.00002"}},
		{"id lines before", "2401.00001\nTitle One\n" + abs + "\n2401.00002\nTitle Two\n" + abs2,
			[]string{"Title One", "Title Two"}, []string{cleanAbs, cleanAbs2}, []string{"2401.00001", "2401.00002"}},
		{"id in title", "Title One (arXiv:2401.00001v1 [cs.CL])\n" + abs + "\narXiv:2401.00002 Title Two\n" + abs2,
			[]string{"Title One", "Title Two"}, []string{cleanAbs, cleanAbs2}, []string{"2401.00001", "2401.00002"}},
		{"announce prefix in abstract", "Title One\narXiv:2401.00003v1 Announce Type: new Abstract: " + abs,
			[]string{"Title One"}, []string{cleanAbs}, []string{"2401.00003"}},
		{"latex in title", "On {\\em Tiny} Models -- a Study\n" + abs, []string{"On Tiny Models – a Study"}, []string{cleanAbs}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseString(tt.src, FormatPage)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.titles) {
				t.Fatalf("got %d papers %+v, want titles %q", len(got), got, tt.titles)
			}
			for i, p := range got {
				if p.Title != tt.titles[i] || p.Abstract != tt.abstracts[i] {
					t.Errorf("paper %d: %q / %q, want %q / %q", i+1, p.Title, p.Abstract, tt.titles[i], tt.abstracts[i])
				}
				wantID := TitleID(tt.titles[i])
				if tt.ids != nil {
					wantID = tt.ids[i]
				}
				if p.ID != wantID {
					t.Errorf("paper %d: id %q, want %q", i+1, p.ID, wantID)
				}
			}
		})
	}
}
