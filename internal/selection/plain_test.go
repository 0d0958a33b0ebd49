package selection

import (
	"fmt"
	"strings"
	"testing"

	"github.com/papermail/papermail/internal/model"
)

// TestPlainGroup checks which lexicon keys count as a reader's everyday
// words: a single dictionary word whose group holds only synonyms.
func TestPlainGroup(t *testing.T) {
	lx, err := ParseLexicon(`describe, description
faster, speed -> latency, throughput
graph neural network, gnn
zzqx, zzqy`)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		key  string
		want bool
	}{
		{"describe", true},              // everyday word, synonyms only
		{"faster", false},               // stands for research terms
		{"graph neural network", false}, // several words: a term
		{"zzqx", false},                 // no dictionary word
	}
	for _, tt := range tests {
		kw := stems(tt.key, false)
		key := strings.Join(kw, " ")
		if got := plainGroup(kw, lx.lookup(key)); got != tt.want {
			t.Errorf("plainGroup(%q) = %v, want %v", tt.key, got, tt.want)
		}
	}
}

// TestDescriptionEverydayWords checks a long description in everyday
// words around one research concept: the papers on the concept are
// picked although they use none of the everyday words, and papers that
// share only everyday words are not.
func TestDescriptionEverydayWords(t *testing.T) {
	papers := []model.Paper{
		{ID: "q1", Title: "Post-Training Quantization of Language Models", Abstract: "We quantize weights to four bits with little loss in accuracy."},
		{ID: "q2", Title: "Binary Networks Through Quantization", Abstract: "Extreme quantization makes inference cheap on commodity hardware."},
		{ID: "q3", Title: "Quantization-Aware Training at Scale", Abstract: "Training with simulated low precision keeps quality."},
		{ID: "n1", Title: "Counting Objects in Crowded Scenes", Abstract: "Numbers of people are estimated from density maps; fewer annotations suffice."},
		{ID: "n2", Title: "Digit Recognition in the Wild", Abstract: "Reading house numbers and digits from street photos."},
		{ID: "n3", Title: "Serving Recommendations at Low Cost", Abstract: "A system that serves results to users while it costs less."},
		{ID: "g1", Title: "Graph Neural Networks for Molecules", Abstract: "Message passing over molecular graphs."},
	}
	for i, topic := range []string{"speech recognition", "protein folding", "object detection", "machine translation",
		"graph coloring", "weather forecasting", "robot grasping", "image segmentation", "music generation",
		"question answering", "code generation", "reinforcement learning", "text summarization", "depth estimation",
		"speaker verification", "anomaly detection", "topic modeling", "face recognition", "optical flow", "pose estimation"} {
		papers = append(papers, model.Paper{ID: fmt.Sprintf("f%02d", i), Title: "Advances in " + topic,
			Abstract: "A study of " + topic + " with a new benchmark."})
	}
	ix := NewIndex(papers, Options{Now: fixtureNow})
	picks := selectFor(ix, Profile{Interests: []string{"storing each number of a network in fewer digits through quantization"}}, 10)
	got := map[string]bool{}
	for _, p := range picks {
		got[p.Paper.ID] = true
		t.Logf("%.3f %s %q", p.Relevance, p.Paper.Title, p.Matched)
	}
	for _, id := range []string{"q1", "q2", "q3"} {
		if !got[id] {
			t.Errorf("quantization paper %s not picked", id)
		}
	}
	for _, id := range []string{"n1", "n2", "n3", "g1"} {
		if got[id] {
			t.Errorf("paper %s, which shares only everyday words, was picked", id)
		}
	}
}
