package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/papermail/papermail/internal/app"
	"github.com/papermail/papermail/internal/config"
	"github.com/papermail/papermail/internal/digest"
	"github.com/papermail/papermail/internal/scheduler"
	"github.com/papermail/papermail/internal/smtptest"
	"github.com/papermail/papermail/internal/store"
)

// largeSchedule is the delivery time of the large store's subscribers
// (digest.schedule): their zones are chosen around it (see largeZones).
const largeSchedule = "0 7 * * *"

// largeResult is the large-store measurement (-large N): a store of N
// subscribers imported with the real `papermail subscribers import`,
// nobody due, then a small subset made due and sent by `papermail serve`.
type largeResult struct {
	N, Due, Conns int
	// Zone is digest.timezone of the large store, where the local time at
	// the start is about 02:00, five hours before the delivery time (07:00),
	// so none of the N is due; DueZone is the zone of the Due subscribers
	// imported later, where it is about 12:00, so they are.
	Zone, DueZone string
	CSVBytes      int64
	Import        usage
	ImportOut     string
	StoreBytes    int64
	// Tick is the in-process tick child's report; TickUsage that child's
	// whole life (open the store, build the parts, the ticks).
	Tick      tickReport
	TickUsage usage
	Idle      idleResult
	SR        selRender
	// DueImport is importing the Due subscribers into the N-subscriber
	// store.
	DueImport    usage
	DueImportOut string
	Record       recordResult
	// Full is the full-list run (-large-full): the real `papermail
	// digest` sending every subscriber of the store that day's digest.
	Full *sendRun
}

// tickReport is what the tick child prints.
type tickReport struct {
	// Open is opening the store and building the parts (app.Build).
	Open time.Duration
	// First is the first scheduler tick of the process (the due index's
	// pages not yet read); Tick the mean of Ticks more; RunnerTick the mean
	// of as many scheduled runs (digest.Runner.Run with no date), each of
	// which checks the due index itself and returns.
	First, Tick, RunnerTick time.Duration
	Ticks                   int
	// NextDue is the first instant in the due index.
	NextDue time.Time
	// PeakRSS is the child's own VmHWM at its end, in bytes (the harness
	// samples it every 20 ms, which a short child can outrun).
	PeakRSS int64
}

// idleResult is `papermail serve` on the N-subscriber store with nobody
// due: its CPU from start to Settle after healthy, then over Window.
type idleResult struct {
	Window, Settle time.Duration
	StartCPU       time.Duration
	WindowCPU      time.Duration
	Usage          usage // the whole process: peak RSS, CPU
}

// PerMinute is the CPU seconds per minute of the idle window.
func (r idleResult) PerMinute() float64 {
	if r.Window <= 0 {
		return 0
	}
	return r.WindowCPU.Seconds() / r.Window.Minutes()
}

// statTick is the resolution of /proc's CPU times (USER_HZ = 100).
const statTick = 10 * time.Millisecond

// PerMinuteMax is PerMinute, or one clock tick over the window when the
// window saw less than a tick: the most it can have been.
func (r idleResult) PerMinuteMax() float64 {
	if r.WindowCPU < statTick && r.Window > 0 {
		return statTick.Seconds() / r.Window.Minutes()
	}
	return r.PerMinute()
}

// PerMinuteString is PerMinute, or "< x" (one clock tick over the window)
// when the window saw less than a tick.
func (r idleResult) PerMinuteString() string {
	if r.WindowCPU < statTick && r.Window > 0 {
		return fmt.Sprintf("< %.3f", statTick.Seconds()/r.Window.Minutes())
	}
	return fmt.Sprintf("%.3f", r.PerMinute())
}

// recordResult is `papermail serve` sending the Due subscribers' digests
// from the N-subscriber store at its first tick: the counts and stage
// times of its "digest run" log line, what the loopback server received,
// and the process's usage from start to the end of that run.
type recordResult struct {
	Due, Sent, Received int
	Run, Record         time.Duration
	Select, Render      time.Duration
	Usage               usage
}

// RecordPerDigest is the record stage (summed over the connections: each
// waits for its outcome to be durable) per digest sent.
func (r recordResult) RecordPerDigest() time.Duration {
	if r.Sent == 0 {
		return 0
	}
	return r.Record / time.Duration(r.Sent)
}

// etcZone names the fixed-offset zone of UTC+offset hours (the Etc
// names have the sign reversed: Etc/GMT-7 is UTC+7).
func etcZone(offset int) string {
	switch {
	case offset > 0:
		return "Etc/GMT-" + strconv.Itoa(offset)
	case offset < 0:
		return "Etc/GMT+" + strconv.Itoa(-offset)
	}
	return "Etc/GMT"
}

