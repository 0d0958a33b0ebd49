package digest

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/papermail/papermail/internal/mailer"
	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/render"
	"github.com/papermail/papermail/internal/selection"
	"github.com/papermail/papermail/internal/store"
)

// prepare selects, renders and composes one subscriber's digest. It returns
// a job to send, or nil and the skip outcome to record.
func (r *Runner) prepare(ix *selection.Index, sp Spec, p *prepared, st *stageTimes) (*mailer.Job, store.Outcome) {
	skip := func(reason string) (*mailer.Job, store.Outcome) {
		return nil, store.Outcome{Date: p.date, Delivery: model.Delivery{
			SubscriberID: p.sub.ID, State: model.DeliverySkipped, Reason: reason, At: time.Now().UTC()}}
	}
	t := time.Now()
	picks, q := r.choose(ix, profile(&p.sub), r.since(&p.sub, sp.Now), p.sent, r.Config.Digest.MaxPapers)
	t = st.since(&st.sel, t)
	fallback := len(picks) > 0 && picks[0].Fallback
	r.logMatches(&p.sub, q, len(picks), fallback)
	if len(picks) == 0 {
		if ix.Len() == 0 {
			return skip("no new papers")
		}
		return skip(ReasonNothingRelevant)
	}
	msg, err := r.message(&p.sub, p.date, picks)
	t = st.since(&st.render, t)
	if err != nil {
		r.Log.Error("render digest", "subscriber", p.sub.ID, "error", err)
		return skip("render error: " + err.Error())
	}
	raw, err := r.Composer.Compose(msg)
	st.since(&st.compose, t)
	if err != nil {
		r.Log.Error("compose digest", "subscriber", p.sub.ID, "error", err)
		return skip("compose error: " + err.Error())
	}
	ids := make([]string, len(picks))
	for i := range picks {
		ids[i] = picks[i].Paper.ID
	}
	return &mailer.Job{Ref: p.sub.ID, Msg: msg, Raw: raw, Meta: &jobMeta{date: p.date, papers: ids, fallback: fallback}}, store.Outcome{}
}

// Ledger reasons of digests that held nothing matching the reader's
// interests: skipped, or sent with trending papers only (digest.fallback).
const (
	ReasonNothingRelevant = "nothing relevant"
	ReasonFallback        = "trending fallback: no interest matched"
)

// logMatches logs how many candidate papers each of sub's interests
// matched in this run (counts kept per distinct interest, so a run pays
// once per interest, not per subscriber).
func (r *Runner) logMatches(sub *model.Subscriber, q *selection.Query, picked int, fallback bool) {
	counts := q.MatchCounts()
	labels := q.Interests()
	var b strings.Builder
	for i, c := range counts {
		if i > 0 {
			b.WriteString("; ")
		}
		if i < len(labels) {
			fmt.Fprintf(&b, "%q %d", labels[i], c)
		}
	}
	r.Log.Info("digest selection", "subscriber", sub.ID, "interests", b.String(), "picked", picked, "fallback", fallback)
}

// pick runs selection for one subscriber: papers newer than the window (or
// than their last digest, so a gap is covered), never sent before, above
// the relevance floor; the trending fallback when configured.
func (r *Runner) pick(ix *selection.Index, sub *model.Subscriber, now time.Time, sent store.SentPapers) []selection.Pick {
	picks, _ := r.choose(ix, profile(sub), r.since(sub, now), sent, r.Config.Digest.MaxPapers)
	return picks
}

// since is the oldest date a paper of sub's digest at now may have: the
// window, or their last digest when that is older.
func (r *Runner) since(sub *model.Subscriber, now time.Time) time.Time {
	since := now.Add(-r.Config.Digest.Window)
	if sub.LastDigest != "" {
		if last, err := time.ParseInLocation(DateLayout, sub.LastDigest, sub.Location(r.defLoc)); err == nil && last.Before(since) {
			since = last
		}
	}
	return since
}

