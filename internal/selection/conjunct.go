package selection

import (
	"regexp"
	"slices"
)

// conjunction separates the terms of an interest such as "sparse
// autoencoders and circuit analysis" or "NeRF or Gaussian splatting".
var conjunction = regexp.MustCompile(`(?i)\s+(?:and|or|&|and/or)\s+`)

// maxConjunctWords is the most content words a term joined by "and" may
// have: longer parts are a description's clauses, not terms.
const maxConjunctWords = 4

// conjuncts returns the compiled terms of an interest that joins research
// terms with "and" or "or", or nil. A reader who lists two terms wants
// papers on either, not only papers on both. Every part must be a term of
// at most maxConjunctWords content words with a research concept
// (neither an everyday word nor a generic one): "hallucination detection
// and mitigation" stays one interest, "mitigation" alone being no topic.
func (ix *Index) conjuncts(text string) []*interest {
	if !ix.wordLevel {
		return nil
	}
	raw := conjunction.Split(text, -1)
	if len(raw) < 2 {
		return nil
	}
	var parts []*interest
	for _, r := range raw {
		ws, _ := queryStems(r)
		if ws, _ = dropKeyOnly(ws); len(ws) == 0 || len(ws) > maxConjunctWords {
			return nil
		}
		in := ix.interestFor(r)
		if in == nil || !slices.ContainsFunc(in.slots, func(s slot) bool { return !s.plain && !s.generic() }) {
			return nil
		}
		parts = append(parts, in)
	}
	return parts
}

// conjunctShare is the share of a paper's relevance to the other terms of
// an "a and b" interest added to its best one.
const conjunctShare = 0.5

// mergeAlternatives makes of the whole interest and its terms one
// interest whose papers are those of any term: a paper's relevance is
// its best term's, softly raised by the others' and never below its
// relevance to the whole.
func mergeAlternatives(whole *interest, parts []*interest) *interest {
	best := map[uint32]float32{}
	others := map[uint32]float32{} // sum of the terms' relevances but the best
	for _, p := range parts {
		for _, h := range p.hits {
			b := best[h.doc]
			others[h.doc] += min(b, h.v)
			best[h.doc] = max(b, h.v)
		}
	}
	out := &interest{words: whole.words, slots: slices.Clone(whole.slots)}
	for _, p := range parts {
		out.slots = append(out.slots, p.slots...)
	}
	for _, h := range whole.hits {
		best[h.doc] = max(best[h.doc], h.v)
	}
	for d, b := range best {
		out.hits = append(out.hits, docVal{doc: d, v: min(1, soften(b, others[d], conjunctShare))})
	}
	slices.SortFunc(out.hits, func(a, b docVal) int { return int(a.doc) - int(b.doc) })
	return out
}
