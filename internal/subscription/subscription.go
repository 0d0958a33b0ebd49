// Package subscription owns the subscriber's life: every state
// (model.State) and every transition between them — subscribe with double
// opt-in, confirm, change preferences, pause and resume, unsubscribe,
// reactivate, erase — and the one set of rules for what a subscriber may
// hold (addresses, interests, time zones, hours). The web pages, the CLI
// and the digest all go through it; the store only keeps what it decides.
package subscription

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/maphash"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/papermail/papermail/internal/mailer"
	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/store"
	"github.com/papermail/papermail/internal/subscription/lifecycle"
)

// ConfirmInterval is the least time between two confirmation mails to one
// address, so papermail cannot be used to mail-bomb someone.
const ConfirmInterval = 15 * time.Minute

// Errors callers test with errors.Is (besides ErrInvalid and the store's
// ErrNotFound and ErrExists).
var (
	// ErrNotPending means a confirmation no longer waits: it was used, or
	// the subscriber is active already.
	ErrNotPending = errors.New("subscription no longer waits for confirmation")
	// ErrReceiving means the address is on the list and gets digests
	// (active or paused): what the reader chose is theirs to change.
	ErrReceiving = errors.New("already on the list and receives digests")
)

// ConfirmMailer renders the double opt-in mail; digest.Runner implements
// it. The link it carries is bound to nonce. ConfirmDraft does the
// template work before the store's write transaction; finish, called in
// it once the subscriber's id is known, only completes the mail (the link
// names the id), so the write lock is never held while a template runs.
type ConfirmMailer interface {
	ConfirmDraft(sub *model.Subscriber, nonce string, now time.Time) (finish func(id uint64) (*mailer.Message, error), err error)
}

