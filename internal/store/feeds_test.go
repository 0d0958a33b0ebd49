package store

import (
	"errors"
	"path/filepath"
	"testing"
	"time"
)

func TestFeedHealth(t *testing.T) {
	s := openT(t)
	const url = "https://feeds.example.org/daily.json"
	if _, err := s.FeedHealth(url); !errors.Is(err, ErrNotFound) {
		t.Fatalf("FeedHealth before any fetch: %v, want ErrNotFound", err)
	}
	if hs, err := s.FeedHealths(); err != nil || len(hs) != 0 {
		t.Fatalf("FeedHealths before any fetch: %v, %v", hs, err)
	}
	t0 := time.Date(2026, 12, 3, 7, 0, 0, 0, time.UTC)
	steps := []struct {
		fetch        FeedFetch
		wantOK       bool
		wantFailures int
		wantAdded    int
		wantSuccess  time.Time
	}{
		{FeedFetch{At: t0, Papers: 30, Added: 30}, true, 0, 30, t0},
		{FeedFetch{At: t0.Add(time.Hour), Err: errors.New("GET: 503 Service Unavailable")}, false, 1, 30, t0},
		{FeedFetch{At: t0.Add(2 * time.Hour), Err: errors.New("GET: 503 Service Unavailable")}, false, 2, 30, t0},
		{FeedFetch{At: t0.Add(3 * time.Hour), Papers: 31, Added: 1, Updated: 30}, true, 0, 1, t0.Add(3 * time.Hour)},
	}
	for i, st := range steps {
		h, err := s.RecordFeedFetch(url, st.fetch)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		got, err := s.FeedHealth(url)
		if err != nil {
			t.Fatalf("step %d: FeedHealth: %v", i, err)
		}
		if got != h {
			t.Errorf("step %d: stored %+v, returned %+v", i, got, h)
		}
		if h.OK() != st.wantOK || h.Failures != st.wantFailures || h.Added != st.wantAdded ||
			!h.LastSuccess.Equal(st.wantSuccess) || !h.LastAttempt.Equal(st.fetch.At) {
			t.Errorf("step %d: %+v", i, h)
		}
		if !st.wantOK && h.Error != st.fetch.Err.Error() {
			t.Errorf("step %d: error %q, want %q", i, h.Error, st.fetch.Err)
		}
	}
	if _, err := s.RecordFeedFetch("https://b.example.org/x", FeedFetch{At: t0, Err: errors.New("dns")}); err != nil {
		t.Fatal(err)
	}
	hs, err := s.FeedHealths()
	if err != nil || len(hs) != 2 || hs[0].URL != "https://b.example.org/x" || hs[1].URL != url {
		t.Fatalf("FeedHealths: %+v, %v", hs, err)
	}
}

// TestFeedHealthSurvivesReopen checks the record is in the file, and that
// a read-only open of a store with none reads as empty.
func TestFeedHealthSurvivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "papermail.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	ro, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if hs, err := ro.FeedHealths(); err != nil || len(hs) != 0 {
		t.Fatalf("read-only store without feeds: %v, %v", hs, err)
	}
	ro.Close()
	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 12, 3, 8, 0, 0, 0, time.UTC)
	if _, err := s.RecordFeedFetch("u", FeedFetch{At: at, Papers: 2, Added: 2}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	h, err := s.FeedHealth("u")
	if err != nil || !h.OK() || h.Papers != 2 || !h.LastAttempt.Equal(at) {
		t.Fatalf("after reopen: %+v, %v", h, err)
	}
}
