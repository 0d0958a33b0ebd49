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

	"github.com/papermail/papermail/internal/cli"
	"github.com/papermail/papermail/internal/config"
	"github.com/papermail/papermail/internal/digest"
	"github.com/papermail/papermail/internal/feeds"
	"github.com/papermail/papermail/internal/links"
	"github.com/papermail/papermail/internal/mailer"
	"github.com/papermail/papermail/internal/metrics"
	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/render"
	"github.com/papermail/papermail/internal/selection"
	"github.com/papermail/papermail/internal/store"
	"github.com/papermail/papermail/internal/token"
)

// selRender is the in-process measurement of selection and rendering
// alone (no store writes, no sending).
type selRender struct {
	Candidates int
	Sample     int
	Workers    int
	// Index is loading the candidates from the store and indexing them.
	Index time.Duration
	// Wall is the wall time of select + render for the whole sample;
	// Select and Render are the time spent in each, summed over workers.
	Wall, Select, Render time.Duration
	// CPU is the process's user+sys time during the select + render pass
	// (nothing else runs in the harness then).
	CPU time.Duration
	// WallCompose and Compose are the same with composing the MIME
	// message added (a second pass on a fresh index).
	WallCompose, Compose time.Duration
	Picks                float64 // average papers per digest
	NoPicks              int     // subscribers nothing matched
	// Distinct counts distinct (paper, matched words) pairs among all
	// picks: how often a per-paper fragment cache would hit.
	Distinct             int
	TextBytes, HTMLBytes int // average size of the rendered parts
}

// Rate is select + render subscribers per second.
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

