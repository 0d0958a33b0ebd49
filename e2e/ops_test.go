package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/papermail/papermail/internal/store"
	"github.com/papermail/papermail/internal/testutil"
)

// freeAddr returns a 127.0.0.1 address nothing listens on right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// TestOperations: version; healthcheck fails without a daemon and passes
// against one; /metrics only on metrics.listen; restore refuses to
// replace an existing store without --force and changes nothing, and
// with --force keeps the replaced store as a dated copy.
func TestOperations(t *testing.T) {
	web, metricsAddr := freeAddr(t), freeAddr(t)
	in := newInstance(t, nil)
	in.env = append(in.env, "PAPERMAIL_HTTP_LISTEN="+web, "PAPERMAIL_METRICS_LISTEN="+metricsAddr)

	if out := in.ok("version"); !strings.HasPrefix(out, "papermail ") || !strings.Contains(out, "go1.") {
		t.Errorf("version: %q", out)
	}
	if out := in.ok("--version"); !strings.HasPrefix(out, "papermail ") {
		t.Errorf("--version: %q", out)
	}
	_, stderr := in.run(true, "healthcheck")
	if !strings.Contains(stderr, "unhealthy") || !strings.Contains(stderr, web) {
		t.Errorf("healthcheck without a daemon: %q", stderr)
	}
	// Another web server on the address is not a healthy papermail; its
	// page is quoted on the one error line.
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "<html>\n  <body>\n    no such page\n  </body>\n</html>", http.StatusNotFound)
	}))
	defer other.Close()
	_, stderr = in.run(true, "healthcheck", "--url", other.URL+"/readyz")
	if !strings.Contains(stderr, "unhealthy") || !strings.Contains(stderr, "no such page") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("healthcheck against another server: %q", stderr)
	}

	in.ok("subscribers", "add", "keep@example.org", "--interests", "protein folding", "--confirmed")
	d := in.serve(t)
	if out := in.ok("healthcheck"); !strings.Contains(out, "healthy") {
		t.Errorf("healthcheck against the daemon: %q", out)
	}
	if code, _ := get(t, "http://"+web+"/metrics"); code != http.StatusNotFound {
		t.Errorf("/metrics on http.listen: %d, want 404", code)
	}
	if code, body := get(t, "http://"+metricsAddr+"/metrics"); code != 200 || !strings.Contains(body, "papermail_panics_total") {
		t.Errorf("/metrics on metrics.listen: %d\n%.300s", code, body)
	}
	backup := filepath.Join(in.dir, "backup.db")
	in.ok("backup", backup)
	d.stop(t)
	if !strings.Contains(d.logs.String(), "metrics=http://"+metricsAddr+"/metrics") {
		t.Errorf("start-up log does not say where /metrics is:\n%s", d.logs)
	}
	if _, stderr := in.run(true, "healthcheck"); !strings.Contains(stderr, "unhealthy") {
		t.Errorf("healthcheck after stop: %q", stderr)
	}

	// The live store moves on after the backup.
	in.ok("subscribers", "add", "later@example.org", "--interests", "speech", "--confirmed")
	db := filepath.Join(in.dir, "data", "papermail.db")
	before, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	_, stderr = in.run(true, "restore", backup)
	if !strings.Contains(stderr, "--force") || !strings.Contains(stderr, "nothing was changed") {
		t.Errorf("restore without --force: %q", stderr)
	}
	// A backup that is not there is named as such (not as a missing
	// store in the data directory).
	_, stderr = in.run(true, "restore", "--force", "no-such-backup.db")
	if !strings.Contains(stderr, "no-such-backup.db is not a usable backup: no such file") || strings.Contains(stderr, "data_dir") {
		t.Errorf("restore of a missing file: %q", stderr)
	}
	after, _ := os.ReadFile(db)
	if string(before) != string(after) {
		t.Error("restore without --force changed the store")
	}
	if m, _ := filepath.Glob(db + ".*"); len(m) != 0 {
		t.Errorf("restore without --force left files: %v", m)
	}

	out := in.ok("restore", "--force", backup)
	kept, _ := filepath.Glob(db + ".replaced-*")
	if len(kept) != 1 || !strings.Contains(out, kept[0]) {
		t.Fatalf("restore --force: kept %v, output %q", kept, out)
	}
	// The kept copy is the replaced store, with what came after the backup.
	if ks, err := store.Open(kept[0], store.Options{ReadOnly: true}); err != nil {
		t.Errorf("kept copy: %v", err)
	} else {
		if _, err := ks.SubscriberByEmail("later@example.org"); err != nil {
			t.Errorf("kept copy lacks the subscriber added after the backup: %v", err)
		}
		ks.Close()
	}
	list := in.ok("subscribers", "list")
	if !strings.Contains(list, "keep@example.org") || strings.Contains(list, "later@example.org") {
		t.Errorf("after restore: %s", list)
	}
	if err := store.CheckFile(kept[0]); err != nil {
		t.Errorf("kept copy: %v", err)
	}
}

