package digest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
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

// outboxPage is how many due items a flush reads from the store at a
// time; the next page is read while the mailer still sends the last.
const outboxPage = 500

// OutboxPoll is how long an idle outbox waits before it looks at the store
// again without being woken: for mail another process queued and for
// retries coming due.
const OutboxPoll = 10 * time.Second

// outboxDown spaces the passes of an outbox whose relay fails before any
// recipient is named (refused credentials or sender, unreachable, TLS
// failing): from one poll interval, doubling, to at most 10 minutes, so a
// day of a wrong password is some 150 passes and ERROR lines, not 8,640.
var outboxDown = backoff.Policy{Base: OutboxPoll, Max: 10 * time.Minute}

// Outbox delivers transactional mail (confirmations) queued in the store.
// Items are written in the same transaction as the change that caused them
// and removed only after the server accepted them, so a crash in between
// loses nothing (it may send one twice).
type Outbox struct {
	Store  *store.Store
	Sender Sender
	Log    *slog.Logger
	// Poll replaces OutboxPoll when set.
	Poll time.Duration
	// Down, when set, replaces the back-off between passes that met an
	// operator fault (see OperatorError).
	Down backoff.Policy
	wake chan struct{}
}

// OperatorError is what a flush returns when the relay failed before any
// recipient was named: it refused our credentials or our sender, lacks
// what the settings require, could not be reached, or TLS failed. That is
// the operator's to fix, no reader's: every item stays queued and due, no
// attempt counted. Err is the mailer's error.
type OperatorError struct {
	msg string
	Err error
}

func (e *OperatorError) Error() string { return e.msg }

// Unwrap returns the mailer's error.
func (e *OperatorError) Unwrap() error { return e.Err }

// operatorFault reports a failure that no recipient has a part in: a
// fault of our sender or credentials (mailer.FaultSender), a relay that
// could not be reached for a while (mailer.ErrServerUnavailable), or any
// failure of the exchange before RCPT (dial, TLS, greeting, EHLO,
// STARTTLS, AUTH, MAIL FROM), with a reply code or none. A recipient's
// refusal (at RCPT) and failures of the message (at DATA) are the item's.
func operatorFault(err error) bool {
	if err == nil {
		return false
	}
	if mailer.FaultOf(err) == mailer.FaultSender || errors.Is(err, mailer.ErrServerUnavailable) {
		return true
	}
	var e *mailer.Error
	if !errors.As(err, &e) {
		return false
	}
	switch e.Stage {
	case mailer.StageDial, mailer.StageTLS, mailer.StageGreeting, mailer.StageEHLO, mailer.StageStartTLS, mailer.StageAuth, mailer.StageMail:
		return true
	}
	return false
}

// NewOutbox returns an outbox worker.
func NewOutbox(st *store.Store, s Sender, log *slog.Logger) *Outbox {
	return &Outbox{Store: st, Sender: s, Log: log, wake: make(chan struct{}, 1)}
}

// Wake asks the worker to look at the outbox now. Whoever queues mail in
// the daemon calls it, so the mail goes out at once, not at the next poll.
func (o *Outbox) Wake() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// Run delivers due items until ctx ends. Each pass drains the outbox (a
// backlog is sent as fast as the relay takes it, never a page per poll);
// then Run waits for a Wake or the poll interval. A pass that meets an
// operator fault (OperatorError) is followed by a back-off instead:
// Down's delays, growing with each such pass in a row, during which a
// Wake does not start a pass (the mail it announces waits in the outbox,
// due). Each of those passes logs one ERROR line with the reason and the
// wait; the first pass that gets through again logs that the relay
// recovered and ends the back-off.
func (o *Outbox) Run(ctx context.Context) {
	poll := o.Poll
	if poll <= 0 {
		poll = OutboxPoll
	}
	down := o.Down
	if down == (backoff.Policy{}) {
		down = outboxDown
	}
	t := time.NewTimer(0)
	defer t.Stop()
	step := 0 // passes in a row that met an operator fault
	for {
		wake := o.wake
		if step > 0 {
			wake = nil // backing off: only the timer starts the next pass
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-t.C:
		}
		_, err := o.Flush(ctx)
		if ctx.Err() != nil {
			return
		}
		wait := poll
		var oe *OperatorError
		switch {
		case errors.As(err, &oe):
			step++
			wait = max(down.Delay(step), poll)
			o.Log.Error("outbox", "error", err, "passes_failed", step, "next_pass_in", wait.Round(time.Millisecond))
		case err != nil:
			o.Log.Error("outbox", "error", err)
		case step > 0:
			o.Log.Info("outbox: the relay takes mail again", "passes_failed", step)
			step = 0
		}
		if !t.Stop() {
			select {
			case <-t.C:
			default:
			}
		}
		t.Reset(wait)
	}
}

