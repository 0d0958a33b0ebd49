package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/papermail/papermail/internal/links"
	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/selection"
	"github.com/papermail/papermail/internal/token"
)

// Limits of the preferences form.
const (
	maxExamples   = 20
	maxExampleLen = 300
	// maxPause is how far ahead a pause may reach.
	maxPause = 366 * 24 * time.Hour
	// maxFeedback is how many feedback entries a subscriber keeps (the
	// newest).
	maxFeedback = 200
)

// dateLayout is the layout of dates in forms (<input type="date">).
const dateLayout = "2006-01-02"

// prefsView is the preferences page.
type prefsView struct {
	base
	CSRF, Action                       string
	UndoCSRF, UndoAction               string
	ResubscribeCSRF, ResubscribeAction string
	ExportURL, EraseURL, FeedURL       string
	UnsubscribeURL                     string

	Email string
	// State is the subscription state; Inactive is set when no digests go
	// out (pending, unsubscribed, bounced) and Resubscribe offers to start
	// them again.
	State                 string
	Inactive, Resubscribe bool
	// Paused says the subscriber is paused; PausedUntil when it ends
	// ("" = until resumed).
	Paused      bool
	PausedUntil string

	Interests, Examples, Frequency, Pause string
	Weekdays, Hours, Zones                []option
	Today                                 string

	Feedback []feedbackItem
	// Picks are what the digest would hold now; Edited says they were
	// chosen with the edited (unsaved) form.
	Picks     []pickView
	Edited    bool
	NoPreview bool

	Saved  bool
	Notice string
	Errors []string
}

// feedbackItem is one "more/less like this" the reader gave.
type feedbackItem struct {
	PaperID, Title, At string
	More               bool
}

// prefsInput is a checked preferences form.
type prefsInput struct {
	interests, examples []string
	frequency           string
	weekday, hour       int
	timezone            string
	pause               time.Time
	resume              bool
}

// prefsView builds the page for sub; f, when not nil, is an edited form to
// show instead of the saved values.
func (s *Server) prefsView(r *http.Request, sub *model.Subscriber, f url.Values) *prefsView {
	root := links.PathPreferences + r.PathValue("token")
	loc := sub.Location(s.Config.Location())
	now := s.Now()
	v := &prefsView{
		base: s.base(r), CSRF: s.csrfToken(root), Action: s.public(root),
		UndoCSRF: s.csrfToken(root + "/feedback/undo"), UndoAction: s.public(root + "/feedback/undo"),
		ResubscribeCSRF: s.csrfToken(root + "/resubscribe"), ResubscribeAction: s.public(root + "/resubscribe"),
		ExportURL: s.public(root + "/export"), EraseURL: s.public(root + "/erase"),
		FeedURL: s.Links.Feed(sub.ID), UnsubscribeURL: s.public(s.rel(s.Links.Unsubscribe(sub.ID))),
		Email: sub.Email, State: string(sub.State), Today: now.In(loc).Format(dateLayout),
	}
	switch sub.State {
	case model.StatePending, model.StateUnsubscribed, model.StateBounced:
		v.Inactive, v.Resubscribe = true, true
	case model.StatePaused:
		v.Paused = true
	}
	if !sub.PausedUntil.IsZero() && now.Before(sub.PausedUntil) {
		v.Paused = true
		v.PausedUntil = sub.PausedUntil.In(loc).Format("Monday, 2 January 2006")
	}
	interests, examples := strings.Join(sub.Interests, "\n"), strings.Join(sub.Examples, "\n")
	freq, weekday, hour, zone, pause := sub.Frequency, strconv.Itoa(sub.Weekday), "default", sub.Timezone, ""
	if sub.Hour >= 0 && sub.Hour <= 23 {
		hour = strconv.Itoa(sub.Hour)
	}
	if v.PausedUntil != "" {
		pause = sub.PausedUntil.In(loc).Format(dateLayout)
	}
	if f != nil {
		interests, examples, freq = f.Get("interests"), f.Get("examples"), f.Get("frequency")
		weekday, hour, zone, pause = f.Get("weekday"), f.Get("hour"), f.Get("timezone"), f.Get("pause")
	}
	if freq != model.FrequencyWeekly {
		freq = model.FrequencyDaily
	}
	v.Interests, v.Examples, v.Frequency, v.Pause = interests, examples, freq, pause
	for d := range 7 {
		v.Weekdays = append(v.Weekdays, option{Value: strconv.Itoa(d), Label: time.Weekday(d).String(), Selected: weekday == strconv.Itoa(d)})
	}
	dh, dm := s.Config.DefaultHour()
	v.Hours = append(v.Hours, option{Value: "default", Label: fmt.Sprintf("Default (%02d:%02d)", dh, dm), Selected: hour == "default" || hour == ""})
	for h := range 24 {
		v.Hours = append(v.Hours, option{Value: strconv.Itoa(h), Label: fmt.Sprintf("%02d:00", h), Selected: hour == strconv.Itoa(h)})
	}
	v.Zones = zoneOptions(zone)
	for i := len(sub.Feedback) - 1; i >= 0; i-- {
		fb := sub.Feedback[i]
		title := fb.Title
		if title == "" {
			title = fb.PaperID
		}
		v.Feedback = append(v.Feedback, feedbackItem{PaperID: fb.PaperID, Title: title, More: fb.Value > 0,
			At: fb.At.In(loc).Format("2 Jan 2006")})
	}
	return v
}

