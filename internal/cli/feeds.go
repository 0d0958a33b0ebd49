package cli

import (
	"cmp"
	"context"
	"log/slog"
	"time"

	"github.com/papermail/papermail/internal/config"
	"github.com/papermail/papermail/internal/feeds"
	"github.com/papermail/papermail/internal/ingest"
	"github.com/papermail/papermail/internal/metrics"
	"github.com/papermail/papermail/internal/store"
)

// fetchFeed ingests one configured feed, records the outcome in the store
// (shown by `status`) and logs it: a success at INFO, a failure at WARN
// with the error and how many fetches in a row have failed. invalidate,
// when set, runs after papers were stored.
func fetchFeed(ctx context.Context, st *store.Store, m *metrics.Metrics, log *slog.Logger, f config.Feed, invalidate func()) error {
	if f.AllowPrivate {
		ctx = feeds.AllowPrivate(ctx)
	}
	res, err := ingest.Source(ctx, st, f.URL, f.Format, time.Now(), m)
	if err != nil && ctx.Err() != nil {
		// Shutdown cut the fetch short: not the feed's failure.
		return err
	}
	if err == nil && invalidate != nil {
		invalidate()
	}
	h, rerr := recordFetch(st, m, f.URL, res, err)
	if rerr != nil {
		log.Error("record feed fetch", "feed", f.URL, "error", rerr)
	}
	if err != nil {
		args := []any{"feed", f.URL, "error", err, "failures_in_a_row", h.Failures}
		if h.LastSuccess.IsZero() {
			args = append(args, "last_success", "never")
		} else {
			args = append(args, "last_success", h.LastSuccess.UTC().Format(time.RFC3339))
		}
		log.Warn("feed fetch failed", args...)
		return err
	}
	log.Info("feed fetched", "feed", f.URL, "format", res.Format, "papers", res.Papers, "added", res.Added, "updated", res.Updated)
	return nil
}

// recordFetch stores one fetch outcome and mirrors it in the metrics.
func recordFetch(st *store.Store, m *metrics.Metrics, url string, res ingest.Result, fetchErr error) (store.FeedHealth, error) {
	h, err := st.RecordFeedFetch(url, store.FeedFetch{At: time.Now(), Papers: res.Papers, Added: res.Added, Updated: res.Updated, Err: fetchErr})
	if err == nil {
		m.ObserveFeed(url, h.Failures, h.LastSuccess)
	}
	return h, err
}

// configuredFeed returns the configured feed whose URL is source.
func configuredFeed(cfg config.Config, source string) (config.Feed, bool) {
	for _, f := range cfg.Feeds {
		if f.URL == source {
			return f, true
		}
	}
	return config.Feed{}, false
}

// nextFetch is the next scheduled fetch of f after now.
func nextFetch(cfg config.Config, f config.Feed, now time.Time) (time.Time, bool) {
	sched, err := config.ParseSchedule(cmp.Or(f.Schedule, config.DefaultFeedSchedule))
	if err != nil {
		return time.Time{}, false
	}
	return sched.Next(now.In(cfg.Location())), true
}
