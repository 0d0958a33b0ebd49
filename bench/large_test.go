package main

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/papermail/papermail/internal/subscription"
)

// TestLargeZones checks, at every hour of a day, that the idle zone's
// local time is 02:xx (before the 07:00 delivery time) and the due zone's
// 12:xx (after it), on the same local date as each other's day start.
func TestLargeZones(t *testing.T) {
	for h := range 24 {
		now := time.Date(2026, 12, 3, h, 37, 0, 0, time.UTC)
		idle, due := largeZones(now)
		for _, tt := range []struct {
			zone string
			hour int
		}{{idle, 2}, {due, 12}} {
			loc, err := time.LoadLocation(tt.zone)
			if err != nil {
				t.Fatalf("%02d:37 UTC: zone %q: %v", h, tt.zone, err)
			}
			if got := now.In(loc).Hour(); got != tt.hour {
				t.Errorf("%02d:37 UTC: local hour in %s is %d, want %d", h, tt.zone, got, tt.hour)
			}
		}
	}
}

// TestSubscribersCSV checks the generated import file is what
// `papermail subscribers import` accepts: its header, and rows that parse
// as subscription requests with the zone given.
func TestSubscribersCSV(t *testing.T) {
	path := filepath.Join(t.TempDir(), "subs.csv")
	size, err := writeSubscribersCSV(path, 41, 300, "Etc/GMT-7", 1)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if st, _ := f.Stat(); st.Size() != size {
		t.Errorf("reported size %d, file has %d", size, st.Size())
	}
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 301 || strings.Join(recs[0], ",") != "email,interests,timezone" {
		t.Fatalf("%d records, header %q", len(recs), recs[0])
	}
	seen := map[string]bool{}
	for i, rec := range recs[1:] {
		req, err := subscription.ParseRequest(rec[0], rec[1], rec[2], "import")
		if err != nil {
			t.Fatalf("row %d %q: %v", i+2, rec, err)
		}
		if n := len(req.Interests); n < 1 || n > 4 {
			t.Errorf("row %d: %d interests", i+2, n)
		}
		if seen[req.Email] {
			t.Errorf("row %d: %s twice", i+2, req.Email)
		}
		seen[req.Email] = true
	}
	if recs[1][0] != "reader00000041@example.net" {
		t.Errorf("first address %q", recs[1][0])
	}
}

func TestParseStatCPU(t *testing.T) {
	tests := []struct {
		stat string
		want time.Duration
		ok   bool
	}{
		{"4242 (papermail) S 1 4242 4242 0 -1 4194560 1234 0 0 0 153 27 0 0 20 0 9 0 100 0 0", 1800 * time.Millisecond, true},
		{"7 (a (b) c) R 1 7 7 0 -1 0 0 0 0 0 5 5 0 0 20 0 1 0 1 0 0", 100 * time.Millisecond, true},
		{"7 (short) R 1 2", 0, false},
		{"no brackets", 0, false},
	}
	for _, tt := range tests {
		got, err := parseStatCPU(tt.stat)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseStatCPU(%q) = %v, %v; want %v, ok=%v", tt.stat, got, err, tt.want, tt.ok)
		}
	}
}

func TestParseRunLine(t *testing.T) {
	log := `time=2026-12-03T19:00:21Z level=INFO msg="serving" listen=127.0.0.1:4000
time=2026-12-03T19:00:21Z level=INFO msg="digest run" date=2026-12-03 due=50 sent=48 failed=0 skipped=2 bounced=0 attempt=1 duration_ms=210 interrupted=false load_ms=12 select_ms=30 render_ms=40 compose_ms=5 record_ms=203
`
	r, ok := parseRunLine(log)
	if !ok {
		t.Fatal("no run line found")
	}
	if r.Due != 50 || r.Sent != 48 || r.Run != 210*time.Millisecond || r.Record != 203*time.Millisecond || r.Select != 30*time.Millisecond || r.Render != 40*time.Millisecond {
		t.Errorf("got %+v", r)
	}
	if r.RecordPerDigest() != 203*time.Millisecond/48 {
		t.Errorf("record per digest %v", r.RecordPerDigest())
	}
	if _, ok := parseRunLine(strings.SplitAfter(log, "\n")[0]); ok {
		t.Error("a log without a digest run line parsed")
	}
}

func TestIdlePerMinute(t *testing.T) {
	tests := []struct {
		window, cpu time.Duration
		want        string
	}{
		{30 * time.Second, 0, "< 0.020"},
		{30 * time.Second, 50 * time.Millisecond, "0.100"},
		{time.Minute, 600 * time.Millisecond, "0.600"},
	}
	for _, tt := range tests {
		r := idleResult{Window: tt.window, WindowCPU: tt.cpu}
		if got := r.PerMinuteString(); got != tt.want {
			t.Errorf("%v over %v: %q, want %q", tt.cpu, tt.window, got, tt.want)
		}
		if max := r.PerMinuteMax(); max < r.PerMinute() || r.WindowCPU < statTick && max != statTick.Seconds()/tt.window.Minutes() {
			t.Errorf("%v over %v: at most %v", tt.cpu, tt.window, max)
		}
	}
}

// TestLargeFullTarget checks a full-list run shows in the large table and
// is held to issue #12's RSS bound for its size, anonymous and
// file-backed parts named.
func TestLargeFullTarget(t *testing.T) {
	for _, tt := range []struct {
		n   int
		rss int64
		met bool
	}{{100000, 99 << 20, true}, {100000, 101 << 20, false}, {1000000, 140 << 20, true}, {1000000, 151 << 20, false}} {
		r := &largeResult{N: tt.n, Full: &sendRun{Kind: "digest", Due: tt.n, Sent: tt.n - 5, Received: tt.n - 5,
			Usage: usage{Wall: time.Minute, MaxRSS: tt.rss, AnonRSS: 60 << 20, FileRSS: 30 << 20}}}
		var got *target
		for _, tg := range r.targets() {
			if strings.Contains(tg.what, "full list") {
				got = &tg
			}
		}
		if got == nil {
			t.Fatalf("N=%d: no full-list target in %+v", tt.n, r.targets())
		}
		if got.met != tt.met || !strings.Contains(got.got, "anon 60.0 / file-backed 30.0") {
			t.Errorf("N=%d, %d MiB: target %+v, want met=%v", tt.n, tt.rss>>20, *got, tt.met)
		}
		if row := r.table(); !strings.Contains(row, fmt.Sprintf("%d of %d", tt.n-5, tt.n)) {
			t.Errorf("N=%d: table lacks the full-list run:\n%s", tt.n, row)
		}
	}
}
