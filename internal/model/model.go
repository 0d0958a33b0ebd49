// Package model holds the plain data types that flow through papermail:
// papers (from feeds into the store), subscribers, and the records of what
// was sent. It has no behaviour beyond small helpers and no dependencies, so
// every other package can share it.
package model

import (
	"cmp"
	"strings"
	"sync"
	"time"
)

// Paper is one research paper as papermail stores it. It is also the schema
// of the jsonl feed format and of `papermail export`.
type Paper struct {
	// ID is the arXiv id without version suffix ("2401.01234"), or, for
	// papers without one, "t:" followed by a hash of the normalized title.
	ID       string   `json:"id"`
	Title    string   `json:"title"`
	Abstract string   `json:"abstract"`
	Authors  []string `json:"authors,omitempty"`
	// Affiliations are the authors' institutions in author order, each
	// once, when the source gives them (arXiv's arxiv:affiliation, bioRxiv's
	// corresponding institution).
	Affiliations []string `json:"affiliations,omitempty"`
	// Categories are the subject categories, the primary one first.
	Categories []string `json:"categories,omitempty"`
	// PrimaryCategory is the source's main category (arXiv's
	// arxiv:primary_category, bioRxiv's category); empty when it names none.
	PrimaryCategory string   `json:"primary_category,omitempty"`
	Keywords        []string `json:"keywords,omitempty"`
	AISummary       string   `json:"ai_summary,omitempty"`
	URL             string   `json:"url,omitempty"`
	// PDFURL is the source's link to the full text as PDF; PDFLink derives
	// one for arXiv papers without it.
	PDFURL string `json:"pdf_url,omitempty"`
	// DOI is the Digital Object Identifier ("10.1101/2024.01.02.123456")
	// when the source gives one.
	DOI string `json:"doi,omitempty"`
	// Venue is where the paper appeared: a journal's name, or the
	// preprint server (bioRxiv, medRxiv).
	Venue       string `json:"venue,omitempty"`
	GitHubRepo  string `json:"github_repo,omitempty"`
	ProjectPage string `json:"project_page,omitempty"`
	Thumbnail   string `json:"thumbnail,omitempty"`
	Upvotes     int    `json:"upvotes,omitempty"`
	Comments    int    `json:"comments,omitempty"`
	// Clicks counts anonymous clicks on this paper's links in digests
	// (only when click tracking is enabled).
	Clicks int `json:"clicks,omitempty"`
	// Published is when the paper appeared (arXiv publication date).
	Published time.Time `json:"published,omitzero"`
	// TrendingAt is when a trending source (Hugging Face daily papers)
	// listed the paper.
	TrendingAt time.Time `json:"trending_at,omitzero"`
	// Ingested is when papermail first stored the paper; Updated when it
	// last changed.
	Ingested time.Time `json:"ingested,omitzero"`
	Updated  time.Time `json:"updated,omitzero"`
	// Source names the feed format the paper last came from (hf, arxiv,
	// page, jsonl).
	Source string `json:"source,omitempty"`
}

// Date is the time that places the paper in a digest window: when a
// trending source listed it, else its publication, else when papermail
// first saw it.
func (p *Paper) Date() time.Time {
	switch {
	case !p.TrendingAt.IsZero():
		return p.TrendingAt
	case !p.Published.IsZero():
		return p.Published
	default:
		return p.Ingested
	}
}

// Link is the best public link to the paper.
func (p *Paper) Link() string {
	if p.URL != "" {
		return p.URL // without building the arXiv link (render asks per paper)
	}
	return p.AbsLink()
}

// ArxivID returns the paper's arXiv id, or "" for papers known by title
// only.
func (p *Paper) ArxivID() string {
	if p.ID == "" || strings.HasPrefix(p.ID, "t:") {
		return ""
	}
	return p.ID
}

// AbsLink is the arXiv abstract page, or "" for papers without an arXiv id.
func (p *Paper) AbsLink() string {
	if id := p.ArxivID(); id != "" {
		return "https://arxiv.org/abs/" + id
	}
	return ""
}

// PDFLink is the link to the full text as PDF: the source's, else arXiv's
// for papers with an arXiv id, else "".
func (p *Paper) PDFLink() string {
	if p.PDFURL != "" || p.ArxivID() == "" {
		return p.PDFURL
	}
	return "https://arxiv.org/pdf/" + p.ID
}

// Primary is the paper's main category: PrimaryCategory, else the first
// of Categories, else "".
func (p *Paper) Primary() string {
	if p.PrimaryCategory != "" || len(p.Categories) == 0 {
		return p.PrimaryCategory
	}
	return p.Categories[0]
}

// State is a subscriber's lifecycle state.
type State string

// Subscriber states.
const (
	StatePending      State = "pending"
	StateActive       State = "active"
	StatePaused       State = "paused"
	StateUnsubscribed State = "unsubscribed"
	StateBounced      State = "bounced"
)

