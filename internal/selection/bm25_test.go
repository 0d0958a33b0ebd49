package selection

import (
	"math"
	"sort"

	"github.com/papermail/papermail/internal/model"
)

// bm25 is the baseline the evaluations compare against: Okapi BM25 over
// title and abstract as one field, lower-cased words, stop words dropped,
// Snowball stems, k1 = 1.2, b = 0.75, as a plain search engine ranks.
type bm25 struct {
	papers []model.Paper
	tf     []map[string]int
	length []int
	df     map[string]int
	avg    float64
}

func newBM25(papers []model.Paper) *bm25 {
	b := &bm25{papers: papers, df: map[string]int{}}
	total := 0
	for _, p := range papers {
		tf := map[string]int{}
		n := 0
		for _, w := range bm25Terms(p.Title + " " + p.Abstract) {
			tf[w]++
			n++
		}
		for w := range tf {
			b.df[w]++
		}
		b.tf = append(b.tf, tf)
		b.length = append(b.length, n)
		total += n
	}
	if len(papers) > 0 {
		b.avg = float64(total) / float64(len(papers))
	}
	return b
}

func bm25Terms(s string) []string {
	var out []string
	forEachWord(s, func(lower []byte, _, _ int) {
		w := string(lower)
		if stopWords[w] {
			return
		}
		out = append(out, stem(w))
	})
	return out
}

// search returns up to k papers with a positive score, best first.
func (b *bm25) search(query string, k int) []*model.Paper {
	const k1, bb = 1.2, 0.75
	terms := bm25Terms(query)
	type hit struct {
		i int
		s float64
	}
	var hits []hit
	n := float64(len(b.papers))
	for i, tf := range b.tf {
		var s float64
		for _, t := range terms {
			f := float64(tf[t])
			if f == 0 {
				continue
			}
			df := float64(b.df[t])
			idf := math.Log(1 + (n-df+0.5)/(df+0.5))
			s += idf * f * (k1 + 1) / (f + k1*(1-bb+bb*float64(b.length[i])/b.avg))
		}
		if s > 0 {
			hits = append(hits, hit{i, s})
		}
	}
	sort.SliceStable(hits, func(x, y int) bool { return hits[x].s > hits[y].s })
	var out []*model.Paper
	for _, h := range hits {
		if len(out) == k {
			break
		}
		out = append(out, &b.papers[h.i])
	}
	return out
}
