package feeds

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// feedServer serves the fixtures and some failure cases, recording the
// User-Agent of the last request.
func feedServer(t *testing.T) (*httptest.Server, *string) {
	t.Helper()
	var ua string
	mux := http.NewServeMux()
	mux.HandleFunc("/hf", func(w http.ResponseWriter, r *http.Request) {
		ua = r.Header.Get("User-Agent")
		http.ServeFile(w, r, filepath.Join("testdata", "hf-daily.json"))
	})
	mux.HandleFunc("/rss", func(w http.ResponseWriter, r *http.Request) {
		ua = r.Header.Get("User-Agent")
		w.Header().Set("Content-Type", "application/rss+xml")
		http.ServeFile(w, r, filepath.Join("testdata", "arxiv-rss.xml"))
	})
	mux.HandleFunc("/missing", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no such feed here", http.StatusNotFound)
	})
	mux.HandleFunc("/broken", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
	})
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/rss", http.StatusFound)
	})
	mux.HandleFunc("/announced-huge", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(MaxFetchBytes+1))
		w.WriteHeader(http.StatusOK)
	})
	mux.HandleFunc("/huge", func(w http.ResponseWriter, r *http.Request) {
		// No Content-Length: the limit has to be found while reading.
		buf := make([]byte, 1<<20)
		for sent := 0; sent <= MaxFetchBytes; sent += len(buf) {
			if _, err := w.Write(buf); err != nil {
				return
			}
			w.(http.Flusher).Flush()
		}
	})
	mux.HandleFunc("/exact", func(w http.ResponseWriter, r *http.Request) {
		w.(http.Flusher).Flush()
		buf := []byte(strings.Repeat(" ", 1<<20))
		for range MaxFetchBytes >> 20 {
			if _, err := w.Write(buf); err != nil {
				return
			}
		}
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, &ua
}

func TestLoadHTTP(t *testing.T) {
	srv, ua := feedServer(t)
	ctx := context.Background()
	for path, want := range map[string]struct {
		format string
		n      int
	}{"/hf": {FormatHF, 3}, "/rss": {FormatArxiv, 3}, "/redirect": {FormatArxiv, 3}} {
		*ua = ""
		papers, format, err := Load(ctx, srv.URL+path, FormatAuto, testNow)
		if err != nil {
			t.Fatalf("Load(%s): %v", path, err)
		}
		if format != want.format || len(papers) != want.n {
			t.Errorf("Load(%s) = %d papers as %q, want %d as %q", path, len(papers), format, want.n, want.format)
		}
		if *ua != "papermail/1" {
			t.Errorf("Load(%s) sent User-Agent %q", path, *ua)
		}
	}
	// The format given wins over detection.
	if _, format, err := Load(ctx, srv.URL+"/hf", FormatPage, testNow); err != nil || format != FormatPage {
		t.Errorf("Load as page: format %q, err %v", format, err)
	}
}

func TestOpenHTTPErrors(t *testing.T) {
	srv, _ := feedServer(t)
	tests := []struct{ path, want string }{
		{"/missing", "HTTP status 404 Not Found: no such feed here"},
		{"/broken", "HTTP status 502 Bad Gateway"},
		{"/announced-huge", "more than the limit of 32 MiB"},
	}
	for _, tt := range tests {
		rc, err := Open(context.Background(), srv.URL+tt.path)
		if err == nil {
			rc.Close()
			t.Errorf("Open(%s): no error", tt.path)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), srv.URL+tt.path) {
			t.Errorf("Open(%s) error %q, want it to name the URL and contain %q", tt.path, err, tt.want)
		}
	}
	if _, _, err := Load(context.Background(), srv.URL+"/missing", FormatAuto, testNow); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("Load of a 404: %v", err)
	}
}

func TestOpenSizeLimit(t *testing.T) {
	srv, _ := feedServer(t)
	rc, err := Open(context.Background(), srv.URL+"/huge")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	n, err := io.Copy(io.Discard, rc)
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), srv.URL+"/huge") {
		t.Fatalf("reading an endless body: %d bytes, err %v", n, err)
	}
	if n != MaxFetchBytes {
		t.Errorf("read %d bytes before the error, want %d", n, MaxFetchBytes)
	}
	// A body of exactly the limit is fine.
	rc2, err := Open(context.Background(), srv.URL+"/exact")
	if err != nil {
		t.Fatal(err)
	}
	defer rc2.Close()
	if n, err := io.Copy(io.Discard, rc2); err != nil || n != MaxFetchBytes {
		t.Errorf("body at the limit: %d bytes, err %v", n, err)
	}
}

func TestOpenHTTPContext(t *testing.T) {
	srv, _ := feedServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := Open(ctx, srv.URL+"/slow")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Open of a stalled server: %v, want deadline exceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Open returned after %v", d)
	}
}

func TestOpenFiles(t *testing.T) {
	dir := t.TempDir()
	papers, format, err := Load(context.Background(), filepath.Join("testdata", "papers.jsonl"), FormatAuto, testNow)
	if err != nil || format != FormatJSONL || len(papers) != 4 {
		t.Fatalf("Load(papers.jsonl) = %d papers as %q, err %v", len(papers), format, err)
	}
	abs, err := filepath.Abs(filepath.Join("testdata", "arxiv-rss.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if papers, _, err := Load(context.Background(), "file://"+abs, FormatAuto, testNow); err != nil || len(papers) != 3 {
		t.Errorf("Load(file://...) = %d papers, err %v", len(papers), err)
	}
	// Errors name the file.
	bad := filepath.Join(dir, "bad.jsonl")
	if err := os.WriteFile(bad, []byte("{\"title\":\"A\"}\n{oops}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Load(context.Background(), bad, FormatAuto, testNow); err == nil || !strings.HasPrefix(err.Error(), bad+": line 2: invalid JSON") {
		t.Errorf("Load(bad.jsonl) error = %v", err)
	}
	for _, src := range []string{filepath.Join(dir, "missing.json"), dir, ""} {
		if rc, err := Open(context.Background(), src); err == nil {
			rc.Close()
			t.Errorf("Open(%q): no error", src)
		}
	}
	// A sparse file over the limit is refused before reading.
	big := filepath.Join(dir, "big.jsonl")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(MaxSourceBytes + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := Open(context.Background(), big); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), big) {
		t.Errorf("Open(big file) error = %v", err)
	}
}

// TestParseReaderLimit: Parse itself refuses a reader over the limit.
func TestParseReaderLimit(t *testing.T) {
	r := io.LimitReader(zeroSpaces{}, MaxSourceBytes+1)
	_, err := Parse(r, FormatPage, "stdin", testNow)
	if !errors.Is(err, ErrTooLarge) || !strings.HasPrefix(err.Error(), "stdin: ") {
		t.Errorf("Parse of an oversized reader: %v", err)
	}
}

// zeroSpaces is an endless source of spaces.
type zeroSpaces struct{}

var spaces = []byte(strings.Repeat(" ", 64<<10))

func (zeroSpaces) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		n += copy(p[n:], spaces)
	}
	return n, nil
}
