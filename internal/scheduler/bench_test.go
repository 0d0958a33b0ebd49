package scheduler_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/papermail/papermail/internal/app"
	"github.com/papermail/papermail/internal/config"
	"github.com/papermail/papermail/internal/digest"
	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/scheduler"
	"github.com/papermail/papermail/internal/store"
)

// benchNow is the instant of the benchmarked ticks: every subscriber had
// today's digest already.
var benchNow = time.Date(2026, 11, 20, 15, 0, 0, 0, time.UTC)

// idleStore makes a store of n subscribers in several zones and at
// several hours, none of them due at benchNow.
func idleStore(b *testing.B, n int) *store.Store {
	b.Helper()
	st, err := store.Open(filepath.Join(b.TempDir(), "papermail.db"), store.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	zones := []string{"", "Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Sydney"}
	const chunk = 50000
	for start := 0; start < n; start += chunk {
		subs := make([]model.Subscriber, 0, chunk)
		for i := start; i < min(start+chunk, n); i++ {
			zone := zones[i%len(zones)]
			loc, _ := model.LoadZone(zone)
			if zone == "" {
				loc = time.UTC
			}
			subs = append(subs, model.Subscriber{Email: "reader" + strconv.Itoa(i) + "@example.org", State: model.StateActive,
				Interests: []string{"graph neural networks", "speech recognition"}, Created: benchNow.Add(-30 * 24 * time.Hour),
				Timezone: zone, Hour: i % 24, Frequency: model.FrequencyDaily, LastDigest: benchNow.In(loc).Format(digest.DateLayout)})
		}
		if _, err := st.AddSubscribers(subs); err != nil {
			b.Fatal(err)
		}
	}
	return st
}

// benchSizes are the list sizes benchmarked: 100k, and 1M when
// PAPERMAIL_BENCH_1M is set (building that store takes minutes).
func benchSizes() []int {
	if os.Getenv("PAPERMAIL_BENCH_1M") != "" {
		return []int{100_000, 1_000_000}
	}
	return []int{100_000}
}

// BenchmarkTickNobodyDue is a digest tick when nobody is due: the
// scheduler's look at the due index, and the runner's own check of a
// scheduled run. Neither reads a subscriber (allocs/op stays flat with
// the list).
func BenchmarkTickNobodyDue(b *testing.B) {
	for _, n := range benchSizes() {
		b.Run(fmt.Sprintf("subscribers=%d", n), func(b *testing.B) {
			st := idleStore(b, n)
			cfg := config.Default()
			cfg.DataDir = b.TempDir()
			cfg.BaseURL = "https://papers.example.org"
			cfg.Digest.Timezone = "UTC"
			log := slog.New(slog.NewTextHandler(io.Discard, nil))
			p, err := app.Build(cfg, st, app.Options{Log: log})
			if err != nil {
				b.Fatal(err)
			}
			r := p.Runner
			ctx := context.Background()
			ran := 0
			s, err := scheduler.New(ctx, cfg, scheduler.Jobs{Digest: func(ctx context.Context, now time.Time) {
				ran++
				r.Run(ctx, digest.Spec{Now: now})
			}}, st, log, nil)
			if err != nil {
				b.Fatal(err)
			}
			b.Run("scheduler", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					s.Tick(benchNow)
				}
				if ran != 0 {
					b.Fatalf("the digest ran %d times with nobody due", ran)
				}
			})
			b.Run("runner", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					sum, err := r.Run(ctx, digest.Spec{Now: benchNow})
					if err != nil || sum.Due != 0 {
						b.Fatalf("run: %+v, %v", sum, err)
					}
				}
			})
		})
	}
}