// RateCompose is select + render + compose subscribers per second.
func (s selRender) RateCompose() float64 { return float64(s.Sample) / s.WallCompose.Seconds() }

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
// profile set, the select + render pass is CPU-profiled into that file.
func measureSelectRender(dbPath string, sample int, now time.Time, profile string) (selRender, error) {
	var res selRender
	st, err := store.Open(dbPath, store.Options{ReadOnly: true})
	if err != nil {
		return res, err
	}
	defer st.Close()
	cfg := benchConfig()
	signer, err := token.NewSigner(st.Secret())
	if err != nil {
		return res, err
	}
	lk := links.New(cfg.BaseURL, signer)
	eng, err := render.New("")
	if err != nil {
		return res, err
	}
	comp, err := mailer.NewComposer(nil)
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
	runner := digest.New(digest.Deps{Config: cfg, Store: st, Engine: eng, Links: lk, Composer: comp})
	index := func() (*selection.Index, error) {
		t := time.Now()
		ix, err := runner.CandidateIndex(now)
		if err != nil {
			return nil, err
		}
		if res.Index == 0 {
			res.Index = time.Since(t)
		}
		res.Candidates = ix.Len()
		return ix, nil
	}
	p := &preparer{runner: runner, now: now, date: now.UTC().Format(digest.DateLayout)}
	res.Workers = runtime.GOMAXPROCS(0)

	if p.ix, err = index(); err != nil {
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
	pass1, err := p.all(subs, res.Workers, nil)
	res.Wall, res.CPU = time.Since(t), cpuTime()-c
	if profile != "" {
		pprof.StopCPUProfile()
	}
	if err != nil {
		return res, err
	}
	res.Select, res.Render = pass1.sel, pass1.ren
	res.Picks = float64(pass1.picks) / float64(len(subs))
	res.NoPicks = pass1.none
	if n := len(subs) - pass1.none; n > 0 {
		res.TextBytes, res.HTMLBytes = int(pass1.text/int64(n)), int(pass1.html/int64(n))
	}

	if p.ix, err = index(); err != nil {
		return res, err
	}
	t = time.Now()
	pass2, err := p.all(subs, res.Workers, comp)
	res.WallCompose = time.Since(t)
	if err != nil {
		return res, err
	}
	res.Compose = pass2.comp
	res.Distinct = p.distinct.Len()
	return res, nil
}

var errEnough = errors.New("enough subscribers")

// preparer does what internal/digest's prepare does for one subscriber,
// minus the ledger: select, build the view, render, optionally compose.
type preparer struct {
	runner *digest.Runner
	ix     *selection.Index
	now    time.Time
	date   string
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
	sel, ren, comp time.Duration
	picks, none    int
	text, html     int64
}

// all prepares every subscriber on workers goroutines.
func (p *preparer) all(subs []model.Subscriber, workers int, comp *mailer.Composer) (passStats, error) {
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
				if err := p.one(&subs[i], s, comp); err != nil {
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
		tot.ren += s.ren
		tot.comp += s.comp
		tot.picks += s.picks
		tot.none += s.none
		tot.text += s.text
		tot.html += s.html
	}
	return tot, nil
}

func (p *preparer) one(sub *model.Subscriber, s *passStats, comp *mailer.Composer) error {
	t0 := time.Now()
	picks := p.runner.Pick(p.ix, sub, p.now, nil)
	t1 := time.Now()
	s.sel += t1.Sub(t0)
	s.picks += len(picks)
	if comp != nil { // not in the timed select + render pass
		for i := range picks {
			p.distinct.add(picks[i].Paper.ID + "\x00" + strings.Join(picks[i].Matched, "\x00"))
		}
	}
	if len(picks) == 0 {
		s.none++
		return nil
	}
	msg, err := p.runner.Message(sub, p.date, picks)
	if err != nil {
		return fmt.Errorf("render digest of subscriber %d: %w", sub.ID, err)
	}
	t2 := time.Now()
	s.ren += t2.Sub(t1)
	s.text += int64(len(msg.Text))
	s.html += int64(len(msg.HTML))
	if comp == nil {
		return nil
	}
	if _, err := comp.Compose(msg); err != nil {
		return fmt.Errorf("compose digest of subscriber %d: %w", sub.ID, err)
	}
	s.comp += time.Since(t2)
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
	// The same collector settings as the papermail binary, so the stage
	// timers and the profile show what it does.
	cli.TuneGC()
	cfg, _, err := config.Load("", os.Environ())
	if err != nil {
		return err
	}
	st, err := store.Open(cfg.DBPath(), store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	signer, err := token.NewSigner(st.Secret())
	if err != nil {
		return err
	}
	lk := links.New(cfg.BaseURL, signer)
	eng, err := render.New(cfg.TemplatesDir)
	if err != nil {
		return err
	}
	comp, err := mailer.NewComposer(nil)
	if err != nil {
		return err
	}
	m := metrics.New()
	sender, err := mailer.NewSMTP(mailer.Config{
		Host: cfg.SMTP.Host, Port: cfg.SMTP.Port, TLS: cfg.SMTP.TLS,
		Connections: cfg.SMTP.Connections, MaxAttempts: cfg.SMTP.MaxAttempts,
		MaxPerConnection: cfg.SMTP.MaxPerConnection, RatePerSecond: cfg.SMTP.RatePerSecond,
		Timeout: cfg.SMTP.Timeout, HELO: cfg.SMTP.HELO,
	}, comp, mailer.Hooks{OnAttempt: m.OnAttempt})
	if err != nil {
		return err
	}
	r := digest.New(digest.Deps{Config: cfg, Store: st, Engine: eng, Links: lk, Composer: comp, Sender: sender, Metrics: m,
		Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if heap != "" {
		// The live heap halfway through the run, when every cache is warm.
		var once sync.Once
		r.Progress = func(done, due int) {
			if due >= 100 && done >= due/2 {
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
	rep := stageReport{
		Load: time.Duration(r.Stages.Load.Load()), Select: time.Duration(r.Stages.Select.Load()),
		Render: time.Duration(r.Stages.Render.Load()), Compose: time.Duration(r.Stages.Compose.Load()),
		Record: time.Duration(r.Stages.Record.Load()), Sent: sum.Sent, Due: sum.Due, Wall: sum.Duration,
	}
	return json.NewEncoder(os.Stdout).Encode(rep)
}

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
