package selection

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/papermail/papermail/internal/model"
)

// Blend of relevance and trending: score = rel * (relShare + trendShare*trend).
const (
	relShare   = 0.8
	trendShare = 0.2
)

// maxMatched is the most words and phrases a Pick lists as matched.
const maxMatched = 8

// Trending signal shape.
const (
	neutralTrend = 0.3   // popularity of a paper with no upvotes or comments
	popularRef   = 200.0 // signal (upvotes + 2*comments) that counts as fully popular
	undatedAge   = 4     // half-lives assumed for a paper without any date
)

// Pick is one paper chosen for a subscriber.
type Pick struct {
	Paper *model.Paper
	// Score is the blended score the picks are ordered by.
	Score float64
	// Relevance is the normalized relevance to the profile, 0..1.
	Relevance float64
	// Trending is the paper's trending score, 0..1.
	Trending float64
	// Interest is the interest (as the reader wrote it) that matched best;
	// for an example paper it is that paper's title.
	Interest string
	// Matched are the words and phrases that matched, as they appear in
	// the paper, best first, without duplicates.
	Matched []string
	// Fallback marks a paper chosen only because it is trending.
	Fallback bool
	// Followed is the followed author (as the reader wrote the name) the
	// paper is by, or "".
	Followed string
	// Like is the title of the reader's library paper this one is most
	// like, when that was the best match, or "".
	Like string
}

// TrendingScore rates how much a paper is trending at now, in [0, 1]:
// popularity from upvotes, comments and clicks on a log scale, where a
// paper without any signal counts as neutral rather than unpopular, times
// an age decay that halves every halfLife after Paper.Date().
func TrendingScore(p *model.Paper, now time.Time, halfLife time.Duration) float64 {
	if p == nil {
		return 0
	}
	if halfLife <= 0 {
		halfLife = DefaultHalfLife
	}
	age := float64(undatedAge)
	if d := p.Date(); !d.IsZero() {
		age = max(0, now.Sub(d).Hours()/halfLife.Hours())
	}
	signal := max(0, float64(p.Upvotes)) + 2*max(0, float64(p.Comments)) + 0.25*max(0, float64(p.Clicks))
	pop := min(1, math.Log1p(signal)/math.Log1p(popularRef))
	return math.Exp2(-age) * (neutralTrend + (1-neutralTrend)*pop)
}

// scratch is per-call working memory of Select, pooled per index.
type scratch struct {
	mark    []uint32 // stamp of the call that touched a paper
	seen    []uint32 // stamp of the call that ranked a paper
	stamp   uint32
	best    []float32
	sum     []float32
	arg     []int32
	delta   []float32
	touched []uint32
	top     []cand
}

type cand struct {
	doc   uint32
	score float32
	rel   float32
}

func newScratch(n int) *scratch {
	return &scratch{
		mark:  make([]uint32, n),
		seen:  make([]uint32, n),
		best:  make([]float32, n),
		sum:   make([]float32, n),
		arg:   make([]int32, n),
		delta: make([]float32, n),
	}
}

// boundSlack widens the cheap upper bound of a paper's score (bound) past
// float32 rounding, so the bound never prunes a paper its exact score
// would pick.
const boundSlack = 1 + 1.0/(1<<16)

