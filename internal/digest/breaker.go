package digest

import (
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/papermail/papermail/internal/mailer"
	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/store"
)

// ErrStopped marks a run stopped on an operator-side failure (see
// StopError).
var ErrStopped = errors.New("digest run stopped")

// StopError is returned by Run when it stopped early because the failure
// was the operator's, not the readers': the relay refused the sender, the
// credentials or everyone at once. Nobody was marked bounced for it; the
// subscribers not reached stay pending and get the digest in the next run.
type StopError struct {
	// Reply is the server's reply that stopped the run.
	Reply *mailer.Error
	// Why says which rule stopped it ("the relay refused the sender", "12
	// of the first 40 recipients got the same reply").
	Why string
}

// Error names the rule and the server's words.
func (e *StopError) Error() string {
	return fmt.Sprintf("%v: %s: %s (%s)", ErrStopped, e.Why, e.Reply.Reply(), e.Reply.Stage)
}

// Unwrap lets errors.Is find ErrStopped and errors.As the *mailer.Error.
func (e *StopError) Unwrap() []error { return []error{ErrStopped, e.Reply} }

// Circuit breaker settings: a run's first breakerWindow attempts are
// judged together. When one reply (code and enhanced code) reaches
// breakerSame recipients and more than breakerShare of the attempts
// judged, it is the relay's answer to everyone, not the readers' fault.
// breakerEarly recipients with the same reply stop a run before its
// window is complete; after the window, breakerStreak refusals in a row
// with one reply that is the relay's own (mailer.Fault.Operator) do.
const (
	breakerWindow = 50
	breakerSame   = 3
	breakerShare  = 0.2
	breakerEarly  = breakerWindow * breakerShare
	breakerStreak = 10
)

// breaker watches a run's outcomes. Outcomes that would charge a
// subscriber (a bounce, a soft-bounce day) in the run's window are held
// until the breaker has judged the window: then they are recorded as they
// are; if it trips, as failures that charge nobody.
type breaker struct {
	record func([]store.Outcome) error

	mu       sync.Mutex
	attempts int
	same     map[string]int
	replies  map[string]*mailer.Error // first reply seen per key
	judged   bool                     // the window is complete without a trip
	streak   int
	lastKey  string
	held     []store.Outcome
	trip     *StopError
	// refused counts, per key, replies that were the relay's own
	// (mailer.Fault.Operator), for one ERROR line per reply at the end.
	refused map[string]int
	// sent counts delivered messages; unreached the failures without a
	// reply about a recipient (server down, connection refused, 421 at the
	// greeting), lastUnreached the last.
	sent, unreached int
	lastUnreached   error
}

// unreachable reports whether nothing was delivered because the server
// could not be reached (no failure had a reply about a recipient), with
// the last error.
func (b *breaker) unreachable() (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.sent > 0 || b.unreached == 0 {
		return 0, nil
	}
	return b.unreached, b.lastUnreached
}

func newBreaker(record func([]store.Outcome) error) *breaker {
	return &breaker{record: record, same: map[string]int{}, replies: map[string]*mailer.Error{}, refused: map[string]int{}}
}

// refusal is one kind of relay refusal and how many recipients got it.
type refusal struct {
	reply *mailer.Error
	n     int
}

// refusals lists the operator-side replies of the run, most frequent first.
func (b *breaker) refusals() []refusal {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]refusal, 0, len(b.refused))
	for key, n := range b.refused {
		out = append(out, refusal{b.replies[key], n})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].n > out[j].n })
	return out
}

