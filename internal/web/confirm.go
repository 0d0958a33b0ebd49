package web

import (
	"errors"
	"net/http"

	"github.com/papermail/papermail/internal/store"
	"github.com/papermail/papermail/internal/subscription"
)

// confirmView is the page that asks to confirm a subscription.
type confirmView struct {
	base
	CSRF, Action string
	Email        string
	Interests    []string
}

// confirmPage is GET /confirm/{token}: a page with a Confirm button. Mail
// scanners that open links confirm nothing.
func (s *Server) confirmPage(w http.ResponseWriter, r *http.Request) {
	sub, _, ok := s.confirmSubscriber(w, r)
	if !ok {
		return
	}
	s.page(w, r, http.StatusOK, "confirm", &confirmView{base: s.base(r), CSRF: s.csrfToken(r.URL.Path),
		Action: s.public(r.URL.Path), Email: sub.Email, Interests: sub.Interests})
}

// confirm is POST /confirm/{token}: it activates the subscription and
// changes the nonce, so the link cannot be used again.
func (s *Server) confirm(w http.ResponseWriter, r *http.Request) {
	if !s.postedForm(w, r) {
		return
	}
	sub, nonce, ok := s.confirmSubscriber(w, r)
	if !ok {
		return
	}
	sub, err := s.Subscriptions.Confirm(sub.ID, nonce)
	switch {
	case errors.Is(err, subscription.ErrNotPending), errors.Is(err, store.ErrNoConfirmation):
		// Another request confirmed it first.
		s.message(w, r, http.StatusGone, "Already confirmed",
			"This subscription no longer waits for confirmation. Nothing was changed.")
		return
	case err != nil:
		s.internal(w, r, "confirm", err)
		return
	}
	s.Log.Info("subscription confirmed", "subscriber", sub.ID)
	if s.Outbox != nil {
		s.Outbox.Wake() // the welcome mail queued with the confirmation
	}
	s.page(w, r, http.StatusOK, "message", &messageView{base: s.base(r), Title: "Welcome to papermail",
		Message: "Your subscription is confirmed. The first digest arrives at the next delivery time. " +
			"A welcome mail with your preferences link is on its way; keep it: the link lets you change your interests, the delivery time and more.",
		LinkURL: s.public(s.rel(s.Links.Preferences(sub.ID))), LinkText: "Open your preferences"})
}