// Flush delivers every item due now, including those queued while it
// runs, and returns how many were sent. The store is read a page at a
// time while one Deliver call (one set of connections) sends them all. A
// fault of the operator's (see OperatorError: AUTH refused, our sender
// refused at MAIL FROM, a relay that lacks what the settings require, is
// unreachable or fails TLS) stops the flush and leaves every item due
// without counting an attempt, so a wrong password or a relay down for a
// day never drops a reader's mail; the *OperatorError says why, once a
// flush. A recipient's permanent refusal drops that item; a temporary
// one counts an attempt and backs the item off.
func (o *Outbox) Flush(ctx context.Context) (int, error) {
	in := make(chan *mailer.Job)
	halt := make(chan struct{})
	var haltOnce sync.Once
	stopFeeding := func() { haltOnce.Do(func() { close(halt) }) }
	var readErr error
	go func() {
		defer close(in)
		var after uint64
		for {
			items, err := o.Store.DueOutboxAfter(time.Now(), after, outboxPage)
			if err != nil {
				readErr = err
				return
			}
			for i := range items {
				it := &items[i]
				select {
				case <-halt:
					// Stopped: hand out nothing more, even when the
					// sender is ready to take it.
					return
				default:
				}
				select {
				case in <- &mailer.Job{Ref: it.SubscriberID, Msg: it.Mail.Message(), Meta: it}:
				case <-halt:
					return
				case <-ctx.Done():
					return
				}
				after = it.ID
			}
			if len(items) < outboxPage {
				return
			}
		}
	}()
	var sent atomic.Int64
	var refused atomic.Pointer[error]
	finished := newCompleter(o.Store, connections(o.Sender))
	err := o.Sender.Deliver(ctx, in, func(j *mailer.Job) {
		it := j.Meta.(*store.OutboxItem)
		fault := mailer.FaultOf(j.LastErr)
		switch {
		case j.Result == mailer.Sent:
			sent.Add(1)
			o.done(finished, it.ID)
			return
		case operatorFault(j.LastErr):
			// The relay refuses us (credentials, our sender), lacks what
			// the settings require (STARTTLS, AUTH), cannot be reached or
			// fails TLS: every item would meet the same until the operator
			// or the relay fixes that, and it is no reader's doing. They
			// all stay due as they are, no attempt counted (nothing is
			// dropped however long it lasts), and the flush reports the
			// reason once.
			stopFeeding()
			err := j.LastErr
			refused.CompareAndSwap(nil, &err)
			return
		case j.Result != mailer.Bounced && j.Result != mailer.Failed && j.Attempts == 0:
			// Never attempted (shutting down, relay unreachable): stays
			// due, and so do the items not handed out yet.
			stopFeeding()
			return
		}
		switch {
		case j.Result == mailer.Bounced || fault == mailer.FaultMessage || it.Attempts+1 >= OutboxMaxAttempts:
			// The mailbox or the message is at fault, or it has been
			// tried long enough. A relay refusing for its own reasons
			// (policy, system) is retried with backoff: the operator fixes it.
			o.Log.Warn("transactional mail dropped", "kind", it.Kind, "subscriber", it.SubscriberID, "error", errString(j.LastErr))
			o.done(finished, it.ID)
		default:
			next := time.Now().Add(outboxRetry.Delay(it.Attempts + 1))
			if err := o.Store.OutboxRetry(*it, next, errString(j.LastErr)); err != nil {
				// The item stays due as it was: tried again at the next flush.
				o.Log.Error("outbox: record retry", "item", it.ID, "error", err)
			}
		}
	})
	finished.close()
	// A sender that returned early reads no more: let the reader end.
	stopFeeding()
	for range in {
	}
	if err == nil {
		err = readErr
	}
	if r := refused.Load(); r != nil && err == nil {
		err = o.refusal(*r)
	}
	return int(sent.Load()), err
}

