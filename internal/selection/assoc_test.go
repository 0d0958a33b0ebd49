package selection

import (
	"fmt"
	"slices"
	"testing"

	"github.com/papermail/papermail/internal/model"
)

// TestAssociates checks the terms learned for an everyday word from the
// papers that use it: what those papers share and the others rarely have.
func TestAssociates(t *testing.T) {
	papers := []model.Paper{
		{ID: "d1", Title: "Quadruped Locomotion on Rough Terrain", Abstract: "A robot dog learns to walk over rubble; the quadruped policy transfers to hardware."},
		{ID: "d2", Title: "Agile Quadruped Skills", Abstract: "Our quadruped, a commercial robot dog, jumps across gaps."},
		{ID: "q1", Title: "Sim-to-Real Quadruped Control", Abstract: "Reinforcement learning for a quadruped with domain randomization."},
	}
	for i, topic := range []string{"speech recognition", "protein folding", "object detection", "machine translation",
		"graph coloring", "weather forecasting", "image segmentation", "music generation", "question answering",
		"code generation", "text summarization", "depth estimation", "speaker verification", "anomaly detection",
		"topic modeling", "face recognition", "optical flow", "pose estimation", "image captioning", "dense retrieval"} {
		papers = append(papers, model.Paper{ID: fmt.Sprintf("f%02d", i), Title: "Advances in " + topic, Abstract: "A robot-free study of " + topic + "."})
	}
	ix := NewIndex(papers, Options{Now: fixtureNow})
	if got := ix.associates("dog"); !slices.Contains(got, "quadrup") {
		t.Errorf("associates of dog = %v, want quadruped among them", got)
	}
	if got := ix.associates("studi"); got != nil {
		t.Errorf("associates of a word most papers use = %v, want none", got)
	}
	if got := ix.associates("zebra"); got != nil {
		t.Errorf("associates of a word no paper uses = %v, want none", got)
	}
}