// preferencesPage is GET /preferences/{token}. With ?preview it shows the
// edited form and what a digest for it would hold, saving nothing.
func (s *Server) preferencesPage(w http.ResponseWriter, r *http.Request) {
	_, sub, ok := s.subscriberFor(w, r, token.Preferences)
	if !ok {
		return
	}
	q := r.URL.Query()
	if !q.Has("preview") {
		v := s.prefsView(r, &sub, nil)
		if !s.addPicks(w, r, v, &sub, nil) {
			return
		}
		s.page(w, r, http.StatusOK, "preferences", v)
		return
	}
	v := s.prefsView(r, &sub, q)
	in, problems := s.readPrefs(q, &sub)
	if len(problems) > 0 {
		v.Errors = problems
		s.page(w, r, http.StatusBadRequest, "preferences", v)
		return
	}
	if !s.addPicks(w, r, v, &sub, &in) {
		return
	}
	s.page(w, r, http.StatusOK, "preferences", v)
}

// addPicks fills the preview of v: the digest sub would get now, or, with
// in, the digest for the edited interests and examples.
func (s *Server) addPicks(w http.ResponseWriter, r *http.Request, v *prefsView, sub *model.Subscriber, in *prefsInput) bool {
	if s.Runner == nil {
		v.NoPreview = true
		return true
	}
	var picks []selection.Pick
	var err error
	if in == nil {
		picks, err = s.Runner.PreviewFor(sub, s.Now())
	} else {
		v.Edited = true
		prof := selection.Profile{Interests: in.interests, Examples: in.examples}
		for _, f := range sub.Feedback {
			if f.Value > 0 {
				prof.Liked = append(prof.Liked, f.PaperID)
			} else if f.Value < 0 {
				prof.Disliked = append(prof.Disliked, f.PaperID)
			}
		}
		var sent map[uint64]map[string]struct{}
		if sent, err = s.Store.SentSets([]uint64{sub.ID}); err == nil {
			had := sent[sub.ID]
			prof.Exclude = func(id string) bool { _, ok := had[id]; return ok }
			picks, err = s.Runner.Preview(prof, 0, s.Now())
		}
	}
	if err != nil {
		s.internal(w, r, "preview", err)
		return false
	}
	v.Picks = pickViews(picks)
	return true
}

// savePreferences is POST /preferences/{token}.
func (s *Server) savePreferences(w http.ResponseWriter, r *http.Request) {
	_, sub, ok := s.postFor(w, r, token.Preferences)
	if !ok {
		return
	}
	in, problems := s.readPrefs(r.PostForm, &sub)
	if len(problems) > 0 {
		v := s.prefsView(r, &sub, r.PostForm)
		v.Errors = problems
		s.page(w, r, http.StatusBadRequest, "preferences", v)
		return
	}
	sub, err := s.Store.UpdateSubscriber(sub.ID, func(x *model.Subscriber) error {
		x.Interests, x.Examples = in.interests, in.examples
		x.Frequency, x.Weekday, x.Hour, x.Timezone = in.frequency, in.weekday, in.hour, in.timezone
		switch {
		case in.resume:
			x.PausedUntil = time.Time{}
			if x.State == model.StatePaused {
				x.State = model.StateActive
			}
		case !in.pause.IsZero():
			x.PausedUntil = in.pause.UTC()
		default:
			x.PausedUntil = time.Time{}
		}
		return nil
	})
	if err != nil {
		s.internal(w, r, "save preferences", err)
		return
	}
	v := s.prefsView(r, &sub, nil)
	v.Saved = true
	if !s.addPicks(w, r, v, &sub, nil) {
		return
	}
	s.page(w, r, http.StatusOK, "preferences", v)
}

