package web

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/papermail/papermail/internal/address"
	"github.com/papermail/papermail/internal/config"
	"github.com/papermail/papermail/internal/digest"
	"github.com/papermail/papermail/internal/localnet"
	"github.com/papermail/papermail/internal/maildir"
	"github.com/papermail/papermail/internal/store"
	"github.com/papermail/papermail/internal/subscription/lifecycle"
)

// The mailbox shows what papermail delivered into its Maildir, for local
// use without a mail server. Every mail in it holds someone's confirm,
// preferences and unsubscribe links, so it is served only when asked for
// (demo, or http.mailbox), with Maildir delivery, a loopback listen address
// and a loopback base_url, and then only to requests that name a loopback
// Host and did not come through a proxy (see localOnly).
const (
	// mailboxMax is how many of the newest mails the list shows.
	mailboxMax = 300
	// sendNowTimeout bounds "send me a digest now".
	sendNowTimeout = 2 * time.Minute
)

// maildirName matches the file names of a Maildir ("1700000000.M1P2Q3.host:2,S"):
// no path separators, no leading dot.
var maildirName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._,:=+\\-]{0,254}$`)

// mailboxAllowed reports whether the configuration lets the mailbox be
// served at all. Validation already refuses http.mailbox with a public
// base_url or listen address; this holds even for a configuration built
// in code.
func mailboxAllowed(c config.Config) bool {
	return c.HTTP.Mailbox && c.UsesMaildir() && localnet.LoopbackListen(c.HTTP.Listen) && localnet.LoopbackURL(c.BaseURL)
}

// localRequest reports whether r is for this machine: its Host header is
// a loopback name or address (a page of another site that rebinds its DNS
// name to 127.0.0.1 still sends its own name) and no proxy forwarded it
// (a proxy that sets no proxy header still needs a loopback base_url for
// the mailbox to be served).
func localRequest(r *http.Request) bool {
	return localnet.LoopbackHostPort(r.Host) && !localnet.Proxied(r.Header)
}

// localOnly serves h to local requests and answers every other one as if
// the page did not exist.
func (s *Server) localOnly(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !localRequest(r) {
			s.notFound(w, r)
			return
		}
		h(w, r)
	}
}

// mailSummary is one line of the mailbox list.
type mailSummary struct {
	Name, Date, From, To, Subject string
	at                            time.Time
}

// mailboxView is the mailbox list with the "send now" form.
type mailboxView struct {
	base
	Mails          []mailSummary
	CSRF, SendPath string
	Email          string
	Notice         string
	Errors         []string
	Dir            string
}

// mailView is one mail.
type mailView struct {
	base
	Name, Date, From, To, Subject string
	// HTMLURL serves the HTML part in a sandboxed frame; empty when the
	// mail has none.
	HTMLURL string
	Text    []textPiece
	Links   []string
}

// textPiece is a piece of a plain-text part; URL is set for a link.
type textPiece struct {
	Text, URL string
}

func (s *Server) mailboxView(r *http.Request) (*mailboxView, error) {
	v := &mailboxView{base: s.base(r), CSRF: s.csrfToken("/mailbox/send-now"), SendPath: s.public("/mailbox/send-now"),
		Dir: s.Config.MaildirPath()}
	mails, err := s.listMaildir()
	v.Mails = mails
	return v, err
}

// mailboxList is GET /mailbox: the newest mails first.
func (s *Server) mailboxList(w http.ResponseWriter, r *http.Request) {
	v, err := s.mailboxView(r)
	if err != nil {
		s.internal(w, r, "read maildir", err)
		return
	}
	s.page(w, r, http.StatusOK, "mailbox", v)
}

// listMaildir reads the headers of the newest mails in new/ and cur/.
func (s *Server) listMaildir() ([]mailSummary, error) {
	type file struct {
		path, name string
		mod        time.Time
	}
	// No new/ or cur/ yet: nothing was delivered.
	entries, err := maildir.List(s.Config.MaildirPath(), true)
	if err != nil && !errors.Is(err, maildir.ErrNotMaildir) {
		return nil, fmt.Errorf("mailbox: %w", err)
	}
	var files []file
	for _, e := range entries {
		if !maildirName.MatchString(e.Name) {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		files = append(files, file{path: e.Path, name: e.Name, mod: info.ModTime()})
	}
	slices.SortFunc(files, func(a, b file) int { return b.mod.Compare(a.mod) })
	files = files[:min(len(files), mailboxMax)]
	out := make([]mailSummary, 0, len(files))
	for _, f := range files {
		m := mailSummary{Name: f.name, at: f.mod}
		if fh, err := os.Open(f.path); err == nil {
			if h, err := readHeader(fh); err == nil {
				m.From, m.To, m.Subject = h.from, h.to, h.subject
				if !h.date.IsZero() {
					m.at = h.date
				}
			}
			fh.Close()
		}
		m.Date = m.at.Local().Format("Mon 2 Jan 2006 15:04")
		out = append(out, m)
	}
	slices.SortStableFunc(out, func(a, b mailSummary) int { return b.at.Compare(a.at) })
	return out, nil
}

// openMail opens the Maildir file name, looking in new/ and cur/; names
// that are no Maildir file name are refused before touching the disk, and
// the lookup cannot leave those folders.
func (s *Server) openMail(name string) (*os.File, error) {
	if !maildirName.MatchString(name) {
		return nil, fs.ErrNotExist
	}
	for _, sub := range []string{"new", "cur"} {
		f, err := os.OpenInRoot(filepath.Join(s.Config.MaildirPath(), sub), name)
		if err == nil {
			if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
				return f, nil
			}
			f.Close()
			continue
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	return nil, fs.ErrNotExist
}

// loadMail opens and parses one mail, answering 404 itself.
func (s *Server) loadMail(w http.ResponseWriter, r *http.Request) (*parsedMail, bool) {
	f, err := s.openMail(r.PathValue("name"))
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			s.Log.Warn("mailbox open", "error", err)
		}
		s.message(w, r, http.StatusNotFound, "No such mail", "There is no mail of this name in papermail's Maildir.")
		return nil, false
	}
	defer f.Close()
	m, err := parseMail(f)
	if err != nil {
		s.message(w, r, http.StatusUnprocessableEntity, "Unreadable mail", "papermail could not read this mail: "+err.Error())
		return nil, false
	}
	return m, true
}

// mailboxMessage is GET /mailbox/{name}: one mail, its HTML part in a
// sandboxed frame and its text part below with the links clickable.
func (s *Server) mailboxMessage(w http.ResponseWriter, r *http.Request) {
	m, ok := s.loadMail(w, r)
	if !ok {
		return
	}
	name := r.PathValue("name")
	v := &mailView{base: s.base(r), Name: name, From: m.from, To: m.to, Subject: m.subject, Text: linkify(m.text)}
	if !m.date.IsZero() {
		v.Date = m.date.Format("Mon, 2 Jan 2006 15:04 -0700")
	}
	if m.html != "" {
		v.HTMLURL = s.public("/mailbox/" + name + "/html")
	}
	for _, p := range v.Text {
		if p.URL != "" && !slices.Contains(v.Links, p.URL) {
			v.Links = append(v.Links, p.URL)
		}
	}
	// The page frames the HTML part from this origin.
	w.Header().Set("Content-Security-Policy", cspFor(nonce(r))+"; frame-src 'self'")
	s.page(w, r, http.StatusOK, "mail", v)
}

// mailboxHTML is GET /mailbox/{name}/html: the HTML part, served to a
// sandbox without scripts, forms or outside resources; links open in a
// new tab.
func (s *Server) mailboxHTML(w http.ResponseWriter, r *http.Request) {
	m, ok := s.loadMail(w, r)
	if !ok {
		return
	}
	if m.html == "" {
		s.notFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Security-Policy", "sandbox allow-popups allow-popups-to-escape-sandbox; default-src 'none'; "+
		"style-src 'unsafe-inline'; img-src data:; form-action 'none'; frame-ancestors 'self'")
	h.Set("X-Frame-Options", "SAMEORIGIN")
	write(w, r, http.StatusOK, "text/html; charset=utf-8", []byte(`<!DOCTYPE html><base target="_blank">`+m.html))
}

// sendNow is POST /mailbox/send-now: it runs the digest for one subscriber
// at once, for today's date in their zone, so it can be read here.
func (s *Server) sendNow(w http.ResponseWriter, r *http.Request) {
	if !s.postedForm(w, r) {
		return
	}
	notice, problem, err := s.runNow(r.Context(), r.PostForm.Get("email"))
	if err != nil {
		s.internal(w, r, "send digest now", err)
		return
	}
	v, err := s.mailboxView(r)
	if err != nil {
		s.internal(w, r, "read maildir", err)
		return
	}
	v.Email = r.PostForm.Get("email")
	status := http.StatusOK
	if problem != "" {
		v.Errors = []string{problem}
		status = http.StatusBadRequest
	}
	v.Notice = notice
	s.page(w, r, status, "mailbox", v)
}

// runNow sends today's digest to the subscriber with address email and
// says what happened; problem explains why nothing could be tried.
func (s *Server) runNow(ctx context.Context, email string) (notice, problem string, err error) {
	addr, err := address.Normalize(email)
	if err != nil {
		return "", "Email: " + err.Error() + ".", nil
	}
	sub, err := s.Store.SubscriberByEmail(addr)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return "", "No subscriber has the address " + addr + ".", nil
	case err != nil:
		return "", "", err
	case !lifecycle.Receiving(&sub):
		return "", addr + " is " + string(sub.State) + "; only confirmed subscribers get digests. Open the confirmation mail above first.", nil
	case s.Runner == nil:
		return "", "Digests cannot be sent from this server.", nil
	}
	now := s.Now()
	date := now.In(sub.Location(s.Config.Location())).Format(digest.DateLayout)
	ctx, cancel := context.WithTimeout(ctx, sendNowTimeout)
	defer cancel()
	sum, err := s.Runner.Run(ctx, digest.Spec{Now: now, Date: date, Only: sub.ID})
	if err != nil {
		return "", "", fmt.Errorf("digest for subscriber %d: %w", sub.ID, err)
	}
	switch {
	case sum.Sent > 0:
		return "The digest of " + date + " for " + addr + " was sent; it is at the top of the list.", "", nil
	case sum.Due == 0:
		return addr + " already had the digest of " + date + ", or is paused until later; nothing was sent.", "", nil
	case sum.Skipped > 0:
		return "No paper matched the interests of " + addr + " today, so no digest was sent.", "", nil
	}
	return "The digest for " + addr + " could not be delivered; see papermail's log.", "", nil
}

// urlPattern finds links in plain text.
var urlPattern = regexp.MustCompile(`https?://[^\s<>"]+`)

// linkify cuts text into plain pieces and links.
func linkify(text string) []textPiece {
	var out []textPiece
	last := 0
	for _, loc := range urlPattern.FindAllStringIndex(text, -1) {
		start, end := loc[0], loc[1]
		end = start + len(strings.TrimRight(text[start:end], ".,;:!?)]}'"))
		if start > last {
			out = append(out, textPiece{Text: text[last:start]})
		}
		out = append(out, textPiece{Text: text[start:end], URL: text[start:end]})
		last = end
	}
	if last < len(text) {
		out = append(out, textPiece{Text: text[last:]})
	}
	return out
}
