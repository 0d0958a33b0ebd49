package web

import (
	"bytes"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"strconv"

	"github.com/papermail/papermail/internal/token"
	"github.com/papermail/papermail/internal/usertext"
)

// base is what the layout of every page needs; each page's view embeds it.
type base struct {
	// Nonce lets the page's inline style and script run under the CSP.
	Nonce string
	// Mailbox shows a link to /mailbox (served, and this is a local request).
	Mailbox bool
	// Root is the path of base_url ("" when papermail is at the root);
	// links to fixed pages start with it.
	Root string
}

func (s *Server) base(r *http.Request) base {
	return base{Nonce: nonce(r), Mailbox: s.mailbox && localRequest(r), Root: s.prefix}
}

// messageView is a short page: a title, a message and an optional link.
type messageView struct {
	base
	Title, Message    string
	LinkURL, LinkText string
}

// page renders web/<name>.html with status. A failed render becomes a
// plain 500.
func (s *Server) page(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	var buf bytes.Buffer
	if err := s.Engine.Page(&buf, name, data); err != nil {
		s.Log.Error("render page", "page", name, "error", err)
		http.Error(w, "internal error: the page could not be rendered", http.StatusInternalServerError)
		return
	}
	write(w, r, status, "text/html; charset=utf-8", buf.Bytes())
}

// textPlain is the Content-Type of plain-text answers.
const textPlain = "text/plain; charset=utf-8"

// write answers status with body of type ctype; a HEAD request gets the
// header only.
func write(w http.ResponseWriter, r *http.Request, status int, ctype string, body []byte) {
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// message renders the message page.
func (s *Server) message(w http.ResponseWriter, r *http.Request, status int, title, msg string) {
	s.page(w, r, status, "message", &messageView{base: s.base(r), Title: title, Message: msg})
}

// internal answers 500 after logging err.
func (s *Server) internal(w http.ResponseWriter, r *http.Request, where string, err error) {
	s.Log.Error("web: "+where, "path", r.URL.Path, "error", err)
	s.message(w, r, http.StatusInternalServerError, "Something went wrong",
		"papermail could not finish this request. Nothing you did caused it; please try again in a minute.")
}

// csrfFailed answers 403 to a form post without a valid token.
func (s *Server) csrfFailed(w http.ResponseWriter, r *http.Request) {
	s.message(w, r, http.StatusForbidden, "This form has expired",
		"The form you sent was too old, came from another site, or was not sent from papermail's page. Nothing was changed. Go back, reload the page and try again.")
}

// parseForm reads a form body (urlencoded or multipart) into r.PostForm,
// answering 413 or 400 itself when it cannot.
func (s *Server) parseForm(w http.ResponseWriter, r *http.Request) bool {
	var err error
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		err = r.ParseMultipartForm(MaxBody)
		if r.MultipartForm != nil {
			r.MultipartForm.RemoveAll()
		}
	} else {
		err = r.ParseForm()
	}
	if err == nil {
		cleanValues(r.PostForm)
		cleanValues(r.Form)
		return true
	}
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		s.message(w, r, http.StatusRequestEntityTooLarge, "Too much text",
			"What you sent is larger than papermail accepts. Nothing was changed.")
		return false
	}
	s.message(w, r, http.StatusBadRequest, "Unreadable form", "papermail could not read what you sent. Nothing was changed.")
	return false
}

// postedForm reads a page form's POST and checks its CSRF token; on
// failure it has answered.
func (s *Server) postedForm(w http.ResponseWriter, r *http.Request) bool {
	if !s.parseForm(w, r) {
		return false
	}
	if !s.csrfOK(r) {
		s.csrfFailed(w, r)
		return false
	}
	return true
}

// cleanValues drops from every value of a form or query what is not text
// (control characters, bidi overrides; see usertext): every field a
// visitor types passes here before any handler reads it, so none of it
// can reach a terminal or a mail raw.
func cleanValues(vs url.Values) url.Values {
	for k, list := range vs {
		for i, v := range list {
			list[i] = usertext.Clean(v)
		}
		if c := usertext.Line(k); c != k {
			delete(vs, k)
			vs[c] = append(vs[c], list...)
		}
	}
	return vs
}

// query is the request's URL query, cleaned like a form.
func query(r *http.Request) url.Values { return cleanValues(r.URL.Query()) }

// tokenProblem answers a link whose token did not verify: 400 for a
// damaged or misdirected link, 403 for a forged one, 410 for an expired
// one.
func (s *Server) tokenProblem(w http.ResponseWriter, r *http.Request, err error) {
	status, title, msg := tokenStatus(err)
	s.message(w, r, status, title, msg)
}

func tokenStatus(err error) (int, string, string) {
	switch {
	case errors.Is(err, token.ErrExpired):
		return http.StatusGone, "This link has expired",
			"The link is too old to use. Nothing was changed. If you still want to subscribe, fill in the form again and you will get a fresh link."
	case errors.Is(err, token.ErrPurpose):
		return http.StatusBadRequest, "Wrong link",
			"This link belongs to another page of papermail. Nothing was changed. Use the link exactly as it appears in the mail."
	case errors.Is(err, token.ErrForged):
		return http.StatusForbidden, "This link is not valid",
			"The link was changed, was already used, or no longer applies. Nothing was changed. If you wanted to confirm a subscription, subscribe again to get a fresh link."
	}
	return http.StatusBadRequest, "Broken link",
		"This link is incomplete or damaged; perhaps the mail program split it over two lines. Nothing was changed. Copy the whole link from the mail into the address bar."
}
