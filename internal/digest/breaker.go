package digest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

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

// Error names the rule and the server's words, or, when the relay gave
// no reply (it lacks what the settings require), what is wrong.
func (e *StopError) Error() string {
	if e.Reply.Code == 0 {
		return fmt.Sprintf("%v: %s: %v (%s)", ErrStopped, e.Why, e.Reply.Err, e.Reply.Stage)
	}
	return fmt.Sprintf("%v: %s: %s (%s)", ErrStopped, e.Why, e.Reply.Reply(), e.Reply.Stage)
}

// detail is the server's reply, or without one what went wrong.
func (e *StopError) detail() string {
	if e.Reply.Code == 0 {
		return e.Reply.Err.Error()
	}
	return e.Reply.Reply()
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
//
// It also judges each recipient domain: a relay may refuse one domain
// whole (its own policy, or a route it lacks) and take the others. When
// breakerSame recipients of a domain got the same refusal at RCPT and
// none of its recipients was accepted yet, the relay is probed with the
// domain's postmaster (which RFC 5321 section 4.5.1 requires every domain
// to take). When it refuses that too, the domain is refused as a whole:
// its readers are not charged (they stay failed for the next run), the
// refusals there are taken out of the counts that judge the relay (so a
// refused domain does not stop the run for everyone else), and the run's
// end reports the domain. Until a domain is judged (a recipient there
// accepted, or its probe accepted) its charging outcomes are held.
type breaker struct {
	record func([]store.Outcome) error
	// probe asks the relay to accept a recipient it must accept, after
	// reply was about to trip the breaker (see probeRelay); nil error means
	// accepted. A nil probe means no probe can be made: the breaker trips
	// as it would without one.
	probe func(reply *mailer.Error) error
	// probeDomain asks the relay to accept the postmaster of domain (nil
	// error: accepted); nil means no such probe can be made.
	probeDomain func(domain string) error
	// probes holds, per reply key (per "@domain" for a domain's), the
	// probe made for it.
	probes map[string]*probeCall

	mu       sync.Mutex
	attempts int
	same     map[string]int
	replies  map[string]*mailer.Error // first reply seen per key
	judged   bool                     // the window is complete without a trip
	streak   int
	lastKey  string
	// domains holds each recipient domain's counts and held outcomes;
	// released is set once the window was judged and every domain judged
	// by then had its held outcomes recorded.
	domains  map[string]*domainState
	released bool
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
	return &breaker{record: record, same: map[string]int{}, replies: map[string]*mailer.Error{}, refused: map[string]int{},
		probes: map[string]*probeCall{}, domains: map[string]*domainState{}}
}

// domainState is what the breaker knows of one recipient domain.
type domainState struct {
	attempts, sent int
	same           map[string]int // refusals at RCPT per reply key
	held           []store.Outcome
	probed         bool          // its postmaster probe was made
	refused        *mailer.Error // the relay refused the postmaster probe
	masked         bool          // its counts were taken out of the run's
	spared         int           // outcomes not charged as the domain is refused
}

// judged reports whether the domain's held outcomes can be recorded as
// they are: a recipient there was accepted, or the relay took its
// postmaster (or could not be asked).
func (d *domainState) judged() bool {
	return d.sent > 0 || d.probed && d.refused == nil
}

// domainLocked returns the state of domain, made on first use.
func (b *breaker) domainLocked(domain string) *domainState {
	d := b.domains[domain]
	if d == nil {
		d = &domainState{same: map[string]int{}}
		b.domains[domain] = d
	}
	return d
}

// maskLocked takes a refused domain's attempts and refusals out of the
// counts that judge the relay, once some mail of the run got through
// (before that, a relay refusing everyone would look like many refused
// domains).
func (b *breaker) maskLocked(d *domainState) {
	if d.masked || d.refused == nil || b.sent == 0 {
		return
	}
	d.masked = true
	b.attempts -= d.attempts
	for k, n := range d.same {
		b.same[k] -= n
	}
	b.streak, b.lastKey = 0, ""
}

// releaseLocked returns d's held outcomes: as they are when d is judged
// and the window too, spared when d is refused, none otherwise.
func (b *breaker) releaseLocked(d *domainState) []store.Outcome {
	if len(d.held) == 0 {
		return nil
	}
	var out []store.Outcome
	switch {
	case d.refused != nil:
		for _, h := range d.held {
			out = append(out, spare(h))
		}
		d.spared += len(d.held)
	case b.judged && d.judged():
		out = d.held
	default:
		return nil
	}
	d.held = nil
	return out
}

// probeDomainLocked probes domain's postmaster once (b.mu released
// meanwhile, as probeLocked does) and sets d's verdict.
func (b *breaker) probeDomainLocked(domain string, d *domainState) {
	var probe func() error
	if b.probeDomain != nil {
		probe = func() error { return b.probeDomain(domain) }
	}
	perr := b.callLocked("@"+domain, probe)
	if d.probed {
		return
	}
	d.probed = true
	var e *mailer.Error
	if errors.As(perr, &e) && e.Code != 0 && e.Stage == mailer.StageRcpt {
		d.refused = e
	}
	// Accepted, or no answer about the recipient (no probe possible, the
	// relay unreachable or refusing our sender): the domain's refusals
	// are judged with the rest, as before.
}

// domainRefusal is a recipient domain the relay refused as a whole.
type domainRefusal struct {
	domain string
	reply  *mailer.Error // the refusal of its postmaster
	spared int           // readers there not charged
	n      int           // recipients there refused
}

// refusedDomains lists the domains the relay refused as a whole, most
// recipients first.
func (b *breaker) refusedDomains() []domainRefusal {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []domainRefusal
	for name, d := range b.domains {
		if d.refused == nil {
			continue
		}
		n := 0
		for _, c := range d.same {
			n += c
		}
		out = append(out, domainRefusal{domain: name, reply: d.refused, spared: d.spared, n: n})
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].n > out[j].n || out[i].n == out[j].n && out[i].domain < out[j].domain
	})
	return out
}

