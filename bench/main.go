// Command bench is papermail's benchmark harness. Run from the repository
// root:
//
//	go -C bench run . [-n 10000,100000] [-connections 4] [-papers 100000] [-candidates 500] [-out docs/benchmarks.md]
//
// It builds the papermail binary, writes a jsonl file of synthetic papers
// (candidates of them inside the digest window, the rest older) and
// ingests it with the real `papermail ingest` (timed), then for each
// subscriber count N writes N active subscribers with one to four
// interests each into a copy of that store and measures:
//
//   - a real `papermail digest` child process sending to a loopback SMTP
//     server (internal/smtptest, in this process): wall time, messages
//     received, user+sys CPU and peak RSS of the child;
//   - the baseline: the same number of pre-built messages of the digests'
//     average size sent with go-mail's Client over the same number of
//     connections, from a child process too (this program re-executed in
//     baseline mode), measured the same way; digest and baseline runs
//     alternate when -repeat is above 1;
//   - selection plus rendering alone, in this process on GOMAXPROCS
//     goroutines, for a sample of the subscribers;
//   - the stage timers of the real digest.Runner in a separate in-process
//     run (optionally CPU-profiled with -cpuprofile-dir).
//
// With -large N[,N...] (default empty: off; e.g. -large 100000,1000000)
// it also measures, for each N, a store of N subscribers without sending
// N digests: it imports them from a CSV file with the real `papermail
// subscribers import` into a copy of the papers store, in a
// digest.timezone where their 07:00 delivery time is hours away, then
// reports the scheduler tick with nobody due (a child
// process that opens the store as papermail does and times
// scheduler.Tick), `papermail serve` idle on that store (CPU per minute,
// peak RSS), select and render for a sample of its subscribers, and
// recording digests into it: -large-due subscribers (default 1000)
// imported in a zone where 07:00 has passed, whose digests the real
// `papermail serve` sends at its first tick to the loopback server (the
// record stage of its "digest run" line per digest, and its peak RSS).
// Last, at sizes up to -large-full (default 100000), the real `papermail
// digest` sends every subscriber of that store the day's digest (the
// full-list run): wall, CPU, and peak RSS split anonymous / file-backed.
// -n "" skips the sending runs at -n.
//
// Finally it loads POST /subscribe of `papermail serve` with wrk (or a Go
// load generator when wrk is missing) and checks the store kept every
// acknowledged subscription. It prints one table and rewrites the
// generated part of docs/benchmarks.md, with a description of the machine.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/papermail/papermail/internal/config"
	"github.com/papermail/papermail/internal/smtptest"
	"github.com/papermail/papermail/internal/store"
)

