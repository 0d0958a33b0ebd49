package testutil

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// recorder is a testing.TB that records Skipf and Fatalf and stops the
// goroutine like the real ones do.
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Helper() {}
func (r *recorder) Skipf(format string, args ...any) {
	r.skipped = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.failed = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// call runs f with a recorder in its own goroutine and returns what it
// recorded and returned.
func call(t *testing.T, f func(testing.TB) string) (rec *recorder, got string) {
	t.Helper()
	rec = &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		got = f(rec)
	}()
	<-done
	return rec, got
}

func TestProgram(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, ci, path, prog string
		want, skip, fail     bool
	}{
		{name: "path exists", path: self, prog: "no-such-program-papermail", want: true},
		{name: "found on PATH", path: "/nonexistent/sh", prog: "sh", want: true},
		{name: "absent, not CI", path: "/nonexistent/x", prog: "no-such-program-papermail", skip: true},
		{name: "absent, CI", ci: "true", path: "/nonexistent/x", prog: "no-such-program-papermail", fail: true},
		{name: "absent, CI=false", ci: "false", path: "/nonexistent/x", prog: "no-such-program-papermail", skip: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("CI", tt.ci)
			rec, got := call(t, func(tb testing.TB) string { return Program(tb, tt.path, tt.prog, "pkg") })
			if (got != "") != tt.want || (rec.skipped != "") != tt.skip || (rec.failed != "") != tt.fail {
				t.Errorf("Program = %q, skipped %q, failed %q; want path %v, skip %v, fail %v", got, rec.skipped, rec.failed, tt.want, tt.skip, tt.fail)
			}
		})
	}
}

func TestFindSharedData(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(SharedDataEnv, dir)
	if got := findSharedData(); got != dir {
		t.Errorf("with %s=%s: %q", SharedDataEnv, dir, got)
	}
	// A folder that lacks the file fails: it is incomplete, not absent.
	old := sharedDir
	sharedDir = func() string { return dir }
	defer func() { sharedDir = old }()
	rec, _ := call(t, func(tb testing.TB) string { return SharedData(tb, "missing.txt") })
	if rec.failed == "" {
		t.Errorf("missing file in an existing shared data folder did not fail (skipped %q)", rec.skipped)
	}
	if err := os.WriteFile(filepath.Join(dir, "x.txt"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	rec, got := call(t, func(tb testing.TB) string { return SharedData(tb, "x.txt") })
	if got != filepath.Join(dir, "x.txt") || rec.failed != "" || rec.skipped != "" {
		t.Errorf("SharedData(x.txt) = %q, failed %q, skipped %q", got, rec.failed, rec.skipped)
	}
	sharedDir = func() string { return "" }
	rec, _ = call(t, func(tb testing.TB) string { return SharedData(tb, "x.txt") })
	if rec.skipped == "" {
		t.Errorf("no shared data folder did not skip (failed %q)", rec.failed)
	}
}

func TestCorpus(t *testing.T) {
	a, b := Corpus(250), Corpus(250)
	if len(a) != 250 {
		t.Fatalf("%d papers", len(a))
	}
	ids := map[string]bool{}
	titles := map[string]bool{}
	perTopic := map[string]int{}
	for i, p := range a {
		if p.ID != b[i].ID || p.Title != b[i].Title || p.Abstract != b[i].Abstract {
			t.Fatalf("paper %d differs between calls", i)
		}
		if ids[p.ID] || titles[p.Title] {
			t.Errorf("paper %d repeats id %s or title %q", i, p.ID, p.Title)
		}
		ids[p.ID], titles[p.Title] = true, true
		for _, tp := range corpusTopics {
			if strings.Contains(strings.ToLower(p.Title), tp.phrase) {
				perTopic[tp.phrase]++
			}
		}
		if strings.Contains(strings.ToLower(p.Title+p.Abstract), "protein") {
			t.Errorf("paper %d mentions protein: tests use it as a topic nothing matches", i)
		}
	}
	for _, tp := range corpusTopics {
		if perTopic[tp.phrase] < 20 {
			t.Errorf("%q: %d papers, want at least 20", tp.phrase, perTopic[tp.phrase])
		}
	}
}
