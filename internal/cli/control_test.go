package cli

import (
	"os"
	"path/filepath"
	"testing"
)

// TestListenControl: the control socket is the owner's only, a stale one
// is replaced, and a path where no socket can be made is an error.
func TestListenControl(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "papermail.sock")
	if err := os.WriteFile(sock, nil, 0o666); err != nil { // stale leftover
		t.Fatal(err)
	}
	ln, err := listenControl(sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	st, err := os.Stat(sock)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode()&os.ModeSocket == 0 || st.Mode().Perm() != 0o600 {
		t.Errorf("control socket mode %v, want a socket with 0600", st.Mode())
	}

	if _, err := listenControl(filepath.Join(dir, "missing", "papermail.sock")); err == nil {
		t.Error("listenControl in a missing folder: no error")
	}
	// A non-empty directory in the way cannot be removed: an error, and it stays.
	blocked := filepath.Join(dir, "blocked")
	if err := os.MkdirAll(filepath.Join(blocked, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := listenControl(blocked); err == nil {
		t.Error("listenControl over a non-empty directory: no error")
	}
	if _, err := os.Stat(filepath.Join(blocked, "x")); err != nil {
		t.Errorf("the directory in the way was changed: %v", err)
	}
}