// refusal is the *OperatorError of a flush stopped by err (see
// operatorFault): it names the relay, what to check, and says the mail
// stays queued.
func (o *Outbox) refusal(err error) error {
	if errors.Is(err, mailer.ErrRelayLacks) {
		return &OperatorError{msg: "outbox: mail stays queued: " + err.Error(), Err: err} // names the relay already
	}
	relay := "the relay"
	if c, ok := o.Sender.(interface{ Config() mailer.Config }); ok {
		cfg := c.Config()
		relay = "relay " + net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port))
	}
	what := "refused our credentials or sender (check smtp.username, smtp.password, mail.from, mail.return_path)"
	if mailer.FaultOf(err) != mailer.FaultSender {
		what = "failed before any recipient (check that it runs and smtp.host, smtp.port, smtp.tls)"
	}
	return &OperatorError{msg: fmt.Sprintf("outbox: mail stays queued, no attempt counted: %s %s: %v", relay, what, err), Err: err}
}

// completer removes finished items from the outbox, one commit for the
// items of all connections: a caller waits for the commit that holds its
// item. A commit is made when every connection waits for one (the mailer
// holds each connection's next message until the last one is recorded,
// so a commit carries at most one item per connection) or completeDelay
// after its first item. Sized to the connections, not to the store's
// batch size (the daemon's is large, so commits wait out bbolt's delay).
type completer struct {
	st   *store.Store
	size int
	in   chan completion
	done chan struct{}
}

// completeDelay is the longest a finished item waits for others to share
// its commit.
const completeDelay = 2 * time.Millisecond

type completion struct {
	id  uint64
	err chan error
}

// newCompleter starts the committer for a flush over conns connections;
// close ends it.
func newCompleter(st *store.Store, conns int) *completer {
	c := &completer{st: st, size: max(conns, 1), in: make(chan completion), done: make(chan struct{})}
	go c.run()
	return c
}

// remove removes id durably and returns the commit's error.
func (c *completer) remove(id uint64) error {
	ch := make(chan error, 1)
	c.in <- completion{id, ch}
	return <-ch
}

// close ends the committer once no remove call is running.
func (c *completer) close() {
	close(c.in)
	<-c.done
}

func (c *completer) run() {
	defer close(c.done)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		first, ok := <-c.in
		if !ok {
			return
		}
		batch := []completion{first}
		timer.Reset(completeDelay)
	collect:
		for len(batch) < c.size {
			select {
			case r, ok := <-c.in:
				if !ok {
					break collect
				}
				batch = append(batch, r)
			case <-timer.C:
				break collect
			}
		}
		timer.Stop()
		ids := make([]uint64, len(batch))
		for i, r := range batch {
			ids[i] = r.id
		}
		err := c.st.OutboxDoneMany(ids)
		for _, r := range batch {
			r.err <- err
		}
	}
}

// connections is how many messages s sends at once: smtp.connections for
// the SMTP transport, else 1.
func connections(s Sender) int {
	if c, ok := s.(interface{ Config() mailer.Config }); ok {
		return c.Config().Connections
	}
	return 1
}

// done removes a finished item from the outbox. When that fails the item
// stays and is sent again at the next flush (at least once, never lost),
// so the error is logged, not returned.
func (o *Outbox) done(c *completer, id uint64) {
	if err := c.remove(id); err != nil {
		o.Log.Error("outbox: remove finished item (it may be sent again)", "item", id, "error", err)
	}
}
