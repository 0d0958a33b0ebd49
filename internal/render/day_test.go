package render

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
)

// dayReaders are the digests of a realistic day, as the bench harness
// makes it: 500 candidate papers, readers with 1-4 interests from a pool
// of 200, each interest ranking its own 80 papers; up to 8 papers per
// digest, each with the words it matched of the interest it came by, so
// (paper, match) pairs recur across readers but far from all alike.
var dayReaders = sync.OnceValue(func() []*DigestView {
	const nPapers, nInterests, nReaders = 500, 200, 10000
	vocab := strings.Fields("diffusion transformer attention retrieval sparse token merging speech graph robot policy " +
		"quantization expert routing cache inference latency protein segmentation detection privacy federated " +
		"contrastive reasoning agent alignment reward video synthesis language vision multimodal benchmark")
	r := rand.New(rand.NewPCG(1, 2))
	text := func(chars int) string {
		var b strings.Builder
		for b.Len() < chars {
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(vocab[r.IntN(len(vocab))])
		}
		return b.String()
	}
	papers := make([]Paper, nPapers)
	for i := range papers {
		id := fmt.Sprintf("2612.%05d", i)
		papers[i] = Paper{ID: id, Title: Shorten(text(90), 90), Link: "https://arxiv.org/abs/" + id,
			Abstract: Shorten(text(800), 600), Authors: "Ada Lovelace, Alan Turing, Grace Hopper et al.",
			Signal: fmt.Sprintf("%d upvotes", 1+r.IntN(300)), ArxivID: id, AbsURL: "https://arxiv.org/abs/" + id,
			PDFURL: "https://arxiv.org/pdf/" + id, Category: "cs.LG", Published: "2 Dec 2026",
			CiteURL: "https://papers.example.org/cite/" + id + ".bib"}
		if i%2 == 0 {
			papers[i].TLDR = Shorten(text(200), 300)
			papers[i].CodeURL = "https://github.com/example/repo" + id
		}
	}
	highlight := func(s string, words []string) []Segment {
		var out []Segment
		last := 0
		for i, w := range strings.Fields(s) {
			_ = i
			at := strings.Index(s[last:], w) + last
			if slices.Contains(words, w) {
				if at > last {
					out = append(out, Segment{Text: s[last:at]})
				}
				out = append(out, Segment{Text: w, Match: true})
				last = at + len(w)
			}
		}
		return append(out, Segment{Text: s[last:]})
	}
	type interest struct {
		name   string
		papers []int
		words  []string
	}
	pool := make([]interest, nInterests)
	for i := range pool {
		in := &pool[i]
		in.name = text(12 + r.IntN(20))
		in.words = strings.Fields(in.name)
		for len(in.papers) < 80 {
			if p := r.IntN(nPapers); !slices.Contains(in.papers, p) {
				in.papers = append(in.papers, p)
			}
		}
	}
	matches := map[[2]int]Match{}
	match := func(p, i int) Match {
		if m, ok := matches[[2]int{p, i}]; ok {
			return m
		}
		pp := papers[p]
		words := pool[i].words[:1+(p+i)%len(pool[i].words)]
		m := Match{Paper: pp, Interest: pool[i].name, Matched: words,
			TitleParts: highlight(pp.Title, words), AbstractParts: highlight(pp.Abstract, words)}
		matches[[2]int{p, i}] = m
		return m
	}
	views := make([]*DigestView, nReaders)
	for n := range views {
		v := &DigestView{Email: fmt.Sprintf("reader%07d@example.net", n), DateLabel: "Thursday, 3 December 2026",
			BaseURL: "https://papers.example.org/", ListName: "papermail",
			PreferencesURL: "https://papers.example.org/preferences/" + readerToken(n, "p"),
			UnsubscribeURL: "https://papers.example.org/unsubscribe/" + readerToken(n, "u"),
			FeedURL:        "https://papers.example.org/feed/" + readerToken(n, "f") + ".atom",
			BrowserURL:     "https://papers.example.org/view/" + readerToken(n, "v")}
		var mine []int
		for k := 1 + r.IntN(4); len(mine) < k; {
			if i := r.IntN(nInterests); !slices.Contains(mine, i) {
				mine = append(mine, i)
				v.Interests = append(v.Interests, pool[i].name)
			}
		}
		var got []int
		limit := 8
		if r.IntN(20) == 0 {
			limit = 3 + r.IntN(5) // a few readers have fewer new papers
		}
		for rank := 0; len(v.Papers) < limit && rank < 80; rank++ {
			for _, i := range mine {
				// Readers skip some of an interest's papers (sent before,
				// disliked), so digests differ beyond their interests.
				p := pool[i].papers[rank]
				if len(v.Papers) == limit || slices.Contains(got, p) || r.IntN(5) != 0 {
					continue
				}
				got = append(got, p)
				tok := readerToken(n, papers[p].ID)
				v.Papers = append(v.Papers, PaperView{Item: Item{Match: match(p, i),
					MoreURL: "https://papers.example.org/feedback/" + tok + "?v=more",
					LessURL: "https://papers.example.org/feedback/" + tok + "?v=less"}, N: len(v.Papers) + 1})
			}
		}
		views[n] = v
	}
	return views
})

// BenchmarkDigestDay renders a day's digests (dayReaders) in order, in one
// Batch per day, as a digest run does: cold shapes and all. Run with
// -benchtime=10000x for exactly one day.
func BenchmarkDigestDay(b *testing.B) {
	e := testEngine(b)
	views := dayReaders()
	var batch *Batch
	b.ReportAllocs()
	n, start := 0, cpuTime()
	for b.Loop() {
		if n%len(views) == 0 {
			batch = e.NewBatch()
		}
		if _, _, _, err := batch.Digest(views[n%len(views)]); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(cpuTime()-start)/float64(n), "cpu-ns/op")
}

// TestBatchBound renders a day (dayReaders) in one batch until it is
// full: what it holds, measured on the heap, stays near the
// maxFragmentBytes it counts (its overheads are estimates).
func TestBatchBound(t *testing.T) {
	e := testEngine(t)
	views := dayReaders()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b := e.NewBatch()
	for _, v := range views {
		if _, _, _, err := b.Digest(v); err != nil {
			t.Fatal(err)
		}
		if b.size > maxFragmentBytes-1<<14 {
			break // full
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	held := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	if b.size < maxFragmentBytes*9/10 || held > maxFragmentBytes*5/4 {
		t.Errorf("batch counts %d bytes (bound %d) and holds %d on the heap", b.size, maxFragmentBytes, held)
	}
	runtime.KeepAlive(b)
}
