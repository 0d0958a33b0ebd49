package selection

import (
	"math"
	"slices"
	"testing"

	"github.com/papermail/papermail/internal/model"
)

// fuseIndex indexes four papers about a made-up topic: two name it whole,
// one has one of its words, one neither.
func fuseIndex(t *testing.T) *Index {
	t.Helper()
	papers := []model.Paper{
		{ID: "a", Title: "Glider calibration for sensor arrays", Abstract: "We calibrate gliders with a new gliding schedule."},
		{ID: "b", Title: "Field notes on ocean sensors", Abstract: "A study of gliders: gliders need calibration before each dive."},
		{ID: "c", Title: "Gliders at depth", Abstract: "Long missions of underwater gliders in cold water."},
		{ID: "d", Title: "Compilers for tensor programs", Abstract: "Scheduling loops for accelerators."},
	}
	return NewIndex(papers, Options{Now: fixtureNow})
}

func TestLexScores(t *testing.T) {
	ix := fuseIndex(t)
	words, _ := queryStems("gliders calibration")
	score, cov := ix.lexScores(words)
	if cov[0] != 1 || cov[1] != 1 {
		t.Errorf("papers with both words cover %.2f and %.2f, want 1", cov[0], cov[1])
	}
	if cov[2] <= 0 || cov[2] >= 1 {
		t.Errorf("paper with one word covers %.2f, want between 0 and 1", cov[2])
	}
	if score[3] != 0 || cov[3] != 0 {
		t.Errorf("unrelated paper scored %.2f (cover %.2f), want 0", score[3], cov[3])
	}
	if !(score[0] > score[2] && score[1] > score[2]) {
		t.Errorf("scores %v: both words must beat one", score)
	}
	if got := ranked(score, 0, 2); !slices.Equal(got, []uint32{0, 1}) && !slices.Equal(got, []uint32{1, 0}) {
		t.Errorf("ranked top 2 = %v, want papers 0 and 1", got)
	}
}

func TestFuse(t *testing.T) {
	ix := fuseIndex(t)
	words, _ := queryStems("gliders calibration")
	tests := []struct {
		name   string
		share  float32 // concept share of the best concept match, paper 0
		shareB float32 // concept share of paper 1, which only BM25F finds
		addedB bool    // paper 1 joins the interest's papers
	}{
		{"best match has every concept", 1, 1, true},
		{"best match lacks a concept", 0.5, 1, false},
		{"BM25F paper lacks a concept", 1, 0.5, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rels := []float32{0.8, 0.05, 0, 0}
			shares := []float32{tt.share, tt.shareB, 0, 0}
			ix.fuse(words, rels, shares)
			if math.Abs(float64(rels[0])-0.8) > 1e-4 {
				t.Errorf("best concept match got %.3f, want its 0.8 kept", rels[0])
			}
			if got := rels[1] >= ix.floor; got != tt.addedB {
				t.Errorf("paper found by BM25F only: relevance %.3f, above the floor %v, want %v", rels[1], got, tt.addedB)
			}
			if tt.addedB && rels[1] >= rels[0] {
				t.Errorf("BM25F-only paper %.3f ranks above the concept match %.3f", rels[1], rels[0])
			}
			if rels[3] != 0 {
				t.Errorf("unrelated paper got %.3f", rels[3])
			}
		})
	}
	t.Run("nothing matched", func(t *testing.T) {
		rels := []float32{0.1, 0.05, 0, 0}
		ix.fuse(words, rels, []float32{1, 1, 0, 0})
		if !slices.Equal(rels, []float32{0.1, 0.05, 0, 0}) {
			t.Errorf("an interest no paper matches was changed: %v", rels)
		}
	})
}
