package config

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzLoad feeds arbitrary documents to the loader: it must never panic,
// every failure must be a *ValidationError with at least one problem, and
// whatever loads cleanly must validate.
func FuzzLoad(f *testing.F) {
	for _, p := range []string{filepath.Join("..", "..", "config.example.yaml"), filepath.Join("testdata", "full.yaml")} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		"", "smtp: {port: x}", "feeds: [a, [b], {url: c}]", "a: &a [*a]", "x: *y",
		"<<: {data_dir: d}", "digest: {schedule: 'TZ=x'}", "- 1", "smtp:\n  port: 1\n  port: 2",
		"digest: {window: 99999999999d}", "feeds:\n - <<: [*a]", "? [a]\n: b",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, _, err := load(data, "fuzz.yaml", nil)
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) || len(ve.Problems) == 0 {
				t.Fatalf("error %T %v, want *ValidationError with problems", err, err)
			}
			_ = err.Error()
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("loaded cleanly but Validate fails: %v", err)
		}
		_, _ = c.DefaultHour()
		_ = c.ListID()
	})
}

// FuzzParseDuration checks that accepted durations round-trip through
// FormatDuration.
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"3d", "90m", "1h30m", "0", "-1d", "1.5h", "999999d", "d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			return
		}
		back, err := ParseDuration(FormatDuration(d))
		if err != nil || back != d {
			t.Fatalf("%q -> %v -> %q -> %v, %v", s, d, FormatDuration(d), back, err)
		}
	})
}

// FuzzSchedule checks the cron wrapper never panics.
func FuzzSchedule(f *testing.F) {
	for _, s := range []string{"0 7 * * *", "CRON_TZ=UTC 0 7 * * *", "TZ=", "CRON_TZ=", "@every 1h", "*/0 * * * *"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if sched, err := ParseSchedule(s); err == nil && sched == nil {
			t.Fatal("nil schedule without error")
		}
		_ = time.Now()
	})
}
