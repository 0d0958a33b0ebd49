package selection

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/papermail/papermail/internal/model"
)

// fixtureNow is "now" for the testdata papers (all are from the two days
// before).
var fixtureNow = time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)

func loadFixture(t testing.TB) []model.Paper {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "papers.json"))
	if err != nil {
		t.Fatal(err)
	}
	var papers []model.Paper
	if err := json.Unmarshal(raw, &papers); err != nil {
		t.Fatalf("testdata/papers.json: %v", err)
	}
	return papers
}

func fixtureIndex(t testing.TB) *Index {
	t.Helper()
	return NewIndex(loadFixture(t), Options{Now: fixtureNow})
}

// ids returns the paper ids of picks in order.
func ids(picks []Pick) []string {
	out := make([]string, len(picks))
	for i, p := range picks {
		out[i] = p.Paper.ID
	}
	return out
}

func selectFor(ix *Index, p Profile, limit int) []Pick {
	return ix.Select(ix.Compile(p), limit)
}

func TestSelectRanksInterests(t *testing.T) {
	ix := fixtureIndex(t)
	tests := []struct {
		interest string
		first    string   // expected best paper
		also     []string // must be among the picks
		not      []string // must not be picked
	}{
		{"semantic segmentation", "2501.00001", []string{"2501.00002"}, []string{"2501.00007"}},
		{"GNN", "2501.00004", nil, nil},
		{"graph neural networks", "2501.00004", nil, []string{"2501.00001"}},
		{"MoE", "2501.00010", nil, nil},
		{"making LLMs decode faster", "2501.00003", []string{"2501.00015"}, []string{"2501.00002"}},
		{"explanations of classifier predictions", "2501.00008", nil, nil},
		{"pixels that made a classifier decide", "2501.00008", nil, nil},
		{"learning without labels", "2501.00012", nil, nil},
		{"model compression", "", []string{"2501.00006", "2501.00013"}, nil},
		{"NMT", "2501.00009", nil, nil},
		{"dense retrieval", "2501.00011", nil, nil},
		{"mechanistic interpretability", "2501.00005", nil, []string{"2501.00007"}},
	}
	for _, tt := range tests {
		t.Run(tt.interest, func(t *testing.T) {
			picks := selectFor(ix, Profile{Interests: []string{tt.interest}}, 5)
			got := ids(picks)
			if len(picks) == 0 {
				t.Fatalf("no picks")
			}
			if tt.first != "" && got[0] != tt.first {
				t.Errorf("first pick %s (%s), want %s; all %v", got[0], picks[0].Paper.Title, tt.first, got)
			}
			for _, id := range tt.also {
				if !slices.Contains(got, id) {
					t.Errorf("%s not picked: %v", id, got)
				}
			}
			for _, id := range tt.not {
				if slices.Contains(got, id) {
					t.Errorf("%s picked: %v", id, got)
				}
			}
			for i, p := range picks {
				if p.Interest != tt.interest {
					t.Errorf("pick %d interest %q, want %q", i, p.Interest, tt.interest)
				}
				if p.Relevance < DefaultFloor || p.Relevance > 1 || p.Score <= 0 || p.Fallback {
					t.Errorf("pick %d: relevance %.3f score %.3f fallback %v", i, p.Relevance, p.Score, p.Fallback)
				}
				if i > 0 && p.Score > picks[i-1].Score {
					t.Errorf("picks not ordered by score: %.3f after %.3f", p.Score, picks[i-1].Score)
				}
			}
		})
	}
}

func TestSelectFloorDropsUnrelated(t *testing.T) {
	ix := fixtureIndex(t)
	for _, in := range []string{"protein structure prediction", "drug discovery", "quantum error correction", "weather forecasting", "the of and"} {
		if picks := selectFor(ix, Profile{Interests: []string{in}}, 8); len(picks) != 0 {
			t.Errorf("%q picked %v", in, ids(picks))
		}
	}
	// One common word does not make a match: "neural" is in many papers.
	for _, p := range selectFor(ix, Profile{Interests: []string{"neural protein folding"}}, 8) {
		t.Errorf("neural protein folding picked %s", p.Paper.Title)
	}
}

