package selection

import (
	"strings"
	"testing"
)

func marked(segs []Segment) []string {
	var out []string
	for _, s := range segs {
		if s.Match {
			out = append(out, s.Text)
		}
	}
	return out
}

func TestHighlight(t *testing.T) {
	tests := []struct {
		text    string
		matched []string
		want    []string
	}{
		{"Fast Semantic Segmentation of street scenes", []string{"semantic segmentation"}, []string{"Semantic Segmentation"}},
		{"Segmentations and segments; segue", []string{"Segmentation"}, []string{"Segmentations", "segments"}},
		{"A Sparsely-Gated Mixture-of-Experts Layer", []string{"mixture of experts"}, []string{"Mixture-of-Experts"}},
		{"segmentation; semantic", []string{"semantic segmentation"}, nil},
		{"GNNs and a GNN", []string{"GNN"}, []string{"GNNs", "GNN"}},
		{"GRUs and a gru; U-Net and UNets", []string{"GRU", "U-Net"}, []string{"GRUs", "gru", "U-Net", "UNets"}},
		{"presegmentation is not a whole word", []string{"segmentation"}, nil},
		{"KV cache and cache", []string{"KV cache", "cache"}, []string{"KV cache", "cache"}},
		{"of the of", []string{"of"}, nil},
		{"nothing here", nil, nil},
	}
	for _, tt := range tests {
		segs := Highlight(tt.text, tt.matched)
		var b strings.Builder
		for _, s := range segs {
			b.WriteString(s.Text)
		}
		if b.String() != tt.text {
			t.Errorf("segments of %q join to %q", tt.text, b.String())
		}
		if got := marked(segs); strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("Highlight(%q, %q) marked %q, want %q", tt.text, tt.matched, got, tt.want)
		}
	}
	if Highlight("", []string{"x"}) != nil {
		t.Error("empty text gave segments")
	}
}

func TestHighlightPickMatches(t *testing.T) {
	ix := fixtureIndex(t)
	for _, p := range selectFor(ix, Profile{Interests: []string{"making LLMs decode faster", "mixture of experts"}}, 5) {
		segs := append(Highlight(p.Paper.Title, p.Matched), Highlight(p.Paper.Abstract, p.Matched)...)
		if len(marked(segs)) == 0 {
			t.Errorf("%s: nothing of %q highlighted", p.Paper.Title, p.Matched)
		}
	}
}

func FuzzHighlight(f *testing.F) {
	f.Add("Fast Semantic Segmentation", "semantic segmentation")
	f.Add("Mixture-of-Experts", "mixture of experts")
	f.Add("\xff a b", "a")
	f.Fuzz(func(t *testing.T, text, m string) {
		segs := Highlight(text, strings.Split(m, "|"))
		var b strings.Builder
		for i, s := range segs {
			if s.Text == "" {
				t.Fatalf("empty segment %d", i)
			}
			b.WriteString(s.Text)
		}
		if b.String() != text {
			t.Fatalf("segments join to %q, want %q", b.String(), text)
		}
	})
}
