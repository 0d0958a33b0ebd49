package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/papermail/papermail/internal/smtptest"
)

// usage is what one child process took.
type usage struct {
	Wall      time.Duration
	User, Sys time.Duration
	// MaxRSS is the peak resident set size in bytes; AnonRSS and FileRSS
	// the highest anonymous and file-backed parts sampled.
	MaxRSS, AnonRSS, FileRSS int64
}

// CPU is user plus system time.
func (u usage) CPU() time.Duration { return u.User + u.Sys }

// rusageOf reads the CPU time of a finished child. Its peak RSS comes
// from watchHWM: the ru_maxrss of a child on Linux also counts the memory
// of the parent it was forked from (the high-water mark survives exec),
// which would charge this harness's memory to papermail.
func rusageOf(ps *os.ProcessState, wall time.Duration) usage {
	return usage{Wall: wall, User: ps.UserTime(), Sys: ps.SystemTime()}
}

// watchHWM samples the peak resident set size (VmHWM) of process pid
// every 20ms until the returned function is called, which returns the
// highest value seen, in bytes, and the highest anonymous (heap, stacks)
// and file-backed (the store's memory map, the binary) parts sampled.
// VmHWM only grows, so a sample taken any time after the peak sees it.
func watchHWM(pid int) func() (peak, anon, file int64) {
	stop := make(chan struct{})
	done := make(chan [3]int64)
	path := "/proc/" + strconv.Itoa(pid) + "/status"
	kb := func(v string) int64 {
		var n int64
		fmt.Sscanf(v, "%d", &n)
		return n * 1024
	}
	go func() {
		var m [3]int64
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			if b, err := os.ReadFile(path); err == nil {
				for line := range strings.Lines(string(b)) {
					k, v, _ := strings.Cut(line, ":")
					switch k {
					case "VmHWM":
						m[0] = max(m[0], kb(v))
					case "RssAnon":
						m[1] = max(m[1], kb(v))
					case "RssFile":
						m[2] = max(m[2], kb(v))
					}
				}
			}
			select {
			case <-stop:
				done <- m
				return
			case <-tick.C:
			}
		}
	}()
	return func() (int64, int64, int64) {
		close(stop)
		m := <-done
		return m[0], m[1], m[2]
	}
}

// childEnv is the harness's environment without any PAPERMAIL_ variable,
// plus extra.
func childEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PAPERMAIL_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// papermailEnv configures papermail for the benchmark: a data_dir, the
// same base URL and sender as a real site, UTC and quiet logs. os/exec
// keeps the last of repeated variables, so extra overrides these.
func papermailEnv(dataDir string, extra ...string) []string {
	return childEnv(append([]string{
		"PAPERMAIL_DATA_DIR=" + dataDir,
		"PAPERMAIL_BASE_URL=https://papers.example.org",
		"PAPERMAIL_MAIL_FROM=Papermail <digest@papers.example.org>",
		"PAPERMAIL_DIGEST_TIMEZONE=UTC",
		"PAPERMAIL_LOG_LEVEL=warn",
	}, extra...)...)
}

// smtpEnv points papermail at the loopback server.
func smtpEnv(srv *smtptest.Server, conns int) []string {
	return []string{
		"PAPERMAIL_SMTP_HOST=" + srv.Host(),
		"PAPERMAIL_SMTP_PORT=" + strconv.Itoa(srv.Port()),
		"PAPERMAIL_SMTP_TLS=none",
		"PAPERMAIL_SMTP_CONNECTIONS=" + strconv.Itoa(conns),
	}
}

// run runs a command to completion and returns its output and usage; a
// non-zero exit is an error that quotes the end of its stderr.
func run(ctx context.Context, env []string, name string, args ...string) (stdout string, u usage, err error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	if err = cmd.Start(); err == nil {
		hwm := watchHWM(cmd.Process.Pid)
		err = cmd.Wait()
		peak, anon, file := hwm()
		u = rusageOf(cmd.ProcessState, time.Since(start))
		u.MaxRSS, u.AnonRSS, u.FileRSS = peak, anon, file
	}
	if err != nil {
		return out.String(), u, fmt.Errorf("%s %s: %w\n%s", filepath.Base(name), strings.Join(args, " "), err, tail(errb.String(), 2000))
	}
	// Pass on what the child said, except progress lines ("12/100 (10%)").
	for line := range strings.Lines(errb.String()) {
		if s := strings.TrimSpace(line); s != "" && !strings.HasSuffix(s, "%)") {
			fmt.Fprintf(os.Stderr, "  %s %s: %s\n", filepath.Base(name), args[0], tail(s, 300))
		}
	}
	return out.String(), u, nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// copyFile copies src to dst.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy %s to %s: %w", src, dst, err)
	}
	return out.Close()
}

