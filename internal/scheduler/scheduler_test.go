package scheduler

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/papermail/papermail/internal/config"
	"github.com/papermail/papermail/internal/metrics"
)

// TestStartFetchesEveryFeedOnce: a fresh daemon fetches each feed at
// start, not at its first scheduled time (here next New Year), and Stop
// waits for those fetches.
func TestStartFetchesEveryFeedOnce(t *testing.T) {
	cfg := config.Default()
	cfg.Digest.Schedule = "0 7 1 1 *"
	cfg.Digest.Tick = 24 * time.Hour
	cfg.Feeds = []config.Feed{
		{URL: "https://a.example.org/feed", Schedule: "0 0 1 1 *"},
		{URL: "https://b.example.org/feed", Schedule: "0 0 1 1 *"},
	}
	var mu sync.Mutex
	got := map[string]int{}
	release := make(chan struct{})
	all := make(chan struct{})
	s, err := New(context.Background(), cfg, Jobs{
		Digest: func(context.Context, time.Time) { t.Error("digest ran at start") },
		Fetch: func(_ context.Context, f config.Feed) {
			mu.Lock()
			got[f.URL]++
			if len(got) == len(cfg.Feeds) {
				close(all)
			}
			mu.Unlock()
			<-release
		},
	}, slog.New(slog.NewTextHandler(io.Discard, nil)), metrics.New())
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	select {
	case <-all:
	case <-time.After(10 * time.Second):
		t.Fatalf("feeds fetched at start: %v, want both", got)
	}
	stopped := s.Stop()
	select {
	case <-stopped.Done():
		t.Fatal("Stop did not wait for the start-up fetches")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	select {
	case <-stopped.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("Stop never finished")
	}
	for _, f := range cfg.Feeds {
		if got[f.URL] != 1 {
			t.Errorf("%s fetched %d times, want 1", f.URL, got[f.URL])
		}
	}
}
