package selection

import (
	"fmt"
	"testing"

	"github.com/papermail/papermail/internal/model"
)

func conjunctIndex(t *testing.T) *Index {
	t.Helper()
	papers := []model.Paper{
		{ID: "sae1", Title: "Sparse Autoencoders Find Monosemantic Features", Abstract: "We train sparse autoencoders on activations."},
		{ID: "sae2", Title: "Scaling Sparse Autoencoders", Abstract: "Sparse autoencoders with millions of latents."},
		{ID: "cir1", Title: "Circuit Analysis of Indirect Object Identification", Abstract: "We reverse-engineer a circuit in a small transformer."},
		{ID: "both", Title: "Circuits Built From Sparse Autoencoder Features", Abstract: "Circuit analysis over sparse autoencoder latents."},
		{ID: "hal1", Title: "Detecting Hallucinations in Summaries", Abstract: "Hallucination detection with entailment."},
	}
	for i, topic := range []string{"speech recognition", "protein folding", "object detection", "machine translation",
		"graph coloring", "weather forecasting", "robot grasping", "image segmentation", "music generation", "question answering"} {
		papers = append(papers, model.Paper{ID: fmt.Sprintf("f%02d", i), Title: "Advances in " + topic, Abstract: "A study of " + topic + "."})
	}
	return NewIndex(papers, Options{Now: fixtureNow})
}

// TestConjuncts checks which interests are terms joined by "and" or "or"
// whose papers are those of either term.
func TestConjuncts(t *testing.T) {
	ix := conjunctIndex(t)
	tests := []struct {
		interest string
		parts    int
	}{
		{"sparse autoencoders and circuit analysis", 2},
		{"sparse autoencoders or circuit analysis", 2},
		{"sparse autoencoders", 0},
		// "mitigation" alone is no research topic.
		{"hallucination detection and mitigation", 0},
		// Clauses of a description are not terms.
		{"models that look at pictures and then tell a long story about what they show", 0},
	}
	for _, tt := range tests {
		if got := len(ix.conjuncts(tt.interest)); got != tt.parts {
			t.Errorf("conjuncts(%q): %d parts, want %d", tt.interest, got, tt.parts)
		}
	}
}

// TestConjunctPicksEither checks that "a and b" picks papers on either
// term, the paper on both among the first two.
func TestConjunctPicksEither(t *testing.T) {
	ix := conjunctIndex(t)
	picks := selectFor(ix, Profile{Interests: []string{"sparse autoencoders and circuit analysis"}}, 10)
	got := map[string]int{}
	for i, p := range picks {
		got[p.Paper.ID] = i + 1
		t.Logf("%d %.3f %s %q", i+1, p.Relevance, p.Paper.Title, p.Matched)
	}
	for _, id := range []string{"sae1", "sae2", "cir1", "both"} {
		if got[id] == 0 {
			t.Errorf("%s not picked", id)
		}
	}
	if r := got["both"]; r == 0 || r > 2 {
		t.Errorf("the paper on both terms ranks %d, want 1 or 2", r)
	}
	if got["hal1"] != 0 {
		t.Error("a paper on neither term was picked")
	}
}
