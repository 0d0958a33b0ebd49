package feeds

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/papermail/papermail/internal/localnet"
	"github.com/papermail/papermail/internal/usertext"
)

// UserAgent is sent with every HTTP request.
const UserAgent = "papermail/1"

// fetchTimeout bounds an HTTP fetch whose context has no deadline.
const fetchTimeout = 2 * time.Minute

// maxRedirects bounds the redirects one fetch follows.
const maxRedirects = 5

type allowPrivateKey struct{}

// AllowPrivate returns a context under which fetches may connect to
// loopback, private and link-local addresses (feeds[].allow_private: a
// feed on the operator's own network).
func AllowPrivate(ctx context.Context) context.Context {
	return context.WithValue(ctx, allowPrivateKey{}, true)
}

// ErrPrivateAddress is wrapped by the error of a fetch that would have
// connected to a loopback, private or link-local address it may not.
var ErrPrivateAddress = errors.New("private network address")

// dialPolicy says which non-public addresses one fetch may connect to: a
// feed configured at such an address may reach that address (for
// "localhost", the loopback addresses), nothing else private, unless
// allow_private. It is checked on every connection, after name
// resolution, so neither a redirect nor a DNS answer that changes between
// lookups (rebinding) leads a fetch into the local network.
//
// Through an HTTP proxy (HTTP_PROXY, HTTPS_PROXY) the connection goes to
// the proxy, which the operator chose, and the proxy connects to the
// feed: the feed's host (each redirect's too) is then judged before the
// request, by the addresses its name has (see proxyFor).
type dialPolicy struct {
	source   string
	all      bool
	loopback bool
	allowed  []netip.Addr
	// proxies are the addresses of the proxies this fetch went through.
	proxies *addrSet
}

// addrSet is a set of addresses shared by the copies of one dialPolicy.
type addrSet struct {
	mu    sync.Mutex
	addrs []netip.Addr
}

func (s *addrSet) add(as ...netip.Addr) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range as {
		if a = a.Unmap(); !slices.Contains(s.addrs, a) {
			s.addrs = append(s.addrs, a)
		}
	}
}

func (s *addrSet) has(a netip.Addr) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Contains(s.addrs, a)
}

// proxyFromEnvironment picks the proxy of a request; tests replace it.
var proxyFromEnvironment = http.ProxyFromEnvironment

func newDialPolicy(ctx context.Context, source string) dialPolicy {
	p := dialPolicy{source: source, proxies: &addrSet{}}
	if v, _ := ctx.Value(allowPrivateKey{}).(bool); v {
		p.all = true
		return p
	}
	u, err := url.Parse(source)
	if err != nil {
		return p
	}
	host := u.Hostname()
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		p.loopback = true
	} else if a, err := netip.ParseAddr(host); err == nil {
		p.allowed = append(p.allowed, a.Unmap())
	}
	return p
}

// control is the net.Dialer's Control: it runs after the address is
// resolved and before the connection is made.
func (p dialPolicy) control(network, address string, _ syscall.RawConn) error {
	if p.all {
		return nil
	}
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return fmt.Errorf("feed %s: dial %s: %w", p.source, address, err)
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("feed %s: dial %s: %w", p.source, address, err)
	}
	a = a.Unmap()
	if p.proxies != nil && p.proxies.has(a) {
		return nil
	}
	return p.check(a)
}

// check judges one address the fetch would reach.
func (p dialPolicy) check(a netip.Addr) error {
	a = a.Unmap()
	if p.all || !localnet.Private(a) || (p.loopback && a.IsLoopback()) || slices.Contains(p.allowed, a) {
		return nil
	}
	return fmt.Errorf("feed %s: refusing to connect to %s, a %w (set allow_private: true on the feed if it lives on your own network)",
		p.source, a, ErrPrivateAddress)
}

// proxyFor is the transport's Proxy: when the environment names a proxy
// for req, req's host must be one the fetch may reach (an IP literal as it
// is, a name by what it resolves to now), and the proxy's own addresses
// may then be dialed.
func (p dialPolicy) proxyFor(req *http.Request) (*url.URL, error) {
	proxy, err := proxyFromEnvironment(req)
	if err != nil || proxy == nil || p.all {
		return proxy, err
	}
	host := req.URL.Hostname()
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a}
	} else if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		addrs = []netip.Addr{netip.IPv6Loopback()}
	} else if addrs, err = net.DefaultResolver.LookupNetIP(req.Context(), "ip", host); err != nil {
		return nil, fmt.Errorf("feed %s: look up %s: %w", p.source, host, err)
	}
	for _, a := range addrs {
		if err := p.check(a); err != nil {
			return nil, err
		}
	}
	ph := proxy.Hostname()
	if a, err := netip.ParseAddr(ph); err == nil {
		p.proxies.add(a)
	} else if pas, err := net.DefaultResolver.LookupNetIP(req.Context(), "ip", ph); err == nil {
		p.proxies.add(pas...)
	}
	return proxy, nil
}

