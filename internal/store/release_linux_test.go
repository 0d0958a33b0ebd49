//go:build linux

package store

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/papermail/papermail/internal/model"
)

// rssFileKB is the file-backed resident memory of this process.
func rssFileKB(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "RssFile:" {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	t.Fatal("no RssFile in /proc/self/status")
	return 0
}

// TestReleaseMemoryDropsMappedPages streams 30 MB of subscribers and checks
// that ReleaseMemory gives the mapped file pages back.
func TestReleaseMemoryDropsMappedPages(t *testing.T) {
	s := openT(t)
	interest := strings.Repeat("graph neural networks for molecules; ", 25)
	var subs []model.Subscriber
	for i := range 30000 {
		subs = append(subs, model.Subscriber{Email: itoa(i) + "@example.org", State: model.StateActive, Interests: []string{interest}})
	}
	if _, err := s.AddSubscribers(subs); err != nil {
		t.Fatal(err)
	}
	s.ForEachSubscriber(1000, func([]model.Subscriber) error { return nil })
	before := rssFileKB(t)
	s.ReleaseMemory()
	after := rssFileKB(t)
	t.Logf("file-backed RSS %d kB after reading, %d kB after release", before, after)
	if before-after < 20000 {
		t.Fatalf("release gave back only %d kB of %d", before-after, before)
	}
}