// choose is the one selection step of digests and previews: papers dated
// since or later, not in sent, up to limit; the trending fallback when
// configured and nothing matches. It returns the compiled query too, for
// what each interest matched.
func (r *Runner) choose(ix *selection.Index, prof selection.Profile, since time.Time, sent store.SentPapers, limit int) ([]selection.Pick, *selection.Query) {
	prof.Exclude = windowExclude(ix, since, sent, prof.Exclude)
	q := ix.Compile(prof)
	picks := ix.Select(q, limit)
	if len(picks) == 0 && r.Config.Digest.Fallback == "trending" {
		picks = ix.Trending(limit, prof.Exclude)
	}
	return picks, q
}

// windowExclude reports papers a digest leaves out: sent before, dated
// before since, or reported by also (may be nil).
func windowExclude(ix *selection.Index, since time.Time, sent store.SentPapers, also func(string) bool) func(string) bool {
	return func(id string) bool {
		if sent.Has(id) {
			return true
		}
		if p := ix.Paper(id); p != nil && p.Date().Before(since) {
			return true
		}
		return also != nil && also(id)
	}
}

// ProfileOf is the ranking profile of a subscriber, as digests use it
// (for pages that preview an edited subscriber).
func ProfileOf(sub *model.Subscriber) selection.Profile { return profile(sub) }

// profile turns a subscriber's interests and feedback into a ranking profile.
func profile(sub *model.Subscriber) selection.Profile {
	p := selection.Profile{Interests: sub.Interests, Examples: sub.Examples,
		Authors: sub.Authors, Categories: sub.Categories, CategoryFilter: sub.CategoryMode == model.CategoryFilter}
	for _, e := range sub.Library {
		id := e.ArxivID
		if id == "" {
			id = e.Title
		}
		p.Library = append(p.Library, selection.LibraryEntry{Label: e.Label(), Text: e.Title + "\n" + e.Abstract, ID: id})
	}
	for _, f := range sub.Feedback {
		switch {
		case f.Value > 0:
			p.Liked = append(p.Liked, f.PaperID)
		case f.Value < 0:
			p.Disliked = append(p.Disliked, f.PaperID)
		}
	}
	return p
}

// message renders the digest for sub into a mail message.
func (r *Runner) message(sub *model.Subscriber, date string, picks []selection.Pick) (*mailer.Message, error) {
	v := r.view(sub, date, picks)
	b := r.batch.Load()
	if b == nil {
		b = r.Engine.NewBatch()
	}
	subject, text, html, err := b.Digest(v)
	if err != nil {
		return nil, err
	}
	return &mailer.Message{
		From:            r.Config.Mail.From,
		ReplyTo:         r.Config.Mail.ReplyTo,
		To:              sub.Email,
		Subject:         subject,
		Text:            text,
		HTML:            html,
		Date:            time.Now(),
		ListUnsubscribe: v.UnsubscribeURL,
		ListID:          r.listID,
		Bulk:            true,
		EntityRefID:     newID(),
		ReturnPath:      r.returnPath(sub.ID, date),
	}, nil
}

// view builds the template view of one digest.
func (r *Runner) view(sub *model.Subscriber, date string, picks []selection.Pick) *render.DigestView {
	v := &render.DigestView{
		Email:          sub.Email,
		Interests:      sub.Interests,
		DateLabel:      dateLabel(date),
		PreferencesURL: r.Links.Preferences(sub.ID),
		UnsubscribeURL: r.Links.Unsubscribe(sub.ID),
		FeedURL:        r.Links.Feed(sub.ID),
		BrowserURL:     r.Links.View(sub.ID, date),
		BaseURL:        r.Links.Base,
		ListName:       "papermail",
		Papers:         make([]render.PaperView, len(picks)),
	}
	allFallback := true
	for i := range picks {
		pk := &picks[i]
		p := pk.Paper
		pv := &v.Papers[i]
		*pv = render.PaperView{Item: render.Item{Match: render.Match{
			Paper:    r.papers.get(p, r.paperView),
			Interest: pk.Interest,
			Matched:  pk.Matched,
			Fallback: pk.Fallback,
			Like:     pk.Like,
		}, Followed: pk.Followed}, N: i + 1}
		if r.Config.Tracking.Clicks && pv.Link != "" {
			pv.Link = r.Links.Click(p.ID, pv.Link)
		}
		if !pk.Fallback {
			allFallback = false
			pv.TitleParts, pv.AbstractParts = r.highlights.get(p.ID, pv.Title, pv.Abstract, pk.Matched)
		}
		pv.MoreURL, pv.LessURL = r.Links.FeedbackPair(sub.ID, p.ID)
	}
	v.Fallback = allFallback && len(picks) > 0
	return v
}

