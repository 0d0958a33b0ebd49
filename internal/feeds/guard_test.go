package feeds

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// serveOn starts an HTTP server on addr (127.0.0.1:0, 127.0.0.2:0,
// [::1]:0) and counts the requests it gets.
func serveOn(t *testing.T, addr string, h http.HandlerFunc) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s here: %v", addr, err)
	}
	var hits atomic.Int32
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		h(w, r)
	})}}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &hits
}

func serveFixture(w http.ResponseWriter, r *http.Request) {
	http.ServeFile(w, r, filepath.Join("testdata", "hf-daily.json"))
}

// TestRedirectIntoPrivateNetwork: a feed configured on 127.0.0.1 that
// redirects to another private address (127.0.0.2, ::1, the link-local
// metadata address) is refused at the connection, and the target gets no
// request; a redirect to the configured address itself is followed; with
// allow_private every one is followed. Everything runs on loopback.
func TestRedirectIntoPrivateNetwork(t *testing.T) {
	other, otherHits := serveOn(t, "127.0.0.2:0", serveFixture)
	same, _ := serveOn(t, "127.0.0.1:0", serveFixture)
	v6, v6Hits := serveOn(t, "[::1]:0", serveFixture)
	targets := map[string]string{
		"/to-other":     other.URL + "/feed",
		"/to-same":      same.URL + "/feed",
		"/to-v6":        v6.URL + "/feed",
		"/to-metadata":  "http://169.254.169.254/latest/meta-data/",
		"/to-private10": "http://10.255.255.1/feed",
	}
	origin, _ := serveOn(t, "127.0.0.1:0", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, targets[r.URL.Path], http.StatusFound)
	})
	tests := []struct {
		path    string
		allowed bool
	}{
		{"/to-other", false}, {"/to-v6", false}, {"/to-metadata", false}, {"/to-private10", false}, {"/to-same", true},
	}
	for _, tt := range tests {
		_, _, err := Load(context.Background(), origin.URL+tt.path, FormatHF, testNow)
		if tt.allowed {
			if err != nil {
				t.Errorf("redirect %s to the configured address: %v", tt.path, err)
			}
			continue
		}
		if !errors.Is(err, ErrPrivateAddress) || !strings.Contains(err.Error(), "allow_private") {
			t.Errorf("redirect %s: %v, want a refusal naming allow_private", tt.path, err)
		}
	}
	if otherHits.Load() != 0 || v6Hits.Load() != 0 {
		t.Errorf("refused targets got requests: 127.0.0.2 %d, ::1 %d", otherHits.Load(), v6Hits.Load())
	}
	// With allow_private the feed may reach its own network.
	for _, p := range []string{"/to-other", "/to-v6"} {
		if _, _, err := Load(AllowPrivate(context.Background()), origin.URL+p, FormatHF, testNow); err != nil {
			t.Errorf("allow_private, redirect %s: %v", p, err)
		}
	}
	// A feed configured on 127.0.0.2 reaches 127.0.0.2 but not 127.0.0.1.
	back, _ := serveOn(t, "127.0.0.2:0", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, same.URL+"/feed", http.StatusFound)
	})
	if _, _, err := Load(context.Background(), back.URL+"/x", FormatHF, testNow); !errors.Is(err, ErrPrivateAddress) {
		t.Errorf("127.0.0.2 redirecting to 127.0.0.1: %v", err)
	}
}

// TestDialPolicy checks the rule on addresses directly, the way the dialer
// calls it after name resolution (so a name that resolves to a private
// address, or changes its answer between lookups, meets the same check).
func TestDialPolicy(t *testing.T) {
	tests := []struct {
		source, dial string
		ok           bool
	}{
		{"https://papers.example.org/feed", "93.184.216.34:443", true},
		{"https://papers.example.org/feed", "127.0.0.1:443", false},
		{"https://papers.example.org/feed", "10.0.0.7:80", false},
		{"https://papers.example.org/feed", "169.254.169.254:80", false},
		{"https://papers.example.org/feed", "[fd00::1]:80", false},
		{"https://papers.example.org/feed", "[::ffff:192.168.1.1]:80", false},
		{"http://localhost:8080/feed", "127.0.0.1:8080", true},
		{"http://localhost:8080/feed", "[::1]:8080", true},
		{"http://localhost:8080/feed", "10.0.0.1:8080", false},
		{"http://10.0.0.7/feed", "10.0.0.7:80", true},
		{"http://10.0.0.7/feed", "10.0.0.8:80", false},
	}
	for _, tt := range tests {
		p := newDialPolicy(context.Background(), tt.source)
		if err := p.control("tcp", tt.dial, nil); (err == nil) != tt.ok {
			t.Errorf("feed %s dialing %s: %v, want allowed=%v", tt.source, tt.dial, err, tt.ok)
		}
	}
	p := newDialPolicy(AllowPrivate(context.Background()), "https://papers.example.org/feed")
	if err := p.control("tcp", "10.0.0.7:80", nil); err != nil {
		t.Errorf("allow_private: %v", err)
	}
}

