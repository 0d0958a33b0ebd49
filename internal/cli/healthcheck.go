package cli

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// cmdHealthcheck asks a running daemon whether it serves: GET /readyz (the
// store answers, the templates are loaded) on http.listen, or on --url.
// It exits 0 only on a 200 answer, so it works as a container health
// check in an image without curl.
func cmdHealthcheck(e *env, args []string) error {
	fs := newFlags(e, "healthcheck", "healthcheck [--url URL] [--timeout 5s]")
	url := fs.String("url", "", "address to ask (default http://<http.listen>/readyz, with a wildcard host asked on loopback)")
	timeout := fs.Duration("timeout", 5*time.Second, "how long to wait for the answer")
	pos, err := flags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("%w: healthcheck takes no arguments", errUsage)
	}
	if *timeout <= 0 {
		return fmt.Errorf("%w: --timeout must be positive, got %s", errUsage, *timeout)
	}
	target := *url
	if target == "" {
		if target, err = readyURL(e.cfg.HTTP.Listen); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(e.ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return fmt.Errorf("%w: --url %q: %v", errUsage, target, err)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("unhealthy: no daemon answers at %s: %w", target, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	answer := strings.TrimSpace(string(body))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("unhealthy: %s answered %s: %s", target, resp.Status, answer)
	}
	fmt.Fprintf(e.stdout, "healthy: %s answered %s\n", target, answer)
	return nil
}

// readyURL is the /readyz address of a daemon listening on listen: a
// wildcard host (":8080", "0.0.0.0:8080", "[::]:8080") is asked on
// loopback.
func readyURL(listen string) (string, error) {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", fmt.Errorf("http.listen %q: %w", listen, err)
	}
	if port == "0" {
		return "", fmt.Errorf("%w: http.listen %s has no fixed port; give --url", errUsage, listen)
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/readyz", nil
}
