package selection

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/papermail/papermail/internal/model"
)

// runNow is "now" for runPapers.
var runNow = time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)

// runPapers are a run's candidates for many readers: the shared page
// twice over (the second copy with other ids and titles), with trending
// signals, dates over two days, authors (the page names none) and
// categories on two papers in three.
func runPapers(t testing.TB) []model.Paper {
	t.Helper()
	page := loadPage(t, runNow.Add(-6*time.Hour))
	cats := [][]string{{"cs.CL"}, {"cs.CV", "cs.LG"}, nil}
	names := []string{"Ada Lovelace", "Alan Turing", "Grace Hopper", "Edsger W. Dijkstra", "Barbara Liskov",
		"Yann LeCun", "Fei-Fei Li", "Geoffrey Hinton", "Daphne Koller", "Judea Pearl", "Yoshua Bengio"}
	var out []model.Paper
	for copyNo := range 2 {
		for i, p := range page {
			if copyNo == 1 {
				p.ID = fmt.Sprintf("copy-%03d", i)
				p.Title += " (extended version)"
			}
			p.Upvotes = (i * 37) % 120
			p.Comments = (i * 11) % 9
			p.Published = runNow.Add(-time.Duration(i%48) * time.Hour)
			p.Categories = cats[(i+copyNo)%3]
			if len(p.Authors) == 0 {
				p.Authors = []string{names[i%len(names)], names[(i*7+copyNo)%len(names)]}
			}
			out = append(out, p)
		}
	}
	// One paper from two feeds: picked once.
	dup := out[3]
	dup.ID = "dup-of-3"
	return append(out, dup)
}

// readerInterests is the shared pool readers draw interests from: the
// dev and held-out sets' interests as readers wrote them, and their
// keyword phrases.
func readerInterests(t testing.TB) []string {
	t.Helper()
	var pool []string
	seen := map[string]bool{}
	add := func(s string) {
		if k := strings.ToLower(s); !seen[k] {
			seen[k] = true
			pool = append(pool, s)
		}
	}
	for _, p := range append(loadDev(t), loadHeldout(t)...) {
		for _, s := range ParseInterests(p.Interest) {
			add(s)
		}
		for _, s := range p.Keywords {
			add(s)
		}
	}
	return pool
}

// reader is one synthetic subscriber: a profile and a digest size.
type reader struct {
	prof  Profile
	limit int
}

