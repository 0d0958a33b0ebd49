// Package testutil holds helpers shared by tests: finding the shared
// sample data that lives outside the repository.
package testutil

import (
	"os"
	"path/filepath"
	"testing"
)

// SharedData returns the path of a file in the workplace's shared/data
// folder (real-world inputs kept outside the repository): the folder named
// by PAPERMAIL_SHARED_DATA, or the first shared/data found walking up from
// the working directory. A missing file fails the test: it is not skipped.
func SharedData(t testing.TB, name string) string {
	t.Helper()
	if dir := os.Getenv("PAPERMAIL_SHARED_DATA"); dir != "" {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("shared data %s: %v (PAPERMAIL_SHARED_DATA=%s)", name, err, dir)
		}
		return p
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		p := filepath.Join(dir, "shared", "data", name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("shared data %s not found above the working directory; set PAPERMAIL_SHARED_DATA to the folder holding it", name)
		}
		dir = parent
	}
}