// readPrefs checks a preferences form and lists what is wrong.
func (s *Server) readPrefs(f url.Values, sub *model.Subscriber) (prefsInput, []string) {
	in := prefsInput{frequency: model.FrequencyDaily, weekday: sub.Weekday, hour: -1, resume: f.Has("resume")}
	var problems []string
	in.interests, problems = checkInterests(f.Get("interests"))

	seen := map[string]bool{}
	for line := range strings.Lines(f.Get("examples")) {
		e := strings.Join(strings.Fields(line), " ")
		if e == "" || seen[strings.ToLower(e)] {
			continue
		}
		seen[strings.ToLower(e)] = true
		if n := utf8.RuneCountInString(e); n > maxExampleLen {
			problems = append(problems, fmt.Sprintf("Example papers: example %d has %d characters, at most %d are allowed.", len(in.examples)+1, n, maxExampleLen))
		}
		in.examples = append(in.examples, e)
	}
	if len(in.examples) > maxExamples {
		problems = append(problems, fmt.Sprintf("Example papers: %d given, at most %d are allowed.", len(in.examples), maxExamples))
	}

	switch f.Get("frequency") {
	case model.FrequencyDaily, "":
	case model.FrequencyWeekly:
		in.frequency = model.FrequencyWeekly
	default:
		problems = append(problems, "Frequency: choose daily or weekly.")
	}
	if wd := f.Get("weekday"); wd != "" {
		if d, ok := smallInt(wd, 6); ok {
			in.weekday = d
		} else {
			problems = append(problems, "Weekday: choose a day of the week.")
		}
	}
	switch h := f.Get("hour"); h {
	case "", "default":
	default:
		if n, ok := smallInt(h, 23); ok {
			in.hour = n
		} else {
			problems = append(problems, "Delivery hour: choose an hour from 00 to 23, or the default.")
		}
	}
	in.timezone = strings.TrimSpace(f.Get("timezone"))
	if err := validZone(in.timezone); err != nil {
		problems = append(problems, "Time zone: "+err.Error()+".")
		in.timezone = sub.Timezone
	}

	if p := strings.TrimSpace(f.Get("pause")); p != "" && !in.resume {
		loc := s.Config.Location()
		if in.timezone != "" {
			loc, _ = time.LoadLocation(in.timezone)
		}
		d, err := parseDate(p, loc)
		now := s.Now()
		switch {
		case err != nil:
			problems = append(problems, "Pause until: give a date as YYYY-MM-DD, like "+now.AddDate(0, 0, 14).Format(dateLayout)+".")
		case !d.After(now):
			problems = append(problems, "Pause until: the date must be in the future.")
		case d.Sub(now) > maxPause:
			problems = append(problems, "Pause until: pause for at most a year.")
		default:
			in.pause = d
		}
	}
	return in, problems
}

// parseDate parses a YYYY-MM-DD date strictly (exactly that form) as the
// start of that day in loc.
func parseDate(s string, loc *time.Location) (time.Time, error) {
	if len(s) != len(dateLayout) {
		return time.Time{}, errors.New("date not in YYYY-MM-DD form")
	}
	d, err := time.ParseInLocation(dateLayout, s, loc)
	if err != nil {
		return d, err
	}
	if d.Format(dateLayout) != s {
		return time.Time{}, errors.New("date not in YYYY-MM-DD form")
	}
	return d, nil
}

// smallInt parses one or two decimal digits as a number 0..max.
func smallInt(s string, max int) (int, bool) {
	if len(s) == 0 || len(s) > 2 {
		return 0, false
	}
	n := 0
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, n <= max
}

// undoFeedback is POST /preferences/{token}/feedback/undo: it forgets the
// feedback on one paper.
func (s *Server) undoFeedback(w http.ResponseWriter, r *http.Request) {
	_, sub, ok := s.postFor(w, r, token.Preferences)
	if !ok {
		return
	}
	paper := r.PostForm.Get("paper")
	sub, err := s.Store.UpdateSubscriber(sub.ID, func(x *model.Subscriber) error {
		x.Feedback = slices.DeleteFunc(x.Feedback, func(f model.Feedback) bool { return f.PaperID == paper })
		return nil
	})
	if err != nil {
		s.internal(w, r, "undo feedback", err)
		return
	}
	v := s.prefsView(r, &sub, nil)
	v.Notice = "Your feedback on that paper is forgotten."
	if !s.addPicks(w, r, v, &sub, nil) {
		return
	}
	s.page(w, r, http.StatusOK, "preferences", v)
}

// resubscribe is POST /preferences/{token}/resubscribe: a reader who holds
// a preferences link (so reads the mailbox) starts receiving digests again.
func (s *Server) resubscribe(w http.ResponseWriter, r *http.Request) {
	_, sub, ok := s.postFor(w, r, token.Preferences)
	if !ok {
		return
	}
	now := s.Now().UTC()
	sub, err := s.Store.UpdateSubscriber(sub.ID, func(x *model.Subscriber) error {
		switch x.State {
		case model.StatePending, model.StateUnsubscribed, model.StateBounced:
			x.State = model.StateActive
			x.SoftBounces = nil
			if x.ConfirmedAt.IsZero() {
				x.ConfirmedAt = now
			}
		}
		return nil
	})
	if err != nil {
		s.internal(w, r, "resubscribe", err)
		return
	}
	s.Log.Info("resubscribed", "subscriber", sub.ID)
	s.page(w, r, http.StatusOK, "message", &messageView{base: s.base(r), Title: "You are subscribed again",
		Message:  "Digests for " + sub.Email + " start again at the next delivery time.",
		LinkURL:  s.public(links.PathPreferences + r.PathValue("token")),
		LinkText: "Open your preferences"})
}
