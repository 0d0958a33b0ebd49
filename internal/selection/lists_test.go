package selection

import (
	"slices"
	"testing"

	"github.com/papermail/papermail/internal/model"
)

func TestListItems(t *testing.T) {
	tests := []struct {
		text string
		want []string
	}{
		{"Deep Learning has revolutionized the fields of computer vision, natural language understanding, speech recognition, information retrieval and more.",
			[]string{"computer vision", "natural language understanding", "speech recognition", "information retrieval"}},
		{"Our experiments on web search, news recommendation, and open domain question answering show that it works.",
			[]string{"web search", "news recommendation", "open domain question answering"}},
		{"We evaluate on downstream tasks: semantic segmentation, object detection and instance segmentation, and classification.",
			[]string{"semantic segmentation", "object detection and instance segmentation", "classification"}},
		// A clause, not a list: the segments start with "we" and "which".
		{"In this paper, we propose a network, which segments roads, and show it is fast.", nil},
		// Two items need a third.
		{"It is fast, accurate and small.", nil},
		{"No commas here.", nil},
	}
	for _, tt := range tests {
		var got []string
		for _, s := range listItems(tt.text) {
			got = append(got, tt.text[s.start:s.end])
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("listItems(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
}

// TestListMentionsCountLess checks that a topic named in an enumeration
// counts less than the same mention in a sentence of its own.
func TestListMentionsCountLess(t *testing.T) {
	papers := []model.Paper{
		{ID: "list", Title: "A toolkit for sequence models", Abstract: "Deep learning has changed the fields of computer vision, speech recognition, information retrieval and more. We present a toolkit for training sequence models quickly."},
		{ID: "plain", Title: "Another toolkit for sequence models", Abstract: "Deep learning has changed computer vision. We present a toolkit for speech recognition that trains sequence models quickly."},
		{ID: "about", Title: "Speech recognition with sequence models", Abstract: "We improve speech recognition with better sequence models."},
	}
	ix := NewIndex(papers, Options{Now: fixtureNow})
	rel := map[string]float64{}
	for _, p := range ix.Select(ix.Compile(Profile{Interests: []string{"speech recognition"}}), 3) {
		rel[p.Paper.ID] = p.Relevance
	}
	if !(rel["about"] > rel["plain"] && rel["plain"] > rel["list"]) {
		t.Errorf("relevance about %.3f, plain %.3f, list %.3f: want about > plain > list", rel["about"], rel["plain"], rel["list"])
	}
}
