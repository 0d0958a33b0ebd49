package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const (
	damagePapers      = 3000
	damageSubscribers = 300
)

// filledInstance is a data_dir whose store holds damagePapers papers and
// damageSubscribers subscribers, put in with the real binary.
func filledInstance(t *testing.T) *instance {
	t.Helper()
	in := newInstance(t, nil)
	papers := filepath.Join(in.dir, "papers.jsonl")
	var b strings.Builder
	enc := json.NewEncoder(&b)
	for i := range damagePapers {
		enc.Encode(map[string]any{"id": fmt.Sprintf("2411.%05d", i), "title": fmt.Sprintf("Paper number %d on graph learning", i),
			"abstract":    strings.Repeat(fmt.Sprintf("The abstract of paper %d studies message passing. ", i), 12),
			"trending_at": time.Now().Add(-time.Duration(i) * time.Minute).UTC().Format(time.RFC3339)})
	}
	if err := os.WriteFile(papers, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	in.ok("ingest", papers)
	var c strings.Builder
	c.WriteString("email,interests\n")
	for i := range damageSubscribers {
		fmt.Fprintf(&c, "reader%d@example.org,graph neural networks\n", i)
	}
	csv := filepath.Join(in.dir, "subs.csv")
	if err := os.WriteFile(csv, []byte(c.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	in.ok("subscribers", "import", csv)
	return in
}

func (in *instance) dbPath() string { return filepath.Join(in.dir, "data", "papermail.db") }

// zeroPages overwrites n pages of 4096 bytes from page first.
func zeroPages(t *testing.T, path string, first, n int) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(make([]byte, n*4096), int64(first)*4096); err != nil {
		t.Fatal(err)
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// checkOneLine fails unless a command failed with exactly one line on
// stderr naming the damage and the restore command, and no Go fault.
func checkOneLine(t *testing.T, what, stderr string) {
	t.Helper()
	lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
	if len(lines) != 1 || !strings.Contains(stderr, "damaged") || !strings.Contains(stderr, "papermail restore BACKUP") ||
		strings.Contains(stderr, "goroutine") || strings.Contains(stderr, "panic") {
		t.Errorf("%s: stderr is not one line naming the damage and 'papermail restore BACKUP':\n%s", what, stderr)
	}
}

// TestDamagedStore damages a real store the two ways an unlucky operator
// meets (cut short by a full disk or a bad copy, pages overwritten) and
// runs every reading command on it with the real binary: each exits
// non-zero with one line, the file stays as it was, a damaged backup is
// refused by restore, and export --salvage gets the intact records back
// into a store restore accepts.
func TestDamagedStore(t *testing.T) {
	base := filledInstance(t)
	intact, err := os.ReadFile(base.dbPath())
	if err != nil {
		t.Fatal(err)
	}
	pages := len(intact) / 4096
	t.Logf("store: %d bytes, %d pages", len(intact), pages)
	damages := []struct {
		name   string
		damage func(t *testing.T, path string)
	}{
		{"truncated to 100 KB", func(t *testing.T, path string) {
			if err := os.Truncate(path, 100<<10); err != nil {
				t.Fatal(err)
			}
		}},
		{"20 pages zeroed in the middle", func(t *testing.T, path string) { zeroPages(t, path, pages/2, 20) }},
		{"20 pages zeroed at the start", func(t *testing.T, path string) { zeroPages(t, path, 0, 20) }},
		{"20 pages zeroed at a quarter", func(t *testing.T, path string) { zeroPages(t, path, pages/4, 20) }},
		// bbolt alone would open these from the other meta page, as the
		// store was before its last write.
		{"meta page 0 zeroed", func(t *testing.T, path string) { zeroPages(t, path, 0, 1) }},
		{"meta page 1 zeroed", func(t *testing.T, path string) { zeroPages(t, path, 1, 1) }},
	}
	for _, d := range damages {
		t.Run(d.name, func(t *testing.T) {
			in := newInstance(t, nil)
			db := in.dbPath()
			os.MkdirAll(filepath.Dir(db), 0o700)
			if err := os.WriteFile(db, intact, 0o600); err != nil {
				t.Fatal(err)
			}
			d.damage(t, db)
			feed := filepath.Join(in.dir, "x.jsonl")
			if err := os.WriteFile(feed, []byte(`{"id":"2411.99999","title":"A paper after the damage","trending_at":"2026-11-27T06:00:00Z"}`+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			damaged, _ := os.ReadFile(db)
			for _, args := range [][]string{{"status"}, {"export"}, {"subscribers", "list"}, {"digest"}, {"serve"}, {"backup", filepath.Join(in.dir, "b.db")}, {"ingest", feed},
				{"subscribers", "add", "new@example.org", "--interests", "speech", "--confirmed"}} {
				_, stderr := in.run(true, args...)
				checkOneLine(t, strings.Join(args, " "), stderr)
			}
			if now, _ := os.ReadFile(db); string(now) != string(damaged) {
				t.Error("a command changed the damaged store")
			}

			// The damaged file as a backup: restore refuses it and
			// keeps the current store.
			good := newInstance(t, nil)
			os.MkdirAll(filepath.Dir(good.dbPath()), 0o700)
			if err := os.WriteFile(good.dbPath(), intact, 0o600); err != nil {
				t.Fatal(err)
			}
			_, stderr := good.run(true, "restore", db)
			if !strings.Contains(stderr, "not a usable backup") || !strings.Contains(stderr, "damaged") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
				t.Errorf("restore of a damaged backup: %q", stderr)
			}
			if now, _ := os.ReadFile(good.dbPath()); string(now) != string(intact) {
				t.Error("refused restore changed the current store")
			}

			// Salvage: what is intact comes back and restores. Without
			// a meta page bbolt reads nothing: the salvage says so.
			out := filepath.Join(in.dir, "salvage")
			if strings.Contains(d.name, "start") {
				_, stderr := in.run(true, "export", "--salvage", "--out", out)
				if !strings.Contains(stderr, "nothing in it can be read") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
					t.Errorf("salvage without meta pages: %q", stderr)
				}
				return
			}
			stdout := in.ok("export", "--salvage", "--out", out)
			var papers, subs int
			if _, err := fmt.Sscanf(stdout, "salvaged %d papers, %d subscribers", &papers, &subs); err != nil {
				t.Fatalf("salvage output %q: %v", stdout, err)
			}
			t.Logf("%s: %s", d.name, strings.TrimSpace(stdout))
			if n := countLines(t, filepath.Join(out, "papers.jsonl")); n != papers {
				t.Errorf("papers.jsonl has %d lines, report says %d", n, papers)
			}
			if n := countLines(t, filepath.Join(out, "subscribers.jsonl")); n != subs {
				t.Errorf("subscribers.jsonl has %d lines, report says %d", n, subs)
			}
			if strings.Contains(d.name, "zeroed") {
				if papers < damagePapers*8/10 || subs < damageSubscribers*8/10 {
					t.Errorf("salvaged %d papers and %d subscribers of %d and %d", papers, subs, damagePapers, damageSubscribers)
				}
			}
			if papers > 0 {
				stdout = in.ok("restore", "--force", filepath.Join(out, "papermail.db"))
				if !strings.Contains(stdout, "was damaged") {
					t.Errorf("restore over a damaged store does not say where it kept it: %q", stdout)
				}
				if got := in.ok("status"); !strings.Contains(got, fmt.Sprint(papers)) {
					t.Errorf("status after restoring the salvage does not show %d papers:\n%s", papers, got)
				}
			}
		})
	}
}

func countLines(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		n++
	}
	return n
}

// TestNoStoreIsNotCreated runs the commands that must not create a store
// with a mistyped data_dir and with an empty store file: each refuses
// with one clear line and leaves nothing behind.
func TestNoStoreIsNotCreated(t *testing.T) {
	in := newInstance(t, nil)
	db := in.dbPath()
	for _, args := range [][]string{{"status"}, {"export"}, {"subscribers", "list"}, {"subscribers", "remove", "a@example.org"},
		{"digest"}, {"preview", "--interests", "speech"}, {"backup", filepath.Join(in.dir, "b.db")}} {
		_, stderr := in.run(true, args...)
		want := "no store at " + db + "; run in the data directory or set data_dir"
		if strings.TrimSpace(stderr) != "papermail: "+want {
			t.Errorf("%v with no store: stderr %q, want %q", args, stderr, want)
		}
	}
	if _, err := os.Stat(filepath.Dir(db)); !os.IsNotExist(err) {
		t.Errorf("a refused command created %s: %v", filepath.Dir(db), err)
	}
	if err := os.MkdirAll(filepath.Dir(db), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(db, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"status"}, {"serve"}, {"ingest", "x.jsonl"}} {
		_, stderr := in.run(true, args...)
		if !strings.Contains(stderr, "empty file, not a papermail store") {
			t.Errorf("%v with an empty store file: %q", args, stderr)
		}
	}
	if fileSize(t, db) != 0 {
		t.Error("the empty store file was written")
	}
	// The commands that start a papermail do create one.
	os.Remove(db)
	in.ok("subscribers", "add", "first@example.org", "--interests", "speech recognition", "--confirmed")
	in.ok("status")
}

var _ = exec.Command
