package cli

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/papermail/papermail/internal/embeddings"
	"github.com/papermail/papermail/internal/store"
)

// embedSpan is how far back papers get vectors after an ingest: the
// candidate span of a run (digest.window or 8 days, whichever is longer).
func (e *env) embedSpan() time.Duration {
	return max(e.cfg.Digest.Window, 8*24*time.Hour)
}

// embedAfterIngest computes vectors for the recent papers that have none
// when an embeddings provider is configured. A failure is logged, never
// fatal: the next ingest or run tries again, and ranking falls back to
// the built-in ranker meanwhile.
func (e *env) embedAfterIngest(ctx context.Context, st *store.Store) {
	c := embeddings.New(e.cfg.Ranking.Embeddings, nil)
	if c == nil {
		return
	}
	papers, err := st.PapersSince(time.Now().Add(-e.embedSpan()))
	if err != nil {
		e.log.Warn("paper vectors not computed", "error", err)
		return
	}
	n, err := embeddings.EmbedPapers(ctx, c, st, papers)
	if err != nil {
		e.log.Warn("embeddings provider failed; papers without vectors are ranked with the built-in ranker", "model", c.Model(), "added", n, "error", err)
		return
	}
	if n > 0 {
		e.log.Info("paper vectors computed", "model", c.Model(), "added", n)
	}
}

// embeddingsStatus is the provider's state after the last run, nil when
// none is configured (model "") or recorded.
func embeddingsStatus(st *store.Store, model string) (*embeddings.Status, error) {
	b, err := st.VectorStatus()
	if errors.Is(err, store.ErrNotFound) {
		if model != "" {
			return &embeddings.Status{Model: model, OK: false, Reason: "no digest run since it was configured"}, nil
		}
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var s embeddings.Status
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, err
	}
	return &s, nil
}
