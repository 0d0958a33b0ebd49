package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/store"
)

// subscribeResult is the POST /subscribe load test.
type subscribeResult struct {
	Tool                 string
	Threads, Conns       int
	Duration             time.Duration
	Requests, Non2xx     int
	SocketErrors         string
	RPS                  float64
	P50, P90, P99        time.Duration
	Stored               int // load-test addresses in the store afterwards (pending)
	Confirmations        int // confirmation mails delivered into the Maildir
	OutboxLeft           int // confirmation mails still queued at shutdown
	Serve                usage
	ConfirmationsSettled time.Duration // how long after the load the outbox took to drain
}

// Lost is the number of acknowledged subscriptions missing from the store.
func (r subscribeResult) Lost() int { return max(0, r.Requests-r.Non2xx-r.Stored) }

// loadEmailPrefix starts every address the load test posts.
const loadEmailPrefix = "load"

// benchSubscribe starts `papermail serve` (Maildir delivery, rate limit
// off) on a fresh data_dir, loads POST /subscribe with wrk (or, when wrk
// is missing, a Go load generator) and afterwards counts what the store
// holds.
func benchSubscribe(ctx context.Context, bin, dir string, threads, conns int, dur time.Duration) (subscribeResult, error) {
	res := subscribeResult{Threads: threads, Conns: conns, Duration: dur}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return res, err
	}
	port, err := freePort()
	if err != nil {
		return res, err
	}
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	logf, err := os.Create(filepath.Join(dir, "serve.log"))
	if err != nil {
		return res, err
	}
	defer logf.Close()
	cmd := exec.Command(bin, "serve")
	cmd.Env = papermailEnv(dir, "PAPERMAIL_HTTP_LISTEN=127.0.0.1:"+strconv.Itoa(port),
		"PAPERMAIL_HTTP_SUBSCRIBE_RATE=0", "PAPERMAIL_BASE_URL="+base)
	cmd.Stdout, cmd.Stderr = logf, logf
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return res, fmt.Errorf("start papermail serve: %w", err)
	}
	hwm := watchHWM(cmd.Process.Pid)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stopped := false
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		cmd.Process.Signal(os.Interrupt)
		select {
		case err := <-exited:
			return err
		case <-time.After(90 * time.Second):
			cmd.Process.Kill()
			<-exited
			return errors.New("papermail serve did not stop within 90s of SIGINT; killed")
		}
	}
	defer stop()

	if err := waitHealthy(base, exited); err != nil {
		return res, fmt.Errorf("%w (log: %s)", err, filepath.Join(dir, "serve.log"))
	}
	csrf, err := formToken(base)
	if err != nil {
		return res, err
	}
	if _, err := exec.LookPath("wrk"); err == nil {
		res.Tool = "wrk"
		err = runWrk(ctx, &res, dir, base, csrf)
	} else {
		res.Tool = "Go load generator (wrk not installed)"
		err = goLoad(ctx, &res, base, csrf)
	}
	if err != nil {
		return res, err
	}

	// Let the outbox deliver the confirmations, then stop the daemon.
	loadEnd := time.Now()
	maildir := filepath.Join(dir, "Maildir", "new")
	last, lastChange := -1, time.Now()
	for time.Since(lastChange) < 3*time.Second && time.Since(loadEnd) < 2*time.Minute {
		n := countFiles(maildir)
		if n != last {
			last, lastChange = n, time.Now()
		}
		time.Sleep(200 * time.Millisecond)
	}
	res.ConfirmationsSettled = lastChange.Sub(loadEnd)
	if err := stop(); err != nil {
		return res, fmt.Errorf("stop papermail serve: %w", err)
	}
	peak, anon, file := hwm()
	if cmd.ProcessState != nil {
		res.Serve = rusageOf(cmd.ProcessState, time.Since(start))
		res.Serve.MaxRSS, res.Serve.AnonRSS, res.Serve.FileRSS = peak, anon, file
	}
	res.Confirmations = countFiles(maildir)

	st, err := store.Open(filepath.Join(dir, "papermail.db"), store.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		return res, err
	}
	defer st.Close()
	err = st.ForEachSubscriber(5000, func(b []model.Subscriber) error {
		for i := range b {
			if strings.HasPrefix(b[i].Email, loadEmailPrefix) && b[i].State == model.StatePending {
				res.Stored++
			}
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	if res.OutboxLeft, err = st.OutboxLen(); err != nil {
		return res, err
	}
	return res, nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func waitHealthy(base string, exited <-chan error) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fmt.Errorf("papermail serve exited at start: %v", err)
		default:
		}
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("papermail serve at %s not healthy within 30s", base)
}

var csrfInput = regexp.MustCompile(`<input[^>]*name="csrf"[^>]*>`)
var valueAttr = regexp.MustCompile(`value="([^"]*)"`)

// formToken fetches the subscribe page and returns its form's CSRF token.
func formToken(base string) (string, error) {
	resp, err := http.Get(base + "/")
	if err != nil {
		return "", fmt.Errorf("GET /: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET /: status %d, %v", resp.StatusCode, err)
	}
	in := csrfInput.Find(body)
	if in == nil {
		return "", errors.New("GET /: the subscribe page has no csrf input")
	}
	m := valueAttr.FindSubmatch(in)
	if m == nil || len(m[1]) == 0 {
		return "", errors.New("GET /: the csrf input has no value")
	}
	return string(m[1]), nil
}

// loadInterests are the interests the load test posts, form-encoded.
func loadInterests() []string {
	all := allInterests()
	out := make([]string, 0, 16)
	for i := 0; i < len(all) && len(out) < 16; i += len(all) / 16 {
		out = append(out, url.QueryEscape(all[i]))
	}
	return out
}

// wrkScript posts the subscribe form with a distinct address per request:
// load<thread>-<n>@example.org.
const wrkScript = `-- generated by papermail's bench harness
local token = "%s"
local interests = {%s}
local counter = 1
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end
local n = 0
local headers = {["Content-Type"] = "application/x-www-form-urlencoded"}
function request()
  n = n + 1
  local body = "csrf=" .. token .. "&email=%s" .. tid .. "-" .. n .. "%%40example.org&interests=" ..
    interests[(n %% #interests) + 1] .. "&timezone="
  return wrk.format("POST", "/subscribe", headers, body)
end
`

func runWrk(ctx context.Context, res *subscribeResult, dir, base, csrf string) error {
	quoted := make([]string, 0, 16)
	for _, s := range loadInterests() {
		quoted = append(quoted, strconv.Quote(s))
	}
	script := filepath.Join(dir, "subscribe.lua")
	lua := fmt.Sprintf(wrkScript, url.QueryEscape(csrf), strings.Join(quoted, ", "), loadEmailPrefix)
	if err := os.WriteFile(script, []byte(lua), 0o600); err != nil {
		return err
	}
	args := []string{"-t", strconv.Itoa(res.Threads), "-c", strconv.Itoa(res.Conns), "-d", fmt.Sprintf("%ds", int(res.Duration.Seconds())),
		"--timeout", "10s", "--latency", "-s", script, base}
	out, _, err := run(ctx, childEnv(), "wrk", args...)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "wrk.txt"), []byte(out), 0o600); err != nil {
		return err
	}
	return parseWrk(out, res)
}

