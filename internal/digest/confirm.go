package digest

import (
	"encoding/json"
	"time"

	"github.com/papermail/papermail/internal/mailer"
	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/render"
	"github.com/papermail/papermail/internal/store"
)

// ConfirmInterval is the least time between two confirmation mails to one
// address, so papermail cannot be used to mail-bomb someone.
const ConfirmInterval = 15 * time.Minute

// QueueConfirmation makes sub pending with a fresh confirmation nonce and
// saves it together with its confirmation mail in the outbox, in one
// transaction (a new subscriber when sub.ID is 0). It reports false, and
// changes nothing, when a confirmation went to the address less than
// ConfirmInterval ago.
func (r *Runner) QueueConfirmation(sub *model.Subscriber, now time.Time) (bool, error) {
	if !sub.ConfirmSentAt.IsZero() && now.Sub(sub.ConfirmSentAt) < ConfirmInterval {
		return false, nil
	}
	if sub.Created.IsZero() {
		sub.Created = now.UTC()
	}
	sub.Updated = now.UTC()
	sub.State = model.StatePending
	if sub.ConfirmNonce == "" {
		// Kept across resends, so the link of an earlier mail still works;
		// confirming replaces it, so no link works twice.
		sub.ConfirmNonce = newID()
	}
	sub.ConfirmSentAt = now.UTC()
	// The mail is made inside the transaction, once a new subscriber has
	// its id: subscriber and confirmation are saved in one commit.
	err := r.Store.SaveSubscriberWith(sub, func(sub *model.Subscriber) (*store.OutboxItem, error) {
		msg, err := r.ConfirmMessage(sub, now)
		if err != nil {
			return nil, err
		}
		raw, err := json.Marshal(msg)
		if err != nil {
			return nil, err
		}
		return &store.OutboxItem{Kind: "confirm", To: sub.Email, Message: raw, Created: now.UTC(), NextAttempt: now.UTC()}, nil
	})
	if err != nil {
		return false, err
	}
	return true, nil
}

// ConfirmMessage renders the double opt-in mail for sub.
func (r *Runner) ConfirmMessage(sub *model.Subscriber, now time.Time) (*mailer.Message, error) {
	url, exp := r.Links.Confirm(sub.ID, sub.ConfirmNonce, now)
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
		Date: now, AutoSubmitted: true, EntityRefID: newID(),
	}, nil
}