// listing returns a day of papers for `ingest`: the shared real listing
// page when there is one, else testutil.Corpus written as jsonl into the
// instance's folder; with its format and how many papers it holds. Tests
// that need papers, not these particular ones, run on a plain clone too.
func (in *instance) listing(t *testing.T) (path, format string, papers int) {
	t.Helper()
	if _, ok := testutil.SharedDataDir(); ok {
		return testutil.SharedData(t, "papers-page.txt"), "page", 251
	}
	corpus := testutil.Corpus(250)
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	for i := range corpus {
		if err := enc.Encode(&corpus[i]); err != nil {
			t.Fatal(err)
		}
	}
	path = filepath.Join(in.dir, "corpus.jsonl")
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, "jsonl", len(corpus)
}

// TestExitCodes: a command whose work failed exits non-zero and says so
// once on stderr, while what it did is kept.
func TestExitCodes(t *testing.T) {
	dead := freeAddr(t)
	_, port, _ := net.SplitHostPort(dead)
	in := newInstance(t, nil, "PAPERMAIL_SMTP_HOST=127.0.0.1", "PAPERMAIL_SMTP_PORT="+port, "PAPERMAIL_SMTP_TLS=none",
		"PAPERMAIL_SMTP_MAX_ATTEMPTS=1")

	// The relay is down: the subscriber is added, the mail waits, exit 1.
	out, stderr := in.run(true, "subscribers", "add", "wait@example.org", "--interests", "speech recognition")
	if !strings.Contains(out, "added wait@example.org (pending)") || !strings.Contains(stderr, "queued but could not be sent") ||
		strings.Count(stderr, "\n") != 1 {
		t.Errorf("add with the relay down: stdout %q stderr %q", out, stderr)
	}
	if list := in.ok("subscribers", "list"); !strings.Contains(list, "wait@example.org") {
		t.Errorf("the subscriber was not kept: %s", list)
	}

	// export to a file that cannot be written.
	if _, stderr := in.run(true, "export", "--out", filepath.Join(in.dir, "no", "such", "dir", "papers.jsonl")); !strings.Contains(stderr, "no such file") {
		t.Errorf("export to a missing folder: %q", stderr)
	}
	// ingest of a source that does not load.
	if _, stderr := in.run(true, "ingest", filepath.Join(in.dir, "missing.jsonl")); !strings.Contains(stderr, "1 of 1 sources failed") {
		t.Errorf("ingest of a missing file: %q", stderr)
	}
	// serve on a port already taken fails at once.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	busy := newInstance(t, nil, "PAPERMAIL_HTTP_LISTEN="+ln.Addr().String())
	if _, stderr := busy.run(true, "serve"); !strings.Contains(stderr, "http.listen") {
		t.Errorf("serve on a busy port: %q", stderr)
	}
}

// TestHealthcheckBySocket: with http.listen on any free port (":0") the
// address is unknown to the command, so healthcheck asks the daemon over
// its control socket.
func TestHealthcheckBySocket(t *testing.T) {
	in := newInstance(t, nil) // PAPERMAIL_HTTP_LISTEN=127.0.0.1:0
	if _, stderr := in.run(true, "healthcheck"); !strings.Contains(stderr, "unhealthy") || !strings.Contains(stderr, "control socket") {
		t.Errorf("healthcheck without a daemon: %q", stderr)
	}
	d := in.serve(t)
	if out := in.ok("healthcheck"); !strings.Contains(out, "healthy: the daemon answers on its control socket") {
		t.Errorf("healthcheck against the daemon: %q", out)
	}
	if out := in.ok("healthcheck", "--url", "http://"+d.addr+"/readyz"); !strings.Contains(out, "answered ready") {
		t.Errorf("healthcheck --url: %q", out)
	}
	d.stop(t)
	if _, stderr := in.run(true, "healthcheck", "--socket"); !strings.Contains(stderr, "unhealthy") {
		t.Errorf("healthcheck --socket after stop: %q", stderr)
	}
}
