package web

import (
	"net/http"

	"github.com/papermail/papermail/internal/links"
	"github.com/papermail/papermail/internal/token"
)

// eraseView is the page that asks to confirm erasing everything.
type eraseView struct {
	base
	CSRF, Action, Back string
	Email              string
}

func (s *Server) eraseView(r *http.Request, email string) *eraseView {
	return &eraseView{base: s.base(r), CSRF: s.csrfToken(r.URL.Path), Action: s.public(r.URL.Path),
		Back: s.public(links.PathPreferences + r.PathValue("token")), Email: email}
}

// erasePage is GET /preferences/{token}/erase: the confirm step.
func (s *Server) erasePage(w http.ResponseWriter, r *http.Request) {
	_, sub, ok := s.subscriberFor(w, r, token.Preferences)
	if !ok {
		return
	}
	s.page(w, r, http.StatusOK, "erase", s.eraseView(r, sub.Email))
}

// erase is POST /preferences/{token}/erase: with confirm=yes it deletes
// the subscriber and its history for good; without, it shows the confirm
// step again.
func (s *Server) erase(w http.ResponseWriter, r *http.Request) {
	sub, ok := s.prefsPost(w, r)
	if !ok {
		return
	}
	if r.PostForm.Get("confirm") != "yes" {
		s.page(w, r, http.StatusOK, "erase", s.eraseView(r, sub.Email))
		return
	}
	if err := s.Subscriptions.Erase(sub.ID); err != nil {
		s.internal(w, r, "erase subscriber", err)
		return
	}
	s.Log.Info("subscriber erased", "subscriber", sub.ID)
	s.page(w, r, http.StatusOK, "message", &messageView{base: s.base(r), Title: "Everything is erased",
		Message: "papermail no longer holds anything about you: your address, interests, feedback and the list of papers sent to you are deleted. " +
			"No more mail will come, and the links in old mails no longer work.",
		LinkURL: s.public("/"), LinkText: "Back to the start page"})
}
