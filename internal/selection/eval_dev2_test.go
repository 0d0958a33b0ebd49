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

// tuningSet is one of the graded tuning sets over a window of Hugging
// Face daily papers, with the shape it was written to.
type tuningSet struct {
	name, file string
	// minProfiles, minParaphrase and minNomatch are the least the set
	// must hold of all profiles, paraphrased and no-match ones.
	minProfiles, minParaphrase, minNomatch int
}

// tuningSets are dev2 (2024-10-14..28), dev3 (2024-07-15..26) and dev4
// (2024-08-01..23), written to resemble a held-out fortnight whose
// paraphrased interests are in lay and metaphorical words.
var tuningSets = []tuningSet{
	{name: "dev2", file: "relevance-dev2.json", minProfiles: 30, minParaphrase: 12, minNomatch: 4},
	{name: "dev3", file: "relevance-dev3.json", minProfiles: 20, minParaphrase: 10, minNomatch: 3},
	{name: "dev4", file: "relevance-dev4.json", minProfiles: 30, minParaphrase: 16, minNomatch: 4},
}

// paraphraseStyles are the ways the tuning sets' paraphrased interests are
// worded.
var paraphraseStyles = map[string]bool{"question": true, "goal": true, "lay": true, "metaphor": true}

// loadedSet is a tuning set with the papers of its window.
type loadedSet struct {
	frozenSet
	papers []model.Paper
	// styles is the style of each paraphrased profile, by profile id.
	styles map[string]string
	// now is the morning after the window: the digest run the set
	// stands for.
	now time.Time
}

// profileStyles reads the style of each paraphrased profile of a set file,
// by profile id.
func profileStyles(t testing.TB, file string) map[string]string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", file))
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
		t.Fatalf("%s: %v", file, err)
	}
	styles := map[string]string{}
	for _, p := range set.Profiles {
		if p.Style != "" {
			styles[p.ID] = p.Style
		}
	}
	return styles
}

// load reads the set and the papers of its window and checks that the set
// has the shape it was written to: the judged window, enough profiles of
// each kind, unique ids, every judged id in the window with grade 1 or 2,
// no judgments on no-match profiles, every paraphrase with a known style.
func (s tuningSet) load(t testing.TB) loadedSet {
	t.Helper()
	set := loadHFSet(t, s.file)
	styles := profileStyles(t, s.file)
	to, err := time.Parse("2006-01-02", set.Window.To)
	if err != nil {
		t.Fatalf("%s: window end: %v", s.file, err)
	}
	papers := loadHFWindow(t, set.Corpus, set.Window.From, set.Window.To)
	if len(papers) != set.Papers {
		t.Fatalf("%s: window %s..%s has %d papers, the judgments were made over %d", s.file, set.Window.From, set.Window.To, len(papers), set.Papers)
	}
	ids := map[string]bool{}
	for _, p := range papers {
		ids[p.ID] = true
	}
	kinds := map[string]int{}
	seen := map[string]bool{}
	for _, p := range set.Profiles {
		if seen[p.ID] {
			t.Errorf("%s: profile id %s appears twice", s.file, p.ID)
		}
		seen[p.ID] = true
		kinds[p.Kind]++
		switch p.Kind {
		case "literal", "paraphrase":
			if p.Kind == "paraphrase" && !paraphraseStyles[styles[p.ID]] {
				t.Errorf("%s: paraphrase %s has style %q, want question, goal, lay or metaphor", s.file, p.ID, styles[p.ID])
			}
			if len(p.Relevant) == 0 {
				t.Errorf("%s: profile %s (%s) judges no paper relevant", s.file, p.ID, p.Kind)
			}
		case "nomatch":
			if len(p.Relevant) != 0 {
				t.Errorf("%s: no-match profile %s judges %d papers relevant", s.file, p.ID, len(p.Relevant))
			}
		default:
			t.Errorf("%s: profile %s has unknown kind %q", s.file, p.ID, p.Kind)
		}
		for id, g := range p.Relevant {
			if !ids[id] {
				t.Errorf("%s: profile %s judges %s, which is not in the window", s.file, p.ID, id)
			}
			if g < 1 || g > 2 {
				t.Errorf("%s: profile %s grades %s %d, want 1 or 2", s.file, p.ID, id, g)
			}
		}
	}
	if len(set.Profiles) < s.minProfiles || kinds["paraphrase"] < s.minParaphrase || kinds["nomatch"] < s.minNomatch {
		t.Fatalf("%s has %d profiles (%v), want >= %d with >= %d paraphrased and >= %d no-match",
			s.file, len(set.Profiles), kinds, s.minProfiles, s.minParaphrase, s.minNomatch)
	}
	return loadedSet{frozenSet: set, papers: papers, styles: styles, now: to.AddDate(0, 0, 1).Add(8 * time.Hour)}
}