func TestSelectMatchedSurfaces(t *testing.T) {
	ix := fixtureIndex(t)
	picks := selectFor(ix, Profile{Interests: []string{"semantic segmentation"}}, 1)
	if len(picks) != 1 {
		t.Fatalf("got %d picks", len(picks))
	}
	m := picks[0].Matched
	if len(m) == 0 || m[0] != "Semantic Segmentation" {
		t.Errorf("matched %q, want the title's surface form first", m)
	}
	seen := map[string]bool{}
	for _, s := range m {
		k := strings.ToLower(s)
		if seen[k] {
			t.Errorf("matched has duplicate %q: %q", s, m)
		}
		seen[k] = true
	}
	// An abbreviation matches its expansion and shows what the paper says.
	picks = selectFor(ix, Profile{Interests: []string{"GNN"}}, 1)
	if len(picks) != 1 || !slices.ContainsFunc(picks[0].Matched, func(s string) bool { return strings.EqualFold(s, "graph neural networks") }) {
		t.Errorf("GNN pick matched %v", picks)
	}
}

func TestSelectSenseOfWords(t *testing.T) {
	ix := fixtureIndex(t)
	// "circuits" of interpretability are not the probabilistic circuits of
	// a compression paper.
	picks := selectFor(ix, Profile{Interests: []string{"circuit analysis"}}, 5)
	got := ids(picks)
	if len(got) == 0 || got[0] != "2501.00005" {
		t.Errorf("circuit analysis picked %v, want the sparse autoencoder paper first", got)
	}
	if i := slices.Index(got, "2501.00007"); i == 0 {
		t.Errorf("probabilistic circuits ranked first: %v", got)
	}
}

func TestSelectLimitExcludeDuplicates(t *testing.T) {
	ix := fixtureIndex(t)
	p := Profile{Interests: []string{"semantic segmentation", "speculative decoding", "quantization"}}
	all := selectFor(ix, p, 20)
	if len(all) < 4 {
		t.Fatalf("got %d picks", len(all))
	}
	if slices.Contains(ids(all), "t:3f2a9c") {
		t.Errorf("duplicate title picked: %v", ids(all))
	}
	if got := selectFor(ix, p, 2); !slices.Equal(ids(got), ids(all[:2])) {
		t.Errorf("limit 2 gave %v, want %v", ids(got), ids(all[:2]))
	}
	if got := selectFor(ix, p, 0); got != nil {
		t.Errorf("limit 0 gave %v", ids(got))
	}
	sent := map[string]bool{all[0].Paper.ID: true}
	p.Exclude = func(id string) bool { return sent[id] }
	got := selectFor(ix, p, 20)
	if slices.Contains(ids(got), all[0].Paper.ID) || len(got) != len(all)-1 {
		t.Errorf("exclude: got %v from %v", ids(got), ids(all))
	}
	if ix.Select(nil, 5) != nil {
		t.Error("nil query picked papers")
	}
	if got := selectFor(ix, Profile{}, 5); got != nil {
		t.Errorf("empty profile picked %v", ids(got))
	}
}

func TestFeedbackDirection(t *testing.T) {
	ix := fixtureIndex(t)
	base := Profile{Interests: []string{"large language models"}}
	rank := func(p Profile, id string) (int, float64) {
		for i, pk := range selectFor(ix, p, 20) {
			if pk.Paper.ID == id {
				return i, pk.Relevance
			}
		}
		return -1, 0
	}
	// Liking the KV cache paper lifts the speculative decoding paper,
	// which shares its terms (latency, cache, decoding).
	_, before := rank(base, "2501.00003")
	liked := base
	liked.Liked = []string{"2501.00015"}
	_, after := rank(liked, "2501.00003")
	if before == 0 || after <= before {
		t.Errorf("liking a similar paper: relevance %.3f -> %.3f, want higher", before, after)
	}
	// Disliking it lowers similar papers and drops the disliked one.
	disliked := base
	disliked.Disliked = []string{"2501.00015"}
	if i, _ := rank(disliked, "2501.00015"); i >= 0 {
		t.Errorf("disliked paper still picked at %d", i)
	}
	_, down := rank(disliked, "2501.00003")
	if down >= before {
		t.Errorf("disliking a similar paper: relevance %.3f -> %.3f, want lower", before, down)
	}
	// Unrelated papers are not moved by it.
	_, pr := rank(base, "2501.00013")
	_, pr2 := rank(liked, "2501.00013")
	if math.Abs(pr-pr2) > 0.1 {
		t.Errorf("pruning paper moved %.3f -> %.3f", pr, pr2)
	}
}

