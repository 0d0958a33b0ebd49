package selection

import (
	"github.com/papermail/papermail/internal/feeds"
	"github.com/papermail/papermail/internal/testutil"

	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/papermail/papermail/internal/model"
)

// devProfile is one judged interest profile of relevance-dev.json.
type devProfile struct {
	ID       string         `json:"id"`
	Interest string         `json:"interest"`
	Keywords []string       `json:"keywords"`
	Kind     string         `json:"kind"`
	Relevant map[string]int `json:"relevant"`
}

// sharedData returns the path of a file in the shared data folder.
func sharedData(t testing.TB, name string) string { return testutil.SharedData(t, name) }

// loadPage ingests papers-page.txt the way `papermail ingest` does (the
// real page parser; the later of two entries with one id wins) and dates
// every paper the same, with no trending signal, as a page gives none.
func loadPage(t testing.TB, date time.Time) []model.Paper {
	t.Helper()
	f, err := os.Open(sharedData(t, "papers-page.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	parsed, err := feeds.Parse(f, feeds.FormatPage, "papers-page.txt", date)
	if err != nil {
		t.Fatal(err)
	}
	pos := map[string]int{}
	var papers []model.Paper
	for _, p := range parsed {
		p.Published = date
		if i, ok := pos[p.ID]; ok {
			papers[i] = p
			continue
		}
		pos[p.ID] = len(papers)
		papers = append(papers, p)
	}
	if len(papers) != 251 {
		t.Fatalf("page gave %d distinct papers, want 251", len(papers))
	}
	return papers
}

func loadDev(t testing.TB) []devProfile {
	t.Helper()
	raw, err := os.ReadFile(sharedData(t, "relevance-dev.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dev struct {
		Profiles []devProfile `json:"profiles"`
	}
	if err := json.Unmarshal(raw, &dev); err != nil {
		t.Fatalf("relevance-dev.json: %v", err)
	}
	if len(dev.Profiles) == 0 {
		t.Fatal("relevance-dev.json has no profiles")
	}
	return dev.Profiles
}

// ndcg computes nDCG@k of ranked titles against graded judgments, with
// gain 2^rel-1 and a log2(rank+1) discount; the ideal ranking uses all
// judged papers. A title counts once however often it is returned.
func ndcg(titles []string, rel map[string]int, k int) float64 {
	seen := map[string]bool{}
	var dcg float64
	for i, t := range titles {
		if i == k {
			break
		}
		if seen[t] {
			continue
		}
		seen[t] = true
		dcg += (math.Exp2(float64(rel[t])) - 1) / math.Log2(float64(i+2))
	}
	var grades []int
	for _, g := range rel {
		grades = append(grades, g)
	}
	sort.Sort(sort.Reverse(sort.IntSlice(grades)))
	var idcg float64
	for i, g := range grades {
		if i == k {
			break
		}
		idcg += (math.Exp2(float64(g)) - 1) / math.Log2(float64(i+2))
	}
	if idcg == 0 {
		return 0
	}
	return dcg / idcg
}

func recall(titles []string, rel map[string]int, k int) float64 {
	if len(rel) == 0 {
		return 0
	}
	found := map[string]bool{}
	for i, t := range titles {
		if i < k && rel[t] > 0 {
			found[t] = true
		}
	}
	return float64(len(found)) / float64(len(rel))
}

type evalResult struct {
	overall, literal, paraphrase, nomatch float64
}

// ranker returns the papers a ranking picks for an interest text, best
// first, at most ten.
type ranker func(text string) []*model.Paper

// papermailRanker ranks with the selection package itself.
func papermailRanker(ix *Index) ranker {
	return func(text string) []*model.Paper {
		picks := ix.Select(ix.Compile(Profile{Interests: ParseInterests(text)}), 10)
		out := make([]*model.Paper, len(picks))
		for i, pk := range picks {
			out[i] = pk.Paper
		}
		return out
	}
}

// bm25Ranker ranks with the BM25 baseline.
func bm25Ranker(papers []model.Paper) ranker {
	b := newBM25(papers)
	return func(text string) []*model.Paper { return b.search(text, 10) }
}

// byTitle and byID name papers the way a judgments file does.
func byTitle(p *model.Paper) string { return p.Title }
func byID(p *model.Paper) string    { return p.ID }

// runEval ranks every profile with the papermail ranking and logs the table.
func runEval(t *testing.T, ix *Index, profiles []devProfile, text func(devProfile) string) evalResult {
	t.Helper()
	return runEvalWith(t, papermailRanker(ix), byTitle, profiles, text)
}

// runEvalWith ranks every profile with rank, naming papers by key, and
// logs the table.
func runEvalWith(t *testing.T, rank ranker, key func(*model.Paper) string, profiles []devProfile, text func(devProfile) string) evalResult {
	t.Helper()
	sums := map[string]float64{}
	counts := map[string]int{}
	t.Logf("%-4s %-10s %6s %6s %4s  %s", "id", "kind", "nDCG", "R@10", "n", "interests")
	for _, p := range profiles {
		papers := rank(text(p))
		keys := make([]string, len(papers))
		for i, pp := range papers {
			keys[i] = key(pp)
		}
		if p.Kind == "nomatch" {
			sums["nomatch"] += float64(len(papers))
			counts["nomatch"]++
			t.Logf("%-4s %-10s %6s %6s %4d  %s", p.ID, p.Kind, "-", "-", len(papers), text(p))
			if testing.Verbose() && os.Getenv("EVAL_DETAIL") != "" {
				for _, pp := range papers {
					t.Logf("       returned %s", pp.Title)
				}
			}
			continue
		}
		n, r := ndcg(keys, p.Relevant, 10), recall(keys, p.Relevant, 10)
		sums[p.Kind] += n
		counts[p.Kind]++
		sums["overall"] += n
		counts["overall"]++
		t.Logf("%-4s %-10s %6.3f %6.3f %4d  %s", p.ID, p.Kind, n, r, len(papers), text(p))
		if testing.Verbose() && os.Getenv("EVAL_DETAIL") != "" {
			for i, pp := range papers {
				t.Logf("       [%d] %-60.60s", p.Relevant[keys[i]], pp.Title)
			}
		}
	}
	avg := func(k string) float64 {
		if counts[k] == 0 {
			return 0
		}
		return sums[k] / float64(counts[k])
	}
	res := evalResult{avg("overall"), avg("literal"), avg("paraphrase"), avg("nomatch")}
	t.Logf("nDCG@10 overall %.3f  literal %.3f  paraphrase %.3f  | no-match returned %.2f papers on average",
		res.overall, res.literal, res.paraphrase, res.nomatch)
	return res
}

// TestRelevanceDev measures ranking quality on the graded dev judgments,
// with interests given as the keyword phrases and as the interest string,
// and fails below the targets.
func TestRelevanceDev(t *testing.T) {
	date := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	papers := loadPage(t, date)
	ix := NewIndex(papers, Options{Now: date.Add(2 * time.Hour)})
	profiles := loadDev(t)
	variants := []struct {
		name string
		text func(devProfile) string
	}{
		{"keywords", func(p devProfile) string { return strings.Join(p.Keywords, "; ") }},
		{"interest", func(p devProfile) string { return p.Interest }},
	}
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			res := runEval(t, ix, profiles, v.text)
			check := func(name string, got, want float64, atLeast bool) {
				t.Helper()
				if (atLeast && got < want) || (!atLeast && got > want) {
					t.Errorf("%s = %.3f, target %s %.2f", name, got, map[bool]string{true: ">=", false: "<="}[atLeast], want)
				}
			}
			// The keyword phrases include two paraphrases the lexicon once
			// had verbatim ("why did the model predict this"); since
			// matching works on words rather than on known phrases, that
			// variant has the lower bar.
			overall, para := 0.85, 0.70
			if v.name == "keywords" {
				overall, para = 0.80, 0.50
			}
			check("nDCG@10 overall", res.overall, overall, true)
			check("nDCG@10 literal", res.literal, 0.90, true)
			check("nDCG@10 paraphrase", res.paraphrase, para, true)
			check("no-match papers returned", res.nomatch, 1, false)
		})
	}
}

