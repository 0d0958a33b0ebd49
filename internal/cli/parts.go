package cli

import (
	"github.com/papermail/papermail/internal/app"
	"github.com/papermail/papermail/internal/store"
)

// parts wires the components through app.Build, or lends the daemon's.
func (e *env) parts() (*app.Parts, error) {
	if e.daemon != nil {
		return e.daemon.parts, nil
	}
	st, err := e.store()
	if err != nil {
		return nil, err
	}
	return buildParts(e, st)
}

func buildParts(e *env, st *store.Store) (*app.Parts, error) {
	return app.Build(e.cfg, st, app.Options{Log: e.log})
}
