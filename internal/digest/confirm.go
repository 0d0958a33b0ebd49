package digest

import (
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
	from, reply := r.Config.Mail.ConfirmFrom, r.Config.Mail.ConfirmReplyTo
	if from == "" {
		from = r.Config.Mail.From
	}
	if reply == "" {
		reply = r.Config.Mail.ReplyTo
	}
	return &mailer.Message{
		From: from, ReplyTo: reply, To: sub.Email, Subject: subject, Text: text, HTML: html,
		Date: now, AutoSubmitted: true, EntityRefID: newID(), ReturnPath: r.Config.Mail.ReturnPath,
	}, nil
}