// TestRelevanceOwn runs our own judgments (testdata/relevance-own.json) of
// topics and paraphrases the dev set does not have: a check that ranking
// generalizes. The bar is lower than the dev targets because the
// judgments are fewer and coarser.
func TestRelevanceOwn(t *testing.T) {
	date := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	ix := NewIndex(loadPage(t, date), Options{Now: date})
	raw, err := os.ReadFile(filepath.Join("testdata", "relevance-own.json"))
	if err != nil {
		t.Fatal(err)
	}
	var own struct {
		Profiles []devProfile `json:"profiles"`
	}
	if err := json.Unmarshal(raw, &own); err != nil {
		t.Fatalf("relevance-own.json: %v", err)
	}
	res := runEval(t, ix, own.Profiles, func(p devProfile) string { return p.Interest })
	if res.literal < 0.8 || res.paraphrase < 0.6 || res.nomatch > 1 {
		t.Errorf("own judgments: literal %.3f (want >= 0.80), paraphrase %.3f (want >= 0.60), no-match %.2f papers (want <= 1)",
			res.literal, res.paraphrase, res.nomatch)
	}
}

// TestRelevanceHeldout runs a larger set of our own judgments
// (testdata/relevance-heldout.json), written by reading the abstracts
// before the ranking was tuned on it: literal topics, plain-English
// paraphrases and interests no paper is about, as keyword phrases and as
// the interest string. It guards generality rather than the dev numbers.
func TestRelevanceHeldout(t *testing.T) {
	date := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	ix := NewIndex(loadPage(t, date), Options{Now: date})
	raw, err := os.ReadFile(filepath.Join("testdata", "relevance-heldout.json"))
	if err != nil {
		t.Fatal(err)
	}
	var set struct {
		Profiles []devProfile `json:"profiles"`
	}
	if err := json.Unmarshal(raw, &set); err != nil {
		t.Fatalf("relevance-heldout.json: %v", err)
	}
	if len(set.Profiles) < 20 {
		t.Fatalf("relevance-heldout.json has %d profiles, want at least 20", len(set.Profiles))
	}
	variants := []struct {
		name string
		text func(devProfile) string
	}{
		{"keywords", func(p devProfile) string { return strings.Join(p.Keywords, "; ") }},
		{"interest", func(p devProfile) string { return p.Interest }},
	}
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			res := runEval(t, ix, set.Profiles, v.text)
			if res.literal < 0.84 || res.paraphrase < 0.45 || res.nomatch > 1 {
				t.Errorf("held-out judgments: literal %.3f (want >= 0.84), paraphrase %.3f (want >= 0.45), no-match %.2f papers (want <= 1)",
					res.literal, res.paraphrase, res.nomatch)
			}
		})
	}
}

