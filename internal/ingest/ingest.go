// Package ingest moves papers from feeds into the store: it loads each
// source completely (feeds), and only when the whole source parsed does it
// write its papers, in one transaction, so a bad source leaves the store
// exactly as it was.
package ingest

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/papermail/papermail/internal/feeds"
	"github.com/papermail/papermail/internal/metrics"
	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/sample"
	"github.com/papermail/papermail/internal/store"
)

// Result says what one source gave.
type Result struct {
	Source  string
	Format  string
	Papers  int
	Added   int
	Updated int
}

// Source loads one source (file path or http(s) URL) and stores its papers.
func Source(ctx context.Context, st *store.Store, source, format string, now time.Time, m *metrics.Metrics) (Result, error) {
	res := Result{Source: source}
	papers, used, err := feeds.Load(ctx, source, format, now)
	res.Format = used
	if err != nil {
		if m != nil {
			m.FeedErrors.WithLabelValues(source).Inc()
		}
		return res, err
	}
	return save(st, res, dedupe(papers), now, m)
}

// SamplePapers are papermail's demo papers (internal/sample), trending
// one after another in the hours before now, as `papermail demo` loads
// them.
func SamplePapers(now time.Time) ([]model.Paper, error) {
	papers, err := feeds.Parse(bytes.NewReader(sample.PapersJSONL), feeds.FormatJSONL, "sample papers", now)
	if err != nil {
		return nil, fmt.Errorf("sample papers: %w", err)
	}
	for i := range papers {
		papers[i].TrendingAt = now.Add(-time.Duration(i) * 17 * time.Minute).UTC()
		papers[i].Source = "sample"
	}
	return papers, nil
}

func save(st *store.Store, res Result, papers []model.Paper, now time.Time, m *metrics.Metrics) (Result, error) {
	res.Papers = len(papers)
	pr, err := st.PutPapers(papers, now)
	if err != nil {
		return res, fmt.Errorf("%s: store: %w (nothing was stored)", res.Source, err)
	}
	res.Added, res.Updated = pr.Added, pr.Updated
	if m != nil {
		m.PapersIngested.WithLabelValues("added").Add(float64(pr.Added))
		m.PapersIngested.WithLabelValues("updated").Add(float64(pr.Updated))
	}
	return res, nil
}

// dedupe folds repeated ids within one source: the later entry updates the
// earlier one, keeping the first position.
func dedupe(papers []model.Paper) []model.Paper {
	pos := make(map[string]int, len(papers))
	out := papers[:0:0]
	for _, p := range papers {
		if i, ok := pos[p.ID]; ok {
			out[i] = p
			continue
		}
		pos[p.ID] = len(out)
		out = append(out, p)
	}
	return out
}
