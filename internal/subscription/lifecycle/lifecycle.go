// Package lifecycle holds the rules of a subscriber's state, as pure
// functions on model.Subscriber: what confirming, reactivating,
// unsubscribing, a bounce, a day of temporary failure and a complaint do.
// The subscription service applies them to requests; the store applies
// them inside the transaction that records a delivery or a report, so one
// rule serves both. It depends on the model alone.
package lifecycle

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/papermail/papermail/internal/model"
)

// ErrNotBounced is returned when reactivating a bounce of a subscriber who
// is not bounced.
var ErrNotBounced = errors.New("not bounced")

// Receiving reports whether digests go to sub (active, or paused for now).
func Receiving(sub *model.Subscriber) bool {
	return sub.State == model.StateActive || sub.State == model.StatePaused
}

// Activate makes sub active after its owner proved they read the mailbox
// (a confirmation or a preferences link) or the operator vouched for
// them: soft bounces and the recorded bounce are forgotten.
func Activate(sub *model.Subscriber, now time.Time) {
	sub.State = model.StateActive
	sub.SoftBounces, sub.Bounce = nil, nil
	if sub.ConfirmedAt.IsZero() {
		sub.ConfirmedAt = now.UTC()
	}
}

// Reactivate is Activate for a subscriber who gets no digests (pending,
// unsubscribed or bounced); active and paused subscribers are left as
// they are. It reports whether sub changed.
func Reactivate(sub *model.Subscriber, now time.Time) bool {
	if Receiving(sub) {
		return false
	}
	Activate(sub, now)
	return true
}

// Unsubscribe stops every digest; what the reader chose stays.
func Unsubscribe(sub *model.Subscriber) { sub.State = model.StateUnsubscribed }

// Bounce is what a bounce does: an active or paused subscriber becomes
// bounced and keeps why (reason, codes, time, source). Pending,
// unsubscribed and already bounced subscribers are left as they are (an
// unsubscribed reader is never revived; the first bounce stays the
// recorded one). It reports whether sub changed.
func Bounce(sub *model.Subscriber, b model.Bounce) bool {
	if !Receiving(sub) {
		return false
	}
	if b.At.IsZero() {
		b.At = time.Now().UTC()
	}
	sub.State = model.StateBounced
	sub.Bounce = &b
	sub.Updated = b.At
	return true
}

// SoftBounce counts date as a day of temporary mailbox failure; on limit
// such days (bounce.soft_limit; 0 never) the subscriber is bounced with b,
// its reason saying how many days. Subscribers who get no digests are left
// as they are. It reports whether sub changed and whether it bounced.
func SoftBounce(sub *model.Subscriber, date string, limit int, b model.Bounce) (changed, bounced bool) {
	if !Receiving(sub) {
		return false, false
	}
	if !slices.Contains(sub.SoftBounces, date) {
		sub.SoftBounces = append(sub.SoftBounces, date)
		changed = true
	}
	if limit > 0 && len(sub.SoftBounces) >= limit {
		b.Source = model.BounceSoft
		b.Reason = fmt.Sprintf("temporary mailbox failures on %d days, last: %s", len(sub.SoftBounces), b.Reason)
		bounced = Bounce(sub, b)
	}
	return changed || bounced, bounced
}

// Unbounce makes a bounced subscriber active again (the operator's
// `subscribers reactivate`); ErrNotBounced for any other state.
func Unbounce(sub *model.Subscriber, now time.Time) error {
	if sub.State != model.StateBounced {
		return fmt.Errorf("%s is %s: %w", sub.Email, sub.State, ErrNotBounced)
	}
	sub.State = model.StateActive
	sub.Bounce = nil
	sub.SoftBounces = nil
	sub.Updated = now.UTC()
	return nil
}

// Complain is what a spam report does: the subscriber is unsubscribed and
// keeps why. Subscribers already unsubscribed or never confirmed are left
// as they are. It reports whether sub changed.
func Complain(sub *model.Subscriber, at time.Time) bool {
	if !Receiving(sub) && sub.State != model.StateBounced {
		return false
	}
	sub.State = model.StateUnsubscribed
	sub.Bounce = &model.Bounce{At: at.UTC(), Reason: "complaint", Source: model.BounceComplaint}
	sub.Updated = at.UTC()
	return true
}
