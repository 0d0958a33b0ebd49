package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// machine describes where the benchmark ran.
type machine struct {
	CPU, OS, Kernel, Go string
	Cores               int
	RAM                 string
	LoadStart, LoadEnd  string
}

func describeMachine() machine {
	m := machine{Cores: runtime.NumCPU(), CPU: "unknown", OS: "unknown", RAM: "unknown"}
	if v := procField("/proc/cpuinfo", "model name", ":"); v != "" {
		m.CPU = v
	}
	if v := procField("/proc/meminfo", "MemTotal", ":"); v != "" {
		var kb int64
		fmt.Sscanf(v, "%d", &kb)
		m.RAM = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
	}
	if v := procField("/etc/os-release", "PRETTY_NAME", "="); v != "" {
		m.OS = strings.Trim(v, `"`)
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if out, err := exec.Command("go", "version").Output(); err == nil {
		m.Go = strings.TrimSpace(string(out))
	} else {
		m.Go = runtime.Version()
	}
	m.LoadStart = loadAvg()
	return m
}

// procField returns the value of the first "key<sep> value" line of file.
func procField(file, key, sep string) string {
	f, err := os.Open(file)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), sep)
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// loadAvg is the 1, 5 and 15 minute load average.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// nResult is everything measured for one subscriber count.
type nResult struct {
	N          int
	Generate   time.Duration // writing the subscribers into the store
	StoreBytes int64         // the prepared store (papers + subscribers)
	SR         selRender
	Runs       []sendRun // digest and baseline runs in the order they ran
	Stages     *stageReport
	StagesCPU  usage
}

func (r *nResult) of(kind string) []sendRun {
	var out []sendRun
	for _, s := range r.Runs {
		if s.Kind == kind {
			out = append(out, s)
		}
	}
	return out
}

