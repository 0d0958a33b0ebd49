package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// cmdHealthcheck asks a running daemon whether it serves: GET /readyz (the
// store answers, the templates are loaded) on http.listen, or on --url.
// When http.listen has no fixed port (":0"), or with --socket, it asks
// over the control socket in data_dir instead. It exits 0 only when the
// daemon answers that it is ready, so it works as a container health check
// in an image without curl.
func cmdHealthcheck(e *env, args []string) error {
	fs := newFlags(e, "healthcheck", "healthcheck [--url URL | --socket] [--timeout 5s]")
	url := fs.String("url", "", "address to ask (default http://<http.listen>/readyz, with a wildcard host asked on loopback)")
	socket := fs.Bool("socket", false, "ask over the control socket in data_dir instead of HTTP")
	timeout := fs.Duration("timeout", 5*time.Second, "how long to wait for the answer")
	if err := noArgs(fs, args); err != nil {
		return err
	}
	if *timeout <= 0 {
		return fmt.Errorf("%w: --timeout must be positive, got %s", errUsage, *timeout)
	}
	if e.daemon != nil {
		// Asked over the control socket: answer from inside the daemon.
		if err := e.daemon.store.Ping(); err != nil {
			return fmt.Errorf("the daemon's store does not answer: %w", err)
		}
		fmt.Fprintln(e.stdout, "healthy: the daemon answers on its control socket and its store is open")
		return nil
	}
	target := *url
	if target == "" && !*socket {
		var err error
		if target, err = readyURL(e.cfg.HTTP.Listen); errors.Is(err, errNoFixedPort) {
			*socket = true
		} else if err != nil {
			return err
		}
	}
	if *socket {
		return e.healthBySocket(*timeout)
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
	answer := oneLine(string(body))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("unhealthy: %s answered %s: %s", target, resp.Status, answer)
	}
	fmt.Fprintf(e.stdout, "healthy: %s answered %s\n", target, answer)
	return nil
}

// healthBySocket runs healthcheck inside the daemon over its control
// socket, within timeout.
func (e *env) healthBySocket(timeout time.Duration) error {
	sock := e.cfg.SocketPath()
	conn, err := net.DialTimeout("unix", sock, timeout)
	if err != nil {
		return fmt.Errorf("unhealthy: no daemon answers on the control socket %s: %w", sock, err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(timeout))
	if err := e.exchange(conn, []string{"healthcheck"}); err != nil {
		return fmt.Errorf("unhealthy: %w", err)
	}
	return nil
}

// errNoFixedPort means http.listen asks for any free port, so its address
// is not known from the configuration.
var errNoFixedPort = errors.New("http.listen has no fixed port")

// readyURL is the /readyz address of a daemon listening on listen: a
// wildcard host (":8080", "0.0.0.0:8080", "[::]:8080") is asked on
// loopback.
func readyURL(listen string) (string, error) {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", fmt.Errorf("http.listen %q: %w", listen, err)
	}
	if port == "0" {
		return "", errNoFixedPort
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/readyz", nil
}
