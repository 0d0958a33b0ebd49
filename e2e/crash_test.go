package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/papermail/papermail/internal/smtptest"
)

// TestKillMidRunLosesNothing kills a real `papermail digest` with SIGKILL
// at several points of a run, then runs it again, and counts per recipient
// what the SMTP server received: everyone exactly once, except at most
// smtp.connections messages that were in flight at the kill.
func TestKillMidRunLosesNothing(t *testing.T) {
	const subscribers = 240
	const connections = 4
	for _, killAt := range []int{1, 60, 150, 235} {
		t.Run(fmt.Sprintf("kill after %d", killAt), func(t *testing.T) {
			srv := smtptest.StartT(t, smtptest.Options{DataDelay: 8 * time.Millisecond})
			in := newInstance(t, srv, fmt.Sprintf("PAPERMAIL_SMTP_CONNECTIONS=%d", connections))
			source, format, _ := in.listing(t)
			in.ok("ingest", "--format", format, source)
			csv := "email,interests\n"
			topics := []string{"semantic segmentation", "neural machine translation", "graph neural networks", "language models", "reinforcement learning"}
			for i := range subscribers {
				csv += fmt.Sprintf("reader%03d@example.org,%s\n", i, topics[i%len(topics)])
			}
			path := filepath.Join(in.dir, "list.csv")
			os.WriteFile(path, []byte(csv), 0o600)
			in.ok("subscribers", "import", path)

			cmd := exec.Command(binary, "digest")
			cmd.Env, cmd.Dir = in.env, in.dir
			var errb bytes.Buffer
			cmd.Stderr = &errb
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			if !srv.WaitFor(killAt, time.Minute) {
				t.Fatalf("server got only %d messages", srv.Count())
			}
			cmd.Process.Signal(syscall.SIGKILL)
			<-exited
			atKill := srv.Count()
			if atKill >= subscribers {
				t.Logf("run finished before the kill (%d messages)", atKill)
			}

			// The next run for the date resumes.
			in.ok("digest")
			counts := srv.CountByRecipient()
			dups := 0
			for i := range subscribers {
				addr := fmt.Sprintf("reader%03d@example.org", i)
				switch n := counts[addr]; {
				case n == 0:
					t.Errorf("%s got no digest", addr)
				case n > 2:
					t.Errorf("%s got %d digests", addr, n)
				case n == 2:
					dups++
				}
			}
			if dups > connections {
				t.Errorf("%d duplicates, more than smtp.connections=%d", dups, connections)
			}
			t.Logf("killed at %d received; after resume %d messages, %d duplicates", atKill, srv.Count(), dups)
			// A third run sends nothing more.
			before := srv.Count()
			in.ok("digest")
			if srv.Count() != before {
				t.Errorf("a third run sent %d more", srv.Count()-before)
			}
		})
	}
}
