package cli

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
)

// mainIn runs papermail in a fresh folder with a data_dir there and returns the exit
// status, stdout and stderr.
func mainIn(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	dir := t.TempDir()
	t.Chdir(dir)
	t.Setenv("PAPERMAIL_DATA_DIR", dir+"/data")
	// Only the variables this test sets: scripts/test exports
	// PAPERMAIL_SHARED_DATA, which papermail itself would warn about.
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "PAPERMAIL_") && k != "PAPERMAIL_DATA_DIR" {
			t.Setenv(k, "") // restored after the test
			os.Unsetenv(k)
		}
	}
	var out, errb bytes.Buffer
	code := Main(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestHelpAndErrors(t *testing.T) {
	tests := []struct {
		args       []string
		code       int
		stdout     []string // substrings
		stderr     string   // substring; "" means stderr must be empty
		stderrOnce bool
	}{
		{args: []string{"help"}, stdout: []string{"Commands:", "healthcheck", "version"}},
		{args: []string{"--help"}, stdout: []string{"Commands:"}},
		{args: []string{"help", "ingest"}, stdout: []string{"Usage: papermail ingest", "Store papers from files or URLs", "-format"}},
		{args: []string{"ingest", "-h"}, stdout: []string{"Usage: papermail ingest", "Store papers from files or URLs"}},
		{args: []string{"restore", "--help"}, stdout: []string{"Usage: papermail restore [--force] FILE", "-force"}},
		{args: []string{"help", "subscribers"}, stdout: []string{"Subcommands:", "add", "remove", "\n  reactivate "}},
		{args: []string{"subscribers", "reactivate", "-h"}, stdout: []string{"Usage: papermail subscribers reactivate", "Make bounced subscribers active", "-all-bounced-since"}},
		{args: []string{"subscribers", "-h"}, stdout: []string{"Subcommands:"}},
		{args: []string{"help", "subscribers", "add"}, stdout: []string{"Usage: papermail subscribers add", "confirmation mail", "-interests"}},
		{args: []string{"subscribers", "list", "-h"}, stdout: []string{"Usage: papermail subscribers list", "-state"}},
		{args: []string{"help", "dkim"}, stdout: []string{"keygen"}},
		{args: []string{"help", "version"}, stdout: []string{"Usage: papermail version"}},
		// Help works even with a broken configuration.
		{args: []string{"--config", "/nonexistent/papermail.yaml", "status", "-h"}, stdout: []string{"Usage: papermail status"}},
		{args: []string{}, code: 2, stderr: "no command given"},
		{args: []string{"frobnicate"}, code: 2, stderr: `unknown command "frobnicate"`, stderrOnce: true},
		{args: []string{"help", "frobnicate"}, code: 2, stderr: `unknown command "frobnicate"`},
		{args: []string{"status", "--bogus"}, code: 2, stderr: "flag provided but not defined: -bogus (run 'papermail help status')", stderrOnce: true},
		{args: []string{"subscribers", "list", "--state", "asleep"}, code: 2,
			stderr: `--state must be one of pending, active, paused, unsubscribed, bounced, got "asleep"`, stderrOnce: true},
		{args: []string{"subscribers", "list", "--format", "xml"}, code: 2, stderr: `--format must be one of text, json, got "xml"`},
		{args: []string{"version"}, stdout: []string{"papermail ", "go1."}},
		{args: []string{"--version"}, stdout: []string{"papermail "}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, stdout, stderr := mainIn(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, stdout, stderr)
			}
			for _, want := range tt.stdout {
				if !strings.Contains(stdout, want) {
					t.Errorf("stdout lacks %q:\n%s", want, stdout)
				}
			}
			if tt.stderr == "" && stderr != "" {
				t.Errorf("stderr not empty: %q", stderr)
			}
			if tt.stderr != "" && !strings.Contains(stderr, tt.stderr) {
				t.Errorf("stderr %q lacks %q", stderr, tt.stderr)
			}
			if tt.stderrOnce && strings.Count(stderr, "\n") != 1 {
				t.Errorf("the error should print once, on one line; stderr:\n%s", stderr)
			}
			if tt.code != 0 && strings.Contains(stdout, "Usage: papermail") {
				t.Errorf("an error printed the help to stdout:\n%s", stdout)
			}
		})
	}
}