// gzipBomb is a gzip stream of n zero bytes (made once: about 1/1000 of n).
var gzipBomb = sync.OnceValue(func() []byte {
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	zero := make([]byte, 1<<20)
	for range 64 { // 64 MiB, twice the limit
		zw.Write(zero)
	}
	zw.Close()
	return b.Bytes()
})

// TestHugeFeedCostsLittle fetches a 2 GiB body without a length and a
// gzip bomb that inflates to 64 MiB: each is refused after about
// MaxFetchBytes read, the server stops being read soon after, and the
// fetch allocates well under 100 MiB (counted by the runtime, not timed).
func TestHugeFeedCostsLittle(t *testing.T) {
	if testing.Short() {
		t.Skip("reads a few hundred MB over loopback")
	}
	var sent atomic.Int64
	endless, _ := serveOn(t, "127.0.0.1:0", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		buf := bytes.Repeat([]byte("[ "), 32<<10)
		for total := int64(0); total < 2<<30; total += int64(len(buf)) {
			n, err := w.Write(buf)
			sent.Add(int64(n))
			if err != nil {
				return
			}
		}
	})
	bomb := gzipBomb()
	bombSrv, _ := serveOn(t, "127.0.0.1:0", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Type", "application/json")
		w.Write(bomb)
	})
	for name, url := range map[string]string{"2 GiB body": endless.URL + "/feed", "gzip bomb": bombSrv.URL + "/feed"} {
		sent.Store(0)
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, _, err := Load(context.Background(), url, FormatHF, testNow)
		runtime.ReadMemStats(&after)
		if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), fmt.Sprintf("%d MiB", MaxFetchBytes>>20)) {
			t.Errorf("%s: %v, want a size refusal", name, err)
		}
		alloc := after.TotalAlloc - before.TotalAlloc
		t.Logf("%s: allocated %d MiB, server wrote %d MiB", name, alloc>>20, sent.Load()>>20)
		if alloc > 100<<20 {
			t.Errorf("%s: the fetch allocated %d MiB, want under 100", name, alloc>>20)
		}
	}
	if s := sent.Load(); s > 0 {
		t.Logf("endless body: %d MiB sent", s>>20)
	}
}

// TestProxyIsNoWayIn: with an HTTP proxy in the environment every
// connection goes to the proxy (here on 127.0.0.1), so the dial check
// cannot see the feed: the fetch reaches a public feed through the proxy,
// and a redirect to the metadata address or loopback is refused before
// the proxy is asked for it.
func TestProxyIsNoWayIn(t *testing.T) {
	var mu sync.Mutex
	var asked []string
	proxy, _ := serveOn(t, "127.0.0.1:0", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asked = append(asked, r.URL.Host+r.URL.Path)
		mu.Unlock()
		switch r.URL.Path {
		case "/feed":
			serveFixture(w, r)
		case "/to-metadata":
			http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
		case "/to-loopback":
			http.Redirect(w, r, "http://127.0.0.1:9/feed", http.StatusFound)
		}
	})
	proxyURL, _ := url.Parse(proxy.URL)
	old := proxyFromEnvironment
	proxyFromEnvironment = func(*http.Request) (*url.URL, error) { return proxyURL, nil }
	t.Cleanup(func() { proxyFromEnvironment = old })

	if _, _, err := Load(context.Background(), "http://93.184.216.34/feed", FormatHF, testNow); err != nil {
		t.Errorf("a public feed through the proxy: %v", err)
	}
	for _, p := range []string{"/to-metadata", "/to-loopback"} {
		if _, _, err := Load(context.Background(), "http://93.184.216.34"+p, FormatHF, testNow); !errors.Is(err, ErrPrivateAddress) {
			t.Errorf("redirect %s through the proxy: %v, want a refusal", p, err)
		}
	}
	if _, _, err := Load(context.Background(), "http://10.0.0.7/feed", FormatHF, testNow); err != nil && errors.Is(err, ErrPrivateAddress) {
		t.Errorf("a feed configured at 10.0.0.7 may be fetched through the proxy: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, a := range asked {
		if strings.HasPrefix(a, "169.254.") || strings.HasPrefix(a, "127.") {
			t.Errorf("the proxy was asked for %s", a)
		}
	}
}
