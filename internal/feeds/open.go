package feeds

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

// UserAgent is sent with every HTTP request.
const UserAgent = "papermail/1"

// DefaultTimeout bounds an HTTP fetch whose context has no deadline.
const DefaultTimeout = 2 * time.Minute

// httpClient is shared so connections are reused between fetches.
var httpClient = &http.Client{
	CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return errors.New("more than 5 redirects")
		}
		if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
			return fmt.Errorf("redirect to unsupported scheme %q", req.URL.Scheme)
		}
		return nil
	},
}

// Open returns a reader for source: an http:// or https:// URL, or a file
// path ("-" is standard input). The reader fails once more than
// MaxSourceBytes have been read; an HTTP response announcing a larger body
// fails at once. HTTP requests carry User-Agent papermail/1, obey ctx (and
// DefaultTimeout when ctx has no deadline) and fail on a non-2xx status.
func Open(ctx context.Context, source string) (io.ReadCloser, error) {
	if source == "" {
		return nil, errors.New("feed source is empty")
	}
	lower := strings.ToLower(source)
	if strings.HasPrefix(lower, "http://") || strings.HasPrefix(lower, "https://") {
		return openHTTP(ctx, source)
	}
	if source == "-" {
		return &limitedReader{r: os.Stdin, name: "standard input", left: MaxSourceBytes}, nil
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
	return &limitedReader{r: f, c: f, name: source, left: MaxSourceBytes}, nil
}

func openHTTP(ctx context.Context, source string) (io.ReadCloser, error) {
	cancel := context.CancelFunc(func() {})
	if _, ok := ctx.Deadline(); !ok {
		ctx, cancel = context.WithTimeout(ctx, DefaultTimeout)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, source, nil)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("fetch feed %s: %w", source, err)
	}
	req.Header.Set("User-Agent", UserAgent)
	resp, err := httpClient.Do(req)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("fetch feed: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
		resp.Body.Close()
		cancel()
		msg := strings.Join(strings.Fields(string(snippet)), " ")
		if msg != "" {
			msg = ": " + msg
		}
		return nil, fmt.Errorf("fetch feed %s: HTTP status %s%s", source, resp.Status, msg)
	}
	if resp.ContentLength > MaxSourceBytes {
		resp.Body.Close()
		cancel()
		return nil, fmt.Errorf("fetch feed %s: response has %d bytes, more than the limit of %d MiB: %w", source, resp.ContentLength, MaxSourceBytes>>20, ErrTooLarge)
	}
	return &limitedReader{r: resp.Body, c: closerFunc(func() error { defer cancel(); return resp.Body.Close() }), name: source, left: MaxSourceBytes}, nil
}

type closerFunc func() error

func (f closerFunc) Close() error { return f() }

// limitedReader reads at most left bytes and fails, naming the source,
// when there is more.
type limitedReader struct {
	r    io.Reader
	c    io.Closer
	name string
	left int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		// Probe for one more byte to tell "exactly at the limit" from "over".
		var one [1]byte
		n, err := l.r.Read(one[:])
		if n > 0 {
			return 0, fmt.Errorf("feed %s is larger than %d MiB: %w", l.name, MaxSourceBytes>>20, ErrTooLarge)
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
