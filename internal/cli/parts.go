package cli

import (
	"github.com/papermail/papermail/internal/app"
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
	// app are the same parts as internal/app built them.
	app *app.Parts
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
	a, err := app.Build(e.cfg, st, app.Options{Log: e.log})
	if err != nil {
		return nil, err
	}
	return &parts{store: a.Store, signer: a.Signer, links: a.Links, engine: a.Engine, composer: a.Composer,
		sender: a.Sender, runner: a.Runner, outbox: a.Outbox, subs: a.Subscriptions, metrics: a.Metrics, app: a}, nil
}
