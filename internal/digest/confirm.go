package digest

import (
	"crypto/rand"
	"fmt"
	"strings"
	"time"

	"github.com/papermail/papermail/internal/links"
	"github.com/papermail/papermail/internal/mailer"
	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/render"
)

// ConfirmMessage renders the double opt-in mail for sub, with a link bound
// to the confirmation's nonce (subscription.ConfirmMailer).
func (r *Runner) ConfirmMessage(sub *model.Subscriber, nonce string, now time.Time) (*mailer.Message, error) {
	url, exp := r.Links.Confirm(sub.ID, nonce, now)
	subject, text, html, err := r.Engine.Confirm(r.confirmView(sub, url, exp))
	if err != nil {
		return nil, err
	}
	return r.transactional(sub.Email, subject, text, html, now), nil
}

// ConfirmDraft renders the double opt-in mail for sub before the store's
// write transaction that stores sub and queues the mail
// (subscription.ConfirmMailer): the template work is done here, and
// finish, called inside the transaction once sub's id is known, only
// signs the link and writes it in. A new subscriber (sub.ID 0) is
// rendered with a stand-in token of the real one's length and alphabet
// (base64url, which neither text nor HTML escaping changes); finish puts
// the token for id where the stand-in is. When the template does more
// with the link than show it whole (the stand-in appears other than in
// the whole URL, or the text part lacks it), finish renders the mail
// itself, as ConfirmMessage does.
// finish may be called more than once (bbolt may run a batched
// transaction again) and gives the same mail for the same id.
func (r *Runner) ConfirmDraft(sub *model.Subscriber, nonce string, now time.Time) (finish func(id uint64) (*mailer.Message, error), err error) {
	if sub.ID != 0 {
		msg, err := r.ConfirmMessage(sub, nonce, now)
		if err != nil {
			return nil, err
		}
		return func(uint64) (*mailer.Message, error) { return msg, nil }, nil
	}
	prefix := r.Links.Base + links.PathConfirm
	shape, exp := r.Links.Confirm(0, nonce, now) // every id signs to a token of this length
	stand := standIn(len(shape) - len(prefix))
	subject, text, html, err := r.Engine.Confirm(r.confirmView(sub, prefix+stand, exp))
	if err != nil {
		return nil, err
	}
	view := *sub
	if !strings.Contains(text, prefix+stand) || !whole(subject, prefix, stand) || !whole(text, prefix, stand) || !whole(html, prefix, stand) {
		return func(id uint64) (*mailer.Message, error) {
			view.ID = id
			return r.ConfirmMessage(&view, nonce, now)
		}, nil
	}
	return func(id uint64) (*mailer.Message, error) {
		url, _ := r.Links.Confirm(id, nonce, now)
		tok, ok := strings.CutPrefix(url, prefix)
		if !ok || len(tok) != len(stand) {
			view.ID = id
			return r.ConfirmMessage(&view, nonce, now)
		}
		put := func(s string) string { return strings.ReplaceAll(s, stand, tok) }
		return r.transactional(sub.Email, put(subject), put(text), put(html), now), nil
	}, nil
}

// whole reports whether every piece of stand in s is part of a whole
// prefix+stand: each 8 characters of stand occur as often as the whole
// link, so the template neither cut it (a wrapped line) nor changed it.
func whole(s, prefix, stand string) bool {
	n := strings.Count(s, prefix+stand)
	for i := 0; i+8 <= len(stand); i++ {
		if strings.Count(s, stand[i:i+8]) != n {
			return false
		}
	}
	return true
}

// standIn is a random base64url-alphabet string of n characters that no
// mail holds by chance.
func standIn(n int) string {
	const abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = abc[b[i]&63]
	}
	return string(b)
}

// confirmView is the confirmation template's view of sub with url, a link
// that works until exp.
func (r *Runner) confirmView(sub *model.Subscriber, url string, exp time.Time) *render.ConfirmView {
	return &render.ConfirmView{
		Email: sub.Email, Interests: sub.Interests, ConfirmURL: url,
		ExpiresLabel: exp.In(sub.Location(r.defLoc)).Format("Monday, 2 January 2006"),
		BaseURL:      r.Links.Base + "/", ListName: "papermail",
	}
}

// LinksMessage renders the mail with sub's own links: the welcome after
// confirming (welcome) or the answer to "send me my link"
// (subscription.LinksMailer).
func (r *Runner) LinksMessage(sub *model.Subscriber, welcome bool, now time.Time) (*mailer.Message, error) {
	subject, text, html, err := r.Engine.Links(&render.LinksView{
		Email: sub.Email, Interests: sub.Interests, Welcome: welcome,
		PreferencesURL: r.Links.Preferences(sub.ID), UnsubscribeURL: r.Links.Unsubscribe(sub.ID), FeedURL: r.Links.Feed(sub.ID),
		BaseURL: r.Links.Base + "/", ListName: "papermail", DeliveryLabel: r.deliveryLabel(sub),
	})
	if err != nil {
		return nil, err
	}
	return r.transactional(sub.Email, subject, text, html, now), nil
}

// transactional addresses a mail papermail sends one reader on their
// own account (confirmation, welcome, their links): the confirmation
// sender and reply address when set, else the digest's, marked
// auto-submitted.
func (r *Runner) transactional(to, subject, text, html string, now time.Time) *mailer.Message {
	from, reply := r.Config.Mail.ConfirmFrom, r.Config.Mail.ConfirmReplyTo
	if from == "" {
		from = r.Config.Mail.From
	}
	if reply == "" {
		reply = r.Config.Mail.ReplyTo
	}
	return &mailer.Message{
		From: from, ReplyTo: reply, To: to, Subject: subject, Text: text, HTML: html,
		Date: now, AutoSubmitted: true, EntityRefID: newID(), ReturnPath: r.Config.Mail.ReturnPath,
	}
}

// deliveryLabel says when sub's digests come: "every day at 07:00 (UTC)".
func (r *Runner) deliveryLabel(sub *model.Subscriber) string {
	h, m := r.Config.DefaultHour()
	if own, ok := sub.OwnHour(); ok {
		h, m = own, 0
	}
	zone := sub.Timezone
	if zone == "" {
		zone = r.Config.Digest.Timezone
	}
	when := "every day"
	if sub.Frequency == model.FrequencyWeekly {
		when = "every " + time.Weekday(sub.Weekday).String()
	}
	label := fmt.Sprintf("%s at %02d:%02d", when, h, m)
	if zone != "" {
		label += " (" + zone + ")"
	}
	return label
}
