// Package e2e runs the real papermail binary against real parts: a bbolt
// file in a temporary data_dir, an SMTP server on 127.0.0.1, and the shared
// real-world listing page.
package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/papermail/papermail/internal/smtptest"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "papermail-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "papermail")
	build := exec.Command("go", "build", "-o", binary, "../cmd/papermail")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build papermail:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// instance is one papermail data_dir with its settings.
type instance struct {
	t   *testing.T
	dir string
	env []string
}

func newInstance(t *testing.T, smtp *smtptest.Server, extra ...string) *instance {
	t.Helper()
	dir := t.TempDir()
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "TZ=UTC",
		"PAPERMAIL_DATA_DIR=" + filepath.Join(dir, "data"),
		"PAPERMAIL_BASE_URL=https://papers.example.org",
		"PAPERMAIL_MAIL_FROM=Papermail <digest@papers.example.org>",
		"PAPERMAIL_DIGEST_TIMEZONE=UTC",
		"PAPERMAIL_HTTP_LISTEN=127.0.0.1:0",
		"PAPERMAIL_LOG_LEVEL=warn",
	}
	if smtp != nil {
		env = append(env, "PAPERMAIL_SMTP_HOST=127.0.0.1", fmt.Sprintf("PAPERMAIL_SMTP_PORT=%d", smtp.Port()), "PAPERMAIL_SMTP_TLS=none")
	}
	return &instance{t: t, dir: dir, env: append(env, extra...)}
}

// run runs papermail to completion and returns stdout; a non-zero exit
// fails the test unless wantFail.
func (in *instance) run(wantFail bool, args ...string) (string, string) {
	in.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env, cmd.Dir = in.env, in.dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if wantFail != (err != nil) {
		in.t.Fatalf("papermail %s: err=%v (want failure: %v)\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, wantFail, out.String(), errb.String())
	}
	return out.String(), errb.String()
}

func (in *instance) ok(args ...string) string {
	in.t.Helper()
	out, _ := in.run(false, args...)
	return out
}