// States lists every state in display order.
var States = []State{StatePending, StateActive, StatePaused, StateUnsubscribed, StateBounced}

// Frequencies a subscriber can choose.
const (
	FrequencyDaily  = "daily"
	FrequencyWeekly = "weekly"
)

// Feedback is a reader's "more like this" (+1) or "less like this" (-1) on
// a paper.
type Feedback struct {
	PaperID string    `json:"paper_id"`
	Title   string    `json:"title,omitempty"`
	Value   int       `json:"value"`
	At      time.Time `json:"at"`
}

// Subscriber is one person on the list.
type Subscriber struct {
	ID        uint64   `json:"id"`
	Email     string   `json:"email"`
	Interests []string `json:"interests"`
	State     State    `json:"state"`

	Created     time.Time `json:"created"`
	Updated     time.Time `json:"updated"`
	ConfirmedAt time.Time `json:"confirmed_at,omitzero"`
	// Source says how the subscriber arrived: cli, import, web.
	Source string `json:"source,omitempty"`

	// Timezone is an IANA zone name; empty means digest.timezone.
	Timezone string `json:"timezone,omitempty"`
	// Hour is the local delivery hour 0-23, or HourDefault: the hour of
	// digest.schedule.
	Hour int `json:"hour"`
	// Frequency is daily or weekly; Weekday (0 = Sunday) applies to weekly.
	Frequency   string    `json:"frequency,omitempty"`
	Weekday     int       `json:"weekday,omitempty"`
	PausedUntil time.Time `json:"paused_until,omitzero"`

	Feedback []Feedback `json:"feedback,omitempty"`
	// Examples are arXiv ids or titles of papers the reader likes.
	Examples []string `json:"examples,omitempty"`
	// Authors are the names of authors the reader follows, as written
	// ("Yann LeCun"); their papers are picked whatever their topic.
	Authors []string `json:"authors,omitempty"`
	// Categories are the subject categories the reader picked ("cs.CL");
	// CategoryMode says how they count: CategoryFilter or CategoryBoost.
	Categories   []string `json:"categories,omitempty"`
	CategoryMode string   `json:"category_mode,omitempty"`
	// Library holds the papers of the reader's own library (an imported
	// BibTeX, RIS or CSL-JSON file, or a list of ids): example papers that
	// papers like them rank up for.
	Library []LibraryEntry `json:"library,omitempty"`

	// What delivery did, below, the store keeps apart from what the
	// reader chose, above: recording a digest writes only these.

	// LastDigest is the local date (YYYY-MM-DD) of the last digest sent.
	LastDigest string `json:"last_digest,omitempty"`
	// Settled is the last local date whose digest was settled without
	// being sent (skipped: nothing new); the tick does not look again
	// that day.
	Settled string `json:"settled,omitempty"`
	// SoftBounces holds the dates (YYYY-MM-DD) of temporary delivery
	// failures since the last success.
	SoftBounces []string `json:"soft_bounces,omitempty"`
	// Bounce says why the subscriber was bounced (or unsubscribed after
	// a complaint); nil otherwise.
	Bounce *Bounce `json:"bounce,omitempty"`
	// NextDue is when the subscriber is next due (the store's due index);
	// zero when no digests go out.
	NextDue time.Time `json:"next_due,omitzero"`
}

// Bounce sources.
const (
	// BounceSMTP: the relay refused the mailbox during delivery.
	BounceSMTP = "smtp"
	// BounceSoft: temporary mailbox failures on bounce.soft_limit days.
	BounceSoft = "soft"
	// BounceDSN: a delivery status notification (RFC 3464) came back.
	BounceDSN = "dsn"
	// BounceComplaint: the reader reported the mail as spam (ARF, RFC
	// 5965); the subscriber is unsubscribed, not bounced.
	BounceComplaint = "complaint"
)

// Bounce records why and when mail to a subscriber stopped.
type Bounce struct {
	At time.Time `json:"at"`
	// Reason is the server's words ("550 5.1.1 <a@b>: user unknown").
	Reason string `json:"reason"`
	// Code is the SMTP reply code (550), 0 when the report had none;
	// Enhanced the RFC 3463 status code ("5.1.1").
	Code     int    `json:"code,omitempty"`
	Enhanced string `json:"enhanced,omitempty"`
	// Source is BounceSMTP, BounceSoft or BounceDSN.
	Source string `json:"source"`
}

// How a subscriber's categories count.
const (
	// CategoryFilter sends only papers in the categories (and papers
	// whose source names no category, judged by their text).
	CategoryFilter = "filter"
	// CategoryBoost ranks papers in the categories higher.
	CategoryBoost = "boost"
)

