package mailer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/mail"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"

	"github.com/papermail/papermail/internal/config"
	"github.com/papermail/papermail/internal/smtptest"
)

func rcpt(i int) string { return fmt.Sprintf("user%04d@example.net", i) }

func makeJobs(n int) []*Job {
	jobs := make([]*Job, n)
	for i := range jobs {
		jobs[i] = &Job{Ref: uint64(i), Msg: &Message{
			From:    "Papermail <digest@example.org>",
			To:      rcpt(i),
			Subject: fmt.Sprintf("Digest %d", i),
			Text:    "hello",
			HTML:    "<p>hello</p>",
		}}
	}
	return jobs
}

// testConfig points a plain, fast-retrying configuration at srv.
func testConfig(srv *smtptest.Server) Config {
	return Config{
		Host: srv.Host(), Port: srv.Port(), TLS: "none",
		Connections: 4, MaxAttempts: 5, Timeout: 5 * time.Second,
		RetryBase: 5 * time.Millisecond, RetryMax: 50 * time.Millisecond,
		UnavailableAfter: time.Minute, // pure per-job retries unless a test says otherwise
	}
}

func newSMTP(t *testing.T, cfg Config, hooks Hooks) *SMTP {
	t.Helper()
	s, err := NewSMTP(cfg, nil, hooks)
	if err != nil {
		t.Fatalf("NewSMTP: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// outcome is what one Deliver run reported.
type outcome struct {
	err      error
	finished []*Job
	elapsed  time.Duration
}

func (o outcome) count(r Result) int {
	n := 0
	for _, j := range o.finished {
		if j.Result == r {
			n++
		}
	}
	return n
}

// deliver runs tr over jobs and checks that done was called exactly once
// per job, with a final result.
func deliver(t *testing.T, ctx context.Context, tr Transport, jobs []*Job, onDone func(*Job)) outcome {
	t.Helper()
	in := make(chan *Job)
	go func() {
		defer close(in)
		for _, j := range jobs {
			select {
			case in <- j:
			case <-ctx.Done():
				return
			}
		}
	}()
	var mu sync.Mutex
	seen := map[*Job]int{}
	var o outcome
	start := time.Now()
	o.err = tr.Deliver(ctx, in, func(j *Job) {
		if onDone != nil {
			onDone(j)
		}
		mu.Lock()
		defer mu.Unlock()
		seen[j]++
		o.finished = append(o.finished, j)
	})
	o.elapsed = time.Since(start)
	for j, n := range seen {
		if n != 1 {
			t.Errorf("done called %d times for job %d", n, j.Ref)
		}
		if j.Result == Pending {
			t.Errorf("job %d finished with result pending", j.Ref)
		}
	}
	return o
}

// assertExactlyOnce checks that each of the first n recipients got one
// message and nobody else got any.
func assertExactlyOnce(t *testing.T, srv *smtptest.Server, n int) {
	t.Helper()
	by := srv.CountByRecipient()
	for i := range n {
		if by[rcpt(i)] != 1 {
			t.Errorf("%s received %d messages, want 1", rcpt(i), by[rcpt(i)])
		}
	}
	if srv.Count() != n || len(by) != n {
		t.Errorf("server has %d messages for %d recipients, want %d", srv.Count(), len(by), n)
	}
}

func TestDeliverManyOverFewConnections(t *testing.T) {
	srv := smtptest.StartT(t, smtptest.Options{})
	var hmu sync.Mutex
	results := map[string]int{}
	tr := newSMTP(t, testConfig(srv), Hooks{OnAttempt: func(result, reason string, _ time.Duration) {
		hmu.Lock()
		results[result]++
		hmu.Unlock()
	}})
	jobs := makeJobs(200)
	o := deliver(t, context.Background(), tr, jobs, nil)
	if o.err != nil || o.count(Sent) != 200 {
		t.Fatalf("err %v, sent %d of 200", o.err, o.count(Sent))
	}
	assertExactlyOnce(t, srv, 200)
	if !srv.WaitIdle(2 * time.Second) {
		t.Fatal("connections left open after Deliver")
	}
	if peak := srv.MaxConcurrentConns(); peak > 4 || peak < 1 {
		t.Errorf("peak concurrent connections %d, want 1..4", peak)
	}
	for i, n := range srv.MessagesPerConn() {
		if n > config.DefaultMaxPerConnection {
			t.Errorf("connection %d carried %d messages", i, n)
		}
	}
	if results["sent"] != 200 || len(results) != 1 {
		t.Errorf("hook results %v", results)
	}
	m := srv.Messages()[0]
	if m.From != "digest@example.org" || m.Helo != "example.org" {
		t.Errorf("envelope from %q, helo %q", m.From, m.Helo)
	}
	pm, err := mail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil || pm.Header.Get("To") != "<"+m.To[0]+">" {
		t.Fatalf("received message: %v, To %q", err, pm.Header.Get("To"))
	}
	for _, j := range jobs {
		if j.Attempts != 1 || j.Raw == nil || j.Msg.MessageID == "" {
			t.Fatalf("job %d: attempts %d, raw %d bytes, id %q", j.Ref, j.Attempts, len(j.Raw), j.Msg.MessageID)
		}
	}
}

func TestMaxPerConnection(t *testing.T) {
	srv := smtptest.StartT(t, smtptest.Options{MaxMessagesPerConn: 10})
	cfg := testConfig(srv)
	cfg.MaxPerConnection = 10
	o := deliver(t, context.Background(), newSMTP(t, cfg, Hooks{}), makeJobs(200), nil)
	if o.count(Sent) != 200 {
		t.Fatalf("sent %d of 200", o.count(Sent))
	}
	assertExactlyOnce(t, srv, 200)
	if v := srv.LimitViolations(); v != 0 {
		t.Errorf("client sent %d messages over the per-connection limit", v)
	}
	per := srv.MessagesPerConn()
	partial := 0
	for i, n := range per {
		if n > 10 {
			t.Errorf("connection %d carried %d messages", i, n)
		}
		if n < 10 {
			partial++
		}
	}
	// Only each worker's last connection may be partly used.
	if partial > cfg.Connections {
		t.Errorf("%d of %d connections carried fewer than 10 messages: %v", partial, len(per), per)
	}
	if !srv.WaitIdle(2*time.Second) || srv.MaxConcurrentConns() > 4 {
		t.Errorf("peak concurrent connections %d", srv.MaxConcurrentConns())
	}
}

func TestRateLimit(t *testing.T) {
	srv := smtptest.StartT(t, smtptest.Options{Discard: true})
	cfg := testConfig(srv)
	cfg.RatePerSecond = 50
	o := deliver(t, context.Background(), newSMTP(t, cfg, Hooks{}), makeJobs(100), nil)
	if o.count(Sent) != 100 {
		t.Fatalf("sent %d", o.count(Sent))
	}
	// 100 messages at 50/s: the last may start 99 intervals after the first.
	if o.elapsed < 1900*time.Millisecond {
		t.Errorf("100 messages at 50/s took %v, want >= 1.9s", o.elapsed)
	}
	msgs := srv.Messages()
	if span := msgs[len(msgs)-1].At.Sub(msgs[0].At); span < 1900*time.Millisecond {
		t.Errorf("server saw the messages within %v", span)
	}
}

func TestTempFailuresAreRetried(t *testing.T) {
	srv := smtptest.StartT(t, smtptest.Options{TempFailRate: 0.3})
	cfg := testConfig(srv)
	cfg.MaxAttempts = 10
	var hmu sync.Mutex
	retries := 0
	o := deliver(t, context.Background(), newSMTP(t, cfg, Hooks{OnAttempt: func(result, reason string, _ time.Duration) {
		if result == "retry" {
			hmu.Lock()
			retries++
			hmu.Unlock()
			if reason != "data 451 4.3.0" {
				t.Errorf("retry reason %q", reason)
			}
		}
	}}), makeJobs(100), nil)
	if o.count(Sent) != 100 {
		t.Fatalf("sent %d of 100", o.count(Sent))
	}
	assertExactlyOnce(t, srv, 100)
	attempts := 0
	for _, j := range o.finished {
		attempts += j.Attempts
	}
	// Evenly spread: exactly ⌊n·0.3⌋ of n DATA transactions failed.
	if want := attempts - 100; retries != want || want < 30 {
		t.Errorf("%d retries, %d attempts for 100 messages", retries, attempts)
	}
}

func TestRcptTempFailure(t *testing.T) {
	srv := smtptest.StartT(t, smtptest.Options{TempFailRcpt: func(r string, attempt int) bool {
		return r == rcpt(3) && attempt <= 2
	}})
	cfg := testConfig(srv)
	cfg.Connections = 1
	jobs := makeJobs(5)
	o := deliver(t, context.Background(), newSMTP(t, cfg, Hooks{}), jobs, nil)
	if o.count(Sent) != 5 || jobs[3].Attempts != 3 || jobs[2].Attempts != 1 {
		t.Fatalf("sent %d, attempts of job 3: %d", o.count(Sent), jobs[3].Attempts)
	}
	// The RCPT failure was reset with RSET, not by dropping the connection.
	if n := len(srv.MessagesPerConn()); n != 1 {
		t.Errorf("%d connections, want 1", n)
	}
	assertExactlyOnce(t, srv, 5)
}

func TestConnectionCutMidData(t *testing.T) {
	srv := smtptest.StartT(t, smtptest.Options{CutMidData: func(n int) bool { return n == 1 || n == 5 }})
	jobs := makeJobs(20)
	o := deliver(t, context.Background(), newSMTP(t, testConfig(srv), Hooks{}), jobs, nil)
	if o.count(Sent) != 20 {
		t.Fatalf("sent %d of 20", o.count(Sent))
	}
	assertExactlyOnce(t, srv, 20)
	// Two DATA transactions (the 1st and the 5th) are cut, and each cut
	// costs its job exactly one more attempt. Which jobs pay depends on
	// timing: the retry of the first cut job may itself be the 5th
	// transaction and be cut again (one job with 3 attempts), so count
	// extra attempts, not jobs with two.
	extra := 0
	for _, j := range jobs {
		extra += j.Attempts - 1
		if j.Attempts < 1 || j.Attempts > 3 {
			t.Errorf("job %d took %d attempts, want 1 to 3", j.Ref, j.Attempts)
		}
	}
	if extra != 2 {
		t.Errorf("%d attempts beyond the first for 2 cut connections, want 2", extra)
	}
}

func TestHardBounceIsNotRetried(t *testing.T) {
	bad := rcpt(7)
	srv := smtptest.StartT(t, smtptest.Options{RejectRcpt: func(r string) *gosmtp.SMTPError {
		if r == bad {
			return &gosmtp.SMTPError{Code: 550, EnhancedCode: gosmtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
		}
		return nil
	}})
	cfg := testConfig(srv)
	cfg.Connections = 1
	jobs := makeJobs(10)
	o := deliver(t, context.Background(), newSMTP(t, cfg, Hooks{}), jobs, nil)
	j := jobs[7]
	if j.Result != Bounced || j.Attempts != 1 {
		t.Fatalf("job 7: %v after %d attempts (%v)", j.Result, j.Attempts, j.LastErr)
	}
	if !strings.Contains(j.LastErr.Error(), "550") || srv.RcptAttempts(bad) != 1 {
		t.Errorf("error %v, server saw %d RCPT attempts", j.LastErr, srv.RcptAttempts(bad))
	}
	if o.count(Sent) != 9 || srv.Count() != 9 || len(srv.MessagesPerConn()) != 1 {
		t.Errorf("sent %d, server %d, connections %d", o.count(Sent), srv.Count(), len(srv.MessagesPerConn()))
	}
}

func TestPermanentFailureIsNotRetried(t *testing.T) {
	// The server wants AUTH; a client without credentials gets 5xx at MAIL.
	srv := smtptest.StartT(t, smtptest.Options{AuthUser: "u", AuthPass: "p"})
	jobs := makeJobs(3)
	o := deliver(t, context.Background(), newSMTP(t, testConfig(srv), Hooks{}), jobs, nil)
	for _, j := range jobs {
		if j.Result != Failed || j.Attempts != 1 {
			t.Errorf("job %d: %v after %d attempts (%v)", j.Ref, j.Result, j.Attempts, j.LastErr)
		}
	}
	if o.count(Failed) != 3 || srv.Count() != 0 {
		t.Errorf("failed %d, server %d", o.count(Failed), srv.Count())
	}
}

func TestServerStartsLate(t *testing.T) {
	srv := smtptest.StartT(t, smtptest.Options{StartDelay: 400 * time.Millisecond})
	cfg := testConfig(srv)
	cfg.MaxAttempts, cfg.RetryBase, cfg.RetryMax = 30, 20*time.Millisecond, 100*time.Millisecond
	o := deliver(t, context.Background(), newSMTP(t, cfg, Hooks{}), makeJobs(10), nil)
	if o.count(Sent) != 10 {
		for _, j := range o.finished {
			t.Logf("job %d: %v %d %v", j.Ref, j.Result, j.Attempts, j.LastErr)
		}
		t.Fatalf("sent %d of 10", o.count(Sent))
	}
	assertExactlyOnce(t, srv, 10)
	if o.elapsed < 400*time.Millisecond {
		t.Errorf("delivered before the server was up (%v)", o.elapsed)
	}
}

// freeAddr returns a loopback port nobody listens on.
func freeAddr(t *testing.T) (string, int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := ln.Addr().(*net.TCPAddr)
	_ = ln.Close()
	return a.IP.String(), a.Port
}

func TestServerDown(t *testing.T) {
	host, port := freeAddr(t)
	cfg := Config{Host: host, Port: port, TLS: "none", Connections: 2, MaxAttempts: 3,
		Timeout: time.Second, RetryBase: 5 * time.Millisecond, RetryMax: 20 * time.Millisecond, UnavailableAfter: time.Minute}
	var hmu sync.Mutex
	var reasons []string
	jobs := makeJobs(6)
	o := deliver(t, context.Background(), newSMTP(t, cfg, Hooks{OnAttempt: func(_, reason string, _ time.Duration) {
		hmu.Lock()
		reasons = append(reasons, reason)
		hmu.Unlock()
	}}), jobs, nil)
	if o.err != nil || len(o.finished) != 6 {
		t.Fatalf("err %v, finished %d", o.err, len(o.finished))
	}
	for _, j := range jobs {
		if j.Result != TempFailed || j.Attempts != 3 || !errors.Is(j.LastErr, syscall.ECONNREFUSED) {
			t.Errorf("job %d: %v after %d attempts: %v", j.Ref, j.Result, j.Attempts, j.LastErr)
		}
	}
	if len(reasons) != 18 || reasons[0] != "connection refused" {
		t.Errorf("%d attempts reported, first reason %q", len(reasons), reasons[0])
	}
}

func TestServerDownFailsFast(t *testing.T) {
	host, port := freeAddr(t)
	cfg := Config{Host: host, Port: port, TLS: "none", Connections: 2, MaxAttempts: 5, Timeout: time.Second,
		RetryBase: 10 * time.Millisecond, RetryMax: 40 * time.Millisecond, UnavailableAfter: 100 * time.Millisecond}
	var dials atomic.Int64
	jobs := makeJobs(300)
	o := deliver(t, context.Background(), newSMTP(t, cfg, Hooks{OnAttempt: func(_, reason string, _ time.Duration) {
		if reason == "connection refused" {
			dials.Add(1)
		}
	}}), jobs, nil)
	if o.elapsed > 3*time.Second {
		t.Errorf("run against a dead server took %v", o.elapsed)
	}
	fast := 0
	for _, j := range jobs {
		if j.Result != TempFailed || !errors.Is(j.LastErr, syscall.ECONNREFUSED) {
			t.Fatalf("job %d: %v: %v", j.Ref, j.Result, j.LastErr)
		}
		if errors.Is(j.LastErr, ErrServerUnavailable) {
			fast++
			if _, _, reason := Classify(j.LastErr); reason != "server unavailable" {
				t.Errorf("reason %q", reason)
			}
		}
	}
	if fast < 250 || dials.Load() > 100 {
		t.Errorf("%d jobs failed fast, %d connection attempts for 300 jobs", fast, dials.Load())
	}
}

func TestRecoversAfterFailingFast(t *testing.T) {
	srv := smtptest.StartT(t, smtptest.Options{StartDelay: 300 * time.Millisecond})
	cfg := testConfig(srv)
	cfg.Connections, cfg.MaxAttempts, cfg.RetryBase, cfg.RetryMax, cfg.UnavailableAfter = 2, 2, 10*time.Millisecond, 30*time.Millisecond, 50*time.Millisecond
	jobs := makeJobs(100)
	in := make(chan *Job)
	go func() {
		defer close(in)
		for _, j := range jobs {
			in <- j
			time.Sleep(7 * time.Millisecond) // a slow producer: 700ms in all
		}
	}()
	var mu sync.Mutex
	sent, fast := 0, 0
	err := newSMTP(t, cfg, Hooks{}).Deliver(context.Background(), in, func(j *Job) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case j.Result == Sent:
			sent++
		case errors.Is(j.LastErr, ErrServerUnavailable):
			fast++
		}
	})
	if err != nil || sent == 0 || fast == 0 || sent != srv.Count() {
		t.Fatalf("err %v: sent %d, failed fast %d, server %d", err, sent, fast, srv.Count())
	}
	if !jobsAfter(jobs[80:], Sent) {
		t.Errorf("jobs produced after the server came up were not all sent")
	}
}

func jobsAfter(jobs []*Job, r Result) bool {
	for _, j := range jobs {
		if j.Result != r {
			return false
		}
	}
	return true
}

func TestTimeout(t *testing.T) {
	// A server that accepts and never says anything.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var cmu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			cmu.Lock()
			conns = append(conns, c)
			cmu.Unlock()
		}
	}()
	t.Cleanup(func() {
		cmu.Lock()
		defer cmu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	a := ln.Addr().(*net.TCPAddr)
	cfg := Config{Host: a.IP.String(), Port: a.Port, TLS: "none", Connections: 1, MaxAttempts: 2,
		Timeout: 150 * time.Millisecond, RetryBase: 5 * time.Millisecond, RetryMax: 10 * time.Millisecond}
	jobs := makeJobs(1)
	deliver(t, context.Background(), newSMTP(t, cfg, Hooks{}), jobs, nil)
	if _, _, reason := Classify(jobs[0].LastErr); jobs[0].Result != TempFailed || reason != "timeout" {
		t.Fatalf("%v, reason %q: %v", jobs[0].Result, reason, jobs[0].LastErr)
	}
}

func TestCancelStopsPromptly(t *testing.T) {
	srv := smtptest.StartT(t, smtptest.Options{Discard: true})
	cfg := testConfig(srv)
	cfg.RatePerSecond = 20 // 1000 jobs would take 50s
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	o := deliver(t, ctx, newSMTP(t, cfg, Hooks{}), makeJobs(1000), nil)
	if !errors.Is(o.err, context.Canceled) {
		t.Errorf("Deliver returned %v, want context.Canceled", o.err)
	}
	if o.elapsed > 2*time.Second {
		t.Errorf("Deliver took %v after cancel at 300ms", o.elapsed)
	}
	sent := o.count(Sent)
	if sent == 0 || sent != srv.Count() || sent+o.count(TempFailed) != len(o.finished) {
		t.Errorf("sent %d, server %d, tempfailed %d, finished %d", sent, srv.Count(), o.count(TempFailed), len(o.finished))
	}
	for _, j := range o.finished {
		if j.Result == TempFailed && !errors.Is(j.LastErr, context.Canceled) {
			t.Errorf("job %d: %v", j.Ref, j.LastErr)
		}
	}
}

func TestCancelFlushesRetryQueue(t *testing.T) {
	srv := smtptest.StartT(t, smtptest.Options{TempFailRate: 1})
	cfg := testConfig(srv)
	cfg.RetryBase, cfg.RetryMax = time.Minute, time.Minute
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	jobs := makeJobs(8)
	o := deliver(t, ctx, newSMTP(t, cfg, Hooks{}), jobs, nil)
	if o.elapsed > 2*time.Second || len(o.finished) != 8 {
		t.Fatalf("took %v, finished %d", o.elapsed, len(o.finished))
	}
	var te *textproto.Error
	for _, j := range jobs {
		if j.Result != TempFailed || j.Attempts != 1 || !errors.Is(j.LastErr, context.Canceled) || !errors.As(j.LastErr, &te) {
			t.Errorf("job %d: %v after %d attempts: %v", j.Ref, j.Result, j.Attempts, j.LastErr)
		}
	}
}

func TestDoneBeforeNextMessage(t *testing.T) {
	srv := smtptest.StartT(t, smtptest.Options{})
	cfg := testConfig(srv)
	cfg.Connections = 1
	n := 0
	deliver(t, context.Background(), newSMTP(t, cfg, Hooks{}), makeJobs(30), func(j *Job) {
		n++
		// With one connection the server has accepted exactly the
		// messages reported so far: the next one has not started.
		if got := srv.Count(); got != n {
			t.Errorf("done #%d: server already has %d messages", n, got)
		}
	})
}

func TestTLSAndAuth(t *testing.T) {
	tests := []struct {
		name    string
		srvOpts smtptest.Options
		cfg     func(*Config)
		want    Result
		errHas  string
	}{
		{"starttls plain auth", smtptest.Options{TLS: "starttls", RequireTLS: true, AuthUser: "u", AuthPass: "p"},
			func(c *Config) { c.TLS, c.Username, c.Password = "starttls", "u", "p" }, Sent, ""},
		{"implicit tls login auth", smtptest.Options{TLS: "tls", AuthUser: "u", AuthPass: "p", AuthMechanisms: []string{"LOGIN"}},
			func(c *Config) { c.TLS, c.Username, c.Password = "tls", "u", "p" }, Sent, ""},
		{"plain auth on loopback", smtptest.Options{AuthUser: "u", AuthPass: "p"},
			func(c *Config) { c.Username, c.Password = "u", "p" }, Sent, ""},
		{"wrong password", smtptest.Options{AuthUser: "u", AuthPass: "p"},
			func(c *Config) { c.Username, c.Password = "u", "nope" }, Failed, "535"},
		{"starttls required but not offered", smtptest.Options{},
			func(c *Config) { c.TLS = "starttls" }, Failed, "does not offer STARTTLS"},
		{"untrusted certificate", smtptest.Options{TLS: "tls"},
			func(c *Config) { c.TLS, c.TLSConfig = "tls", nil }, TempFailed, "certificate"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := smtptest.StartT(t, tc.srvOpts)
			cfg := testConfig(srv)
			cfg.MaxAttempts = 2
			cfg.TLSConfig = srv.ClientTLSConfig()
			tc.cfg(&cfg)
			jobs := makeJobs(3)
			deliver(t, context.Background(), newSMTP(t, cfg, Hooks{}), jobs, nil)
			for _, j := range jobs {
				if j.Result != tc.want || (tc.errHas != "" && !strings.Contains(fmt.Sprint(j.LastErr), tc.errHas)) {
					t.Fatalf("job %d: %v (%v), want %v mentioning %q", j.Ref, j.Result, j.LastErr, tc.want, tc.errHas)
				}
			}
			if tc.want == Sent {
				assertExactlyOnce(t, srv, 3)
			}
		})
	}
}

// TestRelayLacksWhatTheSettingsRequire: a relay without STARTTLS while
// tls is starttls, or without AUTH (or a mechanism we speak) while a user
// name is set, fails every job at once as a permanent operator fault:
// one connection per configured connection at most, no retries, an error
// naming the relay, what it lacks and the setting.
func TestRelayLacksWhatTheSettingsRequire(t *testing.T) {
	tests := []struct {
		name    string
		srvOpts smtptest.Options
		cfg     func(*Config)
		want    string
		reason  string
	}{
		{"no STARTTLS", smtptest.Options{}, func(c *Config) { c.TLS = "starttls" },
			"does not offer STARTTLS, and smtp.tls is starttls", "relay lacks STARTTLS"},
		{"no STARTTLS, credentials too", smtptest.Options{AuthUser: "u", AuthPass: "p"},
			func(c *Config) { c.TLS, c.Username, c.Password = "starttls", "u", "p" },
			"does not offer STARTTLS, and smtp.tls is starttls", "relay lacks STARTTLS"},
		{"no AUTH", smtptest.Options{}, func(c *Config) { c.Username, c.Password = "u", "p" },
			"does not offer AUTH, and smtp.username is set", "relay lacks AUTH"},
		{"only CRAM-MD5", smtptest.Options{AuthUser: "u", AuthPass: "p", AuthMechanisms: []string{"CRAM-MD5"}},
			func(c *Config) { c.Username, c.Password = "u", "p" },
			"does not offer AUTH PLAIN or LOGIN (it offers AUTH CRAM-MD5), and smtp.username is set", "relay lacks AUTH PLAIN or LOGIN"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := smtptest.StartT(t, tc.srvOpts)
			cfg := testConfig(srv)
			cfg.Connections, cfg.MaxAttempts = 3, 5
			tc.cfg(&cfg)
			var hmu sync.Mutex
			results := map[string]int{}
			jobs := makeJobs(20)
			o := deliver(t, context.Background(), newSMTP(t, cfg, Hooks{OnAttempt: func(result, reason string, _ time.Duration) {
				hmu.Lock()
				results[result+" "+reason]++
				hmu.Unlock()
			}}), jobs, nil)
			if o.err != nil || len(o.finished) != len(jobs) {
				t.Fatalf("err %v, finished %d", o.err, len(o.finished))
			}
			want := "relay " + srv.Addr() + " " + tc.want
			for _, j := range jobs {
				var me *MismatchError
				if j.Result != Failed || j.Attempts > 1 || !errors.Is(j.LastErr, ErrRelayLacks) || !errors.As(j.LastErr, &me) ||
					!strings.Contains(j.LastErr.Error(), want) {
					t.Fatalf("job %d: %v after %d attempts: %v; want failed once, naming %q", j.Ref, j.Result, j.Attempts, j.LastErr, want)
				}
				if f := FaultOf(j.LastErr); f != FaultSender || !f.Operator() {
					t.Errorf("job %d: fault %v, want sender (the operator's)", j.Ref, f)
				}
				if temp, bounce, reason := Classify(j.LastErr); temp || bounce || reason != tc.reason {
					t.Errorf("Classify: temporary %v, bounce %v, reason %q; want permanent %q", temp, bounce, reason, tc.reason)
				}
			}
			if n := srv.Conns(); n < 1 || n > cfg.Connections {
				t.Errorf("the relay saw %d connections, want 1..%d (no redials)", n, cfg.Connections)
			}
			if results["retry "+tc.reason] != 0 || results["failed "+tc.reason] != len(jobs) {
				t.Errorf("attempts reported %v, want %d failed and no retry", results, len(jobs))
			}
			if srv.Count() != 0 {
				t.Errorf("the relay accepted %d messages", srv.Count())
			}
		})
	}
}