// paperView is what every reader is shown of p alike.
func (r *Runner) paperView(p *model.Paper) render.Paper {
	v := render.Paper{
		ID:           p.ID,
		Title:        p.Title,
		Link:         p.Link(),
		Abstract:     render.Shorten(p.Abstract, 600),
		Authors:      render.Authors(p.Authors, 4),
		Signal:       signal(p),
		CodeURL:      p.GitHubRepo,
		ProjectURL:   p.ProjectPage,
		ArxivID:      p.ArxivID(),
		AbsURL:       p.AbsLink(),
		PDFURL:       p.PDFLink(),
		Affiliations: render.Authors(p.Affiliations, 3),
		Category:     p.Primary(),
		Venue:        p.Venue,
		TLDR:         render.Shorten(p.AISummary, 300),
		CiteURL:      r.Links.Cite(p.ID),
	}
	if !p.Published.IsZero() {
		v.Published = p.Published.UTC().Format("2 Jan 2006")
	}
	return v
}

func segments(in []selection.Segment) []render.Segment {
	out := make([]render.Segment, len(in))
	for i, s := range in {
		out[i] = render.Segment{Text: s.Text, Match: s.Match}
	}
	return out
}

// signal describes the trending signal honestly.
func signal(p *model.Paper) string {
	var parts []string
	if p.Upvotes > 0 {
		parts = append(parts, plural(p.Upvotes, "upvote"))
	}
	if p.Comments > 0 {
		parts = append(parts, plural(p.Comments, "comment"))
	}
	return strings.Join(parts, " · ")
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func dateLabel(date string) string {
	t, err := time.Parse(DateLayout, date)
	if err != nil {
		return date
	}
	return t.Format("Monday, 2 January 2006")
}

// paperCache remembers what every reader is shown of a paper (see
// paperView) for the papers of the current candidate index; it is emptied
// with it.
type paperCache struct {
	mu sync.RWMutex
	m  map[*model.Paper]render.Paper
}

func (c *paperCache) reset() {
	c.mu.Lock()
	c.m = nil
	c.mu.Unlock()
}

func (c *paperCache) get(p *model.Paper, view func(*model.Paper) render.Paper) render.Paper {
	c.mu.RLock()
	v, ok := c.m[p]
	c.mu.RUnlock()
	if ok {
		return v
	}
	v = view(p)
	c.mu.Lock()
	if c.m == nil {
		c.m = make(map[*model.Paper]render.Paper)
	}
	c.m[p] = v
	c.mu.Unlock()
	return v
}

// highlightCache remembers the highlighted title and abstract of a paper
// for one set of matched words: most readers of a run share a paper and its
// matched words, so most digests reuse the work. It holds at most
// maxHighlights entries (memory must not grow with the list) and is
// emptied when a run builds a fresh candidate index. An entry is a few
// hundred bytes (its segments share the paper's strings); the bench's 10k
// run has 9,600 distinct (paper, matched words) pairs, and at 4,096
// entries highlighting them again was 3% of the run's CPU.
type highlightCache struct {
	mu sync.RWMutex
	m  map[string]highlighted
}

type highlighted struct{ title, abstract []render.Segment }

const maxHighlights = 16384

func (c *highlightCache) reset() {
	c.mu.Lock()
	c.m = nil
	c.mu.Unlock()
}

func (c *highlightCache) get(id, title, abstract string, matched []string) ([]render.Segment, []render.Segment) {
	var buf [256]byte
	key := append(buf[:0], id...)
	for _, w := range matched {
		key = append(append(key, 0), w...)
	}
	c.mu.RLock()
	h, ok := c.m[string(key)] // no copy of key for the lookup
	c.mu.RUnlock()
	if ok {
		return h.title, h.abstract
	}
	hl := selection.NewHighlighter(matched)
	h = highlighted{segments(hl.Segments(title)), segments(hl.Segments(abstract))}
	c.mu.Lock()
	if c.m == nil {
		c.m = make(map[string]highlighted)
	}
	if len(c.m) < maxHighlights {
		c.m[string(key)] = h
	}
	c.mu.Unlock()
	return h.title, h.abstract
}
