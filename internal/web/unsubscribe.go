package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/store"
	"github.com/papermail/papermail/internal/token"
)

// unsubscribeView is the page with the unsubscribe button.
type unsubscribeView struct {
	base
	CSRF, Action string
	Email        string
	Unsubscribed bool
}

// unsubscribedView is the page after unsubscribing.
type unsubscribedView struct {
	base
	Email                          string
	ResubscribeCSRF, Resubscribe   string
	PreferencesURL, SubscribeAgain string
}

// unsubscribePage is GET /unsubscribe/{token}: one button, nothing
// changes yet.
func (s *Server) unsubscribePage(w http.ResponseWriter, r *http.Request) {
	_, sub, ok := s.subscriberFor(w, r, token.Unsubscribe)
	if !ok {
		return
	}
	s.page(w, r, http.StatusOK, "unsubscribe", &unsubscribeView{base: s.base(r), CSRF: s.csrfToken(r.URL.Path),
		Action: s.public(r.URL.Path), Email: sub.Email, Unsubscribed: sub.State == model.StateUnsubscribed})
}

// unsubscribe is POST /unsubscribe/{token}: the page's button (with a CSRF
// token), or the RFC 8058 one-click POST a mail program sends from the
// List-Unsubscribe header (List-Unsubscribe=One-Click, no cookies, no CSRF
// token: the link's token is the secret). Both unsubscribe at once.
func (s *Server) unsubscribe(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	if r.PostForm.Get("List-Unsubscribe") == "One-Click" {
		s.oneClick(w, r)
		return
	}
	if !s.csrfOK(r) {
		s.csrfFailed(w, r)
		return
	}
	_, sub, ok := s.subscriberFor(w, r, token.Unsubscribe)
	if !ok {
		return
	}
	if _, err := s.Subscriptions.Unsubscribe(sub.ID); err != nil {
		s.internal(w, r, "unsubscribe", err)
		return
	}
	s.Log.Info("unsubscribed", "subscriber", sub.ID, "via", "page")
	prefs := s.rel(s.Links.Preferences(sub.ID))
	resub := prefs + "/resubscribe"
	s.page(w, r, http.StatusOK, "unsubscribed", &unsubscribedView{base: s.base(r), Email: sub.Email,
		ResubscribeCSRF: s.csrfToken(resub), Resubscribe: s.public(resub), PreferencesURL: s.public(prefs), SubscribeAgain: s.public("/")})
}

// oneClick answers the RFC 8058 POST with a short plain-text body, status
// 200 and no redirect.
func (s *Server) oneClick(w http.ResponseWriter, r *http.Request) {
	text := func(status int, msg string) { write(w, r, status, textPlain, []byte(msg+"\n")) }
	c, err := s.Signer.Verify(r.PathValue("token"), token.Unsubscribe, "", s.Now())
	if err != nil {
		status, title, _ := tokenStatus(err)
		text(status, strings.TrimSuffix(title, ".")+". Nothing was changed.")
		return
	}
	_, err = s.Subscriptions.Unsubscribe(c.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		// Erased already: the address gets nothing, which is what was asked.
		text(http.StatusOK, "This address is not on the list.")
	case err != nil:
		s.Log.Error("one-click unsubscribe", "subscriber", c.ID, "error", err)
		text(http.StatusInternalServerError, "Could not unsubscribe now; please try again later.")
	default:
		s.Log.Info("unsubscribed", "subscriber", c.ID, "via", "one-click")
		text(http.StatusOK, "You are unsubscribed.")
	}
}
