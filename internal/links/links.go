// Package links builds every URL papermail puts in a mail or a page, from
// base_url and signed tokens, so the web handlers and the mail renderer
// agree on paths.
package links

import (
	"net/url"
	"strings"
	"time"

	"github.com/papermail/papermail/internal/token"
)

// ConfirmTTL is how long a confirmation link works.
const ConfirmTTL = 7 * 24 * time.Hour

// Paths served by the web package.
const (
	PathConfirm     = "/confirm/"
	PathPreferences = "/preferences/"
	PathUnsubscribe = "/unsubscribe/"
	PathFeedback    = "/feedback/"
	PathFeed        = "/feed/"
	PathClick       = "/c/"
	PathCite        = "/cite/"
	PathView        = "/view/"
	PathLink        = "/link"
)

// Builder makes links for one base URL.
type Builder struct {
	Base   string
	Signer *token.Signer
}

// New returns a builder; base loses any trailing slash.
func New(base string, s *token.Signer) *Builder {
	return &Builder{Base: strings.TrimRight(base, "/"), Signer: s}
}

// Confirm links to the confirmation page; the token is bound to the
// subscriber's confirmation nonce and expires after ConfirmTTL.
func (b *Builder) Confirm(id uint64, nonce string, now time.Time) (string, time.Time) {
	exp := now.Add(ConfirmTTL)
	return b.Base + PathConfirm + b.Signer.Sign(token.Claims{Purpose: token.Confirm, ID: id, Expires: exp}, nonce), exp
}

// Preferences links to the subscriber's preferences page.
func (b *Builder) Preferences(id uint64) string {
	return b.Base + PathPreferences + b.Signer.Sign(token.Claims{Purpose: token.Preferences, ID: id}, "")
}

// Unsubscribe links to the unsubscribe page; the same URL takes the RFC
// 8058 one-click POST.
func (b *Builder) Unsubscribe(id uint64) string {
	return b.Base + PathUnsubscribe + b.Signer.Sign(token.Claims{Purpose: token.Unsubscribe, ID: id}, "")
}

// FeedbackPair returns the "more like this" and "less like this" links
// for one paper, with one signature.
func (b *Builder) FeedbackPair(id uint64, paperID string) (more, less string) {
	u := b.Base + PathFeedback + b.Signer.Sign(token.Claims{Purpose: token.Feedback, ID: id, Extra: paperID}, "")
	return u + "?v=more", u + "?v=less"
}

// Feed links to the subscriber's personal Atom feed.
func (b *Builder) Feed(id uint64) string {
	return b.Base + PathFeed + b.Signer.Sign(token.Claims{Purpose: token.Feed, ID: id}, "") + ".atom"
}

// Click wraps a paper link for anonymous click counting: the token names
// the paper only (id 0), never the reader.
func (b *Builder) Click(paperID, target string) string {
	return b.Base + PathClick + b.Signer.Sign(token.Claims{Purpose: token.Click, Extra: paperID}, target) + "?u=" + url.QueryEscape(target)
}

// Cite links to a paper's BibTeX entry. It is public: it names the paper
// only, never the reader, and changes nothing.
func (b *Builder) Cite(paperID string) string {
	return b.Base + PathCite + url.PathEscape(paperID) + ".bib"
}

// View links to one digest (the subscriber's, of the local date) as a web
// page.
func (b *Builder) View(id uint64, date string) string {
	return b.Base + PathView + b.Signer.Sign(token.Claims{Purpose: token.View, ID: id, Extra: date}, "")
}