// largeZones picks, for a run starting at now, a zone where the local time
// is 02:00-02:59 (nobody there is due before 07:00, hours later) and one
// where it is 12:00-12:59 (everyone there is due: 07:00 has passed today).
// Fixed offsets run from UTC-12 to UTC+14, so both always exist.
func largeZones(now time.Time) (idle, due string) {
	h := now.UTC().Hour()
	o := 2 - h
	if o < -12 {
		o += 24
	}
	return etcZone(o), etcZone(12 - h)
}

// writeSubscribersCSV writes n rows of the import format (email, interests,
// timezone) to path, addresses numbered from first, one to four distinct
// interests each, all in zone ("" for digest.timezone). It returns the
// file size.
func writeSubscribersCSV(path string, first, n int, zone string, seed uint64) (int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	w := csv.NewWriter(bw)
	interests := allInterests()
	r := rand.New(rand.NewPCG(seed, 5))
	if err := w.Write([]string{"email", "interests", "timezone"}); err != nil {
		return 0, err
	}
	var mine []string
	for i := range n {
		mine = someInterests(r, interests, mine[:0])
		if err := w.Write([]string{fmt.Sprintf("reader%08d@example.net", first+i), strings.Join(mine, "; "), zone}); err != nil {
			return 0, err
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return 0, err
	}
	if err := bw.Flush(); err != nil {
		return 0, err
	}
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return st.Size(), f.Close()
}

// benchLarge measures a large store of n subscribers (see largeResult). Every step runs
// a child process: the papermail binary (import, serve) or this program's
// tick child; select runs in this process on the same store.
func benchLarge(ctx context.Context, o options, n int, bin, work, baseDB string) (*largeResult, error) {
	now := time.Now()
	r := &largeResult{N: n, Due: o.largeDue, Conns: o.conns}
	r.Zone, r.DueZone = largeZones(now)
	dir := filepath.Join(work, fmt.Sprintf("large%d", n))
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	if !o.keep {
		defer os.RemoveAll(dir)
	}
	db := filepath.Join(dir, "papermail.db")
	if err := copyFile(baseDB, db); err != nil {
		return nil, err
	}
	env := func(extra ...string) []string {
		return papermailEnv(dir, append([]string{"PAPERMAIL_DIGEST_TIMEZONE=" + r.Zone, "PAPERMAIL_DIGEST_SCHEDULE=" + largeSchedule}, extra...)...)
	}

	csvPath := filepath.Join(dir, "subscribers.csv")
	logf("large N=%d: writing the subscribers file (digest.timezone %s, delivery at 07:00 there)", r.N, r.Zone)
	var err error
	if r.CSVBytes, err = writeSubscribersCSV(csvPath, 1, r.N, "", 3); err != nil {
		return nil, err
	}
	logf("large N=%d: papermail subscribers import", r.N)
	if r.ImportOut, r.Import, err = run(ctx, env(), bin, "subscribers", "import", csvPath); err != nil {
		return nil, err
	}
	os.Remove(csvPath)
	if r.StoreBytes, err = fileSize(db); err != nil {
		return nil, err
	}
	logf("large N=%d: import %s s, CPU %s s, peak RSS %.1f MiB; store %.1f MiB", r.N, secs(r.Import.Wall), secs(r.Import.CPU()), mib(r.Import.MaxRSS), mib(r.StoreBytes))

	logf("large N=%d: scheduler ticks with nobody due (tick child)", r.N)
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	out, u, err := run(ctx, env(), self, "-tick-child", "-ticks", strconv.Itoa(o.largeTicks))
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(out), &r.Tick); err != nil {
		return nil, fmt.Errorf("tick child output %q: %w", tail(out, 300), err)
	}
	u.MaxRSS = max(u.MaxRSS, r.Tick.PeakRSS)
	r.TickUsage = u
	logf("large N=%d: first tick %s, then %s a tick (runner %s), next due %s; child peak RSS %.1f MiB", r.N, r.Tick.First, r.Tick.Tick, r.Tick.RunnerTick,
		r.Tick.NextDue.UTC().Format(time.RFC3339), mib(u.MaxRSS))

	if o.largeIdle > 0 {
		logf("large N=%d: papermail serve idle for %s", r.N, o.largeIdle)
		if r.Idle, err = serveIdle(ctx, bin, dir, env, o.largeIdle); err != nil {
			return nil, fmt.Errorf("serve idle: %w", err)
		}
		logf("large N=%d: serve idle %s CPU-s/min (start %s s), peak RSS %.1f MiB", r.N, r.Idle.PerMinuteString(), secs(r.Idle.StartCPU), mib(r.Idle.Usage.MaxRSS))
	}

	logf("large N=%d: select+render+compose (%d subscribers)", r.N, min(r.N, o.sample))
	if r.SR, err = measureSelectRender(db, min(r.N, o.sample), time.Now(), ""); err != nil {
		return nil, fmt.Errorf("select+render: %w", err)
	}
	logf("large N=%d: select %.0f µs a subscriber, select+render+compose %.0f/s", r.N, float64(r.SR.Select.Microseconds())/float64(r.SR.Sample), r.SR.Rate())

	if r.Due > 0 {
		duePath := filepath.Join(dir, "due.csv")
		if _, err := writeSubscribersCSV(duePath, r.N+1, r.Due, r.DueZone, 4); err != nil {
			return nil, err
		}
		logf("large N=%d: importing %d subscribers due now (%s)", r.N, r.Due, r.DueZone)
		if r.DueImportOut, r.DueImport, err = run(ctx, env(), bin, "subscribers", "import", duePath); err != nil {
			return nil, err
		}
		logf("large N=%d: papermail serve sends their digests", r.N)
		if r.Record, err = serveDue(ctx, bin, dir, env, o.conns); err != nil {
			return nil, fmt.Errorf("serve with %d due: %w", r.Due, err)
		}
		logf("large N=%d: %d sent in %s s, record %s s summed = %s a digest; serve peak RSS %.1f MiB", r.N, r.Record.Sent, secs(r.Record.Run),
			secs(r.Record.Record), r.Record.RecordPerDigest(), mib(r.Record.Usage.MaxRSS))
	}

	if r.N <= o.largeFull {
		logf("large N=%d: papermail digest to every subscriber (full list)", r.N)
		f, err := fullRun(ctx, bin, env, o.conns)
		if err != nil {
			return nil, fmt.Errorf("full-list digest: %w", err)
		}
		r.Full = &f
		logf("large N=%d: full list: %d sent of %d due in %s s = %.0f/s, CPU %s s, peak RSS %.1f MiB (anon %.1f, file-backed %.1f)", r.N, f.Sent, f.Due,
			secs(f.Usage.Wall), f.Rate(), secs(f.Usage.CPU()), mib(f.Usage.MaxRSS), mib(f.Usage.AnonRSS), mib(f.Usage.FileRSS))
	}
	return r, nil
}

