package digest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/papermail/papermail/internal/config"
	"github.com/papermail/papermail/internal/digest"
	"github.com/papermail/papermail/internal/embeddings"
	"github.com/papermail/papermail/internal/embeddings/embedtest"
	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/selection"
	"github.com/papermail/papermail/internal/smtptest"
)

// semanticTopics are the candidates of the embedding tests: twenty papers
// on unrelated topics, one of them on song generation.
var semanticTopics = []string{
	"Lyrics-Based Song Generation with Latent Diffusion|We generate songs with vocals and accompaniment from lyrics.",
	"Graph Neural Networks for Molecules|Message passing predicts molecular properties.",
	"Semantic Segmentation of Road Scenes|A fast two-branch network segments street scenes.",
	"Speculative Decoding for Large Language Models|A draft model proposes tokens the large model verifies.",
	"Federated Averaging under Client Drift|Clients with heterogeneous data drift during local training.",
	"Protein Structure Benchmarks|We evaluate protein foundation models on folding tasks.",
	"Robot Grasping in Clutter|Reward shaping helps a robot arm pick objects.",
	"Weather Forecasting with Transformers|Global forecasts from reanalysis data.",
	"Sparse Autoencoders Find Interpretable Features|Dictionary learning on transformer activations.",
	"Neural Machine Translation for Low-Resource Languages|Back-translation for Karakalpak.",
	"Dense Retrieval over Scientific Papers|A benchmark of dual encoders.",
	"Quantization of Vision Transformers|Four-bit weights keep accuracy.",
	"Pruning Large Language Models|One-shot pruning removes half the weights.",
	"Key-Value Cache Compression|Evicting cache entries saves memory.",
	"Mixture-of-Experts Load Balancing|Routing tokens to experts evenly.",
	"Contrastive Pretraining of Image Encoders|Learning from images without labels.",
	"Gaussian Splatting for Faces|Relightable facial avatars render in real time.",
	"Chain-of-Thought Prompting|Reasoning step by step improves math accuracy.",
	"Privacy of Language Model Agents|Agents leak personal data in emails.",
	"Fuzzing with Language Models|Generated inputs find crashes in programs.",
}

// semanticRig is a rig whose runner uses the fake embeddings provider at
// path; its log is kept.
func semanticRig(t *testing.T, prov *embedtest.Server, path string, timeout time.Duration) (*rig, *syncBuffer) {
	t.Helper()
	g := newRig(t, func(c *config.Config) {
		c.Digest.Fallback = "none"
		c.Ranking.Embeddings = config.Embeddings{URL: prov.URL + path, Model: "fake-embed", Timeout: timeout, Weight: 0.4}
	})
	logs := &syncBuffer{}
	g.r.Log = slog.New(slog.NewTextHandler(logs, nil))
	g.r.Embedder = embeddings.New(g.cfg.Ranking.Embeddings, prov.Client())
	now := time.Now()
	var papers []model.Paper
	for i, tp := range semanticTopics {
		title, abstract, _ := strings.Cut(tp, "|")
		id := fmt.Sprintf("2609.%05d", i+1)
		papers = append(papers, model.Paper{ID: id, Title: title, Abstract: abstract, URL: "https://arxiv.org/abs/" + id,
			Source: "arxiv", Published: now.Add(-3 * time.Hour), Ingested: now.Add(-2 * time.Hour)})
	}
	g.putPapers(papers, now)
	return g, logs
}

