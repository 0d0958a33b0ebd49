package web

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/papermail/papermail/internal/store"
	"github.com/papermail/papermail/internal/token"
)

// click is GET /c/{token}?u=URL (only with tracking.clicks): it counts an
// anonymous click on the paper the token names and redirects to the URL
// the token was signed for. Any other URL gets 400, so the endpoint is no
// open redirect.
func (s *Server) click(w http.ResponseWriter, r *http.Request) {
	target := r.URL.Query().Get("u")
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		s.message(w, r, http.StatusBadRequest, "Broken link", "This link does not lead anywhere papermail knows.")
		return
	}
	c, err := s.Signer.Verify(r.PathValue("token"), token.Click, target, s.Now())
	if err != nil || c.ID != 0 {
		s.message(w, r, http.StatusBadRequest, "Broken link",
			"This link was changed or damaged, so papermail does not follow it. Copy the paper's link from the mail instead.")
		return
	}
	if c.Extra != "" {
		if err := s.Store.AddClick(c.Extra); err != nil && !errors.Is(err, store.ErrNotFound) {
			s.Log.Warn("count click", "paper", c.Extra, "error", err)
		}
	}
	http.Redirect(w, r, target, http.StatusFound)
}