// fullRun runs the real `papermail digest` (today's date in
// digest.timezone: every active subscriber who has not had it is due,
// whatever their hour) on the large store in place, sending to a
// loopback SMTP server over conns connections, as a child process whose
// peak RSS is sampled (watchHWM). It comes last: it changes the store.
func fullRun(ctx context.Context, bin string, env func(...string) []string, conns int) (sendRun, error) {
	res := sendRun{Kind: "digest"}
	srv, err := smtptest.Start(smtptest.Options{Discard: true})
	if err != nil {
		return res, err
	}
	defer srv.Close()
	out, u, err := run(ctx, env(smtpEnv(srv, conns)...), bin, "digest")
	res.Usage = u
	if err != nil {
		return res, err
	}
	res.Received, res.Bytes = srv.Count(), srv.Bytes()
	if err := parseDigestSummary(out, &res); err != nil {
		return res, err
	}
	if res.Sent != res.Received {
		return res, fmt.Errorf("papermail reports %d sent but the server received %d", res.Sent, res.Received)
	}
	if res.Sent == 0 {
		return res, fmt.Errorf("the full-list digest sent nothing (%d due)", res.Due)
	}
	return res, nil
}

// tickMain is the tick child: it opens the store in data_dir and builds
// the parts as papermail does, then times the daemon's scheduler tick
// (scheduler.Tick, what serve's digest loop calls) and the runner's
// scheduled run, both with nobody due, and prints a tickReport as JSON. A
// tick that finds someone due is an error: the figure would not be the
// idle tick's.
func tickMain(ticks int) error {
	if ticks < 1 {
		return errors.New("-ticks must be at least 1")
	}
	cfg, _, err := config.Load("", os.Environ())
	if err != nil {
		return err
	}
	var rep tickReport
	t := time.Now()
	st, err := app.OpenStore(cfg, store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	p, err := app.Build(cfg, st, app.Options{Log: log})
	if err != nil {
		return err
	}
	rep.Open = time.Since(t)
	ctx := context.Background()
	ran := 0
	s, err := scheduler.New(ctx, cfg, scheduler.Jobs{Digest: func(ctx context.Context, now time.Time) {
		ran++
	}}, st, log, p.Metrics)
	if err != nil {
		return err
	}
	now := time.Now()
	t = time.Now()
	s.Tick(now)
	rep.First = time.Since(t)
	t = time.Now()
	for range ticks {
		s.Tick(now)
	}
	rep.Tick, rep.Ticks = time.Since(t)/time.Duration(ticks), ticks
	if ran != 0 {
		return fmt.Errorf("the scheduler found someone due at %s: not an idle tick", now.UTC().Format(time.RFC3339))
	}
	t = time.Now()
	for range ticks {
		sum, err := p.Runner.Run(ctx, digest.Spec{Now: now})
		if err != nil {
			return err
		}
		if sum.Due != 0 {
			return fmt.Errorf("the scheduled run found %d due at %s: not an idle tick", sum.Due, now.UTC().Format(time.RFC3339))
		}
	}
	rep.RunnerTick = time.Since(t) / time.Duration(ticks)
	at, ok, err := st.FirstDueAfter(time.Time{})
	if err != nil {
		return err
	}
	if ok {
		rep.NextDue = at
	}
	if v := procField("/proc/self/status", "VmHWM", ":"); v != "" {
		fmt.Sscanf(v, "%d", &rep.PeakRSS)
		rep.PeakRSS *= 1024
	}
	return json.NewEncoder(os.Stdout).Encode(rep)
}

// serveProc is a running `papermail serve` child.
type serveProc struct {
	cmd     *exec.Cmd
	exited  chan error
	hwm     func() (int64, int64, int64)
	start   time.Time
	base    string
	logPath string
	done    bool
}

// startServe starts `papermail serve` on dir with env (plus a free
// loopback port) and waits until it answers /healthz.
func startServe(bin, dir string, env []string) (*serveProc, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &serveProc{base: "http://127.0.0.1:" + strconv.Itoa(port), logPath: filepath.Join(dir, "serve.log"), exited: make(chan error, 1)}
	lf, err := os.Create(s.logPath)
	if err != nil {
		return nil, err
	}
	defer lf.Close()
	s.cmd = exec.Command(bin, "serve")
	s.cmd.Env = append(env, "PAPERMAIL_HTTP_LISTEN=127.0.0.1:"+strconv.Itoa(port), "PAPERMAIL_BASE_URL="+s.base)
	s.cmd.Stdout, s.cmd.Stderr = lf, lf
	s.start = time.Now()
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start papermail serve: %w", err)
	}
	s.hwm = watchHWM(s.cmd.Process.Pid)
	go func() { s.exited <- s.cmd.Wait() }()
	if err := waitHealthy(s.base, s.exited); err != nil {
		s.stop()
		return nil, fmt.Errorf("%w (log: %s)", err, tail(readFile(s.logPath), 1000))
	}
	return s, nil
}

