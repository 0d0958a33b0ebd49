package selection

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/sample"
)

// sampleDate dates every demo paper in the subject tests.
var sampleDate = time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)

// loadSamplePapers decodes the demo papers (internal/sample), one json
// object a line, all published at sampleDate.
func loadSamplePapers(t testing.TB) []model.Paper {
	t.Helper()
	var papers []model.Paper
	for i, line := range bytes.Split(sample.PapersJSONL, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var p model.Paper
		if err := json.Unmarshal(line, &p); err != nil {
			t.Fatalf("sample papers line %d: %v", i+1, err)
		}
		p.Published = sampleDate
		papers = append(papers, p)
	}
	if len(papers) < 40 {
		t.Fatalf("sample papers: %d, want at least 40", len(papers))
	}
	return papers
}

// TestSubjectConceptRequired checks that an interest naming a subject and
// an aspect of it ("LLM" and "faster") picks papers on both, not papers on
// the aspect in another field (video diffusion, speech, robots, weather),
// and that the subject is matched by what papers call it ("transformer
// decoding", "decoder-only") rather than only by the reader's word.
func TestSubjectConceptRequired(t *testing.T) {
	samples := NewIndex(loadSamplePapers(t), Options{Now: sampleDate.Add(2 * time.Hour)})
	page := NewIndex(loadPage(t, sampleDate), Options{Now: sampleDate.Add(2 * time.Hour)})
	tests := []struct {
		ix       *Index
		interest string
		top      string   // must be among the first three picks
		want     []string // must be picked
		not      []string // must not be picked
	}{
		{samples, "making LLM inference faster", "Prefix Sharing at Scale", []string{
			"Ladder Drafting", "Speculative Decoding Meets Batching", "Early Exit Without Regret", "KV Sieve",
		}, []string{
			"Consistency Distillation for Video Diffusion", "Streaming Speech Recognition",
			"Spinning Unseen Objects", "StormGraph", "Retrieval That Knows When to Stop",
		}},
		{samples, "LLM serving", "Prefix Sharing at Scale", []string{"Speculative Decoding Meets Batching"}, []string{
			"Retrieval That Knows When to Stop", "Streaming Speech Recognition", "Private Fine-Tuning",
		}},
		{samples, "graph neural networks for drug discovery", "Graph Transformers Without Positional Encodings", nil, []string{
			"Rewiring by Curvature", "Catching Fraud Rings", "Pocket-Conditioned Molecule Generation", "MotifFlow",
		}},
		{page, "making LLMs decode faster", "", []string{
			"Fast Transformer Decoding", "Blockwise Parallel Decoding for Deep Autoregressive Models", "Chimera",
		}, []string{"SimQ-NAS", "RETURNN"}},
		// "Neural network" is a generic subject: not required literally.
		{page, "explaining neural network decisions", "", []string{
			"Interpreting Black-box Machine Learning Models", "An Attribution Method for Siamese Encoders",
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.interest, func(t *testing.T) {
			picks := tt.ix.Select(tt.ix.Compile(Profile{Interests: []string{tt.interest}}), 10)
			rank := func(prefix string) int {
				for i, p := range picks {
					if strings.HasPrefix(p.Paper.Title, prefix) {
						return i
					}
				}
				return -1
			}
			for i, p := range picks {
				t.Logf("%2d %.3f %s %q", i+1, p.Relevance, p.Paper.Title, p.Matched)
			}
			if tt.top != "" {
				if r := rank(tt.top); r < 0 || r > 2 {
					t.Errorf("%q at rank %d, want among the first 3", tt.top, r+1)
				}
			}
			for _, w := range tt.want {
				if rank(w) < 0 {
					t.Errorf("%q not picked", w)
				}
			}
			for _, n := range tt.not {
				if r := rank(n); r >= 0 {
					t.Errorf("%q picked at rank %d: it covers only one concept of %q", n, r+1, tt.interest)
				}
			}
		})
	}
}

// TestLexiconParts checks the "=" lines of the lexicon: a phrase naming
// two concepts compiles into a concept each, and bad lines are errors.
func TestLexiconParts(t *testing.T) {
	lx, err := ParseLexicon("quantum widget => frobnication\nwidget speed, fast widgets = quantum widget + speedup")
	if err != nil {
		t.Fatal(err)
	}
	if got := lx.partsOf("widget speed"); len(got) != 2 || strings.Join(got[0], " ") != "quantum widget" {
		t.Errorf("parts of %q = %v, want [quantum widget] [speedup]", "widget speed", got)
	}
	merged := DefaultLexicon().Merge(lx)
	if merged.partsOf("fast widget") == nil || merged.partsOf("llm infer") == nil {
		t.Error("Merge lost declared parts")
	}
	ix := NewIndex(loadSamplePapers(t), Options{Now: sampleDate, Lexicon: merged})
	for _, tt := range []struct {
		interest string
		slots    int
	}{{"LLM inference", 2}, {"fast widgets", 2}, {"LLM", 1}, {"efficient inference", 1}} {
		if in := ix.interestFor(tt.interest); in == nil || len(in.slots) != tt.slots {
			t.Errorf("%q compiled to %v, want %d concepts", tt.interest, in, tt.slots)
		}
	}
	for _, bad := range []string{"a b = c", "a b = c + ", "a b = c + d = e", "a b = c, d + e", "= c + d"} {
		if _, err := ParseLexicon(bad); !errors.Is(err, ErrLexicon) {
			t.Errorf("ParseLexicon(%q) error %v, want ErrLexicon", bad, err)
		}
	}
}