// sendRun is one measured sending run: papermail's digest or the baseline.
type sendRun struct {
	Kind  string // "digest" or "baseline"
	Usage usage
	// Received and Bytes are what the SMTP server accepted.
	Received int
	Bytes    int64
	// Due and Sent are papermail's own counts (digest runs only).
	Due, Sent, Skipped, Failed int
}

// Rate is messages received per second of wall time.
func (r sendRun) Rate() float64 { return float64(r.Received) / r.Usage.Wall.Seconds() }

// CPUPer1k is CPU seconds per 1,000 messages.
func (r sendRun) CPUPer1k() float64 { return r.Usage.CPU().Seconds() / float64(r.Received) * 1000 }

// AvgSize is the average message size as received.
func (r sendRun) AvgSize() int {
	if r.Received == 0 {
		return 0
	}
	return int(r.Bytes / int64(r.Received))
}

// runDigest runs `papermail digest` on a fresh copy of the prepared store
// against a new loopback SMTP server, as a child process.
func runDigest(ctx context.Context, bin, pristine, dir string, conns int, env []string) (sendRun, error) {
	res := sendRun{Kind: "digest"}
	if err := os.RemoveAll(dir); err != nil {
		return res, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)
	if err := copyFile(pristine, filepath.Join(dir, "papermail.db")); err != nil {
		return res, err
	}
	srv, err := smtptest.Start(smtptest.Options{Discard: true})
	if err != nil {
		return res, err
	}
	defer srv.Close()
	out, u, err := run(ctx, papermailEnv(dir, append(smtpEnv(srv, conns), env...)...), bin, "digest")
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
	return res, nil
}

// digestCounts finds the counts in papermail digest's summary line,
// "digest DATE: N due, N sent, N skipped, N failed, N bounced[, ...] in D".
var digestCounts = regexp.MustCompile(`(\d+) due, (\d+) sent, (\d+) skipped, (\d+) failed\b`)

// parseDigestSummary reads the counts of papermail digest's output.
func parseDigestSummary(out string, res *sendRun) error {
	m := digestCounts.FindStringSubmatch(out)
	if m == nil {
		return fmt.Errorf("unexpected digest output %q: no \"N due, N sent, N skipped, N failed\"", tail(out, 300))
	}
	for i, p := range []*int{&res.Due, &res.Sent, &res.Skipped, &res.Failed} {
		*p, _ = strconv.Atoi(m[i+1])
	}
	return nil
}

// runBaseline sends count messages of size bytes with go-mail over conns
// connections from a child process (this program in baseline mode).
func runBaseline(ctx context.Context, count, size, conns, maxPer int, noop bool) (sendRun, error) {
	res := sendRun{Kind: "baseline"}
	srv, err := smtptest.Start(smtptest.Options{Discard: true})
	if err != nil {
		return res, err
	}
	defer srv.Close()
	self, err := os.Executable()
	if err != nil {
		return res, fmt.Errorf("find own executable for the baseline child: %w", err)
	}
	_, u, err := run(ctx, childEnv(), self, "-baseline", "-addr", srv.Addr(),
		"-count", strconv.Itoa(count), "-size", strconv.Itoa(size), "-connections", strconv.Itoa(conns),
		"-max-per-connection", strconv.Itoa(maxPer), "-noop="+strconv.FormatBool(noop))
	res.Usage = u
	if err != nil {
		return res, err
	}
	res.Received, res.Bytes = srv.Count(), srv.Bytes()
	if res.Received != count {
		return res, fmt.Errorf("baseline: server received %d of %d messages", res.Received, count)
	}
	return res, nil
}
