package selection

import (
	"slices"
	"testing"

	"github.com/papermail/papermail/internal/model"
)

// secondPassPapers is a small corpus where no paper uses a reader's
// everyday word ("wallet") for what three papers are about.
var secondPassPapers = []model.Paper{
	{ID: "lm1", Title: "Compact Language Models for Edge Devices", Abstract: "We shrink language models so they run on edge devices with little memory."},
	{ID: "lm2", Title: "Quantized Language Models On-Device", Abstract: "Four-bit language models run on-device at interactive speed."},
	{ID: "lm3", Title: "Small Language Models That Still Reason", Abstract: "A one billion parameter language model matches larger ones on reasoning."},
	{ID: "seg", Title: "Real-time Semantic Segmentation of Road Scenes", Abstract: "We segment road scenes quickly with a two-branch network."},
	{ID: "det", Title: "Anchor-free Object Detection", Abstract: "An object detector without anchor boxes that is simple and fast."},
	{ID: "asr", Title: "Streaming Speech Recognition", Abstract: "A streaming recognizer for spoken audio with low latency."},
	{ID: "gnn", Title: "Deeper Graph Neural Networks", Abstract: "Graph neural networks aggregate over graphs. We decouple propagation to go deeper."},
	{ID: "gen", Title: "Text Generation with Diffusion", Abstract: "A diffusion model generates text in parallel rather than token by token."},
}

// TestSecondPass checks the second pass for interests too few papers
// match in full: a description in everyday words whose everyday word no
// paper uses finds the papers with the rest of it, which the strict pass
// alone leaves out; a term whose subject no paper has still gets nothing.
func TestSecondPass(t *testing.T) {
	full := NewIndex(secondPassPapers, Options{Now: fixtureNow})
	strict := NewIndex(secondPassPapers, Options{Now: fixtureNow, steps: ablation{strictOnly: true}})
	tests := []struct {
		interest       string
		strict, second []string // picked, as sets
	}{
		{"running language models in a wallet", nil, []string{"lm1", "lm2", "lm3"}},
		{"poetry generation", nil, nil},
		{"speech recognition", []string{"asr"}, []string{"asr"}},
	}
	for _, tt := range tests {
		t.Run(tt.interest, func(t *testing.T) {
			for _, c := range []struct {
				name string
				ix   *Index
				want []string
			}{{"strict pass", strict, tt.strict}, {"with second pass", full, tt.second}} {
				picks := selectFor(c.ix, Profile{Interests: []string{tt.interest}}, 10)
				got := ids(picks)
				slices.Sort(got)
				if !slices.Equal(got, c.want) {
					t.Errorf("%s: %q picked %v, want %v", c.name, tt.interest, got, c.want)
				}
			}
		})
	}
}
