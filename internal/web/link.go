package web

import (
	"net/http"

	"github.com/papermail/papermail/internal/links"
	"github.com/papermail/papermail/internal/subscription"
)

// linkView is the "send me my link" page.
type linkView struct {
	base
	CSRF, Action, Email string
	Errors              []string
}

// linkPage is GET /link: a form that mails a subscriber their links again.
func (s *Server) linkPage(w http.ResponseWriter, r *http.Request) {
	s.page(w, r, http.StatusOK, "link", &linkView{base: s.base(r), CSRF: s.csrfToken(links.PathLink), Action: s.public(links.PathLink)})
}

// sendLink is POST /link. It answers the same whatever the address's
// state (on the list or not, active or not), in the same time, and is
// rate-limited like the subscribe form; only addresses on the list get a
// mail, at most one per subscription.ConfirmInterval.
func (s *Server) sendLink(w http.ResponseWriter, r *http.Request) {
	if !s.publicPost(w, r, "This computer has sent this form too often in the last minute. Nothing was sent. Wait a minute and try again.") {
		return
	}
	email := r.PostForm.Get("email")
	if _, err := subscription.Email(email); err != nil {
		v := &linkView{base: s.base(r), CSRF: s.csrfToken(links.PathLink), Action: s.public(links.PathLink), Email: email, Errors: problemLines(err)}
		s.page(w, r, http.StatusBadRequest, "link", v)
		return
	}
	queued, err := s.linkTiming.run(r.Context(), func() (bool, error) { return s.Subscriptions.SendLinks(email) })
	if err != nil {
		s.internal(w, r, "send link", err)
		return
	}
	if queued && s.Outbox != nil {
		s.Outbox.Wake()
	}
	s.page(w, r, http.StatusOK, "message", &messageView{base: s.base(r), Title: "Check your inbox",
		Message: "If this address is on the list, a mail with its preferences link is on its way to it. " +
			"If nothing arrives within a few minutes, check the spam folder, or subscribe again from the start page.",
		LinkURL: s.public("/"), LinkText: "Back to the start page"})
}