// syncBuffer is a bytes.Buffer safe for a logger and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// TestEmbeddingsBlendIntoTheDigest runs digests with an embeddings
// provider that knows "xylophone marimbas" is close to song generation,
// which no word of the interest names: the digest holds the song paper.
// Vectors are fetched in batches before the per-subscriber loop (two
// requests for ten subscribers) and kept, so the next run asks nothing.
func TestEmbeddingsBlendIntoTheDigest(t *testing.T) {
	for _, path := range []string{"/v1/embeddings", "/api/embed"} {
		t.Run(path, func(t *testing.T) {
			prov := embedtest.Start()
			defer prov.Close()
			prov.Alias("xylophone", "song", "songs", "generation")
			prov.Alias("marimbas", "song", "lyrics", "vocals")
			g, _ := semanticRig(t, prov, path, 5*time.Second)
			now := time.Now()
			// Before a run has fetched vectors, ranking is lexical: no word
			// of the interest is in any paper.
			if picks, err := g.r.Preview(selection.Profile{Interests: []string{"xylophone marimbas"}}, 10, now); err != nil || len(picks) != 0 {
				t.Fatalf("lexical preview: %d picks (%v), want none", len(picks), err)
			}
			subs := g.addSubscribers(10, now, func(_ int, s *model.Subscriber) { s.Interests = []string{"xylophone marimbas"} })
			srv := smtptest.StartT(t, smtptest.Options{})
			g.useServer(srv, nil)
			sum, err := g.r.Run(context.Background(), digest.Spec{Now: now, Date: today(now)})
			if err != nil {
				t.Fatal(err)
			}
			if sum.Sent != len(subs) {
				t.Fatalf("summary %+v, want %d digests", sum, len(subs))
			}
			for _, m := range srv.Messages() {
				if !strings.Contains(string(m.Data), "Song Generation") {
					t.Errorf("digest to %v lacks the song paper", m.To)
				}
			}
			if n := prov.Requests.Load(); n != 2 {
				t.Errorf("%d provider requests for a run of %d subscribers, want 2 (papers, interests)", n, len(subs))
			}
			if n, err := g.st.CountVectors("fake-embed"); err != nil || n != len(semanticTopics) {
				t.Errorf("%d paper vectors stored (%v)", n, err)
			}
			var st embeddings.Status
			if b, err := g.st.VectorStatus(); err != nil || json.Unmarshal(b, &st) != nil || !st.OK || st.Papers != len(semanticTopics) {
				t.Errorf("status %s %+v (%v)", b, st, err)
			}
			// The next run (the next day) finds every vector stored.
			next := now.Add(24 * time.Hour)
			if _, err := g.r.Run(context.Background(), digest.Spec{Now: next, Date: today(next)}); err != nil {
				t.Fatal(err)
			}
			if n := prov.Requests.Load(); n != 2 {
				t.Errorf("%d provider requests after the second run, want still 2", n)
			}
		})
	}
}

// TestEmbeddingsProviderFailureCostsNoDigest runs with a provider that
// fails and one that is too slow: every subscriber's digest still goes
// out, ranked by the built-in ranker; the log and the recorded status say
// the provider was not used; a slow provider holds the run only for its
// bounded budget.
func TestEmbeddingsProviderFailureCostsNoDigest(t *testing.T) {
	cases := []struct {
		name   string
		broken func(*embedtest.Server)
	}{
		{"failing", func(p *embedtest.Server) { p.SetStatus(500) }},
		{"slow", func(p *embedtest.Server) { p.SetDelay(3 * time.Second) }},
		{"absent", func(p *embedtest.Server) { p.Close() }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			prov := embedtest.Start()
			defer prov.Close()
			g, logs := semanticRig(t, prov, "/v1/embeddings", 200*time.Millisecond)
			tc.broken(prov)
			now := time.Now()
			subs := g.addSubscribers(3, now, func(_ int, s *model.Subscriber) { s.Interests = []string{"speculative decoding"} })
			srv := smtptest.StartT(t, smtptest.Options{})
			g.useServer(srv, nil)
			start := time.Now()
			sum, err := g.r.Run(context.Background(), digest.Spec{Now: now, Date: today(now)})
			if err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("the run took %v with a %s provider", d, tc.name)
			}
			if sum.Sent != len(subs) {
				t.Fatalf("summary %+v: a %s provider cost digests", sum, tc.name)
			}
			for _, m := range srv.Messages() {
				if !strings.Contains(string(m.Data), "Speculative Decoding") {
					t.Errorf("digest to %v lacks the lexical match", m.To)
				}
			}
			if !strings.Contains(logs.String(), "ranking with the built-in ranker") {
				t.Errorf("log does not say the provider was not used:\n%s", logs)
			}
			var st embeddings.Status
			if b, err := g.st.VectorStatus(); err != nil || json.Unmarshal(b, &st) != nil || st.OK || st.Reason == "" {
				t.Errorf("status %s %+v (%v), want not OK with a reason", b, st, err)
			}
		})
	}
}