func TestInvalidJobsFail(t *testing.T) {
	srv := smtptest.StartT(t, smtptest.Options{})
	jobs := makeJobs(3)
	jobs[0].Msg.Subject = "x\r\nBcc: victim@example.com"
	jobs[1].Msg = nil
	o := deliver(t, context.Background(), newSMTP(t, testConfig(srv), Hooks{}), jobs, nil)
	if jobs[0].Result != Failed || jobs[1].Result != Failed || jobs[2].Result != Sent || o.count(Sent) != 1 {
		t.Fatalf("results %v %v %v", jobs[0].Result, jobs[1].Result, jobs[2].Result)
	}
	if !errors.Is(jobs[0].LastErr, ErrInvalidMessage) || srv.Count() != 1 {
		t.Errorf("err %v, server %d", jobs[0].LastErr, srv.Count())
	}
}

func TestDeliverOneAndClose(t *testing.T) {
	srv := smtptest.StartT(t, smtptest.Options{})
	tr := newSMTP(t, testConfig(srv), Hooks{})
	j := makeJobs(1)[0]
	j.Msg.AutoSubmitted = true
	if err := DeliverOne(context.Background(), tr, j); err != nil || j.Result != Sent || srv.Count() != 1 {
		t.Fatalf("DeliverOne: %v, %v", err, j.Result)
	}
	_ = tr.Close()
	if err := DeliverOne(context.Background(), tr, makeJobs(1)[0]); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}

func TestNewSMTPConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		ok   bool
		port int
	}{
		{"defaults", Config{Host: "mail.example.org"}, true, 587},
		{"implicit tls port", Config{Host: "mail.example.org", TLS: "TLS"}, true, 465},
		{"plain port", Config{Host: "mail.example.org", TLS: "none"}, true, 25},
		{"no host", Config{}, false, 0},
		{"bad tls", Config{Host: "h", TLS: "ssl"}, false, 0},
		{"bad port", Config{Host: "h", Port: 70000}, false, 0},
		{"negative connections", Config{Host: "h", Connections: -1}, false, 0},
		{"negative rate", Config{Host: "h", RatePerSecond: -1}, false, 0},
		{"bad helo", Config{Host: "h", HELO: "a b"}, false, 0},
		{"missing dkim key", Config{Host: "h", DKIM: &DKIMConfig{Domain: "d", Selector: "s", PrivateKeyFile: filepath.Join(os.TempDir(), "nope-papermail.key")}}, false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewSMTP(tc.cfg, nil, Hooks{})
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok %v", err, tc.ok)
			}
			if tc.ok {
				c := s.Config()
				if c.Port != tc.port || c.Connections != config.DefaultConnections || c.MaxPerConnection != config.DefaultMaxPerConnection || c.Timeout != config.DefaultSMTPTimeout {
					t.Errorf("effective config %+v", c)
				}
			}
		})
	}
}