// probeCall is one relay probe; err and finished are guarded by the
// breaker's mutex, done is closed once they are set.
type probeCall struct {
	done     chan struct{}
	finished bool
	err      error
}

// probeable reports a reply worth a probe before it trips the breaker: a
// refusal of the mailbox (5.1.1, 4.2.2...), which many dead addresses give
// as readily as a relay refusing everyone. The relay's own refusals trip
// it at once, as they charge nobody.
func probeable(reply *mailer.Error) bool {
	f := mailer.FaultOf(reply)
	return f == mailer.FaultMailbox || f == mailer.FaultMailboxSoft
}

// clearedLocked reports whether the relay accepted the probe made for key:
// its refusals are the mailboxes' own and do not trip the breaker.
func (b *breaker) clearedLocked(key string) bool {
	p := b.probes[key]
	return p != nil && p.finished && p.err == nil
}

// probeLocked makes the probe for stop's reply, or waits for the one
// another outcome started, with b.mu released meanwhile. It returns nil
// when the relay accepted the probe recipient; otherwise why the stop
// stands.
func (b *breaker) probeLocked(reply *mailer.Error) error {
	var probe func() error
	if b.probe != nil {
		probe = func() error { return b.probe(reply) }
	}
	return b.callLocked(reply.Key(), probe)
}

// callLocked runs probe once for key, or waits for the call another
// outcome started, with b.mu released meanwhile, and returns its error
// (errNoProbe when probe is nil).
func (b *breaker) callLocked(key string, probe func() error) error {
	p := b.probes[key]
	if p == nil {
		p = &probeCall{done: make(chan struct{})}
		b.probes[key] = p
		err := errNoProbe
		if probe != nil {
			b.mu.Unlock()
			err = probe()
			b.mu.Lock()
		}
		p.err, p.finished = err, true
		close(p.done)
	} else if !p.finished {
		b.mu.Unlock()
		<-p.done
		b.mu.Lock()
	}
	return p.err
}

// errNoProbe is the probe error of a sender that cannot probe (a Maildir).
var errNoProbe = errors.New("the sender cannot probe the relay")

