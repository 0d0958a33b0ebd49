package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// feedServers serves a good feed (the hf fixture) and a failing one (503)
// on 127.0.0.1.
func feedServers(t *testing.T) (good, bad string) {
	t.Helper()
	fixture, err := os.ReadFile(filepath.Join("..", "internal", "feeds", "testdata", "hf-daily.json"))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /daily.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(fixture)
	})
	mux.HandleFunc("GET /broken.json", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "feed backend down", http.StatusServiceUnavailable)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL + "/daily.json", srv.URL + "/broken.json"
}

// withFeeds writes a config file naming feeds, each on schedule, and points
// the instance at it.
func (in *instance) withFeeds(t *testing.T, schedule string, urls ...string) {
	t.Helper()
	var b strings.Builder
	b.WriteString("feeds:\n")
	for _, u := range urls {
		b.WriteString("  - url: " + u + "\n    format: hf\n    schedule: \"" + schedule + "\"\n")
	}
	path := filepath.Join(in.dir, "papermail.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	in.env = append(in.env, "PAPERMAIL_CONFIG="+path)
}

type feedJSON struct {
	URL       string `json:"url"`
	LastFetch string `json:"last_fetch"`
	OK        bool   `json:"ok"`
	Error     string `json:"error"`
	Failures  int    `json:"failures_in_a_row"`
	Papers    int    `json:"papers"`
	Added     int    `json:"added"`
	NextFetch string `json:"next_fetch"`
}

func (in *instance) feedStatus(t *testing.T) (bool, map[string]feedJSON) {
	t.Helper()
	var rep struct {
		Serving bool       `json:"serving"`
		Feeds   []feedJSON `json:"feeds"`
	}
	if err := json.Unmarshal([]byte(in.ok("status", "--format", "json")), &rep); err != nil {
		t.Fatal(err)
	}
	m := map[string]feedJSON{}
	for _, f := range rep.Feeds {
		m[f.URL] = f
	}
	return rep.Serving, m
}

// TestFeedHealth: serve fetches both configured feeds at start (their
// schedule is once a day, 12 hours from now, so no scheduled fetch comes
// while the test runs, whatever the time of day), status shows each feed's
// last fetch, outcome, papers and next fetch, the failing one is logged at
// WARN with its error, and a hand-run ingest of the failing feed exits
// non-zero and counts a second failure.
func TestFeedHealth(t *testing.T) {
	good, bad := feedServers(t)
	in := newInstance(t, nil)
	hour := time.Now().UTC().Add(12 * time.Hour).Hour()
	schedule := fmt.Sprintf("0 %d * * *", hour)
	in.withFeeds(t, schedule, good, bad)
	// status needs a store (it never creates one); a subscriber makes it.
	in.ok("subscribers", "add", "feeds@example.org", "--interests", "speech recognition", "--confirmed")

	_, before := in.feedStatus(t)
	if len(before) != 2 || before[good].LastFetch != "" || before[good].NextFetch != "" {
		t.Fatalf("status before any serve: %+v", before)
	}
	if out := in.ok("status"); !strings.Contains(out, good+" ("+schedule+"): never fetched; next fetch at the start of 'papermail serve'") {
		t.Errorf("status text before serve:\n%s", out)
	}

	d := in.serve(t)
	var feeds map[string]feedJSON
	var serving bool
	deadline := time.Now().Add(30 * time.Second)
	for {
		serving, feeds = in.feedStatus(t)
		if feeds[good].LastFetch != "" && feeds[bad].LastFetch != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("feeds not fetched at start-up within 30s: %+v", feeds)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !serving {
		t.Error("status through the daemon says serving=false")
	}
	g, b := feeds[good], feeds[bad]
	if !g.OK || g.Error != "" || g.Papers == 0 || g.Added != g.Papers || g.Failures != 0 {
		t.Errorf("good feed: %+v", g)
	}
	if b.OK || !strings.Contains(b.Error, "503") || b.Failures != 1 || b.Papers != 0 {
		t.Errorf("failing feed: %+v", b)
	}
	for _, f := range []feedJSON{g, b} {
		next, err := time.Parse(time.RFC3339, f.NextFetch)
		if err != nil || !next.After(time.Now()) || next.UTC().Hour() != hour || next.UTC().Minute() != 0 {
			t.Errorf("%s: next fetch %q (%v), want the next %02d:00 UTC", f.URL, f.NextFetch, err, hour)
		}
	}
	text := in.ok("status")
	if !strings.Contains(text, bad+" ("+schedule+"): last fetch ") || !strings.Contains(text, "FAILED (1 in a row; last success never)") {
		t.Errorf("status text:\n%s", text)
	}

	// A hand-run ingest of the failing feed fails and is one more failure.
	_, stderr := in.run(true, "ingest", "--format", "hf", bad)
	if !strings.Contains(stderr, "503") {
		t.Errorf("ingest of the failing feed: stderr %q", stderr)
	}
	_, feeds = in.feedStatus(t)
	if feeds[bad].Failures != 2 {
		t.Errorf("after a failed hand-run ingest: %+v", feeds[bad])
	}
	d.stop(t)

	logs := d.logs.String()
	var warned bool
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, "level=WARN") && strings.Contains(line, `msg="feed fetch failed"`) &&
			strings.Contains(line, bad) && strings.Contains(line, "503") {
			warned = true
		}
	}
	if !warned {
		t.Errorf("no WARN line naming the failing feed and its error:\n%s", logs)
	}
	if !strings.Contains(logs, `msg="feed fetched" feed=`+good) {
		t.Errorf("no INFO line for the good feed:\n%s", logs)
	}

	// Without the daemon the health is still there, read from the file.
	serving, feeds = in.feedStatus(t)
	if serving || !feeds[good].OK || feeds[bad].Failures != 2 || feeds[good].NextFetch != "" {
		t.Errorf("status after stop: serving %v, %+v", serving, feeds)
	}
}