func mean(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

func span(xs []float64, format string) string {
	if len(xs) < 2 {
		return fmt.Sprintf(format, mean(xs))
	}
	lo, hi := xs[0], xs[0]
	for _, x := range xs {
		lo, hi = min(lo, x), max(hi, x)
	}
	return fmt.Sprintf(format+" ("+format+"–"+format+")", mean(xs), lo, hi)
}

// summary is one row of the main table.
type summary struct {
	digestRate, baseRate, ratio  []float64
	digestCPU, baseCPU, cpuRatio []float64
	peakRSS                      int64
	digestSize, baseSize         int
}

func (r *nResult) summary() summary {
	var s summary
	d, b := r.of("digest"), r.of("baseline")
	for i := range d {
		s.digestRate = append(s.digestRate, d[i].Rate())
		s.digestCPU = append(s.digestCPU, d[i].CPUPer1k())
		s.peakRSS = max(s.peakRSS, d[i].Usage.MaxRSS)
		s.digestSize = d[i].AvgSize()
		if i < len(b) {
			s.ratio = append(s.ratio, d[i].Rate()/b[i].Rate())
			s.cpuRatio = append(s.cpuRatio, d[i].CPUPer1k()/b[i].CPUPer1k())
		}
	}
	for i := range b {
		s.baseRate = append(s.baseRate, b[i].Rate())
		s.baseCPU = append(s.baseCPU, b[i].CPUPer1k())
		s.baseSize = b[i].AvgSize()
	}
	return s
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

func secs(d time.Duration) string { return fmt.Sprintf("%.2f", d.Seconds()) }

// report is the whole outcome of one harness run.
type report struct {
	Command    string
	Date       time.Time
	Machine    machine
	Conns      int
	Papers     int
	Candidates int
	Repeat     int
	NoopNote   string

	JSONLBytes     int64
	Ingest         usage
	IngestOut      string
	IngestStore    int64
	IngestInWindow int

	Ns        []*nResult
	Subscribe *subscribeResult
	Large     []*largeResult
	Notes     []string
}

// table is the one table the harness prints.
func (rp *report) table() string {
	var b strings.Builder
	b.WriteString("| N | digest msgs/s | baseline msgs/s | ratio | CPU s / 1k digests | baseline CPU s / 1k msgs | CPU ratio | select+render+compose subs/s | peak RSS | stages (s, summed over workers) |\n")
	b.WriteString("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
	for _, r := range rp.Ns {
		s := r.summary()
		stages := "—"
		if st := r.Stages; st != nil {
			stages = fmt.Sprintf("load %s · select %s · render %s · compose %s · record %s", secs(st.Load), secs(st.Select),
				secs(st.Render), secs(st.Compose), secs(st.Record))
		}
		fmt.Fprintf(&b, "| %d | %s | %s | %s | %s | %s | %s | %.0f (%.0f by CPU) | %.1f MiB | %s |\n", r.N,
			span(s.digestRate, "%.0f"), span(s.baseRate, "%.0f"), span(s.ratio, "%.2f"),
			span(s.digestCPU, "%.3f"), span(s.baseCPU, "%.3f"), span(s.cpuRatio, "%.2f"),
			r.SR.Rate(), r.SR.CPURate(), mib(s.peakRSS), stages)
	}
	return b.String()
}

type target struct {
	what, want, got string
	met             bool
}

func (rp *report) targets() []target {
	var ts []target
	for _, r := range rp.Ns {
		s := r.summary()
		ratio, cpu := mean(s.ratio), mean(s.cpuRatio)
		if len(s.ratio) > 0 {
			ts = append(ts,
				target{fmt.Sprintf("N=%d: digest rate / baseline rate (%d connections)", r.N, rp.Conns), "≥ 0.85", fmt.Sprintf("%.2f", ratio), ratio >= 0.85},
				target{fmt.Sprintf("N=%d: CPU per 1k digests / baseline CPU per 1k msgs", r.N), "≤ 1.25", fmt.Sprintf("%.2f", cpu), cpu <= 1.25})
		}
		ts = append(ts, target{fmt.Sprintf("N=%d: select + render + compose alone (%d candidates, up to 8 papers)", r.N, rp.Candidates), "≥ 10,000/s (goal 20,000 for select + render)",
			fmt.Sprintf("%.0f/s (%.0f/s by CPU time)", r.SR.Rate(), r.SR.CPURate()), r.SR.Rate() >= 10000})
		switch {
		case len(r.Runs) == 0:
		case r.N <= 100000:
			ts = append(ts, target{fmt.Sprintf("N=%d: peak RSS of papermail digest", r.N), "≤ 100 MiB", fmt.Sprintf("%.1f MiB", mib(s.peakRSS)), mib(s.peakRSS) <= 100})
		default:
			ts = append(ts, target{fmt.Sprintf("N=%d: peak RSS of papermail digest", r.N), "≤ 150 MiB", fmt.Sprintf("%.1f MiB", mib(s.peakRSS)), mib(s.peakRSS) <= 150})
		}
	}
	if rp.Ingest.Wall > 0 {
		ts = append(ts,
			target{fmt.Sprintf("ingest %d papers (jsonl)", rp.Papers), "≤ 10 s", secs(rp.Ingest.Wall) + " s", rp.Ingest.Wall <= 10*time.Second},
			target{"store size / jsonl size after ingest", "≤ 2", fmt.Sprintf("%.2f", float64(rp.IngestStore)/float64(rp.JSONLBytes)), rp.IngestStore <= 2*rp.JSONLBytes})
	}
	for _, r := range rp.Large {
		ts = append(ts, r.targets()...)
	}
	if s := rp.Subscribe; s != nil {
		ts = append(ts,
			target{"POST /subscribe throughput", "≥ 1,000 req/s", fmt.Sprintf("%.0f req/s", s.RPS), s.RPS >= 1000},
			target{"POST /subscribe p99 latency", "< 50 ms", fmt.Sprintf("%.1f ms", float64(s.P99)/1e6), s.P99 < 50*time.Millisecond},
			target{"POST /subscribe: nothing lost", "every 2xx stored", fmt.Sprintf("%d acknowledged, %d stored, %d non-2xx", s.Requests-s.Non2xx, s.Stored, s.Non2xx), s.Lost() == 0 && s.Non2xx == 0})
	}
	return ts
}

// markdown is the generated part of docs/benchmarks.md.
func (rp *report) markdown() string {
	var b strings.Builder
	m := rp.Machine
	fmt.Fprintf(&b, "Generated by `%s` on %s.\n\n", rp.Command, rp.Date.UTC().Format("2006-01-02 15:04 MST"))
	b.WriteString("### Machine\n\n")
	fmt.Fprintf(&b, "- CPU: %s, %d cores (`nproc`)\n- RAM: %s\n- OS: %s, kernel %s\n- Go: %s\n- Load average (1/5/15 min): %s at start, %s at end\n\n",
		m.CPU, m.Cores, m.RAM, m.OS, m.Kernel, m.Go, m.LoadStart, m.LoadEnd)
	if len(rp.Ns) == 0 {
		fmt.Fprintf(&b, "### Results\n\n%d candidate papers in the digest window out of %d stored; no sending runs (`-n \"\"`).\n", rp.Candidates, rp.Papers)
	} else {
		fmt.Fprintf(&b, "### Results\n\n%d candidate papers in the digest window out of %d stored; %d SMTP connections (papermail's `smtp.connections`, the baseline's too), each re-dialed after 100 messages; %d digest/baseline pair(s) per N, alternating which runs first. Ranges are min–max over the pairs.\n\n",
			rp.Candidates, rp.Papers, rp.Conns, rp.Repeat)
		b.WriteString(rp.table())
		b.WriteString("\n")
		b.WriteString("- **digest msgs/s**: messages the loopback server accepted during a real `papermail digest` child process, divided by its wall time (process start to exit: store open, candidate index, select, render, compose, send, ledger).\n")
		b.WriteString("- **baseline msgs/s**: the same number of pre-built messages of the digests' average size sent with go-mail's `Client` (`NewClient`, `DialWithContext`, `Send` per message) over the same number of connections to a fresh instance of the same server, also from a child process.\n")
		b.WriteString("- **CPU**: user + system time of the child process (`getrusage`), per 1,000 messages; the SMTP server runs in the harness process and is not counted for either side.\n")
		b.WriteString("- **select+render+compose subs/s**: in-process, no store writes and no sending: `digest.Runner.WriteDigestEML` (the digest a subscriber would get now: their sent papers read, selection, rendering in the run's batch, the composed message) for each sampled subscriber, on GOMAXPROCS goroutines; wall-clock rate, and in brackets the rate its CPU time allows with all cores to itself (subscribers per CPU second × cores), which other work on the machine does not lower. Select alone is a second pass with `digest.Runner.PreviewFor`; render+compose is the difference.\n")
		b.WriteString("- **peak RSS**: the highest `VmHWM` of the `papermail digest` process, sampled every 20 ms from /proc (`ru_maxrss` of a child also counts the harness it was forked from).\n")
		b.WriteString("- **stages**: the stage times (`load_ms`, `select_ms`, ...) of the \"digest run\" log line of the same digest run in a separate in-process run (the harness wires the real runner, store and SMTP mailer as `internal/cli` does); select/render/compose are summed over the prepare workers, record over the sending connections, so they can exceed the wall time.\n\n")

		b.WriteString("#### Runs\n\n| N | run | wall s | msgs | avg size | msgs/s | CPU s (user+sys) | CPU s / 1k | peak RSS | of it anon / file-backed (max sampled) |\n|---:|---|---:|---:|---:|---:|---:|---:|---:|---|\n")
		for _, r := range rp.Ns {
			for _, s := range r.Runs {
				fmt.Fprintf(&b, "| %d | %s | %s | %d | %.1f KB | %.0f | %s | %.3f | %.1f MiB | %.1f / %.1f MiB |\n", r.N, s.Kind, secs(s.Usage.Wall), s.Received,
					float64(s.AvgSize())/1000, s.Rate(), secs(s.Usage.CPU()), s.CPUPer1k(), mib(s.Usage.MaxRSS), mib(s.Usage.AnonRSS), mib(s.Usage.FileRSS))
			}
		}
		b.WriteString("\n#### Select + render + compose alone and stages\n\n| N | sample | candidates | index build | select+render+compose subs/s | by CPU time | select µs/sub | render+compose µs/sub | papers/digest | distinct (paper, matched) | nothing matched | mail size |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
		for _, r := range rp.Ns {
			sr := r.SR
			per := func(d time.Duration) string { return fmt.Sprintf("%.0f", float64(d.Microseconds())/float64(sr.Sample)) }
			fmt.Fprintf(&b, "| %d | %d | %d | %d ms | %.0f | %.0f | %s | %s | %.2f | %d | %d | %.1f KB |\n", r.N, sr.Sample, rp.Candidates,
				sr.Index.Milliseconds(), sr.Rate(), sr.CPURate(), per(sr.Select), per(max(sr.Prepare-sr.Select, 0)), sr.Picks, sr.Distinct, sr.NoPicks,
				float64(sr.MailBytes)/1000)
		}
		b.WriteString("\n")
		for _, r := range rp.Ns {
			if st := r.Stages; st != nil {
				fmt.Fprintf(&b, "- N=%d in-process run: %d sent in %s s wall, %s s CPU; stages load %s s, select %s s, render %s s, compose %s s, record %s s.\n",
					r.N, st.Sent, secs(st.Wall), secs(r.StagesCPU.CPU()), secs(st.Load), secs(st.Select), secs(st.Render), secs(st.Compose), secs(st.Record))
			}
			fmt.Fprintf(&b, "- N=%d: writing the subscribers took %s s; prepared store %.1f MiB.\n", r.N, secs(r.Generate), mib(r.StoreBytes))
		}
	}
	for _, r := range rp.Large {
		b.WriteString(r.markdown())
	}
	if rp.Ingest.Wall > 0 {
		b.WriteString("\n#### Ingest\n\n")
		fmt.Fprintf(&b, "`papermail ingest --format jsonl` of %d synthetic papers (%.1f MiB jsonl) into an empty store: %s s wall, %s s CPU, peak RSS %.1f MiB; store file %.1f MiB = %.2f× the jsonl; %d papers in the candidate span afterwards. Output: `%s`\n",
			rp.Papers, mib(rp.JSONLBytes), secs(rp.Ingest.Wall), secs(rp.Ingest.CPU()), mib(rp.Ingest.MaxRSS), mib(rp.IngestStore),
			float64(rp.IngestStore)/float64(rp.JSONLBytes), rp.IngestInWindow, strings.TrimSpace(rp.IngestOut))
	}
	if s := rp.Subscribe; s != nil {
		b.WriteString("\n#### POST /subscribe\n\n")
		fmt.Fprintf(&b, "`papermail serve` (Maildir delivery, `http.subscribe_rate: 0`), loaded with %s: %d threads, %d connections, %s, each request a new address with the form's CSRF token.\n\n",
			s.Tool, s.Threads, s.Conns, s.Duration)
		fmt.Fprintf(&b, "| req/s | requests | non-2xx | p50 | p90 | p99 | stored (pending) | confirmations delivered | outbox left | serve CPU s | serve peak RSS |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		fmt.Fprintf(&b, "| %.0f | %d | %d | %.1f ms | %.1f ms | %.1f ms | %d | %d | %d | %s | %.1f MiB |\n\n", s.RPS, s.Requests, s.Non2xx,
			float64(s.P50)/1e6, float64(s.P90)/1e6, float64(s.P99)/1e6, s.Stored, s.Confirmations, s.OutboxLeft, secs(s.Serve.CPU()), mib(s.Serve.MaxRSS))
		fmt.Fprintf(&b, "Socket errors: %s. Stored can exceed acknowledged by the requests in flight when the load stopped (at most one per connection). The outbox took %s s after the load to deliver the confirmations.\n",
			s.SocketErrors, secs(s.ConfirmationsSettled))
	}
	b.WriteString("\n### Targets\n\n| target | want | measured | met |\n|---|---|---|---|\n")
	for _, t := range rp.targets() {
		met := "**not met**"
		if t.met {
			met = "met"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", t.what, t.want, t.got, met)
	}
	if len(rp.Notes) > 0 {
		b.WriteString("\n### Notes from this run\n\n")
		for _, n := range rp.Notes {
			b.WriteString("- " + n + "\n")
		}
	}
	return b.String()
}

// Markers around the generated part of the results file; text outside
// them is kept when the harness runs again.
const (
	beginMarker = "<!-- bench:begin (generated by go -C bench run .; edits inside are overwritten) -->"
	endMarker   = "<!-- bench:end -->"
)

const docHeader = `# Benchmarks

How fast papermail sends a day's digests compared with sending the same
messages with go-mail alone, how much CPU and memory it takes, and how
fast ingest and the subscribe form are. The figures come from one
command, run from the repository root:

    go -C bench run . -n 10000,100000

and, for stores of 100,000 and a million subscribers (imported with the real
` + "`papermail subscribers import`" + `; the tick with nobody due, ` + "`serve`" + ` idle,
select, recording a thousand due digests, and at 100,000 a full-list
` + "`papermail digest`" + ` to every subscriber with its peak RSS):

    go -C bench run . -n 10000 -large 100000,1000000

` + "`go -C bench run . -h`" + ` lists the flags (-connections, -papers, -candidates,
-repeat, -sample, -subscribe, -stages, -large, -large-due, -large-idle,
-cpuprofile-dir, -env, -out, ...).
The harness builds the papermail binary, writes a synthetic store
(papers ingested with the real ` + "`papermail ingest`" + `, subscribers written
with the store package), runs the real ` + "`papermail digest`" + ` and the
go-mail baseline as separate processes against a loopback SMTP server
(internal/smtptest) and rewrites the part of this file between the
markers; the rest is written by hand.

`

// writeDoc writes the generated part into path, keeping any text outside
// the markers (such as a hand-written profile section).
func writeDoc(path, generated string) error {
	block := beginMarker + "\n\n" + generated + "\n" + endMarker + "\n"
	old, err := os.ReadFile(path)
	switch {
	case err == nil:
		s := string(old)
		i, j := strings.Index(s, beginMarker), strings.Index(s, endMarker)
		if i >= 0 && j > i {
			rest := strings.TrimPrefix(s[j+len(endMarker):], "\n")
			return os.WriteFile(path, []byte(s[:i]+block+rest), 0o644)
		}
		return os.WriteFile(path, []byte(s+"\n## Results\n\n"+block), 0o644)
	case os.IsNotExist(err):
		return os.WriteFile(path, []byte(docHeader+"## Results\n\n"+block), 0o644)
	default:
		return err
	}
}

// rssLimit is issue #12's bound on a papermail process's peak RSS with n
// subscribers: 100 MiB up to 100,000, 150 MiB beyond.
func rssLimit(n int) float64 {
	if n <= 100000 {
		return 100
	}
	return 150
}

func micros(d time.Duration) string { return fmt.Sprintf("%.1f µs", float64(d.Nanoseconds())/1e3) }

// largeTable is the large-store measurement's table (-large).
func (r *largeResult) table() string {
	var b strings.Builder
	b.WriteString("| N | import s (CPU s, peak RSS) | store | first tick | tick | runner tick | tick child peak RSS | serve idle CPU s/min | serve idle peak RSS | select µs/sub | select+render+compose subs/s | due: sent | run s | record / digest | serve peak RSS (due run) | full list: sent | full list s (CPU s) | full list peak RSS (anon / file-backed) |\n")
	b.WriteString("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	idleCPU, idleRSS := "—", "—"
	if r.Idle.Window > 0 {
		idleCPU, idleRSS = r.Idle.PerMinuteString(), fmt.Sprintf("%.1f MiB", mib(r.Idle.Usage.MaxRSS))
	}
	sent, runS, rec, recRSS := "—", "—", "—", "—"
	if r.Record.Sent > 0 {
		sent, runS = fmt.Sprintf("%d of %d", r.Record.Sent, r.Record.Due), secs(r.Record.Run)
		rec, recRSS = fmt.Sprintf("%.2f ms", float64(r.Record.RecordPerDigest().Microseconds())/1e3), fmt.Sprintf("%.1f MiB", mib(r.Record.Usage.MaxRSS))
	}
	sel := "—"
	if r.SR.Sample > 0 {
		sel = fmt.Sprintf("%.0f", float64(r.SR.Select.Microseconds())/float64(r.SR.Sample))
	}
	fullSent, fullS, fullRSS := "—", "—", "—"
	if f := r.Full; f != nil {
		fullSent, fullS = fmt.Sprintf("%d of %d", f.Sent, f.Due), fmt.Sprintf("%s (%s)", secs(f.Usage.Wall), secs(f.Usage.CPU()))
		fullRSS = fmt.Sprintf("%.1f MiB (%.1f / %.1f)", mib(f.Usage.MaxRSS), mib(f.Usage.AnonRSS), mib(f.Usage.FileRSS))
	}
	fmt.Fprintf(&b, "| %d | %s (%s, %.1f MiB) | %.1f MiB | %s | %s | %s | %.1f MiB | %s | %s | %s | %.0f | %s | %s | %s | %s | %s | %s | %s |\n",
		r.N, secs(r.Import.Wall), secs(r.Import.CPU()), mib(r.Import.MaxRSS), mib(r.StoreBytes), micros(r.Tick.First), micros(r.Tick.Tick),
		micros(r.Tick.RunnerTick), mib(r.TickUsage.MaxRSS), idleCPU, idleRSS, sel, r.SR.Rate(), sent, runS, rec, recRSS, fullSent, fullS, fullRSS)
	return b.String()
}

// targets are issue #12's must-shows the large store measures.
func (r *largeResult) targets() []target {
	ts := []target{{fmt.Sprintf("N=%d: scheduler tick with nobody due (mean of %d, real store)", r.N, r.Tick.Ticks), "< 5 ms",
		fmt.Sprintf("%s (first %s)", micros(r.Tick.Tick), micros(r.Tick.First)), r.Tick.Tick < 5*time.Millisecond && r.Tick.First < 5*time.Millisecond}}
	lim := rssLimit(r.N)
	if r.Idle.Window > 0 {
		ts = append(ts,
			target{fmt.Sprintf("N=%d: papermail serve idle, CPU over %s", r.N, r.Idle.Window), "< 0.5 CPU-s/min", r.Idle.PerMinuteString() + " CPU-s/min", r.Idle.PerMinuteMax() < 0.5},
			target{fmt.Sprintf("N=%d: papermail serve idle, peak RSS", r.N), "≤ 150 MiB", fmt.Sprintf("%.1f MiB", mib(r.Idle.Usage.MaxRSS)), mib(r.Idle.Usage.MaxRSS) <= 150})
	}
	if r.Record.Sent > 0 {
		ts = append(ts, target{fmt.Sprintf("N=%d: peak RSS of papermail serve sending %d due digests", r.N, r.Record.Sent), fmt.Sprintf("≤ %.0f MiB", lim),
			fmt.Sprintf("%.1f MiB", mib(r.Record.Usage.MaxRSS)), mib(r.Record.Usage.MaxRSS) <= lim})
	}
	if f := r.Full; f != nil {
		ts = append(ts, target{fmt.Sprintf("N=%d: peak RSS of papermail digest to the full list (%d sent)", r.N, f.Sent), fmt.Sprintf("≤ %.0f MiB", lim),
			fmt.Sprintf("%.1f MiB (anon %.1f / file-backed %.1f)", mib(f.Usage.MaxRSS), mib(f.Usage.AnonRSS), mib(f.Usage.FileRSS)), mib(f.Usage.MaxRSS) <= lim})
	}
	return ts
}

// markdown is the large store's part of the generated section.
func (r *largeResult) markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n#### Large store: %d subscribers\n\n", r.N)
	fmt.Fprintf(&b, "The papers store above plus %d subscribers (one to four interests each) imported from a %.1f MiB CSV file with the real `papermail subscribers import`; digest.timezone %s, where the local time at the start was about 02:00 and the delivery time is 07:00, so nobody is due. No digest is sent to the %d: each figure below is the real code path at this store size, from child processes (the select row excepted).\n\n",
		r.N, mib(r.CSVBytes), r.Zone, r.N)
	b.WriteString(r.table())
	b.WriteString("\n")
	fmt.Fprintf(&b, "- **import**: `papermail subscribers import` of the %d rows into the papers store: wall, user+sys CPU and peak RSS (VmHWM) of the process; **store** is the file afterwards. Output: `%s`\n", r.N, strings.TrimSpace(r.ImportOut))
	fmt.Fprintf(&b, "- **first tick / tick / runner tick**: a child process (this harness re-executed) opens the store and builds the parts with `app.OpenStore` and `app.Build` as papermail does (%s), then times `scheduler.Tick` (what `serve`'s digest loop calls) at the same instant: the first call, then the mean of %d more; **runner tick** is the mean of %d scheduled runs (`digest.Runner.Run` without a date), each of which looks at the due index and returns. Any tick that finds someone due fails the measurement. The first due instant in the index was %s. **tick child peak RSS** is that process's VmHWM.\n",
		r.Tick.Open.Round(time.Millisecond), r.Tick.Ticks, r.Tick.Ticks, r.Tick.NextDue.UTC().Format("2006-01-02 15:04 MST"))
	if r.Idle.Window > 0 {
		fmt.Fprintf(&b, "- **serve idle**: the real `papermail serve` on this store (a loopback SMTP server standing by, no feeds): its CPU (/proc/PID/stat utime+stime) over %s, from %s after it answered /healthz (it had used %s s of CPU to start), per minute; peak RSS is its VmHWM over its whole life (anon %.1f / file-backed %.1f MiB sampled).\n",
			r.Idle.Window, r.Idle.Settle, secs(r.Idle.StartCPU), mib(r.Idle.Usage.AnonRSS), mib(r.Idle.Usage.FileRSS))
	}
	if r.SR.Sample > 0 {
		fmt.Fprintf(&b, "- **select / select+render+compose**: in the harness process, the first %d subscribers of this store, as in the table above (`digest.Runner.PreviewFor` and `WriteDigestEML`, store opened read-only); select µs/sub is summed over %d workers.\n", r.SR.Sample, r.SR.Workers)
	}
	if r.Record.Sent > 0 {
		fmt.Fprintf(&b, "- **due / record**: %d more subscribers imported with `papermail subscribers import` (%s s) in %s, where 07:00 had passed, so they are due now; then the real `papermail serve` (%d SMTP connections) sends their digests at its first tick to a loopback SMTP server. **run s** is the `duration_ms` of its \"digest run\" log line; **record / digest** is that line's `record_ms` (the time the sending connections waited for their outcomes to be durable in the %d-subscriber store: bbolt batch commit with fsync, summed over connections) divided by the digests sent. The loopback server received %d. **serve peak RSS** is the VmHWM of that serve process from start to the end of the run (anon %.1f / file-backed %.1f MiB sampled); select %s s and render %s s summed over workers.\n",
			r.Due, secs(r.DueImport.Wall), r.DueZone, r.Conns, r.N+r.Due, r.Record.Received, mib(r.Record.Usage.AnonRSS), mib(r.Record.Usage.FileRSS),
			secs(r.Record.Select), secs(r.Record.Render))
	}
	if f := r.Full; f != nil {
		fmt.Fprintf(&b, "- **full list**: last, the real `papermail digest` (no --date: today in digest.timezone, so every active subscriber who has not had that day's digest is due, whatever their hour) on this store, %d SMTP connections to a loopback server: %d due, %d sent, %d skipped, %d failed (the server received %d, %.1f KB on average) in %s s wall = %.0f/s, %s s CPU (%.3f CPU-s / 1k). **peak RSS** is the process's VmHWM, sampled every 20 ms from /proc as for the sending runs above, with the highest anonymous (heap, stacks) and file-backed (the binary and bbolt's memory map of the store: the pages the run touched) parts sampled.\n",
			r.Conns, f.Due, f.Sent, f.Skipped, f.Failed, f.Received, float64(f.AvgSize())/1000, secs(f.Usage.Wall), f.Rate(), secs(f.Usage.CPU()), f.CPUPer1k())
	}
	return b.String()
}
