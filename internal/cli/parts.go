package cli

import (
	"fmt"

	"github.com/papermail/papermail/internal/digest"
	"github.com/papermail/papermail/internal/links"
	"github.com/papermail/papermail/internal/mailer"
	"github.com/papermail/papermail/internal/metrics"
	"github.com/papermail/papermail/internal/render"
	"github.com/papermail/papermail/internal/store"
	"github.com/papermail/papermail/internal/subscription"
	"github.com/papermail/papermail/internal/token"
)

// parts are the wired components every mail-sending command needs.
type parts struct {
	store    *store.Store
	signer   *token.Signer
	links    *links.Builder
	engine   *render.Engine
	composer *mailer.Composer
	sender   digest.Sender
	runner   *digest.Runner
	outbox   *digest.Outbox
	subs     *subscription.Service
	metrics  *metrics.Metrics
}

// parts wires the components in one order, or lends the daemon's.
func (e *env) parts() (*parts, error) {
	if e.daemon != nil {
		return e.daemon.parts, nil
	}
	st, err := e.store()
	if err != nil {
		return nil, err
	}
	return buildParts(e, st)
}

func buildParts(e *env, st *store.Store) (*parts, error) {
	cfg := e.cfg
	p := &parts{store: st, metrics: metrics.New()}
	secret := st.Secret()
	if cfg.Secret != "" {
		secret = []byte(cfg.Secret)
	}
	var err error
	if p.signer, err = token.NewSigner(secret); err != nil {
		return nil, fmt.Errorf("secret: %w", err)
	}
	p.links = links.New(cfg.BaseURL, p.signer)
	if p.engine, err = render.New(cfg.TemplatesDir); err != nil {
		return nil, err
	}
	var dk *mailer.DKIMConfig
	if cfg.DKIM.Domain != "" {
		dk = &mailer.DKIMConfig{Domain: cfg.DKIM.Domain, Selector: cfg.DKIM.Selector, PrivateKeyFile: cfg.DKIM.PrivateKeyFile}
	}
	if p.composer, err = mailer.NewComposer(dk); err != nil {
		return nil, err
	}
	hooks := mailer.Hooks{OnAttempt: p.metrics.OnAttempt}
	if cfg.UsesMaildir() {
		p.sender, err = mailer.NewMaildir(cfg.MaildirPath(), p.composer, hooks)
	} else {
		p.sender, err = mailer.NewSMTP(mailer.Config{
			Host: cfg.SMTP.Host, Port: cfg.SMTP.Port, TLS: cfg.SMTP.TLS,
			Username: cfg.SMTP.Username, Password: cfg.SMTP.Password,
			Connections: cfg.SMTP.Connections, MaxAttempts: cfg.SMTP.MaxAttempts,
			MaxPerConnection: cfg.SMTP.MaxPerConnection, RatePerSecond: cfg.SMTP.RatePerSecond,
			Timeout: cfg.SMTP.Timeout, HELO: cfg.SMTP.HELO,
		}, p.composer, hooks)
	}
	if err != nil {
		return nil, err
	}
	p.runner, err = digest.New(digest.Deps{
		Config: cfg, Store: st, Engine: p.engine, Links: p.links, Composer: p.composer,
		Sender: p.sender, Log: e.log, Metrics: p.metrics,
	})
	if err != nil {
		return nil, err
	}
	p.outbox = digest.NewOutbox(st, p.sender, e.log)
	if p.subs, err = subscription.New(subscription.Deps{Store: st, Mail: p.runner, Location: cfg.Location()}); err != nil {
		return nil, err
	}
	return p, nil
}