// noMatchTopics are research topics no paper of papers-page.txt is about
// (checked by reading the page), in the words readers use for them.
var noMatchTopics = []string{
	"protein folding", "weather forecasting", "stock price prediction", "robot grasping",
	"quantum computing", "speech synthesis", "recommender systems", "causal inference",
	"time series forecasting", "crop yield prediction", "legal judgment prediction",
	"traffic prediction", "music generation", "optimal transport", "blockchain",
	"earthquake detection", "drug discovery", "autonomous drones", "sign language translation",
	"fraud detection", "epidemic modeling", "single-cell RNA sequencing", "molecular dynamics",
	"poetry generation", "sports analytics", "wildlife monitoring", "legged robot locomotion",
	"reinforcement learning from human feedback", "chess engines", "hate speech detection",
	"fake news detection", "math word problems", "theorem proving", "3D gaussian splatting",
	"membership inference attacks", "program repair", "knowledge graphs", "lidar odometry",
	"medical report generation", "person re-identification", "human pose estimation",
	"text-to-video", "speaker verification", "machine unlearning", "jailbreaking LLMs",
	"watermarking generated text", "reward models", "Bayesian optimization", "active learning",
	"federated learning", "differential privacy", "anomaly detection in time series",
}

// TestNoMatchTopics checks the relevance floor on many interests the
// candidates have nothing about: at most a stray paper now and then.
func TestNoMatchTopics(t *testing.T) {
	date := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	ix := NewIndex(loadPage(t, date), Options{Now: date})
	total := 0
	for _, topic := range noMatchTopics {
		picks := ix.Select(ix.Compile(Profile{Interests: []string{topic}}), 10)
		total += len(picks)
		for _, p := range picks {
			t.Logf("%q picked %.3f %s %q", topic, p.Relevance, p.Paper.Title, p.Matched)
		}
		if len(picks) > 3 {
			t.Errorf("%q picked %d papers, want at most 3", topic, len(picks))
		}
	}
	if avg := float64(total) / float64(len(noMatchTopics)); avg > 0.25 {
		t.Errorf("no-match topics picked %.2f papers on average, want at most 0.25", avg)
	}
}
