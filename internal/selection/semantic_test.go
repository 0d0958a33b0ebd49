package selection

import (
	"slices"
	"testing"
)

// TestSemanticBlend checks the embedding blend: a paper far more similar
// to an interest than the other candidates is picked though no word
// matches; similarities that single nothing out pick nothing; lexical
// matches keep their order and gain; without vectors nothing changes.
func TestSemanticBlend(t *testing.T) {
	papers := loadFixture(t)
	vec := func(i int) []float32 {
		v := make([]float32, len(papers)+1)
		v[i] = 1
		return v
	}
	sem := &Semantic{Papers: map[string][]float32{}, Interests: map[string][]float32{}, Weight: 0.4}
	target := -1
	for i, p := range papers {
		sem.Papers[p.ID] = vec(i)
		if p.ID == "2501.00014" { // robot grasping
			target = i
		}
	}
	flat := make([]float32, len(papers)+1)
	for i := range flat {
		flat[i] = 1
	}
	sem.Interests[SemanticKey("Picking Up Things")] = vec(target)
	sem.Interests[SemanticKey("volcano eruptions")] = flat
	sem.Interests[SemanticKey("semantic segmentation")] = vec(0)

	plain := NewIndex(papers, Options{Now: fixtureNow})
	blended := NewIndex(papers, Options{Now: fixtureNow, Semantic: sem})
	if plain.Semantic() || !blended.Semantic() {
		t.Fatalf("Semantic() = %v, %v", plain.Semantic(), blended.Semantic())
	}
	if got := ids(selectFor(plain, Profile{Interests: []string{"picking up things"}}, 5)); len(got) != 0 {
		t.Fatalf("lexical ranking already matches: %v", got)
	}
	if got := ids(selectFor(blended, Profile{Interests: []string{"picking up things"}}, 5)); !slices.Equal(got, []string{"2501.00014"}) {
		t.Errorf("blended picks %v, want the robot grasping paper alone", got)
	}
	if got := ids(selectFor(blended, Profile{Interests: []string{"volcano eruptions"}}, 5)); len(got) != 0 {
		t.Errorf("similarities that single nothing out picked %v", got)
	}
	lex := selectFor(plain, Profile{Interests: []string{"semantic segmentation"}}, 5)
	mix := selectFor(blended, Profile{Interests: []string{"semantic segmentation"}}, 5)
	if len(lex) == 0 || len(mix) < len(lex) || mix[0].Paper.ID != "2501.00001" || mix[0].Relevance <= lex[0].Relevance {
		t.Errorf("lexical match lost or not raised: lexical %v %.3f, blended %v %.3f", ids(lex), lex[0].Relevance, ids(mix), mix[0].Relevance)
	}
}