// metaphors returns the set's paraphrased profiles worded as metaphors.
func (s loadedSet) metaphors() []devProfile {
	var out []devProfile
	for _, p := range s.Profiles {
		if s.styles[p.ID] == "metaphor" {
			out = append(out, p)
		}
	}
	return out
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

// reportTuningSet logs nDCG@10 of the ranking and of BM25 on a tuning
// set, with the metaphorical paraphrases (the hardest wording, sharing
// almost no words with the papers) on their own, the no-match average of
// returned papers and how many real topics return nothing.
func reportTuningSet(t *testing.T, ts tuningSet) {
	t.Helper()
	set := ts.load(t)
	text := func(p devProfile) string { return p.Interest }
	pmRank := papermailRanker(NewIndex(set.papers, Options{Now: set.now}))
	bmRank := bm25Ranker(set.papers)
	var pm, base, pmMeta, bmMeta evalResult
	var pmEmpty, bmEmpty, real int
	t.Run("papermail", func(t *testing.T) {
		pm = runEvalWith(t, pmRank, byID, set.Profiles, text)
		pmEmpty, real = emptyTopics(t, pmRank, set.Profiles)
		pmMeta = runEvalWith(t, pmRank, byID, set.metaphors(), text)
	})
	t.Run("bm25", func(t *testing.T) {
		base = runEvalWith(t, bmRank, byID, set.Profiles, text)
		bmEmpty, _ = emptyTopics(t, bmRank, set.Profiles)
		bmMeta = runEvalWith(t, bmRank, byID, set.metaphors(), text)
	})
	t.Logf("%s (%s..%s, %d papers, %d profiles): papermail overall %.3f literal %.3f paraphrase %.3f (metaphor %.3f) no-match %.2f, %d of %d real topics empty | BM25 overall %.3f literal %.3f paraphrase %.3f (metaphor %.3f) no-match %.2f, %d empty",
		ts.name, set.Window.From, set.Window.To, len(set.papers), len(set.Profiles),
		pm.overall, pm.literal, pm.paraphrase, pmMeta.paraphrase, pm.nomatch, pmEmpty, real,
		base.overall, base.literal, base.paraphrase, bmMeta.paraphrase, base.nomatch, bmEmpty)
}

// TestRelevanceDev2 reports papermail and BM25 on the dev2 tuning set
// (2024-10-14..28): interests in a field's terms and in a curious
// non-specialist's words over a fortnight that is not the frozen set's.
// It is a report: it checks only the set's shape and that both rankings
// run.
func TestRelevanceDev2(t *testing.T) { reportTuningSet(t, tuningSets[0]) }

// TestRelevanceDev3 reports papermail and BM25 on the smaller dev3 tuning
// set (2024-07-15..26), a report like TestRelevanceDev2.
func TestRelevanceDev3(t *testing.T) { reportTuningSet(t, tuningSets[1]) }

// TestRelevanceDev4 reports papermail and BM25 on the dev4 tuning set
// (2024-08-01..23), whose paraphrases lean to metaphor and lay words, a
// report like TestRelevanceDev2.
func TestRelevanceDev4(t *testing.T) { reportTuningSet(t, tuningSets[2]) }