func main() {
	var err error
	switch {
	case len(os.Args) > 1 && os.Args[1] == "-baseline":
		err = baselineChild(os.Args[2:])
	case len(os.Args) > 1 && os.Args[1] == "-stages-child":
		err = stagesChild(os.Args[2:])
	case len(os.Args) > 1 && os.Args[1] == "-ingest-child":
		err = ingestChild(os.Args[2:])
	case len(os.Args) > 1 && os.Args[1] == "-tick-child":
		err = tickChild(os.Args[2:])
	default:
		err = harness(os.Args[1:])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// baselineChild parses the hidden baseline mode's flags.
func baselineChild(args []string) error {
	fs := flag.NewFlagSet("bench -baseline", flag.ContinueOnError)
	addr := fs.String("addr", "", "SMTP server host:port")
	count := fs.Int("count", 0, "messages to send")
	size := fs.Int("size", 0, "message size in bytes")
	conns := fs.Int("connections", 4, "parallel connections")
	maxPer := fs.Int("max-per-connection", 100, "messages per connection before re-dialing")
	noop := fs.Bool("noop", true, "go-mail's NOOP check before each message (its default)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	return baselineMain(*addr, *count, *size, *conns, *maxPer, *noop)
}

// stagesChild parses the hidden stages mode's flags.
func stagesChild(args []string) error {
	fs := flag.NewFlagSet("bench -stages-child", flag.ContinueOnError)
	profile := fs.String("cpuprofile", "", "write a CPU profile of the run to this file")
	heap := fs.String("memprofile", "", "write a heap profile taken near the end of the run (nine tenths) to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	return stagesMain(*profile, *heap)
}

// ingestChild parses the hidden ingest profiling mode's flags.
func ingestChild(args []string) error {
	fs := flag.NewFlagSet("bench -ingest-child", flag.ContinueOnError)
	dir := fs.String("data", "", "data_dir to ingest into")
	file := fs.String("file", "", "jsonl file")
	profile := fs.String("cpuprofile", "", "write a CPU profile to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	return ingestMain(*dir, *file, *profile)
}

// tickChild parses the hidden tick mode's flags.
func tickChild(args []string) error {
	fs := flag.NewFlagSet("bench -tick-child", flag.ContinueOnError)
	ticks := fs.Int("ticks", 1000, "ticks to time")
	if err := fs.Parse(args); err != nil {
		return err
	}
	return tickMain(*ticks)
}

type options struct {
	ns                        []int
	conns, papers, candidates int
	repeat, sample            int
	out, workdir, profileDir  string
	keep, subscribe, stages   bool
	send, reuse, noop         bool
	wrkThreads, wrkConns      int
	wrkDuration               time.Duration
	// large is the subscriber count of the large-store measurement (0:
	// none); largeDue the subscribers then made due, largeTicks the ticks
	// timed, largeIdle how long serve is watched idle.
	large                []int
	largeDue, largeTicks int
	largeIdle            time.Duration
	// largeFull is the largest -large size at which every subscriber is
	// sent a digest (0: none).
	largeFull int
	// env is extra environment for the papermail digest processes (for
	// experiments such as GOGC=400).
	env []string
}

func parseOptions(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: go -C bench run . [flags]   (from the repository root)")
		fs.PrintDefaults()
	}
	ns := fs.String("n", "10000", "comma-separated subscriber counts, e.g. 10000,100000 (\"\": none, with -large)")
	fs.IntVar(&o.conns, "connections", 4, "SMTP connections for papermail and the baseline")
	fs.IntVar(&o.papers, "papers", 100000, "papers in the store")
	fs.IntVar(&o.candidates, "candidates", 500, "papers inside the digest window")
	fs.IntVar(&o.repeat, "repeat", 2, "digest/baseline pairs per N (alternating which runs first)")
	fs.IntVar(&o.sample, "sample", 20000, "subscribers in the select+render measurement (at most N)")
	fs.StringVar(&o.out, "out", "docs/benchmarks.md", "results file to update (relative paths here and in -workdir and -cpuprofile-dir start at the repository root; empty: none)")
	fs.StringVar(&o.workdir, "workdir", "", "folder for the generated data (default: a new temporary folder)")
	fs.BoolVar(&o.keep, "keep", false, "keep the generated data")
	fs.BoolVar(&o.reuse, "reuse", false, "reuse the papers store (and subscriber stores) kept in -workdir by an earlier -keep run; skips ingest")
	fs.BoolVar(&o.subscribe, "subscribe", true, "benchmark POST /subscribe with wrk")
	fs.BoolVar(&o.send, "send", true, "run the digest and baseline sending runs")
	fs.BoolVar(&o.stages, "stages", true, "run the digest once more in-process for the stage times of its \"digest run\" log line")
	fs.StringVar(&o.profileDir, "cpuprofile-dir", "", "write CPU profiles of select+render and of the in-process digest here")
	fs.BoolVar(&o.noop, "noop", true, "baseline: keep go-mail's NOOP before each message (its default)")
	fs.IntVar(&o.wrkThreads, "wrk-threads", 2, "wrk threads")
	fs.IntVar(&o.wrkConns, "wrk-connections", 16, "wrk connections")
	fs.DurationVar(&o.wrkDuration, "wrk-duration", 10*time.Second, "wrk duration")
	large := fs.String("large", "", "also measure stores of these many subscribers (comma-separated, e.g. 100000,1000000) imported with papermail subscribers import: tick with nobody due, serve idle, select, and recording a small due subset's digests (empty: skip)")
	fs.IntVar(&o.largeDue, "large-due", 1000, "-large: subscribers imported due now whose digests serve sends and records (0: skip)")
	fs.IntVar(&o.largeTicks, "large-ticks", 1000, "-large: scheduler ticks timed")
	fs.DurationVar(&o.largeIdle, "large-idle", 30*time.Second, "-large: how long papermail serve is watched idle (0: skip)")
	fs.IntVar(&o.largeFull, "large-full", 100000, "-large: at sizes up to this, papermail digest then sends every subscriber a digest (full-list run: wall, CPU, peak RSS anon/file-backed; 0: none)")
	env := fs.String("env", "", "extra KEY=VALUE,... for the papermail digest processes (experiments, e.g. GOGC=400)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	for kv := range strings.SplitSeq(*env, ",") {
		if kv = strings.TrimSpace(kv); kv != "" {
			if !strings.Contains(kv, "=") {
				return o, fmt.Errorf("-env: %q is not KEY=VALUE", kv)
			}
			o.env = append(o.env, kv)
		}
	}
	for f := range strings.SplitSeq(*large, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 {
			return o, fmt.Errorf("-large: %q is not a positive subscriber count", f)
		}
		o.large = append(o.large, n)
	}
	for f := range strings.SplitSeq(*ns, ",") {
		if strings.TrimSpace(f) == "" && strings.TrimSpace(*ns) == "" {
			continue // -n "": no sending runs, only -large
		}
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return o, fmt.Errorf("-n: %q is not a positive subscriber count", f)
		}
		o.ns = append(o.ns, n)
	}
	switch {
	case o.conns < 1 || o.repeat < 1 || o.sample < 1:
		return o, errors.New("-connections, -repeat and -sample must be at least 1")
	case o.largeDue < 0 || o.largeTicks < 1 || o.largeIdle < 0 || o.largeFull < 0:
		return o, errors.New("-large-due, -large-idle and -large-full must not be negative, -large-ticks at least 1")
	case o.candidates < 1 || o.papers < o.candidates:
		return o, fmt.Errorf("-candidates (%d) must be between 1 and -papers (%d)", o.candidates, o.papers)
	}
	return o, nil
}

func harness(args []string) error {
	o, err := parseOptions(args)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	if err := os.Chdir(root); err != nil {
		return err
	}
	rp := &report{Command: "go -C bench run . " + strings.Join(args, " "), Date: time.Now(), Machine: describeMachine(),
		Conns: o.conns, Papers: o.papers, Candidates: o.candidates, Repeat: o.repeat}
	rp.Command = strings.TrimSpace(rp.Command)
	logf("machine: %s, %d cores, load %s", rp.Machine.CPU, rp.Machine.Cores, rp.Machine.LoadStart)

	work := o.workdir
	if work == "" {
		if work, err = os.MkdirTemp("", "papermail-bench-"); err != nil {
			return err
		}
	} else if err := os.MkdirAll(work, 0o700); err != nil {
		return err
	}
	if work, err = filepath.Abs(work); err != nil {
		return err
	}
	if !o.keep {
		defer os.RemoveAll(work)
	}
	if o.profileDir != "" {
		if o.profileDir, err = filepath.Abs(o.profileDir); err != nil {
			return err
		}
		if err := os.MkdirAll(o.profileDir, 0o755); err != nil {
			return err
		}
	}

	bin := filepath.Join(work, "papermail")
	logf("building papermail")
	if _, _, err := run(ctx, childEnv(), "go", "build", "-o", bin, "./cmd/papermail"); err != nil {
		return err
	}

	now := time.Now()
	jsonl := filepath.Join(work, "papers.jsonl")
	baseDB := filepath.Join(work, "base", "papermail.db")
	if o.reuse {
		if _, err := os.Stat(baseDB); err != nil {
			return fmt.Errorf("-reuse: no store from an earlier run in %s: %w", work, err)
		}
		logf("reusing %s (no ingest measured)", baseDB)
	} else if err := prepareStore(ctx, o, rp, bin, work, jsonl, baseDB, now); err != nil {
		return err
	}

	for _, n := range o.ns {
		r, err := benchN(ctx, o, bin, work, baseDB, n)
		if err != nil {
			return fmt.Errorf("N=%d: %w", n, err)
		}
		rp.Ns = append(rp.Ns, r)
	}
	for _, n := range o.large {
		r, err := benchLarge(ctx, o, n, bin, work, baseDB)
		if err != nil {
			return fmt.Errorf("large N=%d: %w", n, err)
		}
		rp.Large = append(rp.Large, r)
	}
	if o.subscribe {
		logf("POST /subscribe load test")
		s, err := benchSubscribe(ctx, bin, filepath.Join(work, "serve"), o.wrkThreads, o.wrkConns, o.wrkDuration)
		if err != nil {
			return fmt.Errorf("subscribe benchmark: %w", err)
		}
		rp.Subscribe = &s
	}
	rp.Machine.LoadEnd = loadAvg()
	rp.Notes = notes(o, rp)

	if len(rp.Ns) > 0 {
		fmt.Println()
		fmt.Print(rp.table())
	}
	for _, r := range rp.Large {
		fmt.Println()
		fmt.Print(r.table())
	}
	fmt.Println()
	for _, t := range rp.targets() {
		met := "NOT MET"
		if t.met {
			met = "met"
		}
		fmt.Printf("%-70s want %-26s got %-40s %s\n", t.what, t.want, t.got, met)
	}
	if o.out != "" {
		if err := os.MkdirAll(filepath.Dir(o.out), 0o755); err != nil {
			return err
		}
		if err := writeDoc(o.out, rp.markdown()); err != nil {
			return fmt.Errorf("write %s: %w", o.out, err)
		}
		logf("wrote %s", o.out)
	}
	return nil
}

// prepareStore writes the papers file and ingests it with papermail,
// recording the ingest figures in rp.
func prepareStore(ctx context.Context, o options, rp *report, bin, work, jsonl, baseDB string, now time.Time) error {
	cfg := config.Default()
	var err error
	logf("writing %d papers (%d in the window) to %s", o.papers, o.candidates, jsonl)
	window := cfg.Digest.Window - 3*time.Hour // slack: later runs still see every candidate inside the window
	if rp.JSONLBytes, err = writePapers(jsonl, o.papers, o.candidates, now, window, 9*24*time.Hour); err != nil {
		return err
	}
	logf("ingesting with papermail ingest")
	if rp.IngestOut, rp.Ingest, err = run(ctx, papermailEnv(filepath.Dir(baseDB)), bin, "ingest", "--format", "jsonl", jsonl); err != nil {
		return err
	}
	if rp.IngestStore, err = fileSize(baseDB); err != nil {
		return err
	}
	if rp.IngestInWindow, err = countSince(baseDB, now.Add(-max(cfg.Digest.Window, 8*24*time.Hour))); err != nil {
		return err
	}
	logf("ingest: %s s, store %.1f MiB for %.1f MiB jsonl, %d candidates", secs(rp.Ingest.Wall), mib(rp.IngestStore), mib(rp.JSONLBytes), rp.IngestInWindow)
	if o.profileDir != "" {
		logf("profiling ingest in-process")
		self, err := os.Executable()
		if err != nil {
			return err
		}
		dir := filepath.Join(work, "ingest-profile")
		out, _, err := run(ctx, childEnv(), self, "-ingest-child", "-data", dir, "-file", jsonl,
			"-cpuprofile", filepath.Join(o.profileDir, "ingest.pprof"))
		if err != nil {
			return err
		}
		os.RemoveAll(dir)
		logf("ingest profile: %s", strings.TrimSpace(out))
	}

	return nil
}

// benchN measures one subscriber count.
func benchN(ctx context.Context, o options, bin, work, baseDB string, n int) (*nResult, error) {
	r := &nResult{N: n}
	dir := filepath.Join(work, fmt.Sprintf("n%d", n))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	if !o.keep {
		defer os.RemoveAll(dir)
	}
	pristine := filepath.Join(dir, "pristine.db")
	if _, err := os.Stat(pristine); err != nil || !o.reuse {
		if err := copyFile(baseDB, pristine); err != nil {
			return nil, err
		}
		logf("N=%d: writing subscribers", n)
		t := time.Now()
		if err := addSubscribers(pristine, n, t); err != nil {
			return nil, err
		}
		r.Generate = time.Since(t)
	}
	var err error
	if r.StoreBytes, err = fileSize(pristine); err != nil {
		return nil, err
	}

	profile := ""
	if o.profileDir != "" {
		profile = filepath.Join(o.profileDir, fmt.Sprintf("selectrender-%d.pprof", n))
	}
	logf("N=%d: select+render+compose alone (%d subscribers)", n, min(n, o.sample))
	if r.SR, err = measureSelectRender(pristine, min(n, o.sample), time.Now(), profile); err != nil {
		return nil, fmt.Errorf("select+render: %w", err)
	}
	logf("N=%d: select+render+compose %.0f subscribers/s, %.2f papers per digest", n, r.SR.Rate(), r.SR.Picks)

	runDir := filepath.Join(dir, "run")
	var last sendRun
	digestRun := func() error {
		logf("N=%d: papermail digest", n)
		d, err := runDigest(ctx, bin, pristine, runDir, o.conns, o.env)
		if err != nil {
			return err
		}
		logf("N=%d: digest %d msgs in %s s = %.0f/s, CPU %s s, RSS %.1f MiB (anon %.1f, file %.1f), avg %d bytes", n, d.Received, secs(d.Usage.Wall), d.Rate(),
			secs(d.Usage.CPU()), mib(d.Usage.MaxRSS), mib(d.Usage.AnonRSS), mib(d.Usage.FileRSS), d.AvgSize())
		if d.Received == 0 {
			return errors.New("the digest sent nothing")
		}
		r.Runs, last = append(r.Runs, d), d
		return nil
	}
	baselineRun := func() error {
		logf("N=%d: baseline (%d messages of %d bytes)", n, last.Received, last.AvgSize())
		b, err := runBaseline(ctx, last.Received, last.AvgSize(), o.conns, config.DefaultMaxPerConnection, o.noop)
		if err != nil {
			return err
		}
		logf("N=%d: baseline %d msgs in %s s = %.0f/s, CPU %s s, avg %d bytes", n, b.Received, secs(b.Usage.Wall), b.Rate(),
			secs(b.Usage.CPU()), b.AvgSize())
		r.Runs = append(r.Runs, b)
		return nil
	}
	for i := range o.repeat {
		if !o.send {
			break
		}
		order := []func() error{digestRun, baselineRun}
		if i%2 == 1 {
			order[0], order[1] = baselineRun, digestRun
		}
		for _, f := range order {
			if err := f(); err != nil {
				return nil, err
			}
		}
	}
	// Keep digest and baseline runs paired in the order of the pairs.
	r.Runs = pairUp(r.Runs)

	if o.stages {
		logf("N=%d: in-process digest for stage timers", n)
		profile := ""
		if o.profileDir != "" {
			profile = filepath.Join(o.profileDir, fmt.Sprintf("digest-%d.pprof", n))
		}
		st, u, err := runStages(ctx, pristine, runDir, o.conns, profile, o.env)
		if err != nil {
			return nil, fmt.Errorf("stages: %w", err)
		}
		r.Stages, r.StagesCPU = &st, u
	}
	return r, nil
}

// heapProfile names the heap profile that goes with a CPU profile.
func heapProfile(cpu string) string {
	if cpu == "" {
		return ""
	}
	return strings.TrimSuffix(cpu, ".pprof") + ".heap.pprof"
}

// pairUp orders runs as digest, baseline, digest, baseline...
func pairUp(runs []sendRun) []sendRun {
	var d, b []sendRun
	for _, s := range runs {
		if s.Kind == "digest" {
			d = append(d, s)
		} else {
			b = append(b, s)
		}
	}
	out := make([]sendRun, 0, len(runs))
	for i := range d {
		out = append(out, d[i])
		if i < len(b) {
			out = append(out, b[i])
		}
	}
	return out
}

// runStages runs the digest once more in a child process that wires the
// real runner in-process and reports its stage timers.
func runStages(ctx context.Context, pristine, dir string, conns int, profile string, env []string) (stageReport, usage, error) {
	var rep stageReport
	if err := os.RemoveAll(dir); err != nil {
		return rep, usage{}, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return rep, usage{}, err
	}
	defer os.RemoveAll(dir)
	if err := copyFile(pristine, filepath.Join(dir, "papermail.db")); err != nil {
		return rep, usage{}, err
	}
	srv, err := smtptest.Start(smtptest.Options{Discard: true})
	if err != nil {
		return rep, usage{}, err
	}
	defer srv.Close()
	self, err := os.Executable()
	if err != nil {
		return rep, usage{}, err
	}
	out, u, err := run(ctx, papermailEnv(dir, append(smtpEnv(srv, conns), env...)...), self, "-stages-child", "-cpuprofile", profile, "-memprofile", heapProfile(profile))
	if err != nil {
		return rep, u, err
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		return rep, u, fmt.Errorf("stages child output %q: %w", tail(out, 300), err)
	}
	if rep.Sent != srv.Count() {
		return rep, u, fmt.Errorf("stages run reports %d sent, server received %d", rep.Sent, srv.Count())
	}
	return rep, u, nil
}

func notes(o options, rp *report) []string {
	var ns []string
	var l1 float64
	fmt.Sscanf(rp.Machine.LoadStart, "%f", &l1)
	if l1 > float64(rp.Machine.Cores)/2 {
		ns = append(ns, fmt.Sprintf("The machine was busy: load average %s at start and %s at end on %d cores (other work shared the CPUs), so absolute rates are lower and noisier than on an idle machine; the ratios compare runs made back to back under the same load.",
			rp.Machine.LoadStart, rp.Machine.LoadEnd, rp.Machine.Cores))
	}
	if len(o.env) > 0 {
		ns = append(ns, "Experiment: the papermail digest processes ran with "+strings.Join(o.env, " ")+".")
	}
	if o.noop {
		ns = append(ns, "The baseline uses go-mail's Client with its defaults, which include a NOOP round trip before each message (run with -noop=false to drop it).")
	}
	for _, r := range rp.Ns {
		if r.SR.NoPicks > 0 {
			ns = append(ns, fmt.Sprintf("N=%d: %d of %d sampled subscribers matched nothing and get no digest (digest.fallback is none), so the digest run sends fewer than N messages.", r.N, r.SR.NoPicks, r.SR.Sample))
		}
	}
	return ns
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s  "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

func fileSize(path string) (int64, error) {
	st, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

// countSince counts the papers dated after since in the store at path.
func countSince(path string, since time.Time) (int, error) {
	st, err := store.Open(path, store.Options{ReadOnly: true})
	if err != nil {
		return 0, err
	}
	defer st.Close()
	ps, err := st.PapersSince(since)
	return len(ps), err
}

// moduleRoot finds the repository root (the folder with papermail's go.mod)
// from the working directory upwards.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(b), "module github.com/papermail/papermail\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run the harness inside the papermail repository (no go.mod of github.com/papermail/papermail found above the working directory)")
		}
		dir = parent
	}
}