func TestClassify(t *testing.T) {
	reply := func(stage Stage, code int, msg string) error {
		return staged(stage, &textproto.Error{Code: code, Msg: msg})
	}
	tests := []struct {
		name         string
		err          error
		temp, bounce bool
		reason       string
	}{
		{"nil", nil, false, false, ""},
		{"rcpt 550", reply(stageRcpt, 550, "5.1.1 no such user"), false, true, "rcpt to 550 5.1.1"},
		{"rcpt 451", reply(stageRcpt, 451, "4.3.0 later"), true, false, "rcpt to 451 4.3.0"},
		{"data 451", reply(stageData, 451, "4.3.0 later"), true, false, "data 451 4.3.0"},
		{"data 552", reply(stageData, 552, "5.3.4 too big"), false, false, "data 552 5.3.4"},
		{"data user unknown", reply(stageData, 550, "5.1.1 unknown"), false, true, "data 550 5.1.1"},
		{"mail bad sender", reply(stageMail, 553, "5.1.8 bad sender"), false, false, "mail from 553 5.1.8"},
		{"mail 421", reply(stageMail, 421, "4.7.0 bye"), true, false, "mail from 421 4.7.0"},
		{"auth 535", reply(stageAuth, 535, "5.7.8 bad creds"), false, false, "auth 535 5.7.8"},
		{"auth 454", reply(stageAuth, 454, "4.7.0 try later"), true, false, "auth 454 4.7.0"},
		{"rcpt relay denied", reply(stageRcpt, 554, "5.7.1 Relay access denied"), false, false, "rcpt to 554 5.7.1"},
		{"rcpt mailbox full", reply(stageRcpt, 552, "5.2.2 over quota"), false, false, "rcpt to 552 5.2.2"},
		{"no enhanced code", reply(stageData, 554, "rejected"), false, false, "data 554"},
		{"refused", staged(stageDial, &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}), true, false, "connection refused"},
		{"eof", staged(stageData, io.EOF), true, false, "connection lost"},
		{"reset", staged(stageMail, &net.OpError{Op: "read", Err: syscall.ECONNRESET}), true, false, "connection lost"},
		{"deadline", staged(stageDial, context.DeadlineExceeded), true, false, "timeout"},
		{"canceled", context.Canceled, true, false, "canceled"},
		{"invalid", fmt.Errorf("%w: x", ErrInvalidMessage), false, false, "invalid message"},
		{"other", errors.New("strange"), true, false, "error"},
		{"other in stage", staged(stageAuth, errors.New("unencrypted")), true, false, "auth"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			temp, bounce, reason := Classify(tc.err)
			if temp != tc.temp || bounce != tc.bounce || reason != tc.reason {
				t.Errorf("Classify = %v %v %q, want %v %v %q", temp, bounce, reason, tc.temp, tc.bounce, tc.reason)
			}
		})
	}
}

