// Package testutil holds helpers shared by tests: finding the shared
// sample data that lives outside the repository, and the external programs
// (chromium, spamassassin, ...) some tests drive for real.
//
// Both follow one rule: on a developer's machine a missing input skips the
// test with a one-line reason, so a plain clone's suite is green; in CI
// (env CI set to a true value) a missing program fails the test, because
// CI installs it and must run those tests.
package testutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
)

// SharedDataEnv names the environment variable that points at the shared
// data folder.
const SharedDataEnv = "PAPERMAIL_SHARED_DATA"

var sharedDir = sync.OnceValue(findSharedData)

// SharedDataDir returns the workplace's shared/data folder (real-world
// inputs kept outside the repository) and whether there is one: the folder
// named by PAPERMAIL_SHARED_DATA, else the first shared/data found beside
// the repository or above it (../shared/data, ../../shared/data, ...),
// as .ci/run finds it.
func SharedDataDir() (string, bool) {
	dir := sharedDir()
	return dir, dir != ""
}

func findSharedData() string {
	if dir := os.Getenv(SharedDataEnv); dir != "" {
		return dir
	}
	root := moduleRoot()
	if root == "" {
		return ""
	}
	dir := upFrom(filepath.Dir(root), func(d string) bool {
		fi, err := os.Stat(filepath.Join(d, "shared", "data"))
		return err == nil && fi.IsDir()
	})
	if dir == "" {
		return ""
	}
	return filepath.Join(dir, "shared", "data")
}

// moduleRoot is the folder holding go.mod at or above the working
// directory (go test runs a package's tests in its folder).
func moduleRoot() string {
	wd, err := os.Getwd()
	if err != nil {
		return ""
	}
	return upFrom(wd, func(d string) bool {
		_, err := os.Stat(filepath.Join(d, "go.mod"))
		return err == nil
	})
}

// upFrom returns the first of dir and the folders above it for which ok
// holds, or "".
func upFrom(dir string, ok func(string) bool) string {
	for !ok(dir) {
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
	return dir
}

// SharedData returns the path of a file in the shared data folder. Without
// a shared data folder the test is skipped with one line saying so; a
// folder that exists but lacks the file fails the test (the data the test
// measures on is incomplete, which is not a reason to pass).
func SharedData(t testing.TB, name string) string {
	t.Helper()
	dir, ok := SharedDataDir()
	if !ok {
		t.Skipf("no shared data (set %s or place shared/data beside the repository): skipping, needs %s", SharedDataEnv, name)
	}
	p := filepath.Join(dir, name)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("shared data %s: %v (shared data folder %s)", name, err, dir)
	}
	return p
}

// InCI reports whether the tests run in CI: env CI set to a true value
// ("true", "1", ...), as CI systems and .ci/run set it.
func InCI() bool {
	v, err := strconv.ParseBool(os.Getenv("CI"))
	return err == nil && v
}

// Program returns the executable a test drives: path when it exists, else
// name found on PATH. When neither is there the test is skipped with one
// line naming the Debian package to install, unless it runs in CI, where
// the program is installed on purpose and its absence fails the test.
func Program(t testing.TB, path, name, debianPackage string) string {
	t.Helper()
	if path != "" {
		if fi, err := os.Stat(path); err == nil && !fi.IsDir() {
			return path
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if InCI() {
		t.Fatalf("%s not found at %s or on PATH, and CI must run this test: apt-get install %s", name, path, debianPackage)
	}
	t.Skipf("%s not installed (apt-get install %s): skipping", name, debianPackage)
	return ""
}
