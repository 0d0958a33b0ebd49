package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/papermail/papermail/internal/app"
	"github.com/papermail/papermail/internal/config"
	"github.com/papermail/papermail/internal/digest"
	"github.com/papermail/papermail/internal/feeds"
	"github.com/papermail/papermail/internal/mailer"
	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/selection"
	"github.com/papermail/papermail/internal/store"
)

// selRender is the in-process measurement of preparing digests (select,
// render, compose) without store writes or sending, through the runner's
// own preview API: the digest a subscriber would get now.
type selRender struct {
	Sample  int
	Workers int
	// Index is loading the candidates from the store and indexing them.
	Index time.Duration
	// Wall is the wall time of preparing the whole sample's digests
	// (select + render + compose); Prepare the same summed over workers,
	// and Select the time of selection alone (a second pass), summed.
	Wall, Prepare, Select time.Duration
	// CPU is the process's user+sys time during the timed pass (nothing
	// else runs in the harness then).
	CPU     time.Duration
	Picks   float64 // average papers per digest
	NoPicks int     // subscribers nothing matched
	// Distinct counts distinct (paper, matched words) pairs among all
	// picks: how often the render batch's per-interest fragments can hit.
	Distinct  int
	MailBytes int // average size of a composed digest
}

// Rate is select + render + compose subscribers per second.
func (s selRender) Rate() float64 { return float64(s.Sample) / s.Wall.Seconds() }

// CPURate is the rate the CPU time allows with Workers cores to itself:
// subscribers per CPU second times Workers. On a busy machine it is the
// better estimate of what the code does on an idle one.
func (s selRender) CPURate() float64 {
	return float64(s.Sample) / s.CPU.Seconds() * float64(s.Workers)
}

// cpuTime is this process's user+sys time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchConfig is the configuration the digest runs use (see papermailEnv).
func benchConfig() config.Config {
	cfg := config.Default()
	cfg.BaseURL = "https://papers.example.org"
	cfg.Mail.From = "Papermail <digest@papers.example.org>"
	cfg.Digest.Timezone = "UTC"
	return cfg
}

// measureSelectRender opens the store at dbPath read-only, indexes the
// candidate papers the way a digest run does and selects and renders the
// digest of the first sample subscribers on GOMAXPROCS goroutines. With
// profile set, the timed pass is CPU-profiled into that file.
func measureSelectRender(dbPath string, sample int, now time.Time, profile string) (selRender, error) {
	var res selRender
	st, err := store.Open(dbPath, store.Options{ReadOnly: true})
	if err != nil {
		return res, err
	}
	defer st.Close()
	cfg := benchConfig()
	// The runner selects and renders only; it must never send.
	parts, err := app.Build(cfg, st, app.Options{Sender: noSender{}})
	if err != nil {
		return res, err
	}
	subs := make([]model.Subscriber, 0, sample)
	err = st.ForEachSubscriber(1000, func(b []model.Subscriber) error {
		subs = append(subs, b[:min(len(b), sample-len(subs))]...)
		if len(subs) == sample {
			return errEnough
		}
		return nil
	})
	if err != nil && err != errEnough {
		return res, err
	}
	res.Sample = len(subs)
	runner := parts.Runner
	// The first preview builds the candidate index (and the run's render
	// batch), as the start of a digest run does.
	index := func() error {
		runner.Invalidate()
		t := time.Now()
		if _, err := runner.Preview(selection.Profile{Interests: []string{"index"}}, 1, now); err != nil {
			return err
		}
		if res.Index == 0 {
			res.Index = time.Since(t)
		}
		return nil
	}
	p := &preparer{runner: runner, now: now}
	res.Workers = runtime.GOMAXPROCS(0)

	if err := index(); err != nil {
		return res, err
	}
	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			return res, fmt.Errorf("cpu profile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return res, fmt.Errorf("cpu profile: %w", err)
		}
	}
	t, c := time.Now(), cpuTime()
	pass1, err := p.all(subs, res.Workers, true)
	res.Wall, res.CPU = time.Since(t), cpuTime()-c
	if profile != "" {
		pprof.StopCPUProfile()
	}
	if err != nil {
		return res, err
	}
	res.Prepare = pass1.prep
	if n := len(subs) - pass1.none; n > 0 {
		res.MailBytes = int(pass1.bytes / int64(n))
	}

	if err := index(); err != nil {
		return res, err
	}
	pass2, err := p.all(subs, res.Workers, false)
	if err != nil {
		return res, err
	}
	res.Select = pass2.sel
	res.Picks = float64(pass2.picks) / float64(len(subs))
	res.NoPicks = pass2.none
	res.Distinct = p.distinct.Len()
	return res, nil
}