var (
	wrkRPS     = regexp.MustCompile(`Requests/sec:\s+([\d.]+)`)
	wrkTotal   = regexp.MustCompile(`(\d+) requests in ([\d.]+\w+),`)
	wrkNon2xx  = regexp.MustCompile(`Non-2xx or 3xx responses:\s+(\d+)`)
	wrkSockets = regexp.MustCompile(`Socket errors:\s+(.*)`)
	wrkPct     = regexp.MustCompile(`(?m)^\s+(50|90|99)%\s+([\d.]+)(us|ms|s)\s*$`)
)

// parseWrk reads wrk's summary (with --latency).
func parseWrk(out string, res *subscribeResult) error {
	m := wrkRPS.FindStringSubmatch(out)
	t := wrkTotal.FindStringSubmatch(out)
	if m == nil || t == nil {
		return fmt.Errorf("wrk output not understood:\n%s", out)
	}
	res.RPS, _ = strconv.ParseFloat(m[1], 64)
	res.Requests, _ = strconv.Atoi(t[1])
	if m := wrkNon2xx.FindStringSubmatch(out); m != nil {
		res.Non2xx, _ = strconv.Atoi(m[1])
	}
	res.SocketErrors = "none"
	if m := wrkSockets.FindStringSubmatch(out); m != nil {
		res.SocketErrors = strings.TrimSpace(m[1])
	}
	for _, m := range wrkPct.FindAllStringSubmatch(out, -1) {
		v, _ := strconv.ParseFloat(m[2], 64)
		unit := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second}[m[3]]
		d := time.Duration(v * float64(unit))
		switch m[1] {
		case "50":
			res.P50 = d
		case "90":
			res.P90 = d
		case "99":
			res.P99 = d
		}
	}
	if res.P99 == 0 {
		return fmt.Errorf("wrk output has no 99%% latency:\n%s", out)
	}
	return nil
}

// goLoad is the fallback load generator: Conns goroutines posting in a
// closed loop for Duration, like wrk does.
func goLoad(ctx context.Context, res *subscribeResult, base, csrf string) error {
	interests := loadInterests()
	tr := &http.Transport{MaxIdleConnsPerHost: res.Conns, MaxConnsPerHost: res.Conns}
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	defer tr.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(ctx, res.Duration)
	defer cancel()
	var n, non2xx, failed atomic.Int64
	lat := make([][]time.Duration, res.Conns)
	var wg sync.WaitGroup
	start := time.Now()
	for c := range res.Conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := n.Add(1)
				body := "csrf=" + url.QueryEscape(csrf) + "&email=" + loadEmailPrefix + "g-" + strconv.FormatInt(i, 10) +
					"%40example.org&interests=" + interests[int(i)%len(interests)] + "&timezone="
				t := time.Now()
				resp, err := client.Post(base+"/subscribe", "application/x-www-form-urlencoded", strings.NewReader(body))
				if err != nil {
					if ctx.Err() == nil {
						failed.Add(1)
					}
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				lat[c] = append(lat[c], time.Since(t))
				if resp.StatusCode/100 != 2 {
					non2xx.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	if len(all) == 0 {
		return errors.New("load generator: no request completed")
	}
	slices.Sort(all)
	q := func(p float64) time.Duration { return all[min(len(all)-1, int(p*float64(len(all))))] }
	res.Requests, res.Non2xx = len(all), int(non2xx.Load())
	res.RPS = float64(len(all)) / el.Seconds()
	res.P50, res.P90, res.P99 = q(0.50), q(0.90), q(0.99)
	res.SocketErrors = fmt.Sprintf("%d failed requests", failed.Load())
	return nil
}

func countFiles(dir string) int {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	return len(ents)
}
