// Package app wires papermail's parts from a config.Config, in one order:
// store, link signer (config secret or the store's own), links, renderer,
// composer (with DKIM), sender (SMTP or the local Maildir), digest runner,
// outbox, subscription service and the web server; the scheduler is built
// from these parts. The command line, the deliverability checks, the tests
// and the bench all build papermail through Build, so they run what the
// daemon runs. The parts meet through the small interfaces their
// consumers declare (digest.Sender, web.Store, web.Digests, ...), so none
// of them imports this package.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/papermail/papermail/internal/config"
	"github.com/papermail/papermail/internal/digest"
	"github.com/papermail/papermail/internal/embeddings"
	"github.com/papermail/papermail/internal/links"
	"github.com/papermail/papermail/internal/mailer"
	"github.com/papermail/papermail/internal/metrics"
	"github.com/papermail/papermail/internal/render"
	"github.com/papermail/papermail/internal/scheduler"
	"github.com/papermail/papermail/internal/store"
	"github.com/papermail/papermail/internal/subscription"
	"github.com/papermail/papermail/internal/token"
	"github.com/papermail/papermail/internal/web"
)

// Parts are the wired components.
type Parts struct {
	Config        config.Config
	Store         *store.Store
	Signer        *token.Signer
	Links         *links.Builder
	Engine        *render.Engine
	Composer      *mailer.Composer
	Sender        digest.Sender
	Runner        *digest.Runner
	Outbox        *digest.Outbox
	Subscriptions *subscription.Service
	Web           *web.Server
	Metrics       *metrics.Metrics
	Log           *slog.Logger
}

// Options change how the parts are built; the zero value builds them all
// from the configuration.
type Options struct {
	// Log receives the parts' logs; nil discards them.
	Log *slog.Logger
	// Metrics is the registry to count in; nil makes a new one.
	Metrics *metrics.Metrics
	// Sender replaces the sender the configuration names (a test's
	// transport with short retry delays, say).
	Sender digest.Sender
	// Now is the clock of the subscription service and the web pages;
	// nil means time.Now.
	Now func() time.Time
}

// OpenStore opens the store of cfg.
func OpenStore(cfg config.Config, opts store.Options) (*store.Store, error) {
	return store.Open(cfg.DBPath(), opts)
}

// SMTPConfig is the mailer configuration of cfg's smtp section.
func SMTPConfig(cfg config.Config) mailer.Config {
	c := cfg.SMTP
	return mailer.Config{
		Host: c.Host, Port: c.Port, TLS: c.TLS, Username: c.Username, Password: c.Password,
		Connections: c.Connections, MaxAttempts: c.MaxAttempts, MaxPerConnection: c.MaxPerConnection,
		RatePerSecond: c.RatePerSecond, Timeout: c.Timeout, HELO: c.HELO,
	}
}

// Build wires the parts on an open store.
func Build(cfg config.Config, st *store.Store, o Options) (*Parts, error) {
	p := &Parts{Config: cfg, Store: st, Metrics: o.Metrics, Log: o.Log}
	if p.Metrics == nil {
		p.Metrics = metrics.New()
	}
	if p.Log == nil {
		p.Log = slog.New(slog.DiscardHandler)
	}
	secret := st.Secret()
	if cfg.Secret != "" {
		secret = []byte(cfg.Secret)
	}
	var err error
	if p.Signer, err = token.NewSigner(secret); err != nil {
		return nil, fmt.Errorf("secret: %w", err)
	}
	p.Links = links.New(cfg.BaseURL, p.Signer)
	if p.Engine, err = render.New(cfg.TemplatesDir); err != nil {
		return nil, err
	}
	var dk *mailer.DKIMConfig
	if cfg.DKIM.Domain != "" {
		dk = &mailer.DKIMConfig{Domain: cfg.DKIM.Domain, Selector: cfg.DKIM.Selector, PrivateKeyFile: cfg.DKIM.PrivateKeyFile}
	}
	if p.Composer, err = mailer.NewComposer(dk); err != nil {
		return nil, err
	}
	p.Sender = o.Sender
	if p.Sender == nil {
		hooks := mailer.Hooks{OnAttempt: p.Metrics.OnAttempt}
		if cfg.UsesMaildir() {
			p.Sender, err = mailer.NewMaildir(cfg.MaildirPath(), p.Composer, hooks)
		} else {
			p.Sender, err = mailer.NewSMTP(SMTPConfig(cfg), p.Composer, hooks)
		}
		if err != nil {
			return nil, err
		}
	}
	p.Runner, err = digest.New(digest.Deps{Config: cfg, Store: st, Engine: p.Engine, Links: p.Links,
		Composer: p.Composer, Sender: p.Sender, Log: p.Log, Metrics: p.Metrics,
		Embedder: embeddings.New(cfg.Ranking.Embeddings, nil)})
	if err != nil {
		return nil, err
	}
	p.Outbox = digest.NewOutbox(st, p.Sender, p.Log)
	p.Subscriptions, err = subscription.New(subscription.Deps{Store: st, Mail: p.Runner, Location: cfg.Location(), Now: o.Now})
	if err != nil {
		return nil, err
	}
	p.Web, err = web.New(web.Deps{Config: cfg, Store: st, Engine: p.Engine, Links: p.Links, Signer: p.Signer, Secret: secret,
		Subscriptions: p.Subscriptions, Runner: p.Runner, Outbox: p.Outbox, Metrics: p.Metrics, Log: p.Log, Now: o.Now})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// Scheduler builds the scheduler of the parts: the digest whenever the due
// index has someone due, and fetch for each configured feed on its
// schedule.
func (p *Parts) Scheduler(ctx context.Context, fetch func(context.Context, config.Feed)) (*scheduler.Scheduler, error) {
	return scheduler.New(ctx, p.Config, scheduler.Jobs{
		Digest: func(ctx context.Context, now time.Time) {
			if _, err := p.Runner.Run(ctx, digest.Spec{Now: now}); err != nil && ctx.Err() == nil {
				p.Log.Error("scheduled digest", "error", err)
			}
		},
		Fetch: fetch,
	}, p.Store, p.Log, p.Metrics)
}