// LibraryEntry is one paper of a reader's library.
type LibraryEntry struct {
	Title string `json:"title,omitempty"`
	// Abstract is the entry's abstract, shortened for storage.
	Abstract string `json:"abstract,omitempty"`
	// ArxivID and DOI identify the paper when the file gives them.
	ArxivID string `json:"arxiv_id,omitempty"`
	DOI     string `json:"doi,omitempty"`
}

// Label names the entry for readers: its title, else its id.
func (e *LibraryEntry) Label() string {
	if e.Title == "" && e.ArxivID != "" {
		return "arXiv:" + e.ArxivID
	}
	return cmp.Or(e.Title, e.DOI)
}

// HourDefault is the Hour of a subscriber who takes the default delivery
// time of digest.schedule.
const HourDefault = -1

// OwnHour is the subscriber's own local delivery hour and true, or false
// when they take the default delivery time of digest.schedule
// (HourDefault, or a stored hour outside 0-23).
func (s *Subscriber) OwnHour() (int, bool) {
	if s.Hour < 0 || s.Hour > 23 {
		return 0, false
	}
	return s.Hour, true
}

// Location returns the subscriber's time zone, falling back to def.
func (s *Subscriber) Location(def *time.Location) *time.Location {
	if s.Timezone != "" {
		if loc, err := LoadZone(s.Timezone); err == nil {
			return loc
		}
	}
	return def
}

// zones caches loaded time zones by name: the scheduler asks for the
// same few zones for every subscriber.
var zones sync.Map // string -> *time.Location

// LoadZone is time.LoadLocation with each zone read once per process.
func LoadZone(name string) (*time.Location, error) {
	if loc, ok := zones.Load(name); ok {
		return loc.(*time.Location), nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	zones.Store(name, loc)
	return loc, nil
}

// Confirmation is a subscribe request waiting for the owner of the address
// to confirm it. It is kept apart from the subscriber: until it is
// confirmed, nothing stored about an existing subscriber changes. The
// values it carries replace the subscriber's on confirmation.
type Confirmation struct {
	SubscriberID uint64 `json:"subscriber_id"`
	// Nonce binds the confirmation link; confirming deletes the record,
	// so a used link cannot be used again.
	Nonce string `json:"nonce"`
	// SentAt is when the last confirmation mail was queued.
	SentAt    time.Time `json:"sent_at"`
	Interests []string  `json:"interests,omitempty"`
	Timezone  string    `json:"timezone,omitempty"`
	Source    string    `json:"source,omitempty"`
	// Authors are followed authors the request named; they replace the
	// subscriber's on confirmation.
	Authors []string `json:"authors,omitempty"`
	// Categories (with CategoryMode) and Library are the rest of the
	// reader-side profile the request named; each given one replaces the
	// subscriber's on confirmation.
	Categories   []string       `json:"categories,omitempty"`
	CategoryMode string         `json:"category_mode,omitempty"`
	Library      []LibraryEntry `json:"library,omitempty"`
}

// Delivery states of one subscriber in one digest run (the ledger).
const (
	DeliveryPending = "pending"
	DeliverySent    = "sent"
	DeliveryFailed  = "failed"
	DeliverySkipped = "skipped"
	DeliveryBounced = "bounced"
)

// Delivery is one ledger line: what happened to one subscriber in one run.
type Delivery struct {
	SubscriberID uint64    `json:"subscriber_id"`
	State        string    `json:"state"`
	Reason       string    `json:"reason,omitempty"`
	Attempts     int       `json:"attempts,omitempty"`
	MessageID    string    `json:"message_id,omitempty"`
	Papers       []string  `json:"papers,omitempty"`
	At           time.Time `json:"at,omitzero"`

	// Code and Enhanced are the SMTP reply code and RFC 3463 status code
	// of a failed delivery, when the server answered.
	Code     int    `json:"code,omitempty"`
	Enhanced string `json:"enhanced,omitempty"`
	// EntityRef is the X-Entity-Ref-ID of the digest sent, for matching
	// reports that quote it.
	EntityRef string `json:"entity_ref,omitempty"`
}

// Run is the summary of one digest run for one date.
type Run struct {
	Date       string    `json:"date"`
	Started    time.Time `json:"started"`
	Finished   time.Time `json:"finished,omitzero"`
	Due        int       `json:"due"`
	Sent       int       `json:"sent"`
	Failed     int       `json:"failed"`
	Skipped    int       `json:"skipped"`
	Bounced    int       `json:"bounced"`
	DurationMS int64     `json:"duration_ms"`
	// Attempts counts how often this date's run was started or resumed.
	Attempts int `json:"attempts"`
	// Stopped is why the last attempt stopped early on an operator-side
	// failure (the relay's reply), or, in a finished run, why nothing got
	// through (the SMTP server could not be reached); empty otherwise.
	// Cleared when the run is resumed.
	Stopped   string    `json:"stopped,omitempty"`
	StoppedAt time.Time `json:"stopped_at,omitzero"`
}
