package selection

import (
	"math"
	"slices"
)

// Word associations learned from the indexed papers themselves: terms
// that occur in the same papers as a word far more often than chance
// (positive pointwise mutual information over papers). They are computed
// per word on first use and kept in the Index, so a run computes each at
// most once whatever the number of subscribers, and a new Index (after an
// ingest) learns from the papers that arrived. Suggestions use them; as
// a ranking expansion over a run's candidates they were measured and did
// not help (dev -0.004, held-out -0.012 nDCG@10), so ranking does not.
const (
	assocMinPapers = 40  // fewer indexed papers than this teach nothing reliable
	assocMinCo     = 2   // least papers a word and an association share
	assocMaxShare  = 0.2 // associations in more papers than this share are too common
	assocTerms     = 4   // associations kept per word
	assocMinPMI    = 1.0 // least PMI (natural log) of a kept association
)

// assocList is a word's associations, best first.
type assocList []int32

// associations returns the terms most associated with term id in the
// indexed papers.
func (ix *Index) associations(id int32) assocList {
	if id < 0 || len(ix.papers) < assocMinPapers {
		return nil
	}
	if v, ok := ix.assoc.Load(id); ok {
		return v.(assocList)
	}
	n := float64(len(ix.papers))
	co := map[uint32]int{}
	docs := ix.post[id]
	for _, p := range docs {
		di := &ix.docs[p.doc]
		toks := ix.toks[di.tokOff : di.tokOff+uint32(di.fEnd[numFields-1])]
		seen := map[uint32]bool{}
		for _, t := range toks {
			if t.term == uint32(id) || seen[t.term] {
				continue
			}
			seen[t.term] = true
			co[t.term]++
		}
	}
	type cand struct {
		term  uint32
		score float64
	}
	var cands []cand
	dw := float64(len(docs))
	for term, c := range co {
		dv := float64(len(ix.post[term]))
		st := ix.stems[term]
		if c < assocMinCo || dv > assocMaxShare*n || genericWords[st] || noiseStems[st] {
			continue
		}
		pmi := math.Log(float64(c) * n / (dw * dv))
		if pmi < assocMinPMI {
			continue
		}
		// Favour terms that come with the word consistently, not once.
		cands = append(cands, cand{term, pmi * float64(c) / dw})
	}
	slices.SortFunc(cands, func(a, b cand) int {
		switch {
		case a.score > b.score:
			return -1
		case a.score < b.score:
			return 1
		}
		return int(a.term) - int(b.term)
	})
	out := make(assocList, 0, assocTerms)
	for _, c := range cands[:min(len(cands), assocTerms)] {
		out = append(out, int32(c.term))
	}
	v, _ := ix.assoc.LoadOrStore(id, out)
	return v.(assocList)
}
