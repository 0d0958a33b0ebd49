package selection

import (
	"slices"
	"testing"

	"github.com/papermail/papermail/internal/model"
)

// rulePapers is a small corpus for the rules that keep interests from
// matching what they do not mean.
var rulePapers = []model.Paper{
	{ID: "causal-lm", Title: "Length Generalization of Causal Transformers", Abstract: "Causal language models fail on longer inputs. We study causal attention masks and position encodings."},
	{ID: "gnn", Title: "Deeper Graph Neural Networks", Abstract: "Graph neural networks aggregate over graphs. We decouple propagation to go deeper on large graphs."},
	{ID: "ocr", Title: "Handwritten Text Recognition with Attention", Abstract: "Sequence models work for speech recognition and machine translation; we apply them to handwritten text."},
	{ID: "asr", Title: "Speech to Text for Meetings", Abstract: "We turn speech into text for meeting notes, and text into summaries."},
	{ID: "dr", Title: "Pre-training Encoders for Dense Retrieval", Abstract: "Our experiments on web search, news recommendation, and open domain question answering show strong gains for dense retrieval."},
	{ID: "seg", Title: "Real-time Semantic Segmentation of Road Scenes", Abstract: "We segment road scenes quickly with a two-branch network."},
	{ID: "seg2", Title: "Boundary Losses for Image Segmentation", Abstract: "A loss for semantic segmentation that sharpens object boundaries."},
	{ID: "bench", Title: "A Backbone for Vision", Abstract: "We evaluate on image classification, object detection and semantic segmentation, and show gains."},
}

func TestInterestRules(t *testing.T) {
	ix := NewIndex(rulePapers, Options{Now: fixtureNow})
	tests := []struct {
		name, interest string
		want           []string // picked, in this order
	}{
		// "causality" is "causal" to the stemmer: that synonym would
		// match causal language models.
		{"truncated synonym", "causal inference", nil},
		// A hyphenated term is one thing: "text" and "speech" apart or in
		// another order in a paper are not text-to-speech.
		{"compound", "text-to-speech", nil},
		// No paper names traffic prediction: its related terms (graphs)
		// do not stand in for it.
		{"unnamed concept", "traffic prediction", nil},
		// Only a passing mention in a list of benchmarks: no paper is
		// about recommendation.
		{"passing mentions only", "recommender systems", nil},
		// When papers are about the concept, a passing mention in a list
		// still ranks, below them.
		{"passing mention ranks last", "semantic segmentation", []string{"seg", "seg2", "bench"}},
		{"literal", "dense retrieval", []string{"dr"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ids(selectFor(ix, Profile{Interests: []string{tt.interest}}, 5))
			if !slices.Equal(got, tt.want) {
				t.Errorf("%q picked %v, want %v", tt.interest, got, tt.want)
			}
		})
	}
}
