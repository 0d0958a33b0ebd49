package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/papermail/papermail/internal/smtptest"
	"github.com/papermail/papermail/internal/store"
)

// daemon is a running `papermail serve`.
type daemon struct {
	cmd    *exec.Cmd
	addr   string
	exited chan error
	logs   *bytes.Buffer
}

var listenRe = regexp.MustCompile(`listen=(127\.0\.0\.1:\d+)`)

func (in *instance) serve(t *testing.T) *daemon {
	t.Helper()
	return in.start(t, "serve")
}

// start runs a serving command (serve, demo) until it logs its listen
// address.
func (in *instance) start(t *testing.T, args ...string) *daemon {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(append([]string{}, in.env...), "PAPERMAIL_LOG_LEVEL=info")
	cmd.Dir = in.dir
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d := &daemon{cmd: cmd, exited: make(chan error, 1), logs: &bytes.Buffer{}}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			d.logs.WriteString(line + "\n")
			if m := listenRe.FindStringSubmatch(line); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
		d.exited <- cmd.Wait()
	}()
	select {
	case d.addr = <-found:
	case err := <-d.exited:
		t.Fatalf("serve exited: %v\n%s", err, d.logs)
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("serve did not start:\n%s", d.logs)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
		}
	})
	return d
}

func (d *daemon) stop(t *testing.T) {
	t.Helper()
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-d.exited:
		if err != nil {
			t.Fatalf("serve exited with %v after SIGTERM\n%s", err, d.logs)
		}
	case <-time.After(40 * time.Second):
		d.cmd.Process.Kill()
		t.Fatalf("serve did not stop on SIGTERM\n%s", d.logs)
	}
}

// TestCommandsWhileServing runs every data command against a data_dir whose
// store is held by a running daemon: each is forwarded over the control
// socket and works; none hangs on the lock.
//
// The store's zone is one where it is 02:xx now, so the daemon's own
// digest tick finds nobody due (the delivery time, 07:00, is hours away
// at whatever hour the test runs) and the digest is the forwarded
// command's to send.
func TestCommandsWhileServing(t *testing.T) {
	srv := smtptest.StartT(t, smtptest.Options{})
	in := newInstance(t, srv, "PAPERMAIL_DIGEST_TIMEZONE="+idleZone(time.Now()))
	d := in.serve(t)

	resp, err := http.Get("http://" + d.addr + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()

	source, _, papers := in.listing(t)
	out := in.ok("ingest", source)
	if !strings.Contains(out, fmt.Sprintf("%d papers", papers)) {
		t.Fatalf("ingest through the daemon: %s", out)
	}
	in.ok("subscribers", "add", "seg@example.org", "--interests", "semantic segmentation", "--confirmed")
	in.ok("subscribers", "add", "new@example.org", "--interests", "graph neural networks")
	if !waitForRecipient(srv, "new@example.org", 20*time.Second) {
		t.Fatal("the confirmation mail queued through the daemon was not sent")
	}
	list := in.ok("subscribers", "list")
	if !strings.Contains(list, "seg@example.org") || !strings.Contains(list, "pending") {
		t.Fatalf("list: %s", list)
	}
	in.ok("digest")
	var st struct {
		Papers int
		Runs   []struct{ Sent int }
	}
	json.Unmarshal([]byte(in.ok("status", "--format", "json")), &st)
	if st.Papers != papers || len(st.Runs) != 1 || st.Runs[0].Sent != 1 {
		t.Fatalf("status through the daemon: %+v", st)
	}
	if got := srv.CountByRecipient(); got["seg@example.org"] != 1 || got["new@example.org"] != 1 || len(got) != 2 {
		t.Fatalf("the relay received %v, want one digest for seg@ and one confirmation for new@", got)
	}
	// Errors travel back with a non-zero exit.
	_, errOut := in.run(true, "subscribers", "remove", "nobody@example.org")
	if !strings.Contains(errOut, "not found") {
		t.Fatalf("remove of an unknown address: %q", errOut)
	}
	in.run(true, "ingest", filepath.Join(in.dir, "missing.json"))

	backup := filepath.Join(in.dir, "backup.db")
	in.ok("backup", backup)
	if err := store.CheckFile(backup); err != nil {
		t.Fatal(err)
	}
	// restore refuses while the daemon holds the store.
	_, errOut = in.run(true, "restore", backup)
	if !strings.Contains(errOut, "in use") {
		t.Fatalf("restore while serving: %q", errOut)
	}
	// /metrics is not on the public listener by default (TestOperations
	// reads it on metrics.listen).
	metrics, err := http.Get("http://" + d.addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics.Body.Close()
	if metrics.StatusCode != http.StatusNotFound {
		t.Fatalf("/metrics on http.listen by default: %s", metrics.Status)
	}

	d.stop(t)
	if !strings.Contains(d.logs.String(), "papermail stopped") {
		t.Fatalf("no clean stop in the log:\n%s", d.logs)
	}
	if _, err := os.Stat(filepath.Join(in.dir, "data", "papermail.sock")); !os.IsNotExist(err) {
		t.Fatalf("control socket left behind: %v", err)
	}
	// With the daemon gone, restore works and the data is there.
	in.ok("restore", "--force", backup)
	if out := in.ok("subscribers", "list"); !strings.Contains(out, "seg@example.org") {
		t.Fatalf("after restore: %s", out)
	}
}

// idleZone is a zone whose local time at now is 02:xx (UTC or a fixed
// offset, Etc/GMT±N): a subscriber with the default delivery time (07:00)
// in it is not due for hours, whatever the time of day the test runs at.
func idleZone(now time.Time) string {
	off := (2 - now.UTC().Hour() + 24) % 24 // hours east of UTC
	if off > 14 {
		off -= 24
	}
	switch {
	case off == 0:
		return "UTC"
	case off > 0:
		return fmt.Sprintf("Etc/GMT-%d", off) // POSIX signs: Etc/GMT-2 is UTC+2
	default:
		return fmt.Sprintf("Etc/GMT+%d", -off)
	}
}

// waitForRecipient waits until srv has accepted a message for rcpt.
func waitForRecipient(srv *smtptest.Server, rcpt string, timeout time.Duration) bool {
	for deadline := time.Now().Add(timeout); srv.CountByRecipient()[rcpt] == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			return false
		}
	}
	return true
}