func readFile(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// cpu is the child's user+sys time so far, from /proc/PID/stat (in clock
// ticks of 1/100 s, Linux's USER_HZ).
func (s *serveProc) cpu() (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(s.cmd.Process.Pid) + "/stat")
	if err != nil {
		return 0, err
	}
	return parseStatCPU(string(b))
}

// parseStatCPU reads utime + stime (fields 14 and 15) of a /proc/PID/stat
// line; the command name in brackets may hold spaces.
func parseStatCPU(stat string) (time.Duration, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("unexpected /proc stat %q", tail(stat, 100))
	}
	f := strings.Fields(stat[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("unexpected /proc stat %q", tail(stat, 100))
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("/proc stat: %w", err)
	}
	return time.Duration(utime+stime) * statTick, nil
}

// stop ends the child with SIGINT (a graceful shutdown) and returns its
// usage.
func (s *serveProc) stop() (usage, error) {
	if s.done {
		return usage{}, nil
	}
	s.done = true
	s.cmd.Process.Signal(os.Interrupt)
	var err error
	select {
	case err = <-s.exited:
	case <-time.After(90 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
		err = errors.New("papermail serve did not stop within 90s of SIGINT; killed")
	}
	peak, anon, file := s.hwm()
	u := rusageOf(s.cmd.ProcessState, time.Since(s.start))
	u.MaxRSS, u.AnonRSS, u.FileRSS = peak, anon, file
	if err != nil {
		return u, fmt.Errorf("papermail serve: %w (log: %s)", err, tail(readFile(s.logPath), 1000))
	}
	return u, nil
}

// serveIdle runs `papermail serve` on the store in dir with nobody due:
// its CPU up to settle after it is healthy, then over window. A loopback
// SMTP server stands by; a digest sent meanwhile is an error.
func serveIdle(ctx context.Context, bin, dir string, env func(...string) []string, window time.Duration) (idleResult, error) {
	res := idleResult{Window: window, Settle: 2 * time.Second}
	srv, err := smtptest.Start(smtptest.Options{Discard: true})
	if err != nil {
		return res, err
	}
	defer srv.Close()
	s, err := startServe(bin, dir, env(smtpEnv(srv, 1)...))
	if err != nil {
		return res, err
	}
	defer s.stop()
	sleep := func(d time.Duration) error {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-s.exited:
			s.exited <- err
			return fmt.Errorf("papermail serve exited: %v (log: %s)", err, tail(readFile(s.logPath), 1000))
		case <-time.After(d):
			return nil
		}
	}
	if err := sleep(res.Settle); err != nil {
		return res, err
	}
	if res.StartCPU, err = s.cpu(); err != nil {
		return res, err
	}
	if err := sleep(window); err != nil {
		return res, err
	}
	c, err := s.cpu()
	if err != nil {
		return res, err
	}
	res.WindowCPU = c - res.StartCPU
	if res.Usage, err = s.stop(); err != nil {
		return res, err
	}
	if n := srv.Count(); n > 0 {
		return res, fmt.Errorf("%d digests were sent while nobody was due", n)
	}
	return res, nil
}

