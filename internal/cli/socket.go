package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"runtime"
)

// The control socket runs any command with the daemon's rights, so both
// ends check whom they talk to: the daemon refuses a data_dir others may
// write to (they could put their own socket there) and, where the system
// says, connections from other users; a command refuses a socket, or a
// listening process, that belongs to neither its own user nor the store's.

// maxSocketPath is the longest path a unix socket may have here (the
// size of sockaddr_un.sun_path, less its terminating NUL).
func maxSocketPath() int {
	switch runtime.GOOS {
	case "linux", "android", "windows":
		return 107
	default: // the BSDs and macOS
		return 103
	}
}

// errUnsafeSocket wraps the refusals of the control socket checks.
var errUnsafeSocket = errors.New("control socket not trusted")

// checkSocketPath fails, naming the limit, when sock is too long to bind
// or connect to (the system would only say "invalid argument").
func checkSocketPath(sock string) error {
	if n, limit := len(sock), maxSocketPath(); n > limit {
		return fmt.Errorf("control socket %s: the path is %d bytes, longer than the %d a unix socket path may have here; use a shorter data_dir", sock, n, limit)
	}
	return nil
}

// checkDataDir refuses a data_dir that every user may write to.
func checkDataDir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if fi.Mode().Perm()&0o002 != 0 {
		return fmt.Errorf("%w: data_dir %s may be written by every user (mode %04o), so anyone could put their own control socket there; make it private (chmod 700 %s)",
			errUnsafeSocket, dir, fi.Mode().Perm(), dir)
	}
	return nil
}

// trustedUID reports whether a socket or peer owned by uid may be
// trusted by this process: it is this process's user, or the user owning
// the store (root running a command for the service user's daemon).
func trustedUID(uid int, dbPath string) bool {
	if uid == os.Getuid() {
		return true
	}
	owner, ok := fileOwner(dbPath)
	return ok && os.Getuid() == 0 && uid == owner
}

// checkSocket is the command's check before it connects: a private
// data_dir, a path that fits, and a socket file owned by a trusted user.
func checkSocket(sock, dbPath string) error {
	if err := checkSocketPath(sock); err != nil {
		return err
	}
	if err := checkDataDir(filepath.Dir(sock)); err != nil {
		return err
	}
	fi, err := os.Lstat(sock)
	if err != nil {
		return err
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("%w: %s is not a socket", errUnsafeSocket, sock)
	}
	if uid, ok := fileOwner(sock); ok && !trustedUID(uid, dbPath) {
		return fmt.Errorf("%w: %s belongs to user %d, not to you (user %d) nor to the store's owner", errUnsafeSocket, sock, uid, os.Getuid())
	}
	return nil
}

// checkPeer checks the process at the other end of a control connection
// where the system tells who it is (peerUID).
func checkPeer(conn net.Conn, dbPath string) error {
	uid, ok := peerUID(conn)
	if !ok || trustedUID(uid, dbPath) || uid == 0 {
		return nil
	}
	return fmt.Errorf("%w: the process listening on it runs as user %d, not as you (user %d) nor as the store's owner", errUnsafeSocket, uid, os.Getuid())
}
