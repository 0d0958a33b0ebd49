package selection

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/papermail/papermail/internal/model"
)

// loadHFSet reads a graded set over a window of Hugging Face daily papers
// (testdata/relevance-frozen.json and the tuning sets shaped like it).
func loadHFSet(t testing.TB, file string) frozenSet {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	var set frozenSet
	if err := json.Unmarshal(raw, &set); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return set
}

// dev2Now is the morning after the dev2 window (2024-10-14..28): the
// digest run the set stands for.
var dev2Now = time.Date(2024, 10, 29, 8, 0, 0, 0, time.UTC)

// paraphraseStyles are the ways dev2's paraphrased interests are worded.
var paraphraseStyles = map[string]bool{"question": true, "goal": true, "lay": true, "metaphor": true}

// dev2Styles reads the style of each paraphrased profile of
// relevance-dev2.json, by profile id.
func dev2Styles(t testing.TB) map[string]string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "relevance-dev2.json"))
	if err != nil {
		t.Fatal(err)
	}
	var set struct {
		Profiles []struct {
			ID    string `json:"id"`
			Style string `json:"style"`
		} `json:"profiles"`
	}
	if err := json.Unmarshal(raw, &set); err != nil {
		t.Fatalf("relevance-dev2.json: %v", err)
	}
	styles := map[string]string{}
	for _, p := range set.Profiles {
		if p.Style != "" {
			styles[p.ID] = p.Style
		}
	}
	return styles
}

// loadDev2 reads testdata/relevance-dev2.json and the papers of its
// window, and checks that the set has the shape it was written to: the
// judged window, >= 30 profiles with >= 12 paraphrased and >= 4 no-match,
// every judged id in the window, no-match profiles with no judgments,
// every paraphrase with a known style.
func loadDev2(t testing.TB) (frozenSet, []model.Paper) {
	t.Helper()
	set := loadHFSet(t, "relevance-dev2.json")
	styles := dev2Styles(t)
	papers := loadHFWindow(t, set.Corpus, set.Window.From, set.Window.To)
	if len(papers) != set.Papers {
		t.Fatalf("window %s..%s has %d papers, the judgments were made over %d", set.Window.From, set.Window.To, len(papers), set.Papers)
	}
	ids := map[string]bool{}
	for _, p := range papers {
		ids[p.ID] = true
	}
	kinds := map[string]int{}
	seen := map[string]bool{}
	for _, p := range set.Profiles {
		if seen[p.ID] {
			t.Errorf("profile id %s appears twice", p.ID)
		}
		seen[p.ID] = true
		kinds[p.Kind]++
		switch p.Kind {
		case "literal", "paraphrase":
			if p.Kind == "paraphrase" && !paraphraseStyles[styles[p.ID]] {
				t.Errorf("paraphrase %s has style %q, want question, goal, lay or metaphor", p.ID, styles[p.ID])
			}
			if len(p.Relevant) == 0 {
				t.Errorf("profile %s (%s) judges no paper relevant", p.ID, p.Kind)
			}
		case "nomatch":
			if len(p.Relevant) != 0 {
				t.Errorf("no-match profile %s judges %d papers relevant", p.ID, len(p.Relevant))
			}
		default:
			t.Errorf("profile %s has unknown kind %q", p.ID, p.Kind)
		}
		for id, g := range p.Relevant {
			if !ids[id] {
				t.Errorf("profile %s judges %s, which is not in the window", p.ID, id)
			}
			if g < 1 || g > 2 {
				t.Errorf("profile %s grades %s %d, want 1 or 2", p.ID, id, g)
			}
		}
	}
	if len(set.Profiles) < 30 || kinds["paraphrase"] < 12 || kinds["nomatch"] < 4 {
		t.Fatalf("dev2 set has %d profiles (%v), want >= 30 with >= 12 paraphrased and >= 4 no-match", len(set.Profiles), kinds)
	}
	return set, papers
}

// emptyTopics counts the profiles with relevant papers for which rank
// returns nothing: a reader with a real interest who gets no mail.
func emptyTopics(t *testing.T, rank ranker, profiles []devProfile) (empty, real int) {
	t.Helper()
	for _, p := range profiles {
		if p.Kind == "nomatch" {
			continue
		}
		real++
		if len(rank(p.Interest)) == 0 {
			empty++
			t.Logf("%s (%s) returns nothing: %s", p.ID, p.Kind, p.Interest)
		}
	}
	return empty, real
}

// TestRelevanceDev2 reports nDCG@10 of the ranking and of BM25 on the
// dev2 tuning set: interests in a field's terms and in a curious
// non-specialist's words over a fortnight of Hugging Face papers that is
// not the frozen set's, with the metaphorical paraphrases (the hardest
// wording, sharing almost no words with the papers) on their own. It is
// a report: it checks only the set's shape and that both rankings run.
func TestRelevanceDev2(t *testing.T) {
	set, papers := loadDev2(t)
	styles := dev2Styles(t)
	var metaphors []devProfile
	for _, p := range set.Profiles {
		if styles[p.ID] == "metaphor" {
			metaphors = append(metaphors, p)
		}
	}
	text := func(p devProfile) string { return p.Interest }
	pmRank := papermailRanker(NewIndex(papers, Options{Now: dev2Now}))
	bmRank := bm25Ranker(papers)
	var pm, base, pmMeta, bmMeta evalResult
	var pmEmpty, bmEmpty, real int
	t.Run("papermail", func(t *testing.T) {
		pm = runEvalWith(t, pmRank, byID, set.Profiles, text)
		pmEmpty, real = emptyTopics(t, pmRank, set.Profiles)
		pmMeta = runEvalWith(t, pmRank, byID, metaphors, text)
	})
	t.Run("bm25", func(t *testing.T) {
		base = runEvalWith(t, bmRank, byID, set.Profiles, text)
		bmEmpty, _ = emptyTopics(t, bmRank, set.Profiles)
		bmMeta = runEvalWith(t, bmRank, byID, metaphors, text)
	})
	t.Logf("dev2 (%s..%s, %d papers, %d profiles): papermail overall %.3f literal %.3f paraphrase %.3f (metaphor %.3f) no-match %.2f, %d of %d real topics empty | BM25 overall %.3f literal %.3f paraphrase %.3f (metaphor %.3f) no-match %.2f, %d empty",
		set.Window.From, set.Window.To, len(papers), len(set.Profiles),
		pm.overall, pm.literal, pm.paraphrase, pmMeta.paraphrase, pm.nomatch, pmEmpty, real,
		base.overall, base.literal, base.paraphrase, bmMeta.paraphrase, base.nomatch, bmEmpty)
}