// runAttr finds key=N in the "digest run" log line of serve's text log.
func runAttr(line, key string) (int, bool) {
	m := regexp.MustCompile(`\b` + regexp.QuoteMeta(key) + `=(\d+)\b`).FindStringSubmatch(line)
	if m == nil {
		return 0, false
	}
	n, err := strconv.Atoi(m[1])
	return n, err == nil
}

// parseRunLine reads the counts and stage times of the runner's "digest
// run" line in a text log; ok is false when the log has none yet.
func parseRunLine(log string) (recordResult, bool) {
	var res recordResult
	for line := range strings.Lines(log) {
		if !strings.Contains(line, `msg="digest run"`) {
			continue
		}
		ms := func(key string) time.Duration {
			n, _ := runAttr(line, key)
			return time.Duration(n) * time.Millisecond
		}
		due, ok1 := runAttr(line, "due")
		sent, ok2 := runAttr(line, "sent")
		if !ok1 || !ok2 {
			continue
		}
		res.Due, res.Sent = due, sent
		res.Run, res.Record = ms("duration_ms"), ms("record_ms")
		res.Select, res.Render = ms("select_ms"), ms("render_ms")
		return res, true
	}
	return res, false
}

// serveDue runs `papermail serve` on the store in dir, where some
// subscribers are due, until its first tick's "digest run" line is
// logged, sending to a loopback SMTP server over conns connections.
func serveDue(ctx context.Context, bin, dir string, env func(...string) []string, conns int) (recordResult, error) {
	srv, err := smtptest.Start(smtptest.Options{Discard: true})
	if err != nil {
		return recordResult{}, err
	}
	defer srv.Close()
	s, err := startServe(bin, dir, env(append(smtpEnv(srv, conns), "PAPERMAIL_LOG_LEVEL=info", "PAPERMAIL_LOG_FORMAT=text")...))
	if err != nil {
		return recordResult{}, err
	}
	defer s.stop()
	deadline := time.After(15 * time.Minute)
	for {
		if res, ok := parseRunLine(readFile(s.logPath)); ok {
			u, err := s.stop()
			res.Usage, res.Received = u, srv.Count()
			if err != nil {
				return res, err
			}
			if res.Received != res.Sent {
				return res, fmt.Errorf("serve reports %d sent, the server received %d", res.Sent, res.Received)
			}
			if res.Sent == 0 {
				return res, fmt.Errorf("serve's run sent nothing (%d due)", res.Due)
			}
			return res, nil
		}
		select {
		case <-ctx.Done():
			return recordResult{}, ctx.Err()
		case err := <-s.exited:
			s.exited <- err
			return recordResult{}, fmt.Errorf("papermail serve exited before its digest run: %v (log: %s)", err, tail(readFile(s.logPath), 1000))
		case <-deadline:
			return recordResult{}, fmt.Errorf("no digest run logged within 15 minutes (log: %s)", tail(readFile(s.logPath), 1000))
		case <-time.After(200 * time.Millisecond):
		}
	}
}