// tripLocked returns the stop the latest outcome (key its reply's key,
// cmp the reply, err its error) calls for, judging the window when it is
// complete: a mailbox refusal that would trip the breaker is first put to
// the relay with a probe (probeLocked) and trips it only when the relay
// refuses the probe too. b.mu may be released while a probe runs: when
// another outcome tripped the breaker meanwhile, it returns nil.
func (b *breaker) tripLocked(key string, cmp *mailer.Error, err error) *StopError {
	for {
		var stop *StopError
		switch {
		case mailer.FaultOf(err) == mailer.FaultSender:
			// FaultSender always comes as a *mailer.Error: with a reply, or
			// without one when the relay lacks what the settings require.
			var e *mailer.Error
			errors.As(err, &e)
			if errors.Is(err, mailer.ErrRelayLacks) {
				return lacksStop(e)
			}
			return &StopError{Reply: e, Why: "the relay refused us before any recipient was named (sender, authentication or session)"}
		case key != "" && !b.judged && !b.clearedLocked(key) && b.same[key] >= breakerSame && float64(b.same[key]) > breakerEarly:
			stop = &StopError{Reply: cmp, Why: fmt.Sprintf("%d of the first %d recipients got the same reply", b.same[key], b.attempts)}
		case key != "" && b.judged && b.streak >= breakerStreak && mailer.FaultOf(cmp).Operator():
			// After a healthy window only the relay's own refusals in a row
			// stop the run (its quota ran out, say); a run of refused
			// mailboxes is a list with dead addresses side by side.
			return &StopError{Reply: cmp, Why: fmt.Sprintf("%d recipients in a row got the same reply", b.streak)}
		case !b.judged && b.attempts >= breakerWindow:
			if stop = b.windowLocked(); stop == nil {
				b.judged = true
				return nil
			}
		default:
			return nil
		}
		if !probeable(stop.Reply) {
			return stop
		}
		perr := b.probeLocked(stop.Reply)
		if b.trip != nil {
			return nil
		}
		if perr != nil {
			stop.Why += "; " + probeFailure(perr)
			return stop
		}
		// The relay accepted the probe: the refusals are dead mailboxes.
		// Judge again without them.
	}
}

// probeFailure says in the stop's words why the probe did not clear it.
func probeFailure(err error) string {
	if errors.Is(err, errNoProbe) {
		return "no probe could be made: " + err.Error()
	}
	var e *mailer.Error
	if errors.As(err, &e) && e.Code != 0 {
		return "the relay refused the probe recipient too: " + e.Error()
	}
	return "the probe of the relay failed: " + err.Error()
}

// lacksStop is the stop for a relay that lacks what the settings require.
func lacksStop(e *mailer.Error) *StopError {
	return &StopError{Reply: e, Why: "the relay cannot be used as configured"}
}