// observe takes one attempted delivery's outcome and its error (nil when
// sent), records it or holds it, and returns the stop when this outcome
// tripped the breaker.
func (b *breaker) observe(o store.Outcome, err error) (*StopError, error) {
	var e *mailer.Error
	if !errors.As(err, &e) || e.Code == 0 {
		e = nil
	}
	// Only replies about a recipient (RCPT, DATA) are compared: a session
	// the relay ends (421) says nothing about the recipients, and a
	// refusal before RCPT stops the run by itself.
	cmp := e
	if e != nil && e.Stage != mailer.StageRcpt && e.Stage != mailer.StageData {
		cmp = nil
	}
	charges := o.Delivery.State == model.DeliveryBounced || o.Delivery.State == model.DeliveryFailed && !o.NotBounce

	b.mu.Lock()
	if b.trip != nil {
		b.mu.Unlock()
		return nil, b.record([]store.Outcome{spare(o)})
	}
	b.attempts++
	switch {
	case err == nil:
		b.sent++
	case cmp == nil && mailer.FaultOf(err) == mailer.FaultTransient:
		b.unreached++
		b.lastUnreached = err
	}
	key := ""
	if cmp != nil {
		key = cmp.Key()
		b.same[key]++
		if b.replies[key] == nil {
			b.replies[key] = cmp
		}
		if mailer.FaultOf(cmp).Operator() {
			b.refused[key]++
		}
	}
	switch {
	case key == "":
		b.streak, b.lastKey = 0, ""
	case key == b.lastKey:
		b.streak++
	default:
		b.streak, b.lastKey = 1, key
	}
	var stop *StopError
	switch {
	case mailer.FaultOf(err) == mailer.FaultSender:
		// FaultSender always comes with a reply.
		stop = &StopError{Reply: e, Why: "the relay refused us before any recipient was named (sender, authentication or session)"}
	case key != "" && !b.judged && b.same[key] >= breakerSame && float64(b.same[key]) > breakerEarly:
		stop = &StopError{Reply: cmp, Why: fmt.Sprintf("%d of the first %d recipients got the same reply", b.same[key], b.attempts)}
	case key != "" && b.judged && b.streak >= breakerStreak && mailer.FaultOf(cmp).Operator():
		// After a healthy window only the relay's own refusals in a row
		// stop the run (its quota ran out, say); a run of refused
		// mailboxes is a list with dead addresses side by side.
		stop = &StopError{Reply: cmp, Why: fmt.Sprintf("%d recipients in a row got the same reply", b.streak)}
	}
	if charges {
		b.held = append(b.held, o)
	}
	var batch []store.Outcome
	if !charges {
		batch = append(batch, o)
	}
	if stop == nil && !b.judged && b.attempts >= breakerWindow {
		stop = b.judgeLocked()
	}
	switch {
	case stop != nil:
		b.trip = stop
		for _, h := range b.held {
			batch = append(batch, spare(h))
		}
		b.held = nil
	case b.judged:
		// The window was healthy: what charges a reader is recorded now.
		batch = append(batch, b.held...)
		b.held = nil
	}
	b.mu.Unlock()
	if len(batch) == 0 {
		return stop, nil
	}
	return stop, b.record(batch)
}

// judgeLocked decides over the attempts seen so far: a reply shared by
// breakerSame recipients and more than breakerShare of the attempts is
// the relay's answer to everyone and returns the stop; otherwise the
// window is judged healthy.
func (b *breaker) judgeLocked() *StopError {
	b.judged = true
	for key, n := range b.same {
		if n >= breakerSame && float64(n) > breakerShare*float64(b.attempts) {
			return &StopError{Reply: b.replies[key], Why: fmt.Sprintf("%d of the first %d recipients got the same reply", n, b.attempts)}
		}
	}
	return nil
}

// finish judges a run that ended before its window was complete and
// records what is still held. It returns the stop, if any.
func (b *breaker) finish() (*StopError, error) {
	b.mu.Lock()
	if b.trip == nil && !b.judged {
		b.trip = b.judgeLocked()
	}
	batch := b.held
	b.held = nil
	if b.trip != nil {
		for i := range batch {
			batch[i] = spare(batch[i])
		}
	}
	stop := b.trip
	b.mu.Unlock()
	if len(batch) == 0 {
		return stop, nil
	}
	return stop, b.record(batch)
}

// spare turns an outcome that would charge its subscriber into a failure
// that charges nobody: the reply was the relay's answer to everyone.
func spare(o store.Outcome) store.Outcome {
	if o.Delivery.State == model.DeliveryBounced {
		o.Delivery.State = model.DeliveryFailed
	}
	o.NotBounce = true
	return o
}