// syntheticReaders makes n readers over papers: one to four interests
// each from pool (the first ones far more often, as readers share popular
// topics) and papers sent before for about a third. Unless shared is
// set, some interests are the reader's own (a pool interest with a word
// of a title added, or one written with other case and spacing) and
// fewer readers have liked and disliked papers, examples, followed
// authors, categories (boost or filter), a library, or no interests at
// all.
func syntheticReaders(papers []model.Paper, pool []string, n int, seed uint64, shared bool) []reader {
	r := rand.New(rand.NewPCG(seed, seed+1))
	paper := func() *model.Paper { return &papers[r.IntN(len(papers))] }
	fromPool := func() string {
		f := r.Float64()
		return pool[int(f*f*float64(len(pool)))]
	}
	out := make([]reader, n)
	for i := range out {
		var p Profile
		if shared || r.IntN(50) != 0 {
			for k := 1 + r.IntN(4); len(p.Interests) < k; {
				s := fromPool()
				if shared {
					if !slices.Contains(p.Interests, s) {
						p.Interests = append(p.Interests, s)
					}
					continue
				}
				switch r.IntN(10) {
				case 0:
					words := strings.Fields(paper().Title)
					s += " " + words[r.IntN(len(words))]
				case 1:
					s = "  " + strings.ToUpper(s[:1]) + strings.ReplaceAll(s[1:], " ", "  ")
				}
				p.Interests = append(p.Interests, s)
			}
		}
		if r.IntN(3) == 0 {
			sent := map[string]bool{}
			for range 20 + r.IntN(100) {
				sent[paper().ID] = true
			}
			p.Exclude = func(id string) bool { return sent[id] }
		}
		if shared {
			out[i] = reader{p, 8}
			continue
		}
		if r.IntN(8) == 0 {
			for range 1 + r.IntN(3) {
				p.Liked = append(p.Liked, paper().ID)
			}
			for range r.IntN(3) {
				p.Disliked = append(p.Disliked, paper().ID)
			}
		}
		if r.IntN(15) == 0 {
			switch pp := paper(); r.IntN(4) {
			case 0:
				p.Examples = append(p.Examples, pp.ID)
			case 1:
				p.Examples = append(p.Examples, pp.Title)
			case 2:
				p.Examples = append(p.Examples, "https://arxiv.org/abs/"+pp.ID+"v2")
			default:
				p.Examples = append(p.Examples, "Learning to rank the papers nobody indexed")
			}
		}
		if r.IntN(15) == 0 || len(p.Interests) == 0 {
			if as := paper().Authors; len(as) > 0 {
				p.Authors = append(p.Authors, as[r.IntN(len(as))])
			}
		}
		if r.IntN(12) == 0 {
			p.Categories = []string{[]string{"cs.CL", "cs.CV", "cs.LG", "math.OC"}[r.IntN(4)]}
			p.CategoryFilter = r.IntN(2) == 0
		}
		if r.IntN(40) == 0 {
			for range 2 + r.IntN(6) {
				pp := paper()
				e := LibraryEntry{Label: pp.Title, Text: pp.Title + "\n" + pp.Abstract}
				if r.IntN(2) == 0 {
					e.ID = pp.ID
				}
				p.Library = append(p.Library, e)
			}
		}
		limit := 8
		if r.IntN(10) == 0 {
			limit = []int{1, 3, 20, 50}[r.IntN(4)]
		}
		out[i] = reader{p, limit}
	}
	return out
}

// pickLine describes a pick with every field Select sets, floats exact.
func pickLine(k int, pk Pick) string {
	return fmt.Sprintf("%d %s score=%v rel=%v trend=%v interest=%q matched=%q fallback=%v followed=%q like=%q",
		k, pk.Paper.ID, pk.Score, pk.Relevance, pk.Trending, pk.Interest, pk.Matched, pk.Fallback, pk.Followed, pk.Like)
}

// BenchmarkSelectReaders is a run's selection for 10,000 readers of
// syntheticReaders over runPapers, as the bench's (one to four shared
// interests, sent papers): per reader, Compile and Select, as
// digest.Runner.choose does. The index (and so its compiled interests)
// is new every 10,000 readers, as a run's is, so each interest's first
// compilation is in the figure, shared by its readers; run with
// -benchtime=10000x for exactly one run.
func BenchmarkSelectReaders(b *testing.B) {
	const nReaders = 10000
	papers := runPapers(b)
	readers := syntheticReaders(papers, readerInterests(b), nReaders, 7, true)
	var ix *Index
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		if n%nReaders == 0 {
			b.StopTimer()
			ix = NewIndex(papers, Options{Now: runNow})
			b.StartTimer()
		}
		rd := &readers[n%nReaders]
		ix.Select(ix.Compile(rd.prof), rd.limit)
		n++
	}
}

