package web

import (
	"errors"
	"net/http"

	"github.com/papermail/papermail/internal/model"
)

// confirmView is the page that asks to confirm a subscription.
type confirmView struct {
	base
	CSRF, Action string
	Email        string
	Interests    []string
}

// errNotPending aborts a confirmation that lost a race with another.
var errNotPending = errors.New("subscription no longer pending")

// confirmPage is GET /confirm/{token}: a page with a Confirm button. Mail
// scanners that open links confirm nothing.
func (s *Server) confirmPage(w http.ResponseWriter, r *http.Request) {
	sub, ok := s.confirmSubscriber(w, r)
	if !ok {
		return
	}
	s.page(w, r, http.StatusOK, "confirm", &confirmView{base: s.base(r), CSRF: s.csrfToken(r.URL.Path),
		Action: s.public(r.URL.Path), Email: sub.Email, Interests: sub.Interests})
}

// confirm is POST /confirm/{token}: it activates the subscription and
// changes the nonce, so the link cannot be used again.
func (s *Server) confirm(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	if !s.csrfOK(r) {
		s.csrfFailed(w, r)
		return
	}
	sub, ok := s.confirmSubscriber(w, r)
	if !ok {
		return
	}
	now := s.Now().UTC()
	sub, err := s.Store.UpdateSubscriber(sub.ID, func(x *model.Subscriber) error {
		if x.State != model.StatePending || x.ConfirmNonce != sub.ConfirmNonce {
			return errNotPending
		}
		x.State = model.StateActive
		x.ConfirmedAt = now
		x.ConfirmNonce = newNonce()
		x.SoftBounces = nil
		return nil
	})
	switch {
	case errors.Is(err, errNotPending):
		s.message(w, r, http.StatusGone, "Already confirmed",
			"This subscription no longer waits for confirmation. Nothing was changed.")
		return
	case err != nil:
		s.internal(w, r, "confirm", err)
		return
	}
	s.Log.Info("subscription confirmed", "subscriber", sub.ID)
	s.page(w, r, http.StatusOK, "message", &messageView{base: s.base(r), Title: "Welcome to papermail",
		Message: "Your subscription is confirmed. The first digest arrives at the next delivery time. " +
			"Keep the preferences link: it lets you change your interests, the delivery time and more.",
		LinkURL: s.public(s.rel(s.Links.Preferences(sub.ID))), LinkText: "Open your preferences"})
}
