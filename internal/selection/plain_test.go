package selection

import (
	"fmt"
	"slices"
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

// TestDescriptionWithoutAnEverydayWord checks that a description of five
// concepts or more finds the papers on its research concepts when one of
// its everyday words, one the lexicon renders in the field's terms
// ("puzzles"), matches no paper well: the papers say it otherwise.
func TestDescriptionWithoutAnEverydayWord(t *testing.T) {
	papers := []model.Paper{
		{ID: "ttc", Title: "Scaling Test-Time Compute for Small Language Models on Math", Abstract: "Small models that spend more test-time compute match larger ones on mathematical reasoning benchmarks at a lower cost."},
		{ID: "seg", Title: "Semantic Segmentation of Street Scenes", Abstract: "Pixel labels for road images."},
	}
	ix := NewIndex(append(papers, loadFixture(t)...), Options{Now: fixtureNow})
	in := ix.interestFor("can a small cheap model solve math puzzles like the big ones if it thinks longer")
	lay := false
	for _, s := range in.slots {
		lay = lay || s.lay && s.df == 0
	}
	if !lay {
		t.Fatal(`no everyday concept matched by no paper: "puzzles" should be one`)
	}
	rel := func(text string) float64 {
		for _, p := range selectFor(ix, Profile{Interests: []string{text}}, 5) {
			if p.Paper.ID == "ttc" {
				return p.Relevance
			}
		}
		return 0
	}
	with, without := rel("can a small cheap model solve math puzzles like the big ones if it thinks longer"),
		rel("can a small cheap model solve math like the big ones if it thinks longer")
	t.Logf("relevance %.3f with the word, %.3f without", with, without)
	if with < 0.9*without {
		t.Errorf("relevance %.3f with the word no paper has, %.3f without it: want about the same", with, without)
	}
	// So may a word neither the lexicon nor the dictionary knows that no
	// paper has.
	odd := rel("can a small cheap model solve math like the big ones in a shoebox if it thinks longer")
	if odd < 0.9*without {
		t.Errorf("relevance %.3f with a word nothing knows, %.3f without it: want about the same", odd, without)
	}
	if got := ids(selectFor(ix, Profile{Interests: []string{"can a small cheap model solve math puzzles like the big ones if it thinks longer"}}, 5)); slices.Contains(got, "seg") {
		t.Errorf("picked %v: the segmentation paper has none of the concepts", got)
	}
}
