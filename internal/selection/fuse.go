package selection

import (
	"cmp"
	"slices"
)

// Fusion of the concept ranking with plain BM25F over the reader's own
// words (see fuse).
const (
	fuseK        = 5    // reciprocal-rank constant: how flat the fused ranks are
	fuseLexW     = 0.3  // weight of the BM25F ranking against the concept ranking
	fuseCov      = 0.3  // least idf-weighted share of the reader's words a BM25F paper must have
	fuseNeed     = 0.99 // least concept share of the best match for BM25F to add papers
	fuseDocShare = 0.6  // least concept share of a paper BM25F adds
	fuseDepth    = 30   // papers of each ranking fused
	// fuseGap is how far above the floor the last fused paper stays.
	fuseGap = 0.01
)

// lexScores is plain BM25F over the reader's words: per paper the sum of
// idf times saturated field-weighted frequency of each distinct word, and
// the idf-weighted share of the words it has. Words no paper has count
// towards the share with the idf of an unseen word; generic research
// words ("model", "learning") weigh genericWeight.
func (ix *Index) lexScores(words []string) (score, cov []float32) {
	n := len(ix.papers)
	score, cov = make([]float32, n), make([]float32, n)
	var total float32
	for i, w := range words {
		if slices.Contains(words[:i], w) {
			continue
		}
		id := ix.termID(w)
		wi := idf(0, n)
		if id >= 0 {
			wi = ix.idf[id]
		}
		if genericWords[w] {
			wi *= genericWeight
		}
		total += wi
		if id < 0 {
			continue
		}
		for _, p := range ix.post[id] {
			score[p.doc] += wi * sat(p.wtf)
			cov[p.doc] += wi
		}
	}
	if total > 0 {
		for d := range cov {
			cov[d] /= total
		}
	}
	return score, cov
}

// ranked returns the papers with v[d] > 0 and v[d] >= least, best first
// (ties by position), at most k.
func ranked(v []float32, least float32, k int) []uint32 {
	var out []uint32
	for d, x := range v {
		if x >= least && x > 0 {
			out = append(out, uint32(d))
		}
	}
	slices.SortStableFunc(out, func(a, b uint32) int { return cmp.Compare(v[b], v[a]) })
	return out[:min(len(out), k)]
}

// fuse merges, for an interest some papers match, the concept ranking
// rels with plain BM25F over the reader's own words by reciprocal rank,
// so a literal interest keeps BM25F's good hits and the concepts'
// findings rank among them. A BM25F paper needs fuseCov of the words'
// weight; one the concepts left below the floor joins the interest's
// papers only when the best match covers every concept of the interest
// and it covers fuseDocShare of them (shares, by doc): otherwise BM25F
// would bring papers on the part the matches have only ("medical" for
// "medical report generation"), and it only reorders. The concept
// ranking's relevances are handed out in the fused order, papers beyond
// them stepping down to just above the floor; the others keep theirs.
func (ix *Index) fuse(words []string, rels, shares []float32) {
	if len(words) == 0 {
		return
	}
	own := ranked(rels, ix.floor, fuseDepth)
	if len(own) == 0 {
		return
	}
	score, cov := ix.lexScores(words)
	for d := range score {
		if cov[d] < fuseCov || (rels[d] < ix.floor && (shares[own[0]] < fuseNeed || shares[d] < fuseDocShare)) {
			score[d] = 0
		}
	}
	lex := ranked(score, 0, fuseDepth)
	fused := make([]float32, len(rels))
	for r, d := range own {
		fused[d] += 1 / (fuseK + float32(r+1))
	}
	for r, d := range lex {
		fused[d] += fuseLexW / (fuseK + float32(r+1))
	}
	order := ranked(fused, 0, len(own)+len(lex))
	// The concept ranking's relevances, best first, go to the fused
	// order; papers beyond them step down to just above the floor.
	vals := make([]float32, len(order))
	for i, d := range own {
		vals[i] = rels[d]
	}
	last := rels[own[len(own)-1]]
	for i := len(own); i < len(order); i++ {
		step := float32(i-len(own)+1) / float32(len(order)-len(own)+1)
		vals[i] = last - max(0, last-ix.floor-fuseGap)*step
	}
	for i, d := range order {
		rels[d] = vals[i]
	}
}
