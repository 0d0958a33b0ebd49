package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/selection"
	"github.com/papermail/papermail/internal/smtptest"
)

func TestParseWrk(t *testing.T) {
	tests := []struct {
		file            string
		rps             float64
		requests, non2x int
		p50, p99        time.Duration
		sockets         string
	}{
		{"wrk.txt", 150.65, 1509, 0, 99480 * time.Microsecond, 183780 * time.Microsecond, "none"},
		{"wrk-errors.txt", 18731.05, 187312, 12, 812 * time.Microsecond, 2310 * time.Microsecond, "connect 0, read 3, write 0, timeout 1"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			var r subscribeResult
			if err := parseWrk(string(b), &r); err != nil {
				t.Fatal(err)
			}
			if r.RPS != tt.rps || r.Requests != tt.requests || r.Non2xx != tt.non2x || r.SocketErrors != tt.sockets {
				t.Errorf("got %v req/s, %d requests, %d non-2xx, sockets %q; want %v, %d, %d, %q",
					r.RPS, r.Requests, r.Non2xx, r.SocketErrors, tt.rps, tt.requests, tt.non2x, tt.sockets)
			}
			if d := r.P50 - tt.p50; d < -time.Microsecond || d > time.Microsecond {
				t.Errorf("p50 = %v, want %v", r.P50, tt.p50)
			}
			if d := r.P99 - tt.p99; d < -time.Microsecond || d > time.Microsecond {
				t.Errorf("p99 = %v, want %v", r.P99, tt.p99)
			}
		})
	}
}

func TestParseWrkRejectsOtherOutput(t *testing.T) {
	for _, out := range []string{"", "wrk: command failed", "Requests/sec: 12\n"} {
		var r subscribeResult
		if err := parseWrk(out, &r); err == nil {
			t.Errorf("parseWrk(%q) accepted output without a summary", out)
		}
	}
}

func FuzzParseWrk(f *testing.F) {
	for _, name := range []string{"wrk.txt", "wrk-errors.txt"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b))
	}
	f.Fuzz(func(t *testing.T, out string) {
		var r subscribeResult
		if err := parseWrk(out, &r); err == nil && (r.P99 <= 0 || r.Requests < 0) {
			t.Errorf("accepted output gives p99 %v and %d requests", r.P99, r.Requests)
		}
	})
}

func TestWriteDocKeepsHandWrittenText(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bench.md")
	if err := writeDoc(path, "first run\n"); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(b), "# Benchmarks") || !strings.Contains(string(b), "first run") {
		t.Fatalf("new file:\n%s", b)
	}
	if err := os.WriteFile(path, append(b, "\n## Profile\n\nhand-written\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writeDoc(path, "second run\n"); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(path)
	s := string(b)
	if strings.Contains(s, "first run") || !strings.Contains(s, "second run") || !strings.HasSuffix(s, "hand-written\n") {
		t.Fatalf("after the second run:\n%s", s)
	}
	if strings.Count(s, beginMarker) != 1 || strings.Count(s, endMarker) != 1 {
		t.Fatalf("markers repeated:\n%s", s)
	}
}

func TestBaselineMessageSize(t *testing.T) {
	for _, size := range []int{5000, 13700, 31762} {
		m, err := baselineMsg(size)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		n, err := m.WriteTo(&b)
		if err != nil {
			t.Fatal(err)
		}
		if d := int(n) - size; d*100 > size || -d*100 > size {
			t.Errorf("message for %d bytes is %d bytes", size, n)
		}
		if !strings.Contains(b.String(), "multipart/alternative") {
			t.Errorf("message for %d bytes is not text+HTML alternatives", size)
		}
	}
}

// TestBaselineSends runs the baseline sender against the real test
// server: every message arrives, over the expected connections.
func TestBaselineSends(t *testing.T) {
	srv := smtptest.StartT(t, smtptest.Options{Discard: true, MaxMessagesPerConn: 10})
	if err := baselineMain(srv.Addr(), 45, 8000, 3, 10, true); err != nil {
		t.Fatal(err)
	}
	if !srv.WaitFor(45, 5*time.Second) {
		t.Fatalf("server received %d of 45 messages", srv.Count())
	}
	if v := srv.LimitViolations(); v != 0 {
		t.Errorf("%d messages beyond 10 per connection", v)
	}
	if avg := srv.Bytes() / int64(srv.Count()); avg < 7900 || avg > 8200 {
		t.Errorf("average message size %d, want about 8000", avg)
	}
}

// TestSynthPapersMatchInterests checks the generated data is realistic
// for the benchmark: against 500 candidate papers, about nine in ten
// interest phrases match papers and most fill a digest of 8 on their own;
// the rest are worded the way the papers are not, as real readers do
// (subscribers have one to four interests, so about 97% get a digest).
func TestSynthPapersMatchInterests(t *testing.T) {
	now := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	r := rand.New(rand.NewPCG(1, 2))
	papers := make([]model.Paper, 500)
	for i := range papers {
		papers[i] = synthPaper(r, now.Add(-time.Duration(i)*8*time.Minute), fmt.Sprintf("2603.%05d", i+1))
	}
	ix := selection.NewIndex(papers, selection.Options{Now: now})
	interests := allInterests()
	full, some := 0, 0
	for _, in := range interests {
		n := len(ix.Select(ix.Compile(selection.Profile{Interests: []string{in}}), 8))
		if n == 8 {
			full++
		}
		if n > 0 {
			some++
		}
	}
	if full*100 < 85*len(interests) || some*100 < 88*len(interests) {
		t.Errorf("%d of %d interests fill 8 picks (want 85%%), %d match something (want 88%%)", full, len(interests), some)
	}
}

func TestParseDigestSummary(t *testing.T) {
	tests := []struct {
		out                        string
		due, sent, skipped, failed int
		ok                         bool
	}{
		{"digest 2026-12-03: 10000 due, 9714 sent, 286 skipped, 0 failed, 0 bounced, 0 pending in 36.327s\n", 10000, 9714, 286, 0, true},
		{"progress\ndigest 2026-12-03: 5 due, 3 sent, 1 skipped, 1 failed, 0 bounced in 1s\n", 5, 3, 1, 1, true},
		{"digest failed: relay down\n", 0, 0, 0, 0, false},
	}
	for _, tt := range tests {
		var r sendRun
		err := parseDigestSummary(tt.out, &r)
		if (err == nil) != tt.ok {
			t.Fatalf("parseDigestSummary(%q): error %v, want ok=%v", tt.out, err, tt.ok)
		}
		if r.Due != tt.due || r.Sent != tt.sent || r.Skipped != tt.skipped || r.Failed != tt.failed {
			t.Errorf("parseDigestSummary(%q) = %d/%d/%d/%d, want %d/%d/%d/%d", tt.out, r.Due, r.Sent, r.Skipped, r.Failed, tt.due, tt.sent, tt.skipped, tt.failed)
		}
	}
}