// selectPlain is Select without the run's rankings: every paper the
// query's parts match scored, in index order, and the matched words
// found afresh for every pick. It is the per-reader selection as it was
// before rankings were shared, kept as the reference Select must equal.
func selectPlain(ix *Index, q *Query, limit int) []Pick {
	if len(q.parts) == 0 && !q.hasReader() {
		return nil
	}
	n := len(ix.papers)
	mark := make([]bool, n)
	best, sum, delta := make([]float32, n), make([]float32, n), make([]float32, n)
	arg := make([]int32, n)
	var touched []uint32
	for pi := range q.parts {
		pt := &q.parts[pi]
		for _, h := range pt.in.hits {
			v, d := h.v*pt.weight, h.doc
			if !mark[d] {
				mark[d] = true
				best[d], sum[d], arg[d] = v, v, int32(pi)
				touched = append(touched, d)
				continue
			}
			sum[d] += v
			if v > best[d] {
				best[d], arg[d] = v, int32(pi)
			}
		}
	}
	q.readerSeed(func(d uint32) {
		if !mark[d] {
			mark[d] = true
			arg[d] = -1
			touched = append(touched, d)
		}
	})
	for _, a := range q.adj {
		if mark[a.doc] {
			delta[a.doc] = a.v
		}
	}
	slices.Sort(touched)
	var top []cand
	for _, d := range touched {
		rel := min(1, max(0, soften(best[d], sum[d]-best[d], otherShare)+delta[d]))
		rel, ok := ix.readerRel(q, d, rel)
		if !ok || rel < ix.floor || ix.dup[d] || slices.Contains(q.skip, d) ||
			(q.profile.Exclude != nil && q.profile.Exclude(ix.papers[d].ID)) {
			continue
		}
		top = append(top, cand{doc: d, score: rel * (relShare + trendShare*ix.trend[d]), rel: rel})
	}
	slices.SortFunc(top, func(a, b cand) int {
		if better(a.score, a.doc, b) {
			return -1
		}
		return 1
	})
	top = top[:min(len(top), limit)]
	var picks []Pick
	for _, c := range top {
		pk := Pick{Paper: &ix.papers[c.doc], Score: float64(c.score), Relevance: float64(c.rel),
			Trending: float64(ix.trend[c.doc]), Followed: q.followed(c.doc)}
		if b := int(arg[c.doc]); b >= 0 {
			pk.Interest = q.parts[b].label
			if q.parts[b].kind == kindLibrary {
				pk.Like = q.parts[b].label
			}
			var matched []string
			add := func(hits []surfHit) {
				for _, h := range hits {
					if len(matched) < maxMatched && !slices.ContainsFunc(matched, func(o string) bool { return strings.EqualFold(o, h.text) }) {
						matched = append(matched, h.text)
					}
				}
			}
			add(ix.surfaces(nil, q.parts[b].in, c.doc))
			var rest []surfHit
			for pi := range q.parts {
				if pi != b {
					rest = ix.surfaces(rest, q.parts[pi].in, c.doc)
				}
			}
			slices.SortStableFunc(rest, bySurfWeight)
			add(rest)
			pk.Matched = matched
		}
		picks = append(picks, pk)
	}
	return picks
}

// TestSelectSharedRankings checks that readers who share interests get,
// through the run's shared rankings, exactly what each would get scored
// alone: the same picks in the same order with the same scores, matched
// words and labels, for 3,000 readers of shared and unique interests,
// sent papers, feedback, examples, followed authors, categories and
// libraries, on several goroutines as a run's workers are.
func TestSelectSharedRankings(t *testing.T) {
	papers := runPapers(t)
	ix := NewIndex(papers, Options{Now: runNow})
	readers := syntheticReaders(papers, readerInterests(t), 3000, 11, false)
	var wg sync.WaitGroup
	var (
		mu                         sync.Mutex
		fails, picked, empty, excl int
	)
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < len(readers); i += 4 {
				rd := &readers[i]
				q := ix.Compile(rd.prof)
				got := ix.Select(q, rd.limit)
				want := selectPlain(ix, q, rd.limit)
				mu.Lock()
				picked += len(got)
				if len(got) == 0 {
					empty++
				}
				if rd.prof.Exclude != nil {
					excl++
				}
				if len(got) != len(want) {
					fails++
					if fails <= 5 {
						t.Errorf("reader %d %q: %d picks, want %d", i, rd.prof.Interests, len(got), len(want))
					}
				}
				for k := range min(len(got), len(want)) {
					if g, w := pickLine(k, got[k]), pickLine(k, want[k]); g != w {
						fails++
						if fails <= 5 {
							t.Errorf("reader %d %q:\n got %s\nwant %s", i, rd.prof.Interests, g, w)
						}
					}
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	// The readers must be the kind the test is about: most get a full
	// digest, some nothing, many have papers sent before.
	if picked < 5*len(readers) || empty == 0 || excl < len(readers)/4 {
		t.Errorf("%d picks for %d readers, %d without any, %d with sent papers", picked, len(readers), empty, excl)
	}
}
