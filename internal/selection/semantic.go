package selection

import (
	"math"
	"strings"
)

// Semantic holds embedding vectors from an optional provider, blended with
// the lexical relevance. Vectors are computed before the index is built
// (internal/embeddings); nothing here calls the network.
type Semantic struct {
	// Papers are paper vectors by paper id; papers without one are ranked
	// lexically only.
	Papers map[string][]float32
	// Interests are interest vectors by SemanticKey of the interest text;
	// interests without one are ranked lexically only.
	Interests map[string][]float32
	// Weight is the share of relevance embedding similarity may add, in
	// (0, 1].
	Weight float64
}

// SemanticKey is the key of an interest text in Semantic.Interests: its
// words, lower-cased, single-spaced.
func SemanticKey(text string) string {
	return strings.ToLower(strings.Join(strings.Fields(text), " "))
}

// How similarity becomes relevance: papers are compared with the other
// candidates for the same interest (cosine similarities differ by model),
// so a paper counts from semZLow standard deviations above the mean
// similarity and fully at semZHigh; a paper without lexical evidence needs
// semZAlone to be picked on similarity alone.
const (
	semZLow   = 1.0
	semZHigh  = 3.0
	semZAlone = 3.0
)

// semanticVectors are the normalized paper vectors of an index.
type semanticVectors struct {
	docs      [][]float32 // by doc, nil without a vector
	interests map[string][]float32
	weight    float32
}

func newSemanticVectors(s *Semantic, ix *Index) *semanticVectors {
	if s == nil || len(s.Papers) == 0 || len(s.Interests) == 0 || s.Weight <= 0 {
		return nil
	}
	sv := &semanticVectors{docs: make([][]float32, len(ix.papers)), interests: s.Interests, weight: float32(min(1, s.Weight))}
	n := 0
	for d := range ix.papers {
		if v := normalize(s.Papers[ix.papers[d].ID]); v != nil {
			sv.docs[d] = v
			n++
		}
	}
	if n < 3 {
		return nil
	}
	return sv
}

// blend adds to in's hits the embedding similarity of interest text.
func (sv *semanticVectors) blend(in *interest, text string) {
	q := normalize(sv.interests[SemanticKey(text)])
	if q == nil {
		return
	}
	sims := make([]float32, len(sv.docs))
	var sum, sq float64
	n := 0
	for d, v := range sv.docs {
		if v == nil || len(v) != len(q) {
			sims[d] = float32(math.NaN())
			continue
		}
		var dot float32
		for i := range v {
			dot += v[i] * q[i]
		}
		sims[d] = dot
		sum += float64(dot)
		sq += float64(dot) * float64(dot)
		n++
	}
	if n < 3 {
		return
	}
	mean := sum / float64(n)
	std := math.Sqrt(max(sq/float64(n)-mean*mean, 1e-12))
	lex := make(map[uint32]float32, len(in.hits))
	for _, h := range in.hits {
		lex[h.doc] = h.v
	}
	var out []docVal
	for d, s := range sims {
		if math.IsNaN(float64(s)) {
			if v, ok := lex[uint32(d)]; ok {
				out = append(out, docVal{doc: uint32(d), v: v})
			}
			continue
		}
		z := (float64(s) - mean) / std
		sem := float32(min(1, max(0, (z-semZLow)/(semZHigh-semZLow))))
		v, had := lex[uint32(d)]
		switch {
		case had && v >= minHit:
			v += sv.weight * sem * (1 - v)
		case z >= semZAlone:
			v = max(v, sv.weight*sem)
		}
		if v >= minHit {
			out = append(out, docVal{doc: uint32(d), v: v})
		}
	}
	in.hits = out
}

// normalize returns v scaled to unit length, nil for nil or zero vectors.
func normalize(v []float32) []float32 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	if s == 0 || math.IsNaN(s) || math.IsInf(s, 0) {
		return nil
	}
	n := float32(1 / math.Sqrt(s))
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = x * n
	}
	return out
}