// Select returns up to limit papers for q, best first: papers whose
// relevance reaches the floor, not excluded, not disliked, ranked by
// relevance blended with trending. q must come from this index's Compile;
// a query compiled by another index is recompiled.
//
// It merges the ranked lists of q's parts (ranking): their relevances
// are gathered per paper in part order, then papers are ranked best first
// down the lists until limit are picked, and of the other papers only
// those whose score bound could still beat the last pick are scored.
func (ix *Index) Select(q *Query, limit int) []Pick {
	if q == nil || limit <= 0 || len(ix.papers) == 0 {
		return nil
	}
	if q.ix != ix {
		q = ix.Compile(q.profile)
	}
	if len(q.parts) == 0 && !q.hasReader() {
		return nil
	}
	sc := ix.scratch.Get().(*scratch)
	defer ix.scratch.Put(sc)
	sc.stamp++
	if sc.stamp == 0 {
		clear(sc.mark)
		clear(sc.seen)
		sc.stamp = 1
	}
	stamp := sc.stamp
	sc.touched = sc.touched[:0]
	for pi := range q.parts {
		pt := &q.parts[pi]
		for _, h := range pt.in.hits {
			v, d := h.v*pt.weight, h.doc
			if sc.mark[d] != stamp {
				sc.mark[d] = stamp
				sc.best[d], sc.sum[d], sc.arg[d], sc.delta[d] = v, v, int32(pi), 0
				sc.touched = append(sc.touched, d)
				continue
			}
			sc.sum[d] += v
			if v > sc.best[d] {
				sc.best[d], sc.arg[d] = v, int32(pi)
			}
		}
	}
	q.readerSeed(func(d uint32) {
		if sc.mark[d] != stamp {
			sc.mark[d] = stamp
			sc.best[d], sc.sum[d], sc.arg[d], sc.delta[d] = 0, 0, -1, 0
			sc.touched = append(sc.touched, d)
		}
	})
	for _, a := range q.adj {
		if sc.mark[a.doc] == stamp {
			sc.delta[a.doc] = a.v
		}
	}
	top := sc.top[:0]
	// consider scores paper d and puts it among the top when it makes the
	// cut.
	consider := func(d uint32) {
		rel := soften(sc.best[d], sc.sum[d]-sc.best[d], otherShare) + sc.delta[d]
		rel = min(1, max(0, rel))
		rel, ok := ix.readerRel(q, d, rel)
		if !ok || rel < ix.floor || ix.dup[d] {
			return
		}
		score := rel * (relShare + trendShare*ix.trend[d])
		if len(top) == limit && !better(score, d, top[len(top)-1]) {
			return
		}
		if _, skip := slices.BinarySearch(q.skip, d); skip {
			return
		}
		if q.profile.Exclude != nil && q.profile.Exclude(ix.papers[d].ID) {
			return
		}
		i := len(top)
		for i > 0 && better(score, d, top[i-1]) {
			i--
		}
		if len(top) < limit {
			top = append(top, cand{})
		}
		copy(top[i+1:], top[i:len(top)-1])
		top[i] = cand{doc: d, score: score, rel: rel}
	}
	// The parts' best papers first, a rank of every list at a time, until
	// limit are picked: a full top early makes the bound below prune most
	// of the rest.
	for depth, more := 0, true; more && len(top) < limit; depth++ {
		more = false
		for pi := range q.parts {
			in := q.parts[pi].in
			rk := in.ranking()
			if depth >= len(rk.order) {
				continue
			}
			more = true
			if d := in.hits[rk.order[depth]].doc; sc.seen[d] != stamp {
				sc.seen[d] = stamp
				consider(d)
			}
		}
	}
	for _, d := range sc.touched {
		if sc.seen[d] == stamp {
			continue
		}
		if len(top) == limit && ix.bound(q, sc, d) < top[len(top)-1].score {
			continue
		}
		consider(d)
	}
	sc.top = top
	if len(top) == 0 {
		return nil
	}
	picks := make([]Pick, len(top))
	for i, c := range top {
		best := int(sc.arg[c.doc])
		picks[i] = Pick{
			Paper:     &ix.papers[c.doc],
			Score:     float64(c.score),
			Relevance: float64(c.rel),
			Trending:  float64(ix.trend[c.doc]),
			Followed:  q.followed(c.doc),
		}
		if best >= 0 {
			picks[i].Interest = q.parts[best].label
			picks[i].Matched = ix.matched(q, best, c.doc)
			if q.parts[best].kind == kindLibrary {
				picks[i].Like = q.parts[best].label
			}
		}
	}
	return picks
}

// bound is an upper bound of the score Select's consider gives paper d,
// without the exponential of soften (1 - e^-x <= x) and widened by
// boundSlack; a filtered paper's is 0.
func (ix *Index) bound(q *Query, sc *scratch, d uint32) float32 {
	b := sc.best[d]
	rel := min(1, max(0, b+(1-b)*otherShare*(sc.sum[d]-b)+max(0, sc.delta[d])))
	rel, ok := ix.readerRel(q, d, rel)
	if !ok {
		return 0
	}
	return rel * (relShare + trendShare*ix.trend[d]) * boundSlack
}

// better orders candidates by score, then by index position.
func better(score float32, d uint32, c cand) bool {
	return score > c.score || (score == c.score && d < c.doc)
}