// newHTTPClient is the client of one fetch: its own transport, so a
// connection allowed for one feed is never reused by another, and the
// dial policy of that fetch.
func newHTTPClient(p dialPolicy) *http.Client {
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second, Control: p.control}
	tr := &http.Transport{
		Proxy:                 p.proxyFor,
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          2,
		IdleConnTimeout:       30 * time.Second,
		TLSHandshakeTimeout:   15 * time.Second,
		ResponseHeaderTimeout: time.Minute,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{
		Transport: tr,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= maxRedirects {
				return fmt.Errorf("more than %d redirects", maxRedirects)
			}
			if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
				return fmt.Errorf("redirect to unsupported scheme %q", req.URL.Scheme)
			}
			return nil
		},
	}
}

// Open returns a reader for source: an http:// or https:// URL, or a file
// path ("-" is standard input). The reader fails once more than
// MaxSourceBytes (MaxFetchBytes for HTTP, counted after decompression)
// have been read; an HTTP response announcing a larger body fails at
// once. HTTP requests carry User-Agent papermail/1, obey ctx (and
// fetchTimeout when ctx has no deadline), fail on a non-2xx status and
// connect to no private address the feed may not reach (see dialPolicy).
func Open(ctx context.Context, source string) (io.ReadCloser, error) {
	if source == "" {
		return nil, errors.New("feed source is empty")
	}
	lower := strings.ToLower(source)
	if strings.HasPrefix(lower, "http://") || strings.HasPrefix(lower, "https://") {
		return openHTTP(ctx, source)
	}
	if source == "-" {
		return &limitedReader{r: os.Stdin, name: "standard input", left: MaxSourceBytes, limit: MaxSourceBytes}, nil
	}
	path := source
	if strings.HasPrefix(lower, "file://") {
		path = source[len("file://"):]
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open feed: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open feed: %w", err)
	}
	if st.IsDir() {
		f.Close()
		return nil, fmt.Errorf("open feed %s: is a directory", source)
	}
	if st.Mode().IsRegular() && st.Size() > MaxSourceBytes {
		f.Close()
		return nil, fmt.Errorf("feed %s has %d bytes, more than the limit of %d MiB: %w", source, st.Size(), MaxSourceBytes>>20, ErrTooLarge)
	}
	return &limitedReader{r: f, c: f, name: source, left: MaxSourceBytes, limit: MaxSourceBytes}, nil
}

func openHTTP(ctx context.Context, source string) (io.ReadCloser, error) {
	cancel := context.CancelFunc(func() {})
	if _, ok := ctx.Deadline(); !ok {
		ctx, cancel = context.WithTimeout(ctx, fetchTimeout)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, source, nil)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("fetch feed %s: %w", source, err)
	}
	req.Header.Set("User-Agent", UserAgent)
	client := newHTTPClient(newDialPolicy(ctx, source))
	done := func() { cancel(); client.CloseIdleConnections() }
	resp, err := client.Do(req)
	if err != nil {
		done()
		return nil, fmt.Errorf("fetch feed: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
		resp.Body.Close()
		done()
		// The server's words, escaped: they end up on the operator's
		// terminal and in logs.
		msg := usertext.Printable(strings.Join(strings.Fields(string(snippet)), " "))
		if msg != "" {
			msg = ": " + msg
		}
		return nil, fmt.Errorf("fetch feed %s: HTTP status %s%s", source, usertext.Printable(resp.Status), msg)
	}
	if resp.ContentLength > MaxFetchBytes {
		resp.Body.Close()
		done()
		return nil, fmt.Errorf("fetch feed %s: response has %d bytes, more than the limit of %d MiB: %w", source, resp.ContentLength, MaxFetchBytes>>20, ErrTooLarge)
	}
	return &limitedReader{r: resp.Body, c: closerFunc(func() error { defer done(); return resp.Body.Close() }), name: source,
		left: MaxFetchBytes, limit: MaxFetchBytes}, nil
}

type closerFunc func() error

func (f closerFunc) Close() error { return f() }

// limitedReader reads at most left bytes and fails, naming the source,
// when there is more.
type limitedReader struct {
	r    io.Reader
	c    io.Closer
	name string
	// left is what may still be read of limit.
	left, limit int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		// Probe for one more byte to tell "exactly at the limit" from "over".
		var one [1]byte
		n, err := l.r.Read(one[:])
		if n > 0 {
			return 0, fmt.Errorf("feed %s is larger than %d MiB: %w", l.name, l.limit>>20, ErrTooLarge)
		}
		return 0, err
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}

func (l *limitedReader) Close() error {
	if l.c == nil {
		return nil
	}
	return l.c.Close()
}
