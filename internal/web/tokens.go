package web

import (
	"errors"
	"net/http"

	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/store"
	"github.com/papermail/papermail/internal/subscription"
	"github.com/papermail/papermail/internal/token"
)

// subscriberFor verifies the request's {token} for purpose p and loads the
// subscriber it names. On failure it has answered the request and ok is
// false.
func (s *Server) subscriberFor(w http.ResponseWriter, r *http.Request, p token.Purpose) (c token.Claims, sub model.Subscriber, ok bool) {
	c, err := s.Signer.Verify(r.PathValue("token"), p, "", s.Now())
	if err != nil {
		s.tokenProblem(w, r, err)
		return c, sub, false
	}
	sub, err = s.Store.Subscriber(c.ID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		s.message(w, r, http.StatusNotFound, "No subscription here",
			"This link belongs to a subscription that no longer exists; its data was erased. Nothing was changed. You can subscribe again on the start page.")
		return c, sub, false
	case err != nil:
		s.internal(w, r, "load subscriber", err)
		return c, sub, false
	}
	return c, sub, true
}

// confirmSubscriber verifies a confirmation token, which is bound to the
// nonce of the confirmation waiting for the subscriber, and returns the
// subscriber as it will be once confirmed with that nonce. A token of
// another purpose gets ErrPurpose when it is genuine; a token of a
// subscriber that is gone, or whose confirmation was used or replaced
// since, does not verify and counts as forged.
func (s *Server) confirmSubscriber(w http.ResponseWriter, r *http.Request) (model.Subscriber, string, bool) {
	tok := r.PathValue("token")
	c, err := token.Parse(tok)
	if err != nil {
		s.tokenProblem(w, r, err)
		return model.Subscriber{}, "", false
	}
	if c.Purpose != token.Confirm {
		_, err := s.Signer.Verify(tok, c.Purpose, "", s.Now())
		if err == nil {
			err = token.ErrPurpose
		}
		s.tokenProblem(w, r, err)
		return model.Subscriber{}, "", false
	}
	sub, conf, err := s.Subscriptions.Pending(c.ID)
	switch {
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrNoConfirmation):
		// Nothing waits: the link's nonce is no one's now.
		if _, err := s.Signer.Verify(tok, token.Confirm, "", s.Now()); err != nil {
			s.tokenProblem(w, r, err)
		} else {
			s.tokenProblem(w, r, token.ErrForged)
		}
		return sub, "", false
	case err != nil && !errors.Is(err, subscription.ErrNotPending):
		s.internal(w, r, "load subscriber", err)
		return sub, "", false
	}
	if _, verr := s.Signer.Verify(tok, token.Confirm, conf.Nonce, s.Now()); verr != nil {
		s.tokenProblem(w, r, verr)
		return sub, "", false
	}
	if err != nil {
		s.message(w, r, http.StatusGone, "Already confirmed",
			"This subscription no longer waits for confirmation. Nothing was changed.")
		return sub, "", false
	}
	return sub, conf.Nonce, true
}

// prefsPost checks a POST from a preferences page: the body parses, the
// CSRF token holds, and the path's preferences token is valid. On any
// failure it has answered and ok is false.
func (s *Server) prefsPost(w http.ResponseWriter, r *http.Request) (sub model.Subscriber, ok bool) {
	if !s.postedForm(w, r) {
		return sub, false
	}
	_, sub, ok = s.subscriberFor(w, r, token.Preferences)
	return sub, ok
}

// publicPost starts a POST from a form anyone may send (subscribe, send
// me my link): the per-IP limit (answering 429 with tooOften), the form
// and its CSRF token. It reports whether the handler goes on.
func (s *Server) publicPost(w http.ResponseWriter, r *http.Request, tooOften string) bool {
	if !s.limiter.allow(limitKey(s.clientIP(r)), s.Now()) {
		w.Header().Set("Retry-After", "60")
		s.message(w, r, http.StatusTooManyRequests, "Too many requests", tooOften)
		return false
	}
	return s.postedForm(w, r)
}
