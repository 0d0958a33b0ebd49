package web

import (
	"errors"
	"net/http"

	"github.com/papermail/papermail/internal/digest"
	"github.com/papermail/papermail/internal/store"
	"github.com/papermail/papermail/internal/token"
)

// viewDigest is GET /view/{token}: the digest the signed link names (one
// subscriber, one date) as a web page, the mail's own HTML shown in a
// sandbox (no scripts, no forms; links open normally).
func (s *Server) viewDigest(w http.ResponseWriter, r *http.Request) {
	c, sub, ok := s.subscriberFor(w, r, token.View)
	if !ok {
		return
	}
	if s.Runner == nil {
		s.message(w, r, http.StatusServiceUnavailable, "Not available", "This server cannot show digests in the browser.")
		return
	}
	_, html, err := s.Runner.BrowserDigest(&sub, c.Extra)
	switch {
	case errors.Is(err, store.ErrNotFound), errors.Is(err, digest.ErrNotSent):
		s.message(w, r, http.StatusNotFound, "Digest not found",
			"papermail holds no digest of that day for this address (it may be older than papermail keeps).")
		return
	case err != nil:
		s.internal(w, r, "view digest", err)
		return
	}
	w.Header().Set("Content-Security-Policy", "sandbox allow-popups allow-popups-to-escape-sandbox allow-top-navigation-by-user-activation; "+
		"default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'; frame-ancestors 'none'; base-uri 'none'")
	write(w, r, http.StatusOK, "text/html; charset=utf-8", []byte(html))
}
