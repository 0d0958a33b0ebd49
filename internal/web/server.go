// Package web serves papermail's pages: the subscribe form with its
// double opt-in, the confirmation, preferences, unsubscribe (including the
// RFC 8058 one-click POST) and feedback pages reached from signed links,
// the personal Atom feed, click counting, health and metrics endpoints and,
// for local use (demo, or http.mailbox with Maildir delivery), a small
// mailbox to read what papermail wrote.
//
// Every page is rendered by render.Engine from templates/web; every state
// change happens on POST behind a CSRF token; every response carries strict
// security headers.
package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/papermail/papermail/internal/config"
	"github.com/papermail/papermail/internal/digest"
	"github.com/papermail/papermail/internal/links"
	"github.com/papermail/papermail/internal/metrics"
	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/selection"
	"github.com/papermail/papermail/internal/store"
	"github.com/papermail/papermail/internal/subscription"
	"github.com/papermail/papermail/internal/token"
)

// MaxBody is the largest request body a handler reads.
const MaxBody = 64 << 10

// Store is what the pages read from the store (and the click counter they
// add to); every change of a subscriber goes through Subscriptions.
type Store interface {
	Ping() error
	Subscriber(id uint64) (model.Subscriber, error)
	SubscriberByEmail(email string) (model.Subscriber, error)
	SentHistory(id uint64) (map[string]string, error)
	Paper(id string) (model.Paper, error)
	Categories() ([]store.CategoryCount, error)
	AddClick(id string) error
}

// Digests selects and renders for the pages: previews, the digest in the
// browser and, from the local mailbox, "send now".
type Digests interface {
	Preview(prof selection.Profile, limit int, now time.Time) ([]selection.Pick, error)
	PreviewFor(sub *model.Subscriber, now time.Time) ([]selection.Pick, error)
	InterestReport(prof selection.Profile, now time.Time) ([]selection.InterestMatch, error)
	BrowserDigest(sub *model.Subscriber, date string) (subject, html string, err error)
	Run(ctx context.Context, sp digest.Spec) (digest.Summary, error)
}

// Outbox delivers the transactional mail the pages queue; Wake asks it to
// look now.
type Outbox interface{ Wake() }

// Pages renders the web pages from their templates.
type Pages interface {
	Page(w io.Writer, name string, data any) error
	HasPage(name string) bool
}

// Deps are what the server works with; internal/app wires the concrete
// parts. Runner, Outbox and Metrics may be nil: previews and "send now"
// are then unavailable, queued confirmations wait for the outbox's own
// timer, and /metrics answers 404.
type Deps struct {
	Config config.Config
	Store  Store
	Engine Pages
	Links  *links.Builder
	Signer *token.Signer
	// Secret is the key the form tokens (CSRF) are derived from: the one
	// the links are signed with.
	Secret []byte
	// Subscriptions carries out every change of a subscriber's state.
	Subscriptions *subscription.Service
	Runner        Digests
	Outbox        Outbox
	Metrics       *metrics.Metrics
	Log           *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Server is papermail's HTTP front end.
type Server struct {
	Deps
	handler http.Handler
	csrfKey []byte
	limiter *limiter
	// previewLimiter and previews bound the work of GET /preview.
	previewLimiter *limiter
	previews       previewCache
	// subscribeTiming evens out the answer times of POST /subscribe.
	subscribeTiming evenTiming
	// linkTiming evens out the answer times of POST /link.
	linkTiming evenTiming
	mailbox    bool
	// prefix is the path of base_url ("" at the root): a proxy in front
	// strips it, so pages must add it to the paths they link.
	prefix string
	// proxies are the networks of http.trusted_proxies.
	proxies []netip.Prefix
}

// New builds the server and its routes.
func New(d Deps) (*Server, error) {
	switch {
	case d.Store == nil:
		return nil, errors.New("web: Deps.Store is nil")
	case d.Engine == nil:
		return nil, errors.New("web: Deps.Engine is nil")
	case d.Links == nil:
		return nil, errors.New("web: Deps.Links is nil")
	case d.Signer == nil:
		return nil, errors.New("web: Deps.Signer is nil")
	case len(d.Secret) == 0:
		return nil, errors.New("web: Deps.Secret is empty")
	case d.Subscriptions == nil:
		return nil, errors.New("web: Deps.Subscriptions is nil")
	}
	for _, p := range pageNames {
		if !d.Engine.HasPage(p) {
			return nil, fmt.Errorf("web: template web/%s.html is missing", p)
		}
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	s := &Server{Deps: d, csrfKey: deriveKey(d.Secret, "papermail csrf"),
		limiter:        newLimiter(d.Config.HTTP.SubscribeRate, time.Minute),
		previewLimiter: newLimiter(previewRatePerSubscribe*d.Config.HTTP.SubscribeRate, time.Minute)}
	s.mailbox = mailboxAllowed(d.Config)
	s.proxies = d.Config.HTTP.ProxyNetworks()
	if u, err := url.Parse(d.Links.Base); err == nil {
		s.prefix = strings.TrimRight(u.Path, "/")
	}
	mux := http.NewServeMux()
	s.routes(mux)
	s.handler = s.secure(mux)
	return s, nil
}

// pageNames are the web pages the server renders.
var pageNames = []string{"message", "subscribe", "confirm", "preferences", "erase",
	"unsubscribe", "unsubscribed", "feedback", "mailbox", "mail"}

// Handler returns the root handler with every route and the security
// headers.
func (s *Server) Handler() http.Handler { return s.handler }

// HTTPServer returns an http.Server for addr with the server's handler
// (see NewHTTPServer).
func (s *Server) HTTPServer(addr string) *http.Server {
	return NewHTTPServer(addr, s.handler, s.Log)
}

// NewHTTPServer returns an http.Server for addr serving h, with the
// timeouts that keep slow or idle clients from holding connections and
// its errors logged to log. Every listener of the daemon (the pages and
// metrics.listen) is built here, so they share one set of limits.
func NewHTTPServer(addr string, h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		// "send me a digest now" renders and delivers a whole digest.
		WriteTimeout:   3 * time.Minute,
		IdleTimeout:    2 * time.Minute,
		MaxHeaderBytes: 32 << 10,
		ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// clientIP is the address rate limits count: the peer, or behind the
// proxies of http.trusted_proxies (or with http.trust_proxy) the client
// they forwarded for (see config.HTTP.ClientIP).
func (s *Server) clientIP(r *http.Request) string {
	return s.Config.HTTP.ClientIP(r, s.proxies)
}

// public turns a path of this server into the path visitors use: with
// base_url's path in front.
func (s *Server) public(p string) string { return s.prefix + p }

// rel turns a link built by links.Builder into a path on this server
// (without base_url); pages show it through public, so forms post to the
// origin the visitor is on (CSP form-action 'self').
func (s *Server) rel(u string) string {
	if p, ok := strings.CutPrefix(u, s.Links.Base); ok && strings.HasPrefix(p, "/") {
		return p
	}
	return u
}
