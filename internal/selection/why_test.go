package selection

import (
	"fmt"
	"testing"

	"github.com/papermail/papermail/internal/model"
)

// TestWhyPrefersExplanations checks "why ..." interests: papers that
// explain rank before those that only study the thing, and when none
// explains, the papers that study it are still the answer.
func TestWhyPrefersExplanations(t *testing.T) {
	base := []model.Paper{
		{ID: "s1", Title: "Overfitting in Wide Networks: A Benchmark", Abstract: "We measure overfitting across widths."},
		{ID: "s2", Title: "Reducing Overfitting with Data Augmentation", Abstract: "Augmentation lowers overfitting on small datasets."},
	}
	explaining := []model.Paper{
		{ID: "e1", Title: "A Theory of Benign Overfitting", Abstract: "We explain overfitting through an analysis of the implicit bias; the theory explains the curves."},
		{ID: "e2", Title: "Understanding Overfitting", Abstract: "An analysis that explains when overfitting happens and why."},
	}
	filler := func() []model.Paper {
		var out []model.Paper
		for i, topic := range []string{"speech recognition", "protein folding", "object detection", "machine translation",
			"graph coloring", "weather forecasting", "robot grasping", "image segmentation", "music generation", "question answering"} {
			out = append(out, model.Paper{ID: fmt.Sprintf("f%02d", i), Title: "Advances in " + topic, Abstract: "A study of " + topic + "."})
		}
		return out
	}
	t.Run("explaining papers first", func(t *testing.T) {
		ix := NewIndex(append(append(append([]model.Paper(nil), base...), explaining...), filler()...), Options{Now: fixtureNow})
		got := ids(selectFor(ix, Profile{Interests: []string{"why do networks overfit"}}, 10))
		if len(got) < 2 || !(got[0][0] == 'e' && got[1][0] == 'e') {
			t.Errorf("picked %v, want the two explaining papers first", got)
		}
	})
	t.Run("none explains", func(t *testing.T) {
		ix := NewIndex(append(append([]model.Paper(nil), base...), filler()...), Options{Now: fixtureNow})
		rel := func(interest string) map[string]float64 {
			out := map[string]float64{}
			for _, p := range selectFor(ix, Profile{Interests: []string{interest}}, 10) {
				out[p.Paper.ID] = p.Relevance
			}
			return out
		}
		why, plain := rel("why do networks overfit"), rel("networks overfit")
		for _, id := range []string{"s1", "s2"} {
			if why[id] == 0 || why[id] < plain[id]-1e-6 {
				t.Errorf("%s: relevance %.3f asked why, %.3f without: papers that study it are the answer when none explains", id, why[id], plain[id])
			}
		}
	})
}