func TestExamples(t *testing.T) {
	ix := fixtureIndex(t)
	for _, ex := range []string{"2501.00003", "arXiv:2501.00003v2", "https://arxiv.org/abs/2501.00003", "draft early, verify often: speculative decoding for large language models"} {
		t.Run(ex, func(t *testing.T) {
			q := ix.Compile(Profile{Examples: []string{ex}})
			picks := ix.Select(q, 5)
			if len(picks) == 0 {
				t.Fatalf("example found nothing (parts %v)", q.Interests())
			}
			if slices.Contains(ids(picks), "2501.00003") {
				t.Errorf("the example itself was picked")
			}
			if picks[0].Paper.ID != "2501.00015" {
				t.Errorf("closest to the example: %v", ids(picks))
			}
			if picks[0].Interest != "Draft Early, Verify Often: Speculative Decoding for Large Language Models" {
				t.Errorf("interest %q", picks[0].Interest)
			}
		})
	}
	// An unknown title is used as interest text; an unknown id is ignored.
	q := ix.Compile(Profile{Examples: []string{"Attribution maps explain image classifiers", "2409.99999"}})
	if got := q.Interests(); !slices.Equal(got, []string{"Attribution maps explain image classifiers"}) {
		t.Errorf("parts %q", got)
	}
	if picks := ix.Select(q, 1); len(picks) != 1 || picks[0].Paper.ID != "2501.00008" {
		t.Errorf("unknown example title picked %v", ids(picks))
	}
}

func TestQueryFromAnotherIndex(t *testing.T) {
	a, b := fixtureIndex(t), NewIndex(loadFixture(t)[:5], Options{Now: fixtureNow})
	q := a.Compile(Profile{Interests: []string{"semantic segmentation"}})
	picks := b.Select(q, 5)
	if len(picks) == 0 || picks[0].Paper.ID != "2501.00001" {
		t.Fatalf("got %v", ids(picks))
	}
	for _, p := range picks {
		if p.Paper != b.Paper(p.Paper.ID) {
			t.Errorf("pick %s does not point into the selecting index", p.Paper.ID)
		}
	}
}

func TestTrendingScore(t *testing.T) {
	now := fixtureNow
	p := func(up, comments int, age time.Duration) *model.Paper {
		return &model.Paper{Upvotes: up, Comments: comments, TrendingAt: now.Add(-age)}
	}
	ts := func(x *model.Paper) float64 { return TrendingScore(x, now, 0) }
	if a, b := ts(p(10, 0, time.Hour)), ts(p(10, 0, 48*time.Hour)); a <= b {
		t.Errorf("older paper not lower: %.3f vs %.3f", a, b)
	}
	if a, b := ts(p(50, 5, 2*time.Hour)), ts(p(5, 0, 2*time.Hour)); a <= b {
		t.Errorf("more votes not higher: %.3f vs %.3f", a, b)
	}
	if s := ts(p(0, 0, time.Hour)); s < 0.2 || s > 0.35 {
		t.Errorf("no-signal fresh paper scored %.3f, want a neutral value", s)
	}
	if s := ts(&model.Paper{}); s <= 0 {
		t.Errorf("undated paper scored %.3f", s)
	}
	if s := ts(p(1_000_000, 1_000_000, -time.Hour)); s > 1 || s < 0.99 {
		t.Errorf("huge signal from the future scored %.3f, want about 1", s)
	}
	if s := ts(p(-5, -5, time.Hour)); s < 0 || s > 1 {
		t.Errorf("negative counts scored %.3f", s)
	}
	half := TrendingScore(p(10, 0, 36*time.Hour), now, 36*time.Hour) / TrendingScore(p(10, 0, 0), now, 36*time.Hour)
	if math.Abs(half-0.5) > 1e-9 {
		t.Errorf("score after one half-life is %.3f of a fresh one", half)
	}
	if TrendingScore(nil, now, 0) != 0 {
		t.Error("nil paper scored")
	}
}

func TestTrendingFallbackAndBlend(t *testing.T) {
	papers := []model.Paper{
		{ID: "a", Title: "Speculative decoding with a draft model", Abstract: "Speculative decoding speeds up generation.", Published: fixtureNow.Add(-2 * time.Hour)},
		{ID: "b", Title: "Speculative decoding with draft models", Abstract: "Speculative decoding speeds up generation.", Published: fixtureNow.Add(-2 * time.Hour), Upvotes: 80, Comments: 10},
		{ID: "c", Title: "Graph neural networks", Abstract: "Message passing.", Published: fixtureNow.Add(-time.Hour), Upvotes: 30},
		{ID: "d", Title: "Old news about pruning", Abstract: "Pruning.", Published: fixtureNow.Add(-20 * 24 * time.Hour), Upvotes: 500},
	}
	ix := NewIndex(papers, Options{Now: fixtureNow})
	// Equally relevant papers: the trending one comes first.
	picks := selectFor(ix, Profile{Interests: []string{"speculative decoding"}}, 2)
	if got := ids(picks); !slices.Equal(got, []string{"b", "a"}) {
		t.Errorf("blend order %v, want [b a]", got)
	}
	tr := ix.Trending(3, func(id string) bool { return id == "c" })
	if got := ids(tr); !slices.Equal(got, []string{"b", "a", "d"}) {
		t.Errorf("trending %v, want [b a d]", got)
	}
	for i, p := range tr {
		if !p.Fallback || p.Trending != p.Score || p.Relevance != 0 {
			t.Errorf("trending pick %d: %+v", i, p)
		}
	}
	if ix.Trending(0, nil) != nil {
		t.Error("Trending(0) returned picks")
	}
}

