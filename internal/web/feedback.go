package web

import (
	"errors"
	"net/http"

	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/store"
	"github.com/papermail/papermail/internal/token"
)

// feedbackView is the page that asks to record "more/less like this".
type feedbackView struct {
	base
	CSRF, Action   string
	Value          string // more | less
	More           bool
	Title, Link    string
	PreferencesURL string
	Done           bool
}

// feedbackValue maps the v parameter to the stored value.
func feedbackValue(v string) (int, bool) {
	switch v {
	case "more":
		return 1, true
	case "less":
		return -1, true
	}
	return 0, false
}

// feedbackTarget verifies the link and reads its value and paper; on
// failure it has answered.
func (s *Server) feedbackTarget(w http.ResponseWriter, r *http.Request, v string) (*feedbackView, model.Subscriber, model.Paper, int, bool) {
	c, sub, ok := s.subscriberFor(w, r, token.Feedback)
	if !ok {
		return nil, sub, model.Paper{}, 0, false
	}
	val, ok := feedbackValue(v)
	if !ok || c.Extra == "" {
		s.message(w, r, http.StatusBadRequest, "Broken link",
			"This feedback link lacks its “more” or “less”. Nothing was changed. Use the link exactly as it appears in the mail.")
		return nil, sub, model.Paper{}, 0, false
	}
	p, err := s.Store.Paper(c.Extra)
	switch {
	case errors.Is(err, store.ErrNotFound):
		p = model.Paper{ID: c.Extra, Title: c.Extra}
	case err != nil:
		s.internal(w, r, "load paper", err)
		return nil, sub, p, 0, false
	}
	fv := &feedbackView{base: s.base(r), CSRF: s.csrfToken(r.URL.Path), Action: s.public(r.URL.Path), Value: v,
		More: val > 0, Title: p.Title, Link: p.Link(), PreferencesURL: s.public(s.rel(s.Links.Preferences(sub.ID)))}
	return fv, sub, p, val, true
}

// feedbackPage is GET /feedback/{token}?v=more|less: a page with one
// button; nothing is recorded yet.
func (s *Server) feedbackPage(w http.ResponseWriter, r *http.Request) {
	fv, _, _, _, ok := s.feedbackTarget(w, r, r.URL.Query().Get("v"))
	if !ok {
		return
	}
	s.page(w, r, http.StatusOK, "feedback", fv)
}

// feedback is POST /feedback/{token}: it records the reader's feedback on
// the paper, replacing earlier feedback on the same paper.
func (s *Server) feedback(w http.ResponseWriter, r *http.Request) {
	if !s.postedForm(w, r) {
		return
	}
	fv, sub, p, val, ok := s.feedbackTarget(w, r, r.PostForm.Get("v"))
	if !ok {
		return
	}
	fb := model.Feedback{PaperID: p.ID, Title: p.Title, Value: val, At: s.Now().UTC()}
	if fb.Title == p.ID {
		fb.Title = ""
	}
	if err := s.Subscriptions.Feedback(sub.ID, fb); err != nil {
		s.internal(w, r, "record feedback", err)
		return
	}
	fv.Done = true
	s.page(w, r, http.StatusOK, "feedback", fv)
}