// TestFaultOf sorts replies by whose problem they are: only replies about
// the recipient's mailbox charge the recipient; relay, policy, credential
// and sender refusals are the operator's.
func TestFaultOf(t *testing.T) {
	reply := func(stage Stage, code int, msg string) error {
		return fmt.Errorf("deliver: %w", staged(stage, &textproto.Error{Code: code, Msg: msg}))
	}
	tests := []struct {
		name string
		err  error
		want Fault
	}{
		{"nil", nil, FaultNone},
		{"user unknown", reply(StageRcpt, 550, "5.1.1 <a@b>: Recipient address rejected: User unknown"), FaultMailbox},
		{"bad destination mailbox", reply(StageRcpt, 550, "5.1.10 null MX"), FaultMailbox},
		{"mailbox disabled", reply(StageRcpt, 550, "5.2.1 mailbox disabled"), FaultMailbox},
		{"mailbox full", reply(StageRcpt, 552, "5.2.2 over quota"), FaultMailboxSoft},
		{"mailbox full later", reply(StageRcpt, 452, "4.2.2 mailbox full"), FaultMailboxSoft},
		{"mailbox busy", reply(StageRcpt, 450, "4.2.1 try later"), FaultMailboxSoft},
		{"plain 550 at rcpt", reply(StageRcpt, 550, "No such user here"), FaultMailbox},
		{"plain 550 5.0.0 at rcpt", reply(StageRcpt, 550, "5.0.0 unknown user"), FaultMailbox},
		{"plain 450 at rcpt", reply(StageRcpt, 450, "mailbox unavailable"), FaultMailboxSoft},
		{"plain 554 at rcpt", reply(StageRcpt, 554, "Relay access denied"), FaultRelay},
		{"relay denied", reply(StageRcpt, 554, "5.7.1 <a@b>: Relay access denied"), FaultRelay},
		{"greylisted", reply(StageRcpt, 451, "4.7.1 greylisted"), FaultRelay},
		{"system not ready", reply(StageRcpt, 451, "4.3.0 try again"), FaultRelay},
		{"too many recipients", reply(StageRcpt, 452, "4.3.1 insufficient storage"), FaultRelay},
		{"routing", reply(StageRcpt, 554, "5.4.4 unable to route"), FaultRelay},
		{"message too big", reply(StageData, 552, "5.3.4 too big"), FaultRelay},
		{"spam at data", reply(StageData, 550, "5.7.1 spam"), FaultRelay},
		{"plain 550 at data", reply(StageData, 550, "rejected"), FaultRelay},
		{"user unknown at data", reply(StageData, 550, "5.1.1 unknown"), FaultMailbox},
		{"plain 451", reply(StageData, 451, "local error"), FaultTransient},
		{"421 at rcpt", reply(StageRcpt, 421, "closing"), FaultTransient},
		{"sender refused", reply(StageMail, 553, "5.1.8 bad sender domain"), FaultSender},
		{"sender syntax", reply(StageMail, 501, "5.5.4 syntax"), FaultSender},
		{"sender policy", reply(StageMail, 550, "5.7.1 not allowed"), FaultSender},
		{"sender temporary", reply(StageMail, 451, "4.3.0 later"), FaultSender},
		{"sender 421", reply(StageMail, 421, "4.7.0 bye"), FaultTransient},
		{"sender address at rcpt", reply(StageRcpt, 553, "5.1.7 bad sender address"), FaultSender},
		{"auth failed", reply(StageAuth, 535, "5.7.8 bad credentials"), FaultSender},
		{"auth required at rcpt", reply(StageRcpt, 530, "5.7.0 authentication required"), FaultSender},
		{"greeting refusal", reply(StageGreeting, 554, "no service"), FaultSender},
		{"connection lost", staged(StageData, io.EOF), FaultTransient},
		{"refused", staged(StageDial, &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}), FaultTransient},
		{"unavailable", fmt.Errorf("%w: down", ErrServerUnavailable), FaultTransient},
		{"invalid", fmt.Errorf("%w: x", ErrInvalidMessage), FaultMessage},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := FaultOf(tc.err); got != tc.want {
				t.Errorf("FaultOf(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}

// TestErrorFields takes a multi-line reply apart.
func TestErrorFields(t *testing.T) {
	err := staged(StageRcpt, &textproto.Error{Code: 550, Msg: "5.1.1 <x@example.org>: Recipient address rejected:\n5.1.1 User unknown in virtual mailbox table"})
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("%T is not an *Error", err)
	}
	if e.Stage != StageRcpt || e.Code != 550 || e.Enhanced != "5.1.1" || !e.Permanent() || e.Temporary() {
		t.Errorf("fields %+v", e)
	}
	if want := "<x@example.org>: Recipient address rejected:; User unknown in virtual mailbox table"; e.Text != want {
		t.Errorf("text %q, want %q", e.Text, want)
	}
	if e.Key() != "550 5.1.1" || !strings.HasPrefix(e.Error(), "smtp rcpt to: 550 5.1.1 <x@example.org>") {
		t.Errorf("key %q, error %q", e.Key(), e.Error())
	}
	lost := staged(StageData, io.EOF).(*Error)
	if lost.Code != 0 || lost.Key() != "" || lost.Permanent() || lost.Reply() != "" {
		t.Errorf("no-reply error %+v", lost)
	}
}