func TestConcurrentSelect(t *testing.T) {
	date := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	ix := NewIndex(loadPage(t, date), Options{Now: date})
	profiles := []Profile{
		{Interests: []string{"semantic segmentation", "depth estimation"}},
		{Interests: []string{"making LLMs decode faster"}},
		{Interests: []string{"mixture of experts", "dense retrieval", "pruning"}},
		{Interests: []string{"explaining neural network decisions"}, Liked: []string{"page-010"}},
	}
	want := make([][]string, len(profiles))
	for i, p := range profiles {
		want[i] = ids(NewIndex(loadPage(t, date), Options{Now: date}).Select(ix.Compile(p), 8))
	}
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range 50 {
				i := (g + r) % len(profiles)
				// Compile concurrently too: the interest cache is shared.
				if got := ids(ix.Select(ix.Compile(profiles[i]), 8)); !slices.Equal(got, want[i]) {
					errs <- fmt.Sprintf("profile %d: got %v, want %v", i, got, want[i])
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func FuzzSelect(f *testing.F) {
	for _, s := range []string{"semantic segmentation", "why did the model predict this", "without without", "LLM; GNN, MoE", "İ ß ŉ", "a b c d e f g h i j k l", "photos of words in order", "text-to-speech; U-Net; GRUs, k-means"} {
		f.Add(s, "2501.00003")
	}
	papers := loadFixture(f)
	ix := NewIndex(papers, Options{Now: fixtureNow})
	f.Fuzz(func(t *testing.T, interests, liked string) {
		q := ix.Compile(Profile{Interests: ParseInterests(interests), Liked: []string{liked}, Disliked: []string{liked + "x"}, Examples: []string{interests}})
		picks := ix.Select(q, 4)
		if len(picks) > 4 {
			t.Fatalf("%d picks", len(picks))
		}
		for i, p := range picks {
			if p.Relevance < DefaultFloor-1e-6 || p.Relevance > 1 || p.Score > p.Relevance || p.Paper == nil || len(p.Matched) > maxMatched {
				t.Fatalf("bad pick %d: %+v", i, p)
			}
			if i > 0 && p.Score > picks[i-1].Score {
				t.Fatalf("unordered picks")
			}
		}
	})
}

// TestInterestCacheBounded compiles more distinct interests than the cache
// keeps: memory stays bounded, an interest in use stays compiled, and an
// evicted one compiles again to the same picks.
func TestInterestCacheBounded(t *testing.T) {
	ix := fixtureIndex(t)
	shared := Profile{Interests: []string{"graph neural networks"}}
	first := selectFor(ix, shared, 5)
	if len(first) == 0 {
		t.Fatal("the shared interest picks nothing")
	}
	in := ix.interestFor("graph neural networks")
	evicted := Profile{Interests: []string{"graph neural networks 0"}}
	before := ids(selectFor(ix, evicted, 5))
	for i := range 3 * cacheMax {
		selectFor(ix, Profile{Interests: []string{fmt.Sprintf("graph neural networks %d", i)}}, 5)
		if i%100 == 0 && ix.interestFor("graph neural networks") != in {
			t.Fatalf("after %d other interests the shared one was compiled again", i)
		}
	}
	for _, c := range []*interestCache{&ix.texts, &ix.cache} {
		if n := len(c.cur) + len(c.prev); n > 2*cacheMax {
			t.Errorf("cache holds %d compiled interests, want at most %d", n, 2*cacheMax)
		}
	}
	if got := ids(selectFor(ix, evicted, 5)); !slices.Equal(got, before) {
		t.Errorf("picks of an evicted interest compiled again %v, want %v", got, before)
	}
	if got := ids(selectFor(ix, shared, 5)); !slices.Equal(got, ids(first)) {
		t.Errorf("picks of the shared interest %v, want %v", got, ids(first))
	}
}
