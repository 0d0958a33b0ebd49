package digest

import (
	"fmt"
	"time"

	"github.com/papermail/papermail/internal/mailer"
	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/render"
)

// ConfirmMessage renders the double opt-in mail for sub, with a link bound
// to the confirmation's nonce (subscription.ConfirmMailer).
func (r *Runner) ConfirmMessage(sub *model.Subscriber, nonce string, now time.Time) (*mailer.Message, error) {
	url, exp := r.Links.Confirm(sub.ID, nonce, now)
	subject, text, html, err := r.Engine.Confirm(&render.ConfirmView{
		Email: sub.Email, Interests: sub.Interests, ConfirmURL: url,
		ExpiresLabel: exp.In(sub.Location(r.defLoc)).Format("Monday, 2 January 2006"),
		BaseURL:      r.Links.Base + "/", ListName: "papermail",
	})
	if err != nil {
		return nil, err
	}
	return r.transactional(sub.Email, subject, text, html, now), nil
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
