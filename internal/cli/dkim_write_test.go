//go:build unix

package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestDKIMKeygenFailedWrite makes the key's write fail half-way (the
// file size limit, RLIMIT_FSIZE, below the key's size, set in a child
// process running keygen): keygen exits 1 saying what went wrong, and
// leaves neither a partial key at the path nor a temporary file beside
// it; an existing key stays as it was.
func TestDKIMKeygenFailedWrite(t *testing.T) {
	if os.Getenv("PAPERMAIL_TEST_KEYGEN_CHILD") != "" {
		lim := syscall.Rlimit{Cur: 64, Max: 64}
		if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
			fmt.Fprintln(os.Stderr, "setrlimit:", err)
			os.Exit(3)
		}
		var out, errb bytes.Buffer
		code := Main(context.Background(), strings.Fields(os.Getenv("PAPERMAIL_TEST_KEYGEN_CHILD")), &out, &errb)
		fmt.Fprint(os.Stdout, out.String())
		fmt.Fprint(os.Stderr, errb.String())
		os.Exit(code)
	}
	keygen := func(t *testing.T, alg, key string) (int, string, string) {
		t.Helper()
		cmd := exec.Command(os.Args[0], "-test.run=^TestDKIMKeygenFailedWrite$")
		cmd.Env = append(os.Environ(), "PAPERMAIL_TEST_KEYGEN_CHILD=dkim keygen --domain papers.example.org --selector pm2026 --algorithm "+alg+" --out "+key)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatal(err)
		}
		if cmd.ProcessState.ExitCode() == 3 {
			t.Fatalf("child: %s", errb.String())
		}
		return cmd.ProcessState.ExitCode(), out.String(), errb.String()
	}
	for _, alg := range []string{"rsa", "ed25519"} {
		t.Run(alg+" new key", func(t *testing.T) {
			dir := installEnv(t)
			keys := filepath.Join(dir, "keys")
			key := filepath.Join(keys, alg+".pem")
			code, out, errOut := keygen(t, alg, key)
			if code != 1 || !strings.Contains(errOut, "write private key "+key) || !strings.Contains(errOut, "file too large") ||
				!strings.Contains(errOut, "no key was written") || out != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 1 naming the key, the cause and that no key was written", code, out, errOut)
			}
			if _, err := os.Lstat(key); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("after the failed write %s exists (%v), want no file", key, err)
			}
			if left, _ := os.ReadDir(keys); len(left) != 0 {
				t.Errorf("the failed write left %v in %s, want nothing", left, keys)
			}
		})
		t.Run(alg+" existing key", func(t *testing.T) {
			dir := installEnv(t)
			key := filepath.Join(dir, "dkim.pem")
			old := []byte("an operator's key\n")
			if err := os.WriteFile(key, old, 0o600); err != nil {
				t.Fatal(err)
			}
			code, out, errOut := keygen(t, alg, key)
			if code != 1 || !strings.Contains(errOut, "never overwritten") || out != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit 1 saying the key is never overwritten", code, out, errOut)
			}
			if got, _ := os.ReadFile(key); !bytes.Equal(got, old) {
				t.Errorf("existing key now %q, want %q", got, old)
			}
			if left, _ := filepath.Glob(filepath.Join(dir, ".dkim.pem.*")); len(left) != 0 {
				t.Errorf("temporary files left: %v", left)
			}
		})
	}
}
