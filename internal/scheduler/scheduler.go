// Package scheduler starts papermail's timed work with robfig/cron: the
// digest tick (every digest.tick, plus digest.schedule itself), which sends
// each subscriber whose local delivery hour has come, and each feed's
// fetch on its own schedule, and once at start so a fresh daemon has today's
// papers without waiting for the first scheduled time. Panics in jobs are recovered and counted; a
// job still running when its next time comes is skipped, not doubled.
package scheduler

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/papermail/papermail/internal/config"
	"github.com/papermail/papermail/internal/metrics"
)

// Jobs are the functions the scheduler calls.
type Jobs struct {
	// Digest runs a scheduled digest tick at now.
	Digest func(ctx context.Context, now time.Time)
	// Fetch ingests one configured feed.
	Fetch func(ctx context.Context, feed config.Feed)
}

// Scheduler wraps a cron instance.
type Scheduler struct {
	c *cron.Cron
	// fetches are the wrapped feed jobs, run once by Start; started counts
	// those runs so Stop waits for them too.
	fetches []cron.Job
	started sync.WaitGroup
}

type cronLogger struct{ log *slog.Logger }

func (l cronLogger) Info(msg string, kv ...any) { l.log.Debug("cron: "+msg, kv...) }
func (l cronLogger) Error(err error, msg string, kv ...any) {
	l.log.Error("cron: "+msg, append(kv, "error", err)...)
}

// New registers the jobs; Start runs them until Stop.
func New(ctx context.Context, cfg config.Config, jobs Jobs, log *slog.Logger, m *metrics.Metrics) (*Scheduler, error) {
	logger := cronLogger{log: log}
	recoverer := func(j cron.Job) cron.Job {
		return cron.FuncJob(func() {
			defer func() {
				if r := recover(); r != nil {
					log.Error("scheduled job panicked", "panic", fmt.Sprint(r))
					if m != nil {
						m.Panics.Inc()
					}
				}
			}()
			j.Run()
		})
	}
	c := cron.New(cron.WithLocation(cfg.Location()), cron.WithLogger(logger))
	digestJob := cron.FuncJob(func() { jobs.Digest(ctx, time.Now()) })
	// The tick and the configured schedule share one wrapped job, so they
	// never overlap.
	wrapped := cron.NewChain(recoverer, cron.SkipIfStillRunning(logger)).Then(digestJob)
	tick := cfg.Digest.Tick
	if tick <= 0 {
		tick = config.DefaultTick
	}
	c.Schedule(cron.Every(tick), wrapped)
	sched, err := config.ParseSchedule(cfg.Digest.Schedule)
	if err != nil {
		return nil, fmt.Errorf("digest.schedule: %w", err)
	}
	c.Schedule(sched, wrapped)
	var fetches []cron.Job
	for i, f := range cfg.Feeds {
		f := f
		spec := f.Schedule
		if spec == "" {
			spec = config.DefaultFeedSchedule
		}
		fs, err := config.ParseSchedule(spec)
		if err != nil {
			return nil, fmt.Errorf("feeds[%d].schedule: %w", i, err)
		}
		job := cron.NewChain(recoverer, cron.SkipIfStillRunning(logger)).Then(cron.FuncJob(func() { jobs.Fetch(ctx, f) }))
		c.Schedule(fs, job)
		fetches = append(fetches, job)
	}
	return &Scheduler{c: c, fetches: fetches}, nil
}

// Start begins running jobs in the background and fetches every feed once
// now. The start-up fetch goes through the same job as the scheduled one,
// so a scheduled time that comes while it runs is skipped, not doubled.
func (s *Scheduler) Start() {
	s.c.Start()
	for _, j := range s.fetches {
		s.started.Add(1)
		go func() {
			defer s.started.Done()
			j.Run()
		}()
	}
}

// Stop stops scheduling and returns a context done when running jobs end,
// the start-up fetches included.
func (s *Scheduler) Stop() context.Context {
	cronDone := s.c.Stop()
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-cronDone.Done()
		s.started.Wait()
		cancel()
	}()
	return ctx
}
