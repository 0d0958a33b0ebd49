package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/papermail/papermail/internal/app"
	"github.com/papermail/papermail/internal/config"
	"github.com/papermail/papermail/internal/store"
	"github.com/papermail/papermail/internal/web"
)

// daemon is the running `papermail serve`: it owns the store and lends it
// to commands arriving on the control socket.
type daemon struct {
	ctx   context.Context
	cfg   config.Config
	log   *slog.Logger
	store *store.Store
	parts *app.Parts
}

func cmdServe(e *env, args []string) error {
	fs := newFlags(e, "serve", "serve")
	if _, err := flags(fs, args); err != nil {
		return err
	}
	st, err := e.store()
	if errors.Is(err, store.ErrLocked) {
		return fmt.Errorf("%w: is another 'papermail serve' running on data_dir %s?", err, e.cfg.DataDir)
	}
	if err != nil {
		return err
	}
	p, err := buildParts(e, st)
	if err != nil {
		return err
	}
	return serveWith(e, p)
}

// serveWith runs the daemon until e.ctx ends.
func serveWith(e *env, p *app.Parts) error {
	cfg, log := e.cfg, e.log
	// Work runs under its own context so shutdown can first stop new work
	// and then give in-flight messages shutdown_timeout to finish.
	work, stopWork := context.WithCancel(context.Background())
	defer stopWork()
	d := &daemon{ctx: work, cfg: cfg, log: log, store: p.Store, parts: p}

	ln, err := net.Listen("tcp", cfg.HTTP.Listen)
	if err != nil {
		return fmt.Errorf("http.listen %s: %w", cfg.HTTP.Listen, err)
	}
	hs := p.Web.HTTPServer(cfg.HTTP.Listen)
	ms, mln, err := metricsServer(cfg, p)
	if err != nil {
		ln.Close()
		return err
	}

	sock := cfg.SocketPath()
	ctl, err := listenControl(sock)
	if err != nil {
		ln.Close()
		if mln != nil {
			mln.Close()
		}
		return err
	}
	go d.serveControl(ctl)

	done := make(chan struct{})
	background := func(name string, fn func()) {
		go func() {
			defer func() {
				if r := recover(); r != nil {
					log.Error("background task panicked", "task", name, "panic", fmt.Sprint(r))
					p.Metrics.Panics.Inc()
				}
			}()
			fn()
		}()
	}
	background("outbox", func() { p.Outbox.Run(work) })
	background("resume", func() {
		if err := p.Runner.ResumeInterrupted(work, time.Now()); err != nil && work.Err() == nil {
			log.Error("resume interrupted runs", "error", err)
		}
	})
	background("subscriber gauge", func() {
		t := time.NewTicker(time.Minute)
		defer t.Stop()
		for {
			if counts, err := p.Store.CountSubscribers(); err == nil {
				for state, n := range counts {
					p.Metrics.Subscribers.WithLabelValues(string(state)).Set(float64(n))
				}
			}
			select {
			case <-work.Done():
				return
			case <-t.C:
			}
		}
	})
	sched, err := p.Scheduler(work, func(ctx context.Context, f config.Feed) {
		fetchFeed(ctx, p.Store, p.Metrics, log, f, func() {
			p.Runner.Invalidate()
			if _, err := p.Runner.EmbedRecent(ctx, time.Now()); err != nil && ctx.Err() == nil {
				log.Warn("embeddings provider failed; papers without vectors are ranked with the built-in ranker", "error", err)
			}
		})
	})
	if err != nil {
		return err
	}
	sched.Start()

	httpErr := make(chan error, 2)
	go func() {
		defer close(done)
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			httpErr <- err
		}
	}()
	if ms != nil {
		go func() {
			if err := ms.Serve(mln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				httpErr <- fmt.Errorf("metrics.listen: %w", err)
			}
		}()
	}
	log.Info("papermail serving", "version", Version(), "listen", ln.Addr().String(), "base_url", cfg.BaseURL, "data_dir", cfg.DataDir,
		"delivery", deliveryName(cfg), "schedule", cfg.Digest.Schedule, "timezone", cfg.Digest.Timezone,
		"metrics", metricsWhere(cfg, mln))

	var failed error
	select {
	case <-e.ctx.Done():
		log.Info("shutting down: no new messages; waiting for those in flight", "timeout", cfg.ShutdownTimeout)
	case err := <-httpErr:
		log.Error("web server failed", "error", err)
		failed = err
	}
	stopWork()
	shutdown, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	hs.Shutdown(shutdown)
	if ms != nil {
		ms.Shutdown(shutdown)
	}
	ctl.Close()
	os.Remove(sock)
	select {
	case <-sched.Stop().Done():
	case <-shutdown.Done():
	}
	if !p.Runner.Wait(shutdown) {
		log.Warn("shutdown timeout: a digest run did not finish; it resumes at the next start")
	}
	<-done
	log.Info("papermail stopped")
	if failed != nil {
		// A daemon that stopped because it could not serve exits non-zero,
		// so systemd or the container runtime restarts it.
		return fmt.Errorf("serve stopped: %w", failed)
	}
	return nil
}

func deliveryName(cfg config.Config) string {
	if cfg.UsesMaildir() {
		return "maildir " + cfg.MaildirPath()
	}
	return fmt.Sprintf("smtp %s:%d (%s)", cfg.SMTP.Host, cfg.SMTP.Port, cfg.SMTP.TLS)
}

// metricsServer is the listener of metrics.listen, serving /metrics (to
// the networks of metrics.allow when set) and /healthz; nil without one.
func metricsServer(cfg config.Config, p *app.Parts) (*http.Server, net.Listener, error) {
	if cfg.Metrics.Listen == "" {
		return nil, nil, nil
	}
	ln, err := net.Listen("tcp", cfg.Metrics.Listen)
	if err != nil {
		return nil, nil, fmt.Errorf("metrics.listen %s: %w", cfg.Metrics.Listen, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", p.Metrics.Handler(cfg.Metrics.Networks()))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	return web.NewHTTPServer("", mux, p.Web.Log), ln, nil
}

// metricsWhere says in the start-up log where /metrics is served.
func metricsWhere(cfg config.Config, mln net.Listener) string {
	switch {
	case mln != nil:
		return "http://" + mln.Addr().String() + "/metrics"
	case cfg.Metrics.OnPublicListener():
		return "on http.listen for " + strings.Join(cfg.Metrics.Allow, ", ")
	default:
		return "off (set metrics.listen or metrics.allow)"
	}
}

// listenControl listens on the control socket at sock, readable and
// writable by the owner only: anyone who can connect can run commands.
// A socket left by a killed daemon is replaced (the caller holds the
// store's lock, so no other daemon uses it).
func listenControl(sock string) (net.Listener, error) {
	if err := checkSocketPath(sock); err != nil {
		return nil, err
	}
	if err := checkDataDir(filepath.Dir(sock)); err != nil {
		return nil, err
	}
	if err := os.Remove(sock); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("control socket %s: remove stale socket: %w", sock, err)
	}
	ctl, err := net.Listen("unix", sock)
	if err != nil {
		return nil, fmt.Errorf("control socket %s: %w", sock, err)
	}
	if err := os.Chmod(sock, 0o600); err != nil {
		ctl.Close()
		return nil, fmt.Errorf("control socket %s: restrict to the owner: %w", sock, err)
	}
	return ctl, nil
}
