package web

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/papermail/papermail/internal/digest"
	"github.com/papermail/papermail/internal/links"
	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/selection"
	"github.com/papermail/papermail/internal/subscription"
	"github.com/papermail/papermail/internal/token"
)

// dateLayout is the layout of dates in forms (<input type="date">).
const dateLayout = subscription.DateLayout

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

	// Authors are the followed authors, one per line; Categories the
	// store's categories to pick from (Selected: picked); CategoryFilter
	// the mode.
	Authors        string
	Categories     []option
	CategoryFilter bool
	// Library is the reader's library: how many papers, the first titles,
	// and the form that replaces or removes it.
	LibraryCount               int
	LibraryTitles              []string
	LibraryCSRF, LibraryAction string

	Feedback []feedbackItem
	// Picks are what the digest would hold now; Edited says they were
	// chosen with the edited (unsaved) form.
	Picks     []pickView
	Edited    bool
	NoPreview bool
	// Unmatched are the interests that match no recent paper, with terms
	// to rephrase them (each a preview with the interest replaced).
	Unmatched []unmatchedView

	Saved  bool
	Notice string
	Errors []string
}

// feedbackItem is one "more/less like this" the reader gave.
type feedbackItem struct {
	PaperID, Title, At string
	More               bool
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
		LibraryCSRF: s.csrfToken(root + "/library"), LibraryAction: s.public(root + "/library"),
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
	followed, picked, filter := strings.Join(sub.Authors, "\n"), sub.Categories, sub.CategoryMode == model.CategoryFilter
	freq, weekday, hour, zone, pause := sub.Frequency, strconv.Itoa(sub.Weekday), "default", sub.Timezone, ""
	if h, ok := sub.OwnHour(); ok {
		hour = strconv.Itoa(h)
	}
	if v.PausedUntil != "" {
		pause = sub.PausedUntil.In(loc).Format(dateLayout)
	}
	if f != nil {
		interests, examples, freq = f.Get("interests"), f.Get("examples"), f.Get("frequency")
		weekday, hour, zone, pause = f.Get("weekday"), f.Get("hour"), f.Get("timezone"), f.Get("pause")
		followed, picked, filter = f.Get("authors"), f["category"], f.Get("category_mode") == model.CategoryFilter
	}
	v.Authors, v.CategoryFilter = followed, filter
	v.Categories = s.categoryOptions(picked)
	v.LibraryCount = len(sub.Library)
	for i := 0; i < len(sub.Library) && i < 5; i++ {
		v.LibraryTitles = append(v.LibraryTitles, sub.Library[i].Label())
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
	for _, fb := range slices.Backward(sub.Feedback) {
		v.Feedback = append(v.Feedback, feedbackItem{PaperID: fb.PaperID, Title: cmp.Or(fb.Title, fb.PaperID), More: fb.Value > 0,
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
	q := query(r)
	if !q.Has("preview") {
		s.prefsPage(w, r, &sub, http.StatusOK, s.prefsView(r, &sub, nil))
		return
	}
	v := s.prefsView(r, &sub, q)
	in, err := s.Subscriptions.ParsePreferences(prefsFields(q), &sub)
	if err != nil {
		v.Errors = problemLines(err)
		s.page(w, r, http.StatusBadRequest, "preferences", v)
		return
	}
	if s.addPicks(w, r, v, &sub, &in) {
		s.page(w, r, http.StatusOK, "preferences", v)
	}
}

// prefsPage shows v, the saved preferences of sub, with the digest sub
// would get now.
func (s *Server) prefsPage(w http.ResponseWriter, r *http.Request, sub *model.Subscriber, status int, v *prefsView) {
	if s.addPicks(w, r, v, sub, nil) {
		s.page(w, r, status, "preferences", v)
	}
}

// addPicks fills the preview of v: the digest sub would get now, or, with
// in, the digest for the edited interests and examples.
func (s *Server) addPicks(w http.ResponseWriter, r *http.Request, v *prefsView, sub *model.Subscriber, in *subscription.Preferences) bool {
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
		edited := *sub
		edited.Interests, edited.Examples = in.Interests, in.Examples
		edited.Authors, edited.Categories, edited.CategoryMode = in.Authors, in.Categories, in.CategoryMode
		prof := digest.ProfileOf(&edited)
		var had map[string]string
		if had, err = s.Store.SentHistory(sub.ID); err == nil {
			prof.Exclude = func(id string) bool { _, ok := had[id]; return ok }
			picks, err = s.Runner.Preview(prof, 0, s.Now())
		}
	}
	if err == nil {
		v.Picks = pickViews(picks)
		interests := sub.Interests
		if in != nil {
			interests = in.Interests
		}
		v.Unmatched, err = s.unmatched(selection.Profile{Interests: interests}, v.Interests, func(text string) string {
			return withValues(v.Action, url.Values{"preview": {"1"}, "interests": {text}, "examples": {v.Examples},
				"frequency": {v.Frequency}, "weekday": {selectedValue(v.Weekdays)}, "hour": {selectedValue(v.Hours)},
				"timezone": {selectedValue(v.Zones)}, "pause": {v.Pause}})
		})
	}
	if err != nil {
		s.internal(w, r, "preview", err)
		return false
	}
	return true
}

// savePreferences is POST /preferences/{token}.
func (s *Server) savePreferences(w http.ResponseWriter, r *http.Request) {
	sub, ok := s.prefsPost(w, r)
	if !ok {
		return
	}
	in, err := s.Subscriptions.ParsePreferences(prefsFields(r.PostForm), &sub)
	if err != nil {
		v := s.prefsView(r, &sub, r.PostForm)
		v.Errors = problemLines(err)
		s.page(w, r, http.StatusBadRequest, "preferences", v)
		return
	}
	sub, err = s.Subscriptions.SetPreferences(sub.ID, in)
	if err != nil {
		s.internal(w, r, "save preferences", err)
		return
	}
	v := s.prefsView(r, &sub, nil)
	v.Saved = true
	s.prefsPage(w, r, &sub, http.StatusOK, v)
}

// prefsForm reads the preferences form's fields.
func prefsFields(f url.Values) subscription.Form {
	return subscription.Form{Interests: f.Get("interests"), Examples: f.Get("examples"), Frequency: f.Get("frequency"),
		Weekday: f.Get("weekday"), Hour: f.Get("hour"), Timezone: f.Get("timezone"), Pause: f.Get("pause"), Resume: f.Has("resume"),
		Authors: f.Get("authors"), Categories: strings.Join(f["category"], ","), CategoryMode: f.Get("category_mode")}
}

// undoFeedback is POST /preferences/{token}/feedback/undo: it forgets the
// feedback on one paper.
func (s *Server) undoFeedback(w http.ResponseWriter, r *http.Request) {
	sub, ok := s.prefsPost(w, r)
	if !ok {
		return
	}
	paper := r.PostForm.Get("paper")
	sub, err := s.Subscriptions.ForgetFeedback(sub.ID, paper)
	if err != nil {
		s.internal(w, r, "undo feedback", err)
		return
	}
	v := s.prefsView(r, &sub, nil)
	v.Notice = "Your feedback on that paper is forgotten."
	s.prefsPage(w, r, &sub, http.StatusOK, v)
}

// resubscribe is POST /preferences/{token}/resubscribe: a reader who holds
// a preferences link (so reads the mailbox) starts receiving digests again.
func (s *Server) resubscribe(w http.ResponseWriter, r *http.Request) {
	sub, ok := s.prefsPost(w, r)
	if !ok {
		return
	}
	sub, err := s.Subscriptions.Reactivate(sub.ID)
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

// maxCategoryOptions is how many of the store's categories the page
// offers (the most used; a reader's own picks are always shown).
const maxCategoryOptions = 60

// categoryOptions lists the categories the store has seen, most used
// first, with picked ones selected (and offered even when rare).
func (s *Server) categoryOptions(picked []string) []option {
	seen, err := s.Store.Categories()
	if err != nil {
		s.Log.Warn("list categories", "error", err)
	}
	isPicked := make(map[string]bool, len(picked))
	for _, c := range picked {
		isPicked[strings.ToLower(c)] = true
	}
	var out []option
	shown := make(map[string]bool)
	for _, c := range seen {
		if len(out) >= maxCategoryOptions && !isPicked[strings.ToLower(c.Name)] {
			continue
		}
		shown[strings.ToLower(c.Name)] = true
		out = append(out, option{Value: c.Name, Label: fmt.Sprintf("%s (%d)", c.Name, c.Papers), Selected: isPicked[strings.ToLower(c.Name)]})
	}
	for _, c := range picked {
		if !shown[strings.ToLower(c)] {
			out = append(out, option{Value: c, Label: c, Selected: true})
		}
	}
	return out
}
