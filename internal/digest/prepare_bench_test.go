package digest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/papermail/papermail/internal/config"
	"github.com/papermail/papermail/internal/links"
	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/render"
	"github.com/papermail/papermail/internal/selection"
	"github.com/papermail/papermail/internal/token"
)

// BenchmarkMessage builds and renders a day of digests as a run does
// after selection (Runner.message: the reader's view, signed links,
// highlights, the batch render) with the embedded templates: 500
// candidates, 10,000 readers with 1-4 interests of 200, each interest
// ranking its own 80 papers, up to 8 papers a digest. One batch and one
// set of caches per day; run with -benchtime=10000x for exactly one.
func BenchmarkMessage(b *testing.B) {
	const nPapers, nInterests, nReaders = 500, 200, 10000
	e, err := render.New("")
	if err != nil {
		b.Fatal(err)
	}
	signer, err := token.NewSigner([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		b.Fatal(err)
	}
	cfg := config.Default()
	cfg.BaseURL = "https://papers.example.org"
	cfg.Mail.From = "Papermail <digest@papers.example.org>"
	r := &Runner{Deps: Deps{Config: cfg, Engine: e, Links: links.New(cfg.BaseURL, signer)}}

	rnd := rand.New(rand.NewPCG(1, 2))
	vocab := strings.Fields("diffusion transformer attention retrieval sparse token merging speech graph robot policy " +
		"quantization expert routing cache inference latency protein segmentation detection privacy federated " +
		"contrastive reasoning agent alignment reward video synthesis language vision multimodal benchmark")
	text := func(chars int) string {
		var s strings.Builder
		for s.Len() < chars {
			if s.Len() > 0 {
				s.WriteByte(' ')
			}
			s.WriteString(vocab[rnd.IntN(len(vocab))])
		}
		return s.String()
	}
	published := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	papers := make([]model.Paper, nPapers)
	for i := range papers {
		papers[i] = model.Paper{ID: fmt.Sprintf("2612.%05d", i), Title: text(90), Abstract: text(900),
			Authors:    []string{"Ada Lovelace", "Alan Turing", "Grace Hopper", "Edsger Dijkstra", "Barbara Liskov"},
			Categories: []string{"cs.LG"}, Upvotes: 1 + rnd.IntN(300), Published: published}
		if i%2 == 0 {
			papers[i].AISummary = text(200)
			papers[i].GitHubRepo = "https://github.com/example/repo" + papers[i].ID
		}
	}
	type interest struct {
		name   string
		papers []int
	}
	pool := make([]interest, nInterests)
	for i := range pool {
		pool[i].name = text(12 + rnd.IntN(20))
		for len(pool[i].papers) < 80 {
			if p := rnd.IntN(nPapers); !slices.Contains(pool[i].papers, p) {
				pool[i].papers = append(pool[i].papers, p)
			}
		}
	}
	subs := make([]model.Subscriber, nReaders)
	picks := make([][]selection.Pick, nReaders)
	for n := range subs {
		subs[n] = model.Subscriber{ID: uint64(n + 1), Email: fmt.Sprintf("reader%07d@example.net", n)}
		var mine []int
		for k := 1 + rnd.IntN(4); len(mine) < k; {
			if i := rnd.IntN(nInterests); !slices.Contains(mine, i) {
				mine = append(mine, i)
				subs[n].Interests = append(subs[n].Interests, pool[i].name)
			}
		}
		var got []int
		for rank := 0; len(got) < 8 && rank < 80; rank++ {
			for _, i := range mine {
				p := pool[i].papers[rank]
				if len(got) == 8 || slices.Contains(got, p) || rnd.IntN(5) != 0 {
					continue
				}
				got = append(got, p)
				words := strings.Fields(pool[i].name)
				picks[n] = append(picks[n], selection.Pick{Paper: &papers[p], Interest: pool[i].name,
					Matched: words[:1+(p+i)%len(words)]})
			}
		}
	}

	b.ReportAllocs()
	n := 0
	for b.Loop() {
		if n%nReaders == 0 {
			r.batch.Store(e.NewBatch())
			r.papers.reset()
			r.highlights.reset()
		}
		if _, err := r.message(&subs[n%nReaders], "2026-12-03", picks[n%nReaders]); err != nil {
			b.Fatal(err)
		}
		n++
	}
}
