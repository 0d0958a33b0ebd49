package digest

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/papermail/papermail/internal/embeddings"
	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/selection"
)

// semanticBudget bounds, in provider timeouts, the embedding work before a
// run's per-subscriber loop: new paper vectors and new interest vectors.
const semanticBudget = 3

// EmbedRecent computes and stores vectors for the papers of the candidate
// span that have none (after an ingest; papers a failed attempt left out
// are tried again). It does nothing without an embeddings provider.
func (r *Runner) EmbedRecent(ctx context.Context, now time.Time) (int, error) {
	if r.Embedder == nil {
		return 0, nil
	}
	papers, err := r.Store.PapersSince(now.Add(-r.candidateSpan()))
	if err != nil {
		return 0, err
	}
	return embeddings.EmbedPapers(ctx, r.Embedder, r.Store, papers)
}

// semantic gathers, before the per-subscriber loop, the vectors a run
// blends in: paper vectors of the candidates (computing missing ones) and
// interest vectors of every active subscriber (fetching new ones). A slow
// or failing provider costs nothing but the blend: the run ranks with the
// built-in ranker, logs why and records it for status.
func (r *Runner) semantic(papers []model.Paper) *selection.Semantic {
	if r.Embedder == nil {
		return nil
	}
	st := embeddings.Status{Model: r.Embedder.Model(), At: time.Now().UTC().Format(time.RFC3339)}
	defer func() {
		if b, err := json.Marshal(st); err == nil {
			if err := r.Store.PutVectorStatus(b); err != nil {
				r.Log.Warn("record the embeddings status", "error", err)
			}
		}
	}()
	fail := func(what string, err error) *selection.Semantic {
		st.OK, st.Reason = false, what+": "+err.Error()
		r.Log.Warn("embeddings provider not used for this run; ranking with the built-in ranker", "model", st.Model, "step", what, "error", err)
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), semanticBudget*r.Config.Ranking.Embeddings.Timeout)
	defer cancel()
	if _, err := embeddings.EmbedPapers(ctx, r.Embedder, r.Store, papers); err != nil {
		r.Log.Warn("paper vectors missing for some candidates", "error", err)
	}
	ids := make([]string, len(papers))
	for i := range papers {
		ids[i] = papers[i].ID
	}
	vecs, err := r.Store.Vectors(r.Embedder.Model(), ids)
	if err != nil {
		return fail("load paper vectors", err)
	}
	var texts []string
	err = r.Store.ForEachSubscriber(1000, func(subs []model.Subscriber) error {
		for i := range subs {
			if subs[i].State == model.StateActive {
				texts = append(texts, subs[i].Interests...)
			}
		}
		return nil
	})
	if err != nil {
		return fail("list interests", err)
	}
	interests, err := embeddings.InterestVectors(ctx, r.Embedder, r.Store, texts)
	if err != nil {
		return fail("interest vectors", err)
	}
	if len(vecs) < 3 {
		return fail("paper vectors", errNoVectors)
	}
	st.OK, st.Papers = true, len(vecs)
	return &selection.Semantic{Papers: vecs, Interests: interests, Weight: r.Config.Ranking.Embeddings.Weight}
}

var errNoVectors = errors.New("fewer than three candidate papers have vectors")
