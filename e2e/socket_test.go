package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestControlSocketChecks runs the real binary against the three ways the
// control socket can be a trap or fail obscurely: a data_dir every user
// may write to (serve refuses to start), a data_dir too long for a unix
// socket path (serve says so and names the limit) and a socket that
// belongs to another user (the command refuses to forward to it).
func TestControlSocketChecks(t *testing.T) {
	t.Run("world-writable data_dir", func(t *testing.T) {
		in := newInstance(t, nil)
		in.ok("subscribers", "add", "a@example.org", "--interests", "speech recognition", "--confirmed")
		dir := filepath.Join(in.dir, "data")
		if err := os.Chmod(dir, 0o777); err != nil {
			t.Fatal(err)
		}
		_, stderr := in.run(true, "serve")
		if !strings.Contains(stderr, "may be written by every user") || !strings.Contains(stderr, dir) {
			t.Errorf("serve on a world-writable data_dir: %q", stderr)
		}
	})
	t.Run("data_dir too long for a socket", func(t *testing.T) {
		base := t.TempDir()
		long := filepath.Join(base, strings.Repeat("d", 120-len(base)))
		in := newInstance(t, nil, "PAPERMAIL_DATA_DIR="+long)
		in.ok("subscribers", "add", "a@example.org", "--interests", "speech recognition", "--confirmed")
		_, stderr := in.run(true, "serve")
		if !strings.Contains(stderr, "longer than the 107 a unix socket path may have") || strings.Contains(stderr, "invalid argument") {
			t.Errorf("serve with a too long data_dir: %q", stderr)
		}
	})
	t.Run("socket of another user", func(t *testing.T) {
		if os.Getuid() != 0 {
			t.Skip("giving the socket to another user needs root")
		}
		in := newInstance(t, nil)
		in.ok("subscribers", "add", "a@example.org", "--interests", "speech recognition", "--confirmed")
		d := in.serve(t)
		sock := filepath.Join(in.dir, "data", "papermail.sock")
		if out := in.ok("status"); !strings.Contains(out, "active 1") {
			t.Fatalf("status through the daemon's own socket:\n%s", out)
		}
		if err := os.Lchown(sock, 4242, 4242); err != nil {
			t.Fatal(err)
		}
		_, stderr := in.run(true, "status")
		if !strings.Contains(stderr, "belongs to user 4242") || !strings.Contains(stderr, "not forwarding") {
			t.Errorf("status with a socket of user 4242: %q", stderr)
		}
		os.Lchown(sock, 0, 0)
		d.stop(t)
	})
}
