package web

import (
	"errors"
	"fmt"
	"hash/maphash"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/papermail/papermail/internal/address"
	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/selection"
	"github.com/papermail/papermail/internal/store"
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
	CSRF                       string
	Email, Interests, Timezone string
	Zones                      []option
	Errors                     []string
	Examples                   []string
	// Previewed is set after a preview; Preview holds its papers.
	Previewed bool
	Preview   []pickView
}

// subscribeInput is a checked subscribe form.
type subscribeInput struct {
	email     string
	interests []string
	timezone  string
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
	q := r.URL.Query()
	v := s.subscribeView(r, q.Get("email"), q.Get("interests"), q.Get("timezone"))
	interests, problems := checkInterests(q.Get("interests"))
	if len(problems) > 0 {
		v.Errors = problems
		s.page(w, r, http.StatusBadRequest, "subscribe", v)
		return
	}
	v.Previewed = true
	if s.Runner != nil {
		picks, err := s.Runner.Preview(selection.Profile{Interests: interests}, previewLimit, s.Now())
		if err != nil {
			s.internal(w, r, "preview", err)
			return
		}
		v.Preview = pickViews(picks)
	}
	s.page(w, r, http.StatusOK, "subscribe", v)
}

// subscribe is POST /subscribe. Its answer is the same whatever the state
// of the address, so the form tells no one who is subscribed.
func (s *Server) subscribe(w http.ResponseWriter, r *http.Request) {
	if !s.limiter.allow(limitKey(s.clientIP(r)), s.Now()) {
		w.Header().Set("Retry-After", "60")
		s.message(w, r, http.StatusTooManyRequests, "Too many requests",
			"This computer has sent the subscribe form too often in the last minute. Nothing was changed. Wait a minute and try again.")
		return
	}
	if !s.parseForm(w, r) {
		return
	}
	if !s.csrfOK(r) {
		s.csrfFailed(w, r)
		return
	}
	f := r.PostForm
	in, problems := readSubscribe(f)
	if len(problems) > 0 {
		v := s.subscribeView(r, f.Get("email"), f.Get("interests"), f.Get("timezone"))
		v.Errors = problems
		s.page(w, r, http.StatusBadRequest, "subscribe", v)
		return
	}
	if err := s.register(in); err != nil {
		s.internal(w, r, "subscribe", err)
		return
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

// checkInterests validates the interests field; it must name at least
// one.
func checkInterests(text string) ([]string, []string) {
	interests, err := selection.ValidateInterests(text)
	var problems []string
	if err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			problems = append(problems, "Interests: "+line+".")
		}
	} else if len(interests) == 0 {
		problems = append(problems, "Interests: name at least one topic, for example “speech recognition”.")
	}
	return interests, problems
}

// readSubscribe checks the subscribe form and lists what is wrong.
func readSubscribe(f url.Values) (subscribeInput, []string) {
	var in subscribeInput
	var problems []string
	email, err := address.Normalize(f.Get("email"))
	if err != nil {
		problems = append(problems, "Email: "+strings.TrimPrefix(err.Error(), address.ErrInvalid.Error()+": ")+
			" (give one address, like name@example.org).")
	}
	in.email = email
	var p []string
	in.interests, p = checkInterests(f.Get("interests"))
	problems = append(problems, p...)
	in.timezone = strings.TrimSpace(f.Get("timezone"))
	if err := validZone(in.timezone); err != nil {
		problems = append(problems, "Time zone: "+err.Error()+".")
	}
	return in, problems
}

// register records a subscribe request and queues a confirmation mail
// when one is due: for a new, pending, unsubscribed or bounced address,
// at most one per digest.ConfirmInterval. Active and paused subscribers are left
// as they are.
var subSeed = maphash.MakeSeed()

func (s *Server) register(in subscribeInput) error {
	mu := &s.subLocks[maphash.String(subSeed, in.email)%uint64(len(s.subLocks))]
	mu.Lock()
	defer mu.Unlock()
	now := s.Now()
	sub, err := s.Store.SubscriberByEmail(in.email)
	switch {
	case errors.Is(err, store.ErrNotFound):
		sub = model.Subscriber{Email: in.email, Interests: in.interests, State: model.StatePending,
			Created: now.UTC(), Updated: now.UTC(), Source: "web", Timezone: in.timezone, Hour: -1,
			Frequency: model.FrequencyDaily}
	case err != nil:
		return fmt.Errorf("look up subscriber: %w", err)
	case sub.State == model.StateActive || sub.State == model.StatePaused:
		return nil
	default:
		sub.Interests = in.interests
		if in.timezone != "" {
			sub.Timezone = in.timezone
		}
	}
	if s.Runner == nil {
		return errors.New("confirmation mail is not available: no digest runner")
	}
	// The runner saves the subscriber and its confirmation mail in one
	// transaction, at most one mail per address per digest.ConfirmInterval.
	queued, err := s.Runner.QueueConfirmation(&sub, now)
	if err != nil {
		return fmt.Errorf("queue confirmation for %s: %w", sub.Email, err)
	}
	if queued && s.Outbox != nil {
		s.Outbox.Wake()
	}
	return nil
}
