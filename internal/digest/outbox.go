package digest

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/papermail/papermail/internal/backoff"
	"github.com/papermail/papermail/internal/mailer"
	"github.com/papermail/papermail/internal/store"
)

// OutboxMaxAttempts is how many times a transactional mail is tried before
// it is dropped (and logged).
const OutboxMaxAttempts = 12

// outboxRetry spaces the attempts of a transactional mail: from half a
// minute to at most 8 hours (about 21 hours in all over the attempts).
var outboxRetry = backoff.Policy{Base: 30 * time.Second, Max: 8 * time.Hour}

// Outbox delivers transactional mail (confirmations) queued in the store.
// Items are written in the same transaction as the change that caused them
// and removed only after the server accepted them, so a crash in between
// loses nothing (it may send one twice).
type Outbox struct {
	Store  *store.Store
	Sender Sender
	Log    *slog.Logger
	wake   chan struct{}
}

// NewOutbox returns an outbox worker.
func NewOutbox(st *store.Store, s Sender, log *slog.Logger) *Outbox {
	return &Outbox{Store: st, Sender: s, Log: log, wake: make(chan struct{}, 1)}
}

// Wake asks the worker to look at the outbox now.
func (o *Outbox) Wake() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// Run delivers due items until ctx ends.
func (o *Outbox) Run(ctx context.Context) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-o.wake:
		case <-t.C:
		}
		if _, err := o.Flush(ctx); err != nil && ctx.Err() == nil {
			o.Log.Error("outbox", "error", err)
		}
		t.Reset(10 * time.Second)
	}
}

// Flush delivers every item due now and returns how many were sent.
func (o *Outbox) Flush(ctx context.Context) (int, error) {
	items, err := o.Store.DueOutbox(time.Now(), 500)
	if err != nil || len(items) == 0 {
		return 0, err
	}
	in := make(chan *mailer.Job, len(items))
	for i := range items {
		in <- &mailer.Job{Ref: items[i].SubscriberID, Msg: items[i].Mail.Message(), Meta: &items[i]}
	}
	close(in)
	var sent atomic.Int64
	err = o.Sender.Deliver(ctx, in, func(j *mailer.Job) {
		it := j.Meta.(*store.OutboxItem)
		switch {
		case j.Result == mailer.Sent:
			sent.Add(1)
			o.done(it.ID)
		case j.Result != mailer.Bounced && j.Result != mailer.Failed && j.Attempts == 0:
			// never attempted (shutting down, relay unreachable): stays due
		case j.Result == mailer.Bounced || mailer.FaultOf(j.LastErr) == mailer.FaultMessage || it.Attempts+1 >= OutboxMaxAttempts:
			// The mailbox or the message is at fault, or it has been
			// tried long enough. A relay refusing for its own reasons
			// (sender, policy, credentials) is retried: the operator fixes it.
			o.Log.Warn("transactional mail dropped", "kind", it.Kind, "subscriber", it.SubscriberID, "error", errString(j.LastErr))
			o.done(it.ID)
		default:
			next := time.Now().Add(outboxRetry.Delay(it.Attempts + 1))
			if err := o.Store.OutboxRetry(*it, next, errString(j.LastErr)); err != nil {
				// The item stays due as it was: tried again at the next flush.
				o.Log.Error("outbox: record retry", "item", it.ID, "error", err)
			}
		}
	})
	return int(sent.Load()), err
}

// done removes a finished item from the outbox. When that fails the item
// stays and is sent again at the next flush (at least once, never lost),
// so the error is logged, not returned.
func (o *Outbox) done(id uint64) {
	if err := o.Store.OutboxDone(id); err != nil {
		o.Log.Error("outbox: remove finished item (it may be sent again)", "item", id, "error", err)
	}
}
