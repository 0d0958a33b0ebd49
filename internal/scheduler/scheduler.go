// Package scheduler starts papermail's timed work: the digest, which it
// runs when the store's due index says someone is due (it sleeps until the
// first due instant or a change of the index, so an idle list costs
// nothing), and each feed's fetch on its own cron schedule (robfig/cron).
// Panics in jobs are recovered and counted; a job still running when its
// next time comes is skipped, not doubled.
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

// DueIndex is what the scheduler asks the store: when someone is next due,
// and a signal when that may have changed.
type DueIndex interface {
	// FirstDueAfter is the earliest due instant after t (all of them for
	// the zero t); ok is false when there is none.
	FirstDueAfter(t time.Time) (at time.Time, ok bool, err error)
	// DueChanged is signalled after the index changed.
	DueChanged() <-chan struct{}
}

// maxSleep bounds a sleep of the digest loop, so a change of the clock is
// noticed within it.
const maxSleep = time.Hour

// Scheduler runs the jobs until Stop.
type Scheduler struct {
	c     *cron.Cron
	ctx   context.Context
	jobs  Jobs
	index DueIndex
	// retry is how soon subscribers still due after a run (their delivery
	// failed for now) are tried again: digest.tick.
	retry   time.Duration
	log     *slog.Logger
	metrics *metrics.Metrics
	now     func() time.Time

	// fetches are the feed jobs, run once at Start too.
	fetches []cron.Job
	stop    chan struct{}
	stopped sync.WaitGroup
	// lastRun is when the digest last ran; keys at or before it are
	// subscribers that run left due.
	lastRun time.Time
}

type cronLogger struct{ log *slog.Logger }

func (l cronLogger) Info(msg string, kv ...any) { l.log.Debug("cron: "+msg, kv...) }
func (l cronLogger) Error(err error, msg string, kv ...any) {
	l.log.Error("cron: "+msg, append(kv, "error", err)...)
}

// New registers the jobs; Start runs them until Stop.
func New(ctx context.Context, cfg config.Config, jobs Jobs, index DueIndex, log *slog.Logger, m *metrics.Metrics) (*Scheduler, error) {
	if index == nil || jobs.Digest == nil {
		return nil, fmt.Errorf("scheduler: the digest job and the due index are required")
	}
	s := &Scheduler{ctx: ctx, jobs: jobs, index: index, retry: cfg.Digest.Tick, log: log, metrics: m,
		now: time.Now, stop: make(chan struct{})}
	if s.retry <= 0 {
		s.retry = config.DefaultTick
	}
	logger := cronLogger{log: log}
	s.c = cron.New(cron.WithLocation(cfg.Location()), cron.WithLogger(logger))
	recoverer := func(j cron.Job) cron.Job {
		return cron.FuncJob(func() {
			defer s.recovered("feed fetch")
			j.Run()
		})
	}
	for i, f := range cfg.Feeds {
		spec := f.Schedule
		if spec == "" {
			spec = config.DefaultFeedSchedule
		}
		fs, err := config.ParseSchedule(spec)
		if err != nil {
			return nil, fmt.Errorf("feeds[%d].schedule: %w", i, err)
		}
		job := cron.NewChain(recoverer, cron.SkipIfStillRunning(logger)).Then(cron.FuncJob(func() { jobs.Fetch(ctx, f) }))
		s.c.Schedule(fs, job)
		s.fetches = append(s.fetches, job)
	}
	return s, nil
}

// recovered logs and counts a panic of a job.
func (s *Scheduler) recovered(job string) {
	if r := recover(); r != nil {
		s.log.Error("scheduled job panicked", "job", job, "panic", fmt.Sprint(r))
		if s.metrics != nil {
			s.metrics.Panics.Inc()
		}
	}
}

// Start begins running jobs in the background and fetches every feed once
// now. The start-up fetch goes through the same job as the scheduled one,
// so a scheduled time that comes while it runs is skipped, not doubled.
func (s *Scheduler) Start() {
	s.c.Start()
	for _, j := range s.fetches {
		s.stopped.Add(1)
		go func() {
			defer s.stopped.Done()
			j.Run()
		}()
	}
	s.stopped.Add(1)
	go s.digestLoop()
}

// Stop stops scheduling and returns a context done when running jobs end,
// the start-up fetches included.
func (s *Scheduler) Stop() context.Context {
	close(s.stop)
	cronDone := s.c.Stop()
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		s.stopped.Wait()
		<-cronDone.Done()
		cancel()
	}()
	return ctx
}

// digestLoop runs the digest whenever someone is due, and otherwise
// sleeps until the first due instant or a change of the index.
func (s *Scheduler) digestLoop() {
	defer s.stopped.Done()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-s.stop:
			return
		case <-timer.C:
		case <-s.index.DueChanged():
			if !timer.Stop() {
				select {
				case <-timer.C:
				default:
				}
			}
		}
		wait := s.Tick(s.now())
		timer.Reset(wait)
	}
}

// Tick runs the digest at now when someone is due and returns how long to
// sleep until the next look. Someone is due when a key lies after the last
// run and at or before now, or when the last run left someone due (a
// delivery failed for now) and digest.tick has passed since.
func (s *Scheduler) Tick(now time.Time) time.Duration {
	next, err := s.nextRun()
	if err != nil {
		s.log.Error("due index", "error", err)
		return s.retry
	}
	if !next.IsZero() && !next.After(now) {
		s.runDigest(now)
		s.lastRun = now
		if next, err = s.nextRun(); err != nil {
			s.log.Error("due index", "error", err)
			return s.retry
		}
		now = s.now()
	}
	if next.IsZero() {
		return maxSleep
	}
	return min(max(next.Sub(now), 0), maxSleep)
}

// nextRun is when the digest should next run; zero when nobody is due.
func (s *Scheduler) nextRun() (time.Time, error) {
	var next time.Time
	if !s.lastRun.IsZero() {
		if first, ok, err := s.index.FirstDueAfter(time.Time{}); err != nil {
			return next, err
		} else if ok && !first.After(s.lastRun) {
			next = s.lastRun.Add(s.retry)
		}
	}
	at, ok, err := s.index.FirstDueAfter(s.lastRun)
	if err != nil {
		return next, err
	}
	if ok && (next.IsZero() || at.Before(next)) {
		next = at
	}
	return next, nil
}

func (s *Scheduler) runDigest(now time.Time) {
	defer s.recovered("digest")
	s.jobs.Digest(s.ctx, now)
}
