package web

import (
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/papermail/papermail/internal/selection"
	"github.com/papermail/papermail/internal/subscription"
)

// goodInterests are the examples the subscribe page shows.
var goodInterests = []string{
	"diffusion models for video generation",
	"making LLM inference faster",
	"graph neural networks for molecules",
	"robot learning from demonstrations",
	"speech recognition in noisy rooms",
}

// subscribeView is the subscribe page.
type subscribeView struct {
	base
	CSRF                                string
	Email, Interests, Timezone, Authors string
	Zones                               []option
	Errors                              []string
	Examples                            []string
	// Previewed is set after a preview; Preview holds its papers and
	// Unmatched the interests that match none, with terms to rephrase them.
	Previewed bool
	Preview   []pickView
	Unmatched []unmatchedView
}

func (s *Server) subscribeView(r *http.Request, email, interests, zone string) *subscribeView {
	return &subscribeView{base: s.base(r), CSRF: s.csrfToken("/subscribe"), Email: email, Interests: interests,
		Timezone: zone, Zones: zoneOptions(zone), Examples: goodInterests}
}

// subscribePage is GET /: the subscribe form.
func (s *Server) subscribePage(w http.ResponseWriter, r *http.Request) {
	s.page(w, r, http.StatusOK, "subscribe", s.subscribeView(r, "", "", ""))
}

// subscribePreview is GET /preview: the subscribe form filled from the
// query, with the papers a digest for those interests would hold now.
// It changes nothing.
func (s *Server) subscribePreview(w http.ResponseWriter, r *http.Request) {
	q := query(r)
	v := s.subscribeView(r, q.Get("email"), q.Get("interests"), q.Get("timezone"))
	v.Authors = q.Get("authors")
	// Interests may be empty when authors are followed, as on subscribing.
	var errs []string
	var interests []string
	followed, err := subscription.Authors(q.Get("authors"))
	if err != nil {
		errs = append(errs, problemLines(err)...)
	}
	if strings.TrimSpace(q.Get("interests")) != "" || len(followed) == 0 {
		if interests, err = subscription.Interests(q.Get("interests")); err != nil {
			errs = append(errs, problemLines(err)...)
		}
	}
	if len(errs) > 0 {
		v.Errors = errs
		s.page(w, r, http.StatusBadRequest, "subscribe", v)
		return
	}
	v.Previewed = true
	if s.Runner != nil {
		picks, ok, err := s.previewPicks(r, selection.Profile{Interests: interests, Authors: followed})
		if !ok {
			w.Header().Set("Retry-After", "60")
			s.message(w, r, http.StatusTooManyRequests, "Too many previews",
				"This computer has asked for many different previews in the last minute. Wait a minute and try again.")
			return
		}
		if err == nil {
			v.Preview = pickViews(picks)
			v.Unmatched, err = s.unmatched(selection.Profile{Interests: interests}, q.Get("interests"), func(interests string) string {
				return withValues(s.public("/preview"), url.Values{"email": {q.Get("email")}, "interests": {interests}, "authors": {q.Get("authors")}, "timezone": {q.Get("timezone")}})
			})
		}
		if err != nil {
			s.internal(w, r, "preview", err)
			return
		}
	}
	s.page(w, r, http.StatusOK, "subscribe", v)
}

// subscribe is POST /subscribe. Its answer is the same whatever the state
// of the address, so the form tells no one who is subscribed.
func (s *Server) subscribe(w http.ResponseWriter, r *http.Request) {
	if !s.publicPost(w, r, "This computer has sent the subscribe form too often in the last minute. Nothing was changed. Wait a minute and try again.") {
		return
	}
	f := r.PostForm
	req, err := subscription.ParseRequestWith(f.Get("email"), f.Get("interests"), f.Get("timezone"), "web",
		subscription.Extras{Authors: f.Get("authors")})
	if err != nil {
		v := s.subscribeView(r, f.Get("email"), f.Get("interests"), f.Get("timezone"))
		v.Authors = f.Get("authors")
		v.Errors = problemLines(err)
		s.page(w, r, http.StatusBadRequest, "subscribe", v)
		return
	}
	// Known and new addresses answer in the same time (see evenTiming).
	queued, err := s.subscribeTiming.run(r.Context(), func() (bool, error) { return s.Subscriptions.Subscribe(req) })
	if err != nil {
		s.internal(w, r, "subscribe", err)
		return
	}
	if queued && s.Outbox != nil {
		s.Outbox.Wake()
	}
	s.page(w, r, http.StatusOK, "message", &messageView{base: s.base(r), Title: "Check your inbox",
		Message: "If this address is not subscribed yet, a mail with a confirmation link is on its way to it. " +
			"Open the link within 7 days to start receiving digests; without it nothing is sent. " +
			"If the address is already subscribed, nothing changes: the preferences link at the bottom of every digest lets you edit your interests.",
		LinkURL: s.public("/"), LinkText: "Back to the start page"})
}

// limitKey is the rate limit key of a client address: IPv6 clients are
// counted per /64, the block one customer usually holds.
func limitKey(ip string) string {
	if p := net.ParseIP(ip); p != nil && p.To4() == nil {
		return p.Mask(net.CIDRMask(64, 128)).String()
	}
	return ip
}

// problemLines turns the problems of a form into the lines the page
// shows, each naming its field: "Time zone: not a known time zone name
// such as Europe/Berlin."
func problemLines(err error) []string {
	ps, ok := subscription.ProblemsOf(err)
	if !ok {
		return []string{err.Error()}
	}
	out := make([]string, len(ps))
	for i, p := range ps {
		field := string(p.Field)
		if field != "" {
			field = strings.ToUpper(field[:1]) + field[1:] + ": "
		}
		out[i] = field + p.Message + "."
	}
	return out
}