// lacking stops the run because the relay lacks what the settings require
// (err wraps mailer.ErrRelayLacks): no delivery was tried, so nothing is
// recorded and nobody charged; those not reached stay pending. It returns the stop the first time only.
func (b *breaker) lacking(err error) *StopError {
	var e *mailer.Error
	if !errors.As(err, &e) {
		e = &mailer.Error{Stage: mailer.StageDial, Err: err}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.trip != nil {
		return nil
	}
	// Outcomes still held for the window are recorded by finish, as
	// charging nobody.
	b.trip = lacksStop(e)
	return b.trip
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

// observe takes one attempted delivery's outcome, its error (nil when
// sent) and the recipient's domain, records it or holds it, and returns
// the stop when this outcome tripped the breaker.
func (b *breaker) observe(o store.Outcome, err error, domain string) (*StopError, error) {
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
	d := b.domainLocked(domain)
	b.maskLocked(d)
	if d.masked && cmp != nil {
		// The relay refuses this domain whole: the refusal is the
		// domain's, charges nobody and says nothing of the relay.
		d.same[cmp.Key()]++
		if charges {
			o = spare(o)
			d.spared++
		}
		b.mu.Unlock()
		return nil, b.record([]store.Outcome{o})
	}
	b.attempts++
	d.attempts++
	switch {
	case err == nil:
		b.sent++
		d.sent++
	case cmp == nil && mailer.FaultOf(err) == mailer.FaultTransient:
		b.unreached++
		b.lastUnreached = err
	}
	key := ""
	if cmp != nil {
		key = cmp.Key()
		b.same[key]++
		d.same[key]++
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
	var batch []store.Outcome
	if charges {
		d.held = append(d.held, o)
	} else {
		batch = append(batch, o)
	}
	if cmp != nil && cmp.Stage == mailer.StageRcpt && !d.probed && d.sent == 0 && d.same[key] >= breakerSame {
		// Alike refusals and nobody accepted at this domain: is it the
		// domain the relay refuses?
		b.probeDomainLocked(domain, d)
		b.maskLocked(d)
	}
	var stop *StopError
	if b.trip == nil {
		stop = b.tripLocked(key, cmp, err)
	}
	switch {
	case b.trip != nil:
		// Another outcome tripped the breaker while a probe ran: it spared
		// and recorded what was held; what this domain held since is
		// spared too.
		stop = nil
		for _, h := range d.held {
			batch = append(batch, spare(h))
		}
		d.held = nil
	case stop != nil:
		b.trip = stop
		for _, dd := range b.domains {
			for _, h := range dd.held {
				batch = append(batch, spare(h))
			}
			dd.held = nil
		}
	case b.judged && !b.released:
		// The window was healthy: what charges a reader at a domain
		// already judged is recorded now.
		b.released = true
		for _, dd := range b.domains {
			batch = append(batch, b.releaseLocked(dd)...)
		}
	default:
		batch = append(batch, b.releaseLocked(d)...)
	}
	b.mu.Unlock()
	if len(batch) == 0 {
		return stop, nil
	}
	return stop, b.record(batch)
}

// windowLocked decides over the attempts seen so far: a reply shared by
// breakerSame recipients and more than breakerShare of the attempts is
// the relay's answer to everyone and returns the stop, unless a probe
// cleared it (clearedLocked).
func (b *breaker) windowLocked() *StopError {
	keys := make([]string, 0, len(b.same))
	for key := range b.same {
		keys = append(keys, key)
	}
	sort.Slice(keys, func(i, j int) bool {
		return b.same[keys[i]] > b.same[keys[j]] || b.same[keys[i]] == b.same[keys[j]] && keys[i] < keys[j]
	})
	for _, key := range keys {
		if n := b.same[key]; n >= breakerSame && float64(n) > breakerShare*float64(b.attempts) && !b.clearedLocked(key) {
			return &StopError{Reply: b.replies[key], Why: fmt.Sprintf("%d of the first %d recipients got the same reply", n, b.attempts)}
		}
	}
	return nil
}

// finish judges a run that ended before its window was complete (probing
// as tripLocked does) and records what is still held. It returns the
// stop, if any.
func (b *breaker) finish() (*StopError, error) {
	b.mu.Lock()
	for b.trip == nil && !b.judged {
		stop := b.windowLocked()
		if stop == nil {
			b.judged = true
			break
		}
		if !probeable(stop.Reply) {
			b.trip = stop
			break
		}
		if perr := b.probeLocked(stop.Reply); perr != nil && b.trip == nil {
			stop.Why += "; " + probeFailure(perr)
			b.trip = stop
		}
	}
	var batch []store.Outcome
	for _, d := range b.domains {
		for _, h := range d.held {
			if b.trip != nil || d.refused != nil {
				h = spare(h)
				if b.trip == nil {
					d.spared++
				}
			}
			batch = append(batch, h)
		}
		d.held = nil
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

// relayProber is a sender that can ask the relay about a recipient
// without sending (mailer.SMTP).
type relayProber interface {
	Probe(ctx context.Context, from, to string) error
}

// probeRelay asks the relay, with the digests' envelope sender, whether it
// takes mail for the probe recipient (bounce.probe, else the envelope
// sender itself): MAIL FROM, RCPT TO, RSET, nothing sent. reply is the
// refusal many recipients got. nil means accepted: those refusals are the
// mailboxes' own.
func (r *Runner) probeRelay(ctx context.Context, reply *mailer.Error) error {
	p, ok := r.Sender.(relayProber)
	if !ok {
		return errNoProbe
	}
	to := r.Config.ProbeAddress()
	if to == "" {
		return fmt.Errorf("%w: no probe address (set bounce.probe)", errNoProbe)
	}
	from := r.returnPath(0, time.Now().UTC().Format(DateLayout))
	if from == "" {
		from = r.Config.ReturnPath()
	}
	err := p.Probe(ctx, from, to)
	if err == nil {
		r.Log.Warn("many recipients got the same mailbox refusal, but the relay accepted the probe recipient: they are refused mailboxes and bounce",
			"reply", reply.Reply(), "probe", to)
	} else {
		r.Log.Info("relay probe after many alike mailbox refusals", "reply", reply.Reply(), "probe", to, "error", err)
	}
	return err
}

// probeDomain asks the relay, with the digests' envelope sender, whether
// it takes mail for domain's postmaster (MAIL FROM, RCPT TO, RSET, nothing
// sent): several recipients there got the same refusal and none was
// accepted. nil means accepted: those refusals are the mailboxes' own.
func (r *Runner) probeDomain(ctx context.Context, domain string) error {
	p, ok := r.Sender.(relayProber)
	if !ok {
		return errNoProbe
	}
	from := r.returnPath(0, time.Now().UTC().Format(DateLayout))
	if from == "" {
		from = r.Config.ReturnPath()
	}
	to := "postmaster@" + domain
	err := p.Probe(ctx, from, to)
	r.Log.Info("relay probe of a domain after alike refusals there", "domain", domain, "probe", to, "error", errString(err))
	return err
}