var errEnough = errors.New("enough subscribers")

// preparer prepares subscribers' digests through the runner's preview API:
// the digest each would get now, as a message file (select, render,
// compose), or only its picks (select).
type preparer struct {
	runner *digest.Runner
	now    time.Time
	// distinct collects paper id + matched words of every pick.
	distinct keySet
}

// keySet is a concurrency-safe set of strings.
type keySet struct {
	mu sync.Mutex
	m  map[string]struct{}
}

func (k *keySet) add(key string) {
	k.mu.Lock()
	if k.m == nil {
		k.m = make(map[string]struct{})
	}
	k.m[key] = struct{}{}
	k.mu.Unlock()
}

// Len is the number of distinct keys added.
func (k *keySet) Len() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.m)
}

type passStats struct {
	sel, prep   time.Duration
	picks, none int
	bytes       int64
}

// all prepares every subscriber on workers goroutines: whole digests with
// full set, else selection only.
func (p *preparer) all(subs []model.Subscriber, workers int, full bool) (passStats, error) {
	var next atomic.Int64
	stats := make([]passStats, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := &stats[w]
			for {
				i := int(next.Add(1)) - 1
				if i >= len(subs) {
					return
				}
				if err := p.one(&subs[i], s, full); err != nil {
					errs[w] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	var tot passStats
	for w, s := range stats {
		if errs[w] != nil {
			return tot, errs[w]
		}
		tot.sel += s.sel
		tot.prep += s.prep
		tot.picks += s.picks
		tot.none += s.none
		tot.bytes += s.bytes
	}
	return tot, nil
}

// byteCount counts what is written to it.
type byteCount int64

func (c *byteCount) Write(b []byte) (int, error) { *c += byteCount(len(b)); return len(b), nil }

func (p *preparer) one(sub *model.Subscriber, s *passStats, full bool) error {
	t0 := time.Now()
	if full {
		var n byteCount
		ok, err := p.runner.WriteDigestEML(&n, sub, p.now)
		if err != nil {
			return fmt.Errorf("digest of subscriber %d: %w", sub.ID, err)
		}
		s.prep += time.Since(t0)
		if !ok {
			s.none++
		}
		s.bytes += int64(n)
		return nil
	}
	picks, err := p.runner.PreviewFor(sub, p.now)
	if err != nil {
		return fmt.Errorf("picks of subscriber %d: %w", sub.ID, err)
	}
	s.sel += time.Since(t0)
	s.picks += len(picks)
	if len(picks) == 0 {
		s.none++
	}
	for i := range picks {
		p.distinct.add(picks[i].Paper.ID + "\x00" + strings.Join(picks[i].Matched, "\x00"))
	}
	return nil
}

// stageReport is what the stages child prints: digest.Runner's stage
// timers and the run's totals.
type stageReport struct {
	Load, Select, Render, Compose, Record time.Duration
	Sent, Due                             int
	Wall                                  time.Duration
}

// writeHeap writes a heap profile (after a collection) to path; failures
// are reported on stderr and do not stop the run.
func writeHeap(path string) {
	runtime.GC()
	f, err := os.Create(path)
	if err == nil {
		err = pprof.WriteHeapProfile(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "heap profile:", err)
	}
}

// stagesMain is the stages child: it runs one digest in-process with the
// real runner, store and SMTP mailer, wired as internal/cli does, optionally
// under the CPU profiler, and prints the runner's stage timers as JSON.
func stagesMain(profile, heap string) error {
	cfg, _, err := config.Load("", os.Environ())
	if err != nil {
		return err
	}
	st, err := app.OpenStore(cfg, store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	// The digest as the papermail binary wires it; the stage times are
	// those its "digest run" log line reports.
	runLog := &runLine{next: slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})}
	p, err := app.Build(cfg, st, app.Options{Log: slog.New(runLog)})
	if err != nil {
		return err
	}
	r := p.Runner
	if heap != "" {
		// The live heap near the end of the run (nine tenths), when every
		// cache is as full as it gets.
		var once sync.Once
		r.Progress = func(done, due int) {
			if due >= 100 && done >= due*9/10 {
				once.Do(func() { writeHeap(heap) })
			}
		}
	}
	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	now := time.Now()
	sum, err := r.Run(context.Background(), digest.Spec{Now: now, Date: now.In(cfg.Location()).Format(digest.DateLayout)})
	if err != nil {
		return err
	}
	ms := runLog.ms
	if ms == nil {
		return errors.New(`the run logged no "digest run" line`)
	}
	rep := stageReport{
		Load: ms["load_ms"], Select: ms["select_ms"], Render: ms["render_ms"], Compose: ms["compose_ms"], Record: ms["record_ms"],
		Sent: sum.Sent, Due: sum.Due, Wall: sum.Duration,
	}
	return json.NewEncoder(os.Stdout).Encode(rep)
}

// runLine is a log handler that keeps the *_ms attributes of the runner's
// "digest run" line and passes what next handles on to it.
type runLine struct {
	next slog.Handler
	mu   sync.Mutex
	ms   map[string]time.Duration
}

func (h *runLine) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelInfo || h.next.Enabled(ctx, l)
}

func (h *runLine) Handle(ctx context.Context, rec slog.Record) error {
	if rec.Message == "digest run" {
		ms := map[string]time.Duration{}
		rec.Attrs(func(a slog.Attr) bool {
			if strings.HasSuffix(a.Key, "_ms") && a.Value.Kind() == slog.KindInt64 {
				ms[a.Key] = time.Duration(a.Value.Int64()) * time.Millisecond
			}
			return true
		})
		h.mu.Lock()
		h.ms = ms
		h.mu.Unlock()
	}
	if h.next.Enabled(ctx, rec.Level) {
		return h.next.Handle(ctx, rec)
	}
	return nil
}

func (h *runLine) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *runLine) WithGroup(string) slog.Handler      { return h }

// ingestMain is the ingest-profile child: it ingests one jsonl file into
// the store in data_dir the way `papermail ingest` does, under the CPU
// profiler, and prints how long loading and storing took.
func ingestMain(dataDir, file, profile string) error {
	st, err := store.Open(filepath.Join(dataDir, "papermail.db"), store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	t := time.Now()
	papers, _, err := feeds.Load(context.Background(), file, feeds.FormatJSONL, t)
	if err != nil {
		return err
	}
	load := time.Since(t)
	t = time.Now()
	res, err := st.PutPapers(papers, time.Now())
	if err != nil {
		return err
	}
	fmt.Printf("load+parse %s, store %s: %d added\n", load.Round(time.Millisecond), time.Since(t).Round(time.Millisecond), res.Added)
	return nil
}

// noSender is the sender of a runner used only to select and render.
type noSender struct{}

func (noSender) Deliver(context.Context, <-chan *mailer.Job, func(*mailer.Job)) error {
	return errors.New("bench: this runner selects and renders only")
}