// Trending returns up to limit papers by trending score, best first,
// skipping those exclude reports (exclude may be nil). Every pick has
// Fallback set.
func (ix *Index) Trending(limit int, exclude func(paperID string) bool) []Pick {
	if limit <= 0 {
		return nil
	}
	ix.trendOnce.Do(func() {
		ix.trendOrder = make([]uint32, len(ix.papers))
		for i := range ix.trendOrder {
			ix.trendOrder[i] = uint32(i)
		}
		slices.SortStableFunc(ix.trendOrder, func(a, b uint32) int { return cmp.Compare(ix.trend[b], ix.trend[a]) })
	})
	var out []Pick
	for _, d := range ix.trendOrder {
		if len(out) == limit {
			break
		}
		p := &ix.papers[d]
		if ix.dup[d] || (exclude != nil && exclude(p.ID)) {
			continue
		}
		t := float64(ix.trend[d])
		out = append(out, Pick{Paper: p, Score: t, Trending: t, Fallback: true})
	}
	return out
}

// matched lists the surface forms of what made paper d relevant to q:
// the best interest's matches first, then the others', each by
// contribution, without case-insensitive duplicates, at most maxMatched.
func (ix *Index) matched(q *Query, best int, d uint32) []string {
	out := make([]string, 0, maxMatched)
	add := func(hits []surfHit) {
		for _, h := range hits {
			if len(out) == maxMatched {
				return
			}
			if !slices.ContainsFunc(out, func(o string) bool { return strings.EqualFold(o, h.text) }) {
				out = append(out, h.text)
			}
		}
	}
	add(ix.surfacesOf(q.parts[best].in, d))
	if len(q.parts) > 1 {
		rest := make([]surfHit, 0, 4*maxMatched)
		for pi := range q.parts {
			if pi != best {
				rest = append(rest, ix.surfacesOf(q.parts[pi].in, d)...)
			}
		}
		slices.SortStableFunc(rest, bySurfWeight)
		add(rest)
	}
	return out
}

// surfacesOf returns what of interest in matched paper d (surfaces),
// read-only: found once per run and kept in the interest's ranking, as
// readers who share an interest are picked the same papers.
func (ix *Index) surfacesOf(in *interest, d uint32) []surfHit {
	if in.vector {
		return nil
	}
	rk := in.ranking()
	rk.mu.RLock()
	hits, ok := rk.surf[d]
	rk.mu.RUnlock()
	if ok {
		return hits
	}
	hits = slices.Clip(ix.surfaces(nil, in, d))
	rk.mu.Lock()
	rk.surf[d] = hits
	rk.mu.Unlock()
	return hits
}

// surfHit is a matched word or phrase as a paper writes it, with how much
// it contributed.
type surfHit struct {
	w    float32
	text string
}

func bySurfWeight(a, b surfHit) int { return cmp.Compare(b.w, a.w) }

// surfaces appends to buf what of interest in matched paper d, best
// first, without case-insensitive duplicates.
func (ix *Index) surfaces(buf []surfHit, in *interest, d uint32) []surfHit {
	if in.vector {
		return buf
	}
	hits := buf
	for _, s := range in.slots {
		for ai := range s.alts {
			a := &s.alts[ai]
			v, whole := ix.value(a, d)
			if v <= 0 {
				continue
			}
			w := s.imp * a.weight * v
			if whole {
				// A phrase of everyday words ("question answering") is a
				// term; one everyday word is not worth showing.
				if t := ix.surface(d, a.ids); t != "" && (!a.generic || len(a.ids) > 1) {
					hits = append(hits, surfHit{w, t})
				}
				continue
			}
			for i, id := range a.ids {
				// Partial matches show only their telling words.
				if id >= 0 && !genericWords[ix.stems[id]] && a.idfw[i] >= ix.idfSpecific {
					if t := ix.surface(d, []int32{id}); t != "" {
						hits = append(hits, surfHit{w / 2, t})
					}
				}
			}
		}
	}
	own := hits[len(buf):]
	slices.SortStableFunc(own, bySurfWeight)
	uniq := own[:0]
	for _, h := range own {
		if len(uniq) < 2*maxMatched && !slices.ContainsFunc(uniq, func(u surfHit) bool { return strings.EqualFold(u.text, h.text) }) {
			uniq = append(uniq, h)
		}
	}
	return hits[:len(buf)+len(uniq)]
}

// surface returns the text of the first occurrence (title first) of the
// term sequence ids in paper d, or "".
func (ix *Index) surface(d uint32, ids []int32) string {
	di := &ix.docs[d]
	var text string
	ix.phraseOcc(d, ids, func(first, last uint16) bool {
		f := di.field(first)
		a, b := ix.toks[di.tokOff+uint32(first)], ix.toks[di.tokOff+uint32(last)]
		text = di.text[f][a.start:b.end]
		return false
	})
	return text
}