// Deps are what a Service works with.
type Deps struct {
	Store *store.Store
	Mail  ConfirmMailer
	// Location is digest.timezone, the zone of subscribers without one.
	Location *time.Location
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Service carries out the transitions.
type Service struct {
	Deps
	// locks serialize subscribe requests per address (striped by a hash
	// of it), so two requests for one address cannot both queue a
	// confirmation, while different addresses run in parallel.
	locks [64]sync.Mutex
	// linkSent remembers when each subscriber was last sent their links
	// on request, so the form cannot mail-bomb anyone.
	linkMu   sync.Mutex
	linkSent map[uint64]time.Time
}

var lockSeed = maphash.MakeSeed()

// New returns a service; Store and Mail are required.
func New(d Deps) (*Service, error) {
	switch {
	case d.Store == nil:
		return nil, errors.New("subscription: Deps.Store is nil")
	case d.Mail == nil:
		return nil, errors.New("subscription: Deps.Mail is nil")
	}
	if d.Location == nil {
		d.Location = time.UTC
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	return &Service{Deps: d}, nil
}

// Request is a checked request to subscribe.
type Request struct {
	Email     string
	Interests []string
	// Timezone is an IANA name; "" is digest.timezone.
	Timezone string
	// Source says where the request came from: web, cli, import.
	Source string
	// Authors, Categories, CategoryMode and Library are the reader-side
	// profile (see ParseRequestWith); empty for a plain subscribe.
	Authors      []string
	Categories   []string
	CategoryMode string
	Library      []model.LibraryEntry
}

// ParseRequest checks a subscribe request as typed and reports every
// problem at once (Problems).
func ParseRequest(email, interests, zone, source string) (Request, error) {
	return ParseRequestWith(email, interests, zone, source, Extras{})
}

// newSubscriber is the one shape of a subscriber who has just arrived:
// daily, at the default hour.
func newSubscriber(r Request, state model.State, now time.Time) model.Subscriber {
	now = now.UTC()
	return model.Subscriber{Email: r.Email, Interests: r.Interests, State: state, Created: now, Updated: now,
		Source: r.Source, Timezone: r.Timezone, Hour: model.HourDefault, Frequency: model.FrequencyDaily,
		Authors: r.Authors, Categories: r.Categories, CategoryMode: r.CategoryMode, Library: r.Library}
}

// Outcome is what a subscribe request led to.
type Outcome int

// The outcomes of SubscribeOutcome.
const (
	// Queued: a confirmation mail carrying the request's values is
	// queued (for a new address, a pending subscriber was stored too).
	Queued Outcome = iota + 1
	// Receiving: the address is active or paused already; nothing
	// changed and no mail was queued.
	Receiving
	// Waiting: a confirmation mail with these very values was queued less
	// than ConfirmInterval ago and still waits; nothing changed.
	Waiting
	// TooSoon: a confirmation mail went to the address less than
	// ConfirmInterval ago with other values; the request was not stored
	// and no mail was queued.
	TooSoon
)

// Subscribe handles a request nobody has authenticated (the subscribe
// form): it queues a confirmation mail to the address and reports whether
// it did. See SubscribeOutcome.
func (s *Service) Subscribe(r Request) (bool, error) {
	o, err := s.SubscribeOutcome(r)
	return o == Queued, err
}

// SubscribeOutcome is Subscribe reporting why no mail was queued (for
// `subscribers add` without --confirmed, whose operator must learn it;
// the web form answers the same whatever happened). A new address becomes
// a pending subscriber with every value of the request. For a pending,
// unsubscribed or bounced address every value the request gives
// (interests, zone, authors, categories and their mode, library) waits
// with the confirmation and applies only when it is confirmed: until then
// nothing stored about the subscriber changes (an opt-out stays
// recorded). Active and paused subscribers are left as they are. At most
// one mail goes to an address per ConfirmInterval.
func (s *Service) SubscribeOutcome(r Request) (Outcome, error) {
	mu := s.lock(r.Email)
	mu.Lock()
	defer mu.Unlock()
	now := s.Now()
	sub, err := s.Store.SubscriberByEmail(r.Email)
	switch {
	case errors.Is(err, store.ErrNotFound):
		sub = newSubscriber(r, model.StatePending, now)
		c := model.Confirmation{Nonce: newNonce(), SentAt: now.UTC(), Source: r.Source}
		if err := s.queue(&sub, &c, now); err != nil {
			return 0, err
		}
		return Queued, nil
	case err != nil:
		return 0, fmt.Errorf("look up subscriber: %w", err)
	case lifecycle.Receiving(&sub):
		return Receiving, nil
	}
	prev, err := s.Store.Confirmation(sub.ID)
	hasPrev := err == nil
	switch {
	case errors.Is(err, store.ErrNoConfirmation):
	case err != nil:
		return 0, err
	}
	c := model.Confirmation{Nonce: prev.Nonce, SentAt: now.UTC(), Interests: r.Interests, Timezone: r.Timezone, Source: r.Source,
		Authors: r.Authors, Categories: r.Categories, CategoryMode: r.CategoryMode, Library: r.Library}
	same := hasPrev && sameValues(&prev, &c)
	if hasPrev && now.Sub(prev.SentAt) < ConfirmInterval {
		if same {
			return Waiting, nil
		}
		return TooSoon, nil
	}
	// A resend with the same values keeps the nonce, so the link of an
	// earlier mail still works; other values get a new one, so no older
	// link confirms them.
	if c.Nonce == "" || !same {
		c.Nonce = newNonce()
	}
	if err := s.queue(&sub, &c, now); err != nil {
		return 0, err
	}
	return Queued, nil
}

// lock is the mutex of the stripe email falls in.
func (s *Service) lock(email string) *sync.Mutex {
	return &s.locks[maphash.String(lockSeed, email)%uint64(len(s.locks))]
}

// sameValues reports whether two confirmations carry the same values.
func sameValues(a, b *model.Confirmation) bool {
	return slices.Equal(a.Interests, b.Interests) && a.Timezone == b.Timezone &&
		slices.Equal(a.Authors, b.Authors) && slices.Equal(a.Categories, b.Categories) &&
		a.CategoryMode == b.CategoryMode && slices.Equal(a.Library, b.Library)
}

// queue stores c and its mail, with sub when it is new, in one
// transaction: the mail is queued if and only if sub and c are stored.
// The mail is rendered before (ConfirmDraft); the transaction only puts
// the new subscriber's id into its link.
func (s *Service) queue(sub *model.Subscriber, c *model.Confirmation, now time.Time) error {
	view := *sub
	apply(&view, c)
	finish, err := s.Mail.ConfirmDraft(&view, c.Nonce, now)
	if err != nil {
		return fmt.Errorf("queue confirmation for %s: %w", sub.Email, err)
	}
	err = s.Store.Subscribe(sub, c, func(sub *model.Subscriber) (*store.OutboxItem, error) {
		msg, err := finish(sub.ID)
		if err != nil {
			return nil, err
		}
		return &store.OutboxItem{Kind: "confirm", To: sub.Email, Mail: store.OutboxMailOf(msg), Created: now.UTC(), NextAttempt: now.UTC()}, nil
	})
	if err != nil {
		return fmt.Errorf("queue confirmation for %s: %w", sub.Email, err)
	}
	return nil
}

// apply puts the values a confirmation carries on sub.
func apply(sub *model.Subscriber, c *model.Confirmation) {
	if len(c.Interests) > 0 {
		sub.Interests = c.Interests
	}
	if c.Timezone != "" {
		sub.Timezone = c.Timezone
	}
	if len(c.Authors) > 0 {
		sub.Authors = c.Authors
	}
	if len(c.Categories) > 0 {
		sub.Categories, sub.CategoryMode = c.Categories, c.CategoryMode
	}
	if len(c.Library) > 0 {
		sub.Library = c.Library
	}
}

// Add puts a subscriber the operator vouches for on the list, active at
// once (`subscribers add --confirmed`). An address already on the list is
// store.ErrExists.
func (s *Service) Add(r Request) (model.Subscriber, error) {
	now := s.Now()
	sub := newSubscriber(r, model.StateActive, now)
	sub.ConfirmedAt = now.UTC()
	if err := s.Store.AddSubscriber(&sub); err != nil {
		return sub, err
	}
	return sub, nil
}

// Vouch is Add for an address that may be on the list already
// (`subscribers add --confirmed` again, for someone who asked the operator
// to be back). For a pending, unsubscribed or bounced subscriber every
// value the request gives (interests, zone, authors, categories and their
// mode, library) replaces theirs, what it leaves out stays, and the
// subscriber is made active, its bounces forgotten (the operator vouches
// for the address). An active or paused subscriber is left as it is, with
// ErrReceiving: what they chose on their preferences page is not
// overwritten. added reports whether the address was new.
func (s *Service) Vouch(r Request) (sub model.Subscriber, added bool, err error) {
	mu := s.lock(r.Email)
	mu.Lock()
	defer mu.Unlock()
	prev, err := s.Store.SubscriberByEmail(r.Email)
	switch {
	case errors.Is(err, store.ErrNotFound):
		sub, err = s.Add(r)
		return sub, err == nil, err
	case err != nil:
		return prev, false, fmt.Errorf("look up subscriber: %w", err)
	case lifecycle.Receiving(&prev):
		return prev, false, fmt.Errorf("%s: %w", r.Email, ErrReceiving)
	}
	now := s.Now().UTC()
	c := model.Confirmation{Interests: r.Interests, Timezone: r.Timezone, Authors: r.Authors,
		Categories: r.Categories, CategoryMode: r.CategoryMode, Library: r.Library}
	sub, err = s.Store.UpdateSubscriber(prev.ID, func(x *model.Subscriber) error {
		if lifecycle.Receiving(x) {
			return fmt.Errorf("%s: %w", r.Email, ErrReceiving)
		}
		apply(x, &c)
		lifecycle.Activate(x, now)
		return nil
	})
	return sub, false, err
}

// Import adds many subscribers: active at once, or, with confirm, each
// pending with a confirmation mail. Addresses already on the list are
// left unchanged and counted in existing.
func (s *Service) Import(rs []Request, confirm bool) (added, existing int, err error) {
	now := s.Now()
	if !confirm {
		subs := make([]model.Subscriber, len(rs))
		for i, r := range rs {
			subs[i] = newSubscriber(r, model.StateActive, now)
			subs[i].ConfirmedAt = now.UTC()
		}
		ex, err := s.Store.AddSubscribers(subs)
		return len(subs) - len(ex), len(ex), err
	}
	for _, r := range rs {
		if _, err := s.Store.SubscriberByEmail(r.Email); err == nil {
			existing++
			continue
		}
		sub := newSubscriber(r, model.StatePending, now)
		c := model.Confirmation{Nonce: newNonce(), SentAt: now.UTC(), Source: r.Source}
		if err := s.queue(&sub, &c, now); err != nil {
			return added, existing, fmt.Errorf("%w (the rows before it were imported)", err)
		}
		added++
	}
	return added, existing, nil
}

// Pending returns the subscriber whose confirmation with nonce waits, as
// it will be once confirmed (the confirmation's values applied), for the
// page that asks to confirm. A confirmation that no longer waits is
// ErrNotPending.
func (s *Service) Pending(id uint64) (model.Subscriber, model.Confirmation, error) {
	c, err := s.Store.Confirmation(id)
	if err != nil {
		return model.Subscriber{}, c, err
	}
	sub, err := s.Store.Subscriber(id)
	if err != nil {
		return sub, c, err
	}
	if lifecycle.Receiving(&sub) {
		return sub, c, ErrNotPending
	}
	apply(&sub, &c)
	return sub, c, nil
}

// Confirm carries out the confirmation of subscriber id with nonce: its
// values apply and the subscriber becomes active. The confirmation is then
// gone, so its link works once. Active and paused subscribers are left as
// they are (ErrNotPending).
func (s *Service) Confirm(id uint64, nonce string) (model.Subscriber, error) {
	now := s.Now().UTC()
	return s.Store.Confirm(id, nonce, func(sub *model.Subscriber, c *model.Confirmation) error {
		if lifecycle.Receiving(sub) {
			return ErrNotPending
		}
		apply(sub, c)
		lifecycle.Activate(sub, now)
		sub.ConfirmedAt = now
		return nil
	}, func(sub *model.Subscriber) (*store.OutboxItem, error) {
		return s.linksItem(sub, true, now)
	})
}

// LinksMailer renders the mail that carries a subscriber's own links
// (preferences, unsubscribe, feed): the welcome after confirming, or the
// answer to "send me my link"; digest.Runner implements it.
type LinksMailer interface {
	LinksMessage(sub *model.Subscriber, welcome bool, now time.Time) (*mailer.Message, error)
}

// linksItem is the outbox item of a links mail to sub, or nil when the
// mailer makes none.
func (s *Service) linksItem(sub *model.Subscriber, welcome bool, now time.Time) (*store.OutboxItem, error) {
	lm, ok := s.Mail.(LinksMailer)
	if !ok {
		return nil, nil
	}
	msg, err := lm.LinksMessage(sub, welcome, now)
	if err != nil {
		return nil, err
	}
	kind := "links"
	if welcome {
		kind = "welcome"
	}
	return &store.OutboxItem{Kind: kind, To: sub.Email, Mail: store.OutboxMailOf(msg), Created: now.UTC(), NextAttempt: now.UTC()}, nil
}

// SendLinks queues the mail with the subscriber's links to the address
// email when it is on the list ("send me my link"); it reports whether a
// mail was queued. Unknown addresses, erased ones and bounced ones get
// nothing, and one address gets at most one such mail per
// ConfirmInterval. The caller answers the same whatever this returns.
func (s *Service) SendLinks(email string) (bool, error) {
	addr, err := Email(email)
	if err != nil {
		return false, err
	}
	mu := s.lock(addr)
	mu.Lock()
	defer mu.Unlock()
	sub, err := s.Store.SubscriberByEmail(addr)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if sub.State == model.StateBounced {
		return false, nil // mail to it does not arrive
	}
	now := s.Now()
	s.linkMu.Lock()
	last, seen := s.linkSent[sub.ID]
	if seen && now.Sub(last) < ConfirmInterval {
		s.linkMu.Unlock()
		return false, nil
	}
	if s.linkSent == nil {
		s.linkSent = make(map[uint64]time.Time)
	}
	if len(s.linkSent) > 10000 {
		for id, at := range s.linkSent {
			if now.Sub(at) >= ConfirmInterval {
				delete(s.linkSent, id)
			}
		}
	}
	s.linkSent[sub.ID] = now
	s.linkMu.Unlock()
	item, err := s.linksItem(&sub, false, now)
	if err != nil || item == nil {
		return false, err
	}
	item.SubscriberID = sub.ID
	if err := s.Store.Enqueue(item); err != nil {
		return false, fmt.Errorf("queue links mail for %s: %w", addr, err)
	}
	return true, nil
}

// Preferences are what a reader chooses on the preferences page.
type Preferences struct {
	Interests, Examples []string
	// Authors, Categories and CategoryMode are the reader-side profile.
	Authors, Categories []string
	CategoryMode        string
	Frequency           string
	Weekday, Hour       int
	Timezone            string
	// PauseUntil, when set, pauses digests until that instant.
	PauseUntil time.Time
	// Resume ends a pause now.
	Resume bool
}

// Form is the preferences as typed: form fields or flags.
type Form struct {
	Interests, Examples, Frequency, Weekday, Hour, Timezone, Pause string
	Resume                                                         bool
	// Authors and Categories are lists as typed; CategoryMode filter or
	// boost.
	Authors, Categories, CategoryMode string
}

// ParsePreferences checks a form for sub and reports every problem at once
// (Problems). A weekday left empty keeps sub's.
func (s *Service) ParsePreferences(f Form, sub *model.Subscriber) (Preferences, error) {
	var ps Problems
	p := Preferences{Weekday: sub.Weekday, Resume: f.Resume}
	var err error
	var x Request
	xps := parseExtras(Extras{Authors: f.Authors, Categories: f.Categories, CategoryMode: f.CategoryMode}, &x)
	ps = append(ps, xps...)
	p.Authors, p.Categories, p.CategoryMode = x.Authors, x.Categories, x.CategoryMode
	// Interests may be empty when followed authors, categories or a
	// library give papers to match.
	if strings.TrimSpace(f.Interests) != "" || (len(p.Authors) == 0 && len(p.Categories) == 0 && len(sub.Library) == 0) {
		p.Interests, err = Interests(f.Interests)
		ps.add(err)
	}
	p.Examples, err = Examples(f.Examples)
	ps.add(err)
	p.Frequency, err = Frequency(f.Frequency)
	ps.add(err)
	if f.Weekday != "" {
		p.Weekday, err = Weekday(f.Weekday)
		ps.add(err)
	}
	p.Hour, err = Hour(f.Hour)
	ps.add(err)
	p.Timezone = strings.TrimSpace(f.Timezone)
	loc := s.Location
	if err := Zone(p.Timezone); err != nil {
		ps.add(err)
		p.Timezone = sub.Timezone
	}
	if p.Timezone != "" {
		if l, err := model.LoadZone(p.Timezone); err == nil {
			loc = l
		}
	}
	if d := strings.TrimSpace(f.Pause); d != "" && !f.Resume {
		p.PauseUntil, err = PauseUntil(d, loc, s.Now())
		ps.add(err)
	}
	return p, ps.err()
}

// SetPreferences saves what the reader chose: interests, examples, the
// delivery schedule and a pause (or its end).
func (s *Service) SetPreferences(id uint64, p Preferences) (model.Subscriber, error) {
	return s.Store.UpdateSubscriber(id, func(x *model.Subscriber) error {
		x.Interests, x.Examples = p.Interests, p.Examples
		x.Authors, x.Categories, x.CategoryMode = p.Authors, p.Categories, p.CategoryMode
		x.Frequency, x.Weekday, x.Hour, x.Timezone = p.Frequency, p.Weekday, p.Hour, p.Timezone
		switch {
		case p.Resume:
			x.PausedUntil = time.Time{}
			if x.State == model.StatePaused {
				x.State = model.StateActive
			}
		case !p.PauseUntil.IsZero():
			x.PausedUntil = p.PauseUntil.UTC()
		default:
			x.PausedUntil = time.Time{}
		}
		return nil
	})
}

// SetLibrary replaces the subscriber's library with entries (nil removes
// it); entries come from ParseLibrary, which refuses a malformed file as a
// whole, so a library is stored completely or not at all.
func (s *Service) SetLibrary(id uint64, entries []model.LibraryEntry) (model.Subscriber, error) {
	return s.Store.UpdateSubscriber(id, func(x *model.Subscriber) error {
		x.Library = entries
		return nil
	})
}

// Unsubscribe stops every digest to the subscriber; what it chose stays,
// so a reactivation brings it back.
func (s *Service) Unsubscribe(id uint64) (model.Subscriber, error) {
	return s.Store.UpdateSubscriber(id, func(x *model.Subscriber) error {
		lifecycle.Unsubscribe(x)
		return nil
	})
}

// Reactivate starts digests again for a pending, unsubscribed or bounced
// subscriber whose owner proved they read the mailbox (a preferences link)
// or whom the operator vouches for. Soft bounces are forgotten. Active and
// paused subscribers are left as they are.
func (s *Service) Reactivate(id uint64) (model.Subscriber, error) {
	now := s.Now().UTC()
	return s.Store.UpdateSubscriber(id, func(x *model.Subscriber) error {
		lifecycle.Reactivate(x, now)
		return nil
	})
}

// Erase deletes the subscriber and everything held about them for good.
// A subscriber already gone is not an error.
func (s *Service) Erase(id uint64) error {
	if err := s.Store.DeleteSubscriber(id); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return nil
}

// Feedback records a reader's "more" or "less like this" on a paper,
// replacing earlier feedback on it and keeping the newest MaxFeedback.
func (s *Service) Feedback(id uint64, fb model.Feedback) error {
	_, err := s.Store.UpdateSubscriber(id, func(x *model.Subscriber) error {
		x.Feedback = slices.DeleteFunc(x.Feedback, func(f model.Feedback) bool { return f.PaperID == fb.PaperID })
		x.Feedback = append(x.Feedback, fb)
		if n := len(x.Feedback); n > MaxFeedback {
			x.Feedback = slices.Delete(x.Feedback, 0, n-MaxFeedback)
		}
		return nil
	})
	return err
}

// ForgetFeedback drops the reader's feedback on one paper.
func (s *Service) ForgetFeedback(id uint64, paperID string) (model.Subscriber, error) {
	return s.Store.UpdateSubscriber(id, func(x *model.Subscriber) error {
		x.Feedback = slices.DeleteFunc(x.Feedback, func(f model.Feedback) bool { return f.PaperID == paperID })
		return nil
	})
}

func newNonce() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
