// Package digest runs the daily digest: it finds the subscribers due,
// selects papers for each (selection), renders their mail (render), hands
// it to a sender (mailer) and writes every outcome to the run's ledger in
// the store, so an interrupted run resumes without repeating or skipping
// anyone. It also runs the outbox of transactional mail.
package digest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/papermail/papermail/internal/bounce"
	"github.com/papermail/papermail/internal/config"
	"github.com/papermail/papermail/internal/due"
	"github.com/papermail/papermail/internal/embeddings"
	"github.com/papermail/papermail/internal/links"
	"github.com/papermail/papermail/internal/mailer"
	"github.com/papermail/papermail/internal/metrics"
	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/render"
	"github.com/papermail/papermail/internal/selection"
	"github.com/papermail/papermail/internal/store"
)

// Sender delivers mail jobs; mailer.SMTP and mailer.Maildir implement it.
type Sender interface {
	Deliver(ctx context.Context, in <-chan *mailer.Job, done func(*mailer.Job)) error
}

// Deps are what a Runner works with.
type Deps struct {
	Config   config.Config
	Store    *store.Store
	Engine   *render.Engine
	Links    *links.Builder
	Composer *mailer.Composer
	Sender   Sender
	Log      *slog.Logger
	Metrics  *metrics.Metrics // may be nil
	// Embedder is the optional embeddings provider (nil: built-in
	// ranking only).
	Embedder *embeddings.Client
	// Progress, when set, is called after each subscriber is settled.
	Progress func(done, due int)
}

// Runner runs digests. One run at a time; Run is safe to call from the
// scheduler and from commands concurrently (they queue).
type Runner struct {
	Deps
	mu      sync.Mutex
	defLoc  *time.Location
	defHour int
	defMin  int

	idxMu   sync.Mutex
	idx     *selection.Index
	sem     *selection.Semantic // the last run's vectors, nil without
	idxAt   time.Time
	idxFrom time.Time

	highlights highlightCache
	papers     paperCache

	verp   *bounce.VERP // nil without mail.verp
	listID string       // the digests' List-Id
	// batch renders the digests over the current index, sharing each
	// paper's fragments between readers.
	batch atomic.Pointer[render.Batch]
}

// stageTimes is where a run's time went, in nanoseconds: loading the
// candidates, and select, render and compose summed over the prepare
// workers, record over the connections waiting for their records. The
// "digest run" log line reports them (load_ms, select_ms, ...), so an
// operator sees whether a slow run waited on selection, rendering or the
// disk.
type stageTimes struct {
	load, sel, render, compose, record atomic.Int64
}

func (st *stageTimes) since(d *atomic.Int64, t time.Time) time.Time {
	now := time.Now()
	d.Add(int64(now.Sub(t)))
	return now
}

// attrs are the log attributes of st.
func (st *stageTimes) attrs() []any {
	ms := func(d *atomic.Int64) int64 { return time.Duration(d.Load()).Milliseconds() }
	return []any{"load_ms", ms(&st.load), "select_ms", ms(&st.sel), "render_ms", ms(&st.render),
		"compose_ms", ms(&st.compose), "record_ms", ms(&st.record)}
}

// New returns a runner. Store, Engine, Links, Composer and Sender are
// required. It keeps the store's due index on the configured default
// delivery time (digest.timezone and digest.schedule), rebuilding it when
// that changed.
func New(d Deps) (*Runner, error) {
	switch {
	case d.Store == nil:
		return nil, errors.New("digest: Deps.Store is nil")
	case d.Engine == nil:
		return nil, errors.New("digest: Deps.Engine is nil")
	case d.Links == nil:
		return nil, errors.New("digest: Deps.Links is nil")
	case d.Composer == nil:
		return nil, errors.New("digest: Deps.Composer is nil")
	case d.Sender == nil:
		return nil, errors.New("digest: Deps.Sender is nil")
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	h, m := d.Config.DefaultHour()
	r := &Runner{Deps: d, defLoc: d.Config.Location(), defHour: h, defMin: m,
		listID: "papermail digest <" + d.Config.ListID() + ">"}
	if d.Config.Mail.VERP {
		v, err := bounce.NewVERP(d.Config.VERPBase(), d.Store.Secret())
		if err != nil {
			d.Log.Error("mail.verp is on but cannot be used; digests go out with the plain return path", "error", err)
		}
		r.verp = v
	}
	if err := d.Store.SetPolicy(r.policy()); err != nil {
		return nil, fmt.Errorf("digest: %w", err)
	}
	return r, nil
}

// returnPath is the envelope sender of sub's digest for date: a VERP
// address when mail.verp is on, else mail.return_path (empty: the From
// address).
func (r *Runner) returnPath(id uint64, date string) string {
	if r.verp != nil {
		return r.verp.Address(id, date)
	}
	return r.Config.Mail.ReturnPath
}

// policy is the default delivery time.
func (r *Runner) policy() due.Policy {
	return due.Policy{Loc: r.defLoc, Hour: r.defHour, Minute: r.defMin}
}

// Summary is what Run returns: one Run record per digest date touched.
type Summary struct {
	Runs    []model.Run
	Sent    int
	Failed  int
	Skipped int
	Bounced int
	Due     int
	// Pending counts due subscribers not settled (a stopped or
	// interrupted run); the next run delivers to them.
	Pending  int
	Duration time.Duration
}

// candidateSpan is how far back the run's index reaches: the window, or a
// week so weekly digests and gaps without papers are covered.
func (r *Runner) candidateSpan() time.Duration {
	return max(r.Config.Digest.Window, 8*24*time.Hour)
}

// index returns the candidate index for a run at now, rebuilt when stale.
func (r *Runner) index(now time.Time, fresh bool) (*selection.Index, error) {
	r.idxMu.Lock()
	defer r.idxMu.Unlock()
	if !fresh && r.idx != nil && now.Sub(r.idxAt) < time.Minute && now.Sub(r.idxAt) >= 0 {
		return r.idx, nil
	}
	from := now.Add(-r.candidateSpan())
	papers, err := r.Store.PapersSince(from)
	if err != nil {
		return nil, fmt.Errorf("load candidate papers: %w", err)
	}
	// Papers dated in the future (clock skew in a feed) count as now.
	if fresh {
		// A run: embedding vectors are gathered once, before any
		// subscriber; previews between runs use the last run's.
		r.sem = r.semantic(papers)
	}
	opts := selection.Options{Now: now, Semantic: r.sem}
	r.idx = selection.NewIndex(papers, opts)
	r.highlights.reset()
	r.papers.reset()
	r.batch.Store(r.Engine.NewBatch())
	r.idxAt, r.idxFrom = now, from
	return r.idx, nil
}

// Invalidate drops the cached index (after an ingest).
func (r *Runner) Invalidate() {
	r.idxMu.Lock()
	r.idx = nil
	r.idxMu.Unlock()
}

type prepared struct {
	sub  model.Subscriber
	date string
	sent store.SentPapers
}

// Run sends the digest to every subscriber due under sp and records each
// outcome. It returns when every due subscriber is settled or ctx ends;
// after ctx ends, subscribers not yet attempted stay pending in the ledger
// and a later run resumes them.
func (r *Runner) Run(ctx context.Context, sp Spec) (Summary, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	start := time.Now()
	if sp.Now.IsZero() {
		sp.Now = time.Now()
	}
	var sum Summary
	tick := sp.Date == "" && sp.Only == 0 && sp.Resume == nil
	if tick {
		// The due index says whether anyone is due; most ticks end here.
		first, ok, err := r.Store.FirstDue()
		if err != nil || !ok || first.After(sp.Now) {
			return sum, err
		}
	}
	// The candidate index is built once per run, and only when someone is
	// due (most scheduler ticks find nobody).
	var stages stageTimes
	index := sync.OnceValues(func() (*selection.Index, error) {
		defer stages.since(&stages.load, time.Now())
		return r.index(sp.Now, true)
	})

	begun := map[string]bool{}
	var dueTotal, settled atomic.Int64
	progress := func() {
		if r.Progress != nil {
			r.Progress(int(settled.Load()), int(dueTotal.Load()))
		}
	}

	// A run stops early (sendCtx is cancelled with the *StopError) when the
	// breaker decides the failures are the operator's, not the readers'.
	sendCtx, stopSend := context.WithCancelCause(ctx)
	defer stopSend(nil)

	jobs := make(chan *mailer.Job, 2*max(r.Config.SMTP.Connections, 1))
	sendDone := make(chan error, 1)
	var recErr atomic.Pointer[error]
	setErr := func(err error) {
		if err != nil {
			recErr.CompareAndSwap(nil, &err)
		}
	}
	// Outcomes go to the store's journal: durable before the connection's
	// next message is accepted, in the buckets by the end of the run.
	br := newBreaker(func(batch []store.Outcome) error {
		defer stages.since(&stages.record, time.Now())
		return r.Store.Journal(batch...)
	})
	br.probe = func(reply *mailer.Error) error { return r.probeRelay(sendCtx, reply) }
	br.probeDomain = func(domain string) error { return r.probeDomain(sendCtx, domain) }
	go func() {
		err := r.Sender.Deliver(sendCtx, jobs, func(j *mailer.Job) {
			defer func() { settled.Add(1); progress() }()
			// The transport is done with the message: its bytes serve
			// the next Compose.
			defer r.Composer.Release(j.Raw)
			if errors.Is(j.LastErr, mailer.ErrRelayLacks) {
				// The relay lacks what the settings require (STARTTLS,
				// AUTH): nothing could be tried for this reader, who
				// stays pending; the run stops at once.
				if stop := br.lacking(j.LastErr); stop != nil {
					stopSend(stop)
				}
				return
			}
			o, ok := r.outcome(j)
			if !ok {
				return // never attempted: stays pending for the resumed run
			}
			stop, err := br.observe(o, j.LastErr, recipientDomain(j.Msg.To))
			setErr(err)
			if stop != nil {
				stopSend(stop)
			}
		})
		// A sender that gave up early (closed, say) reads no more: drain
		// so the prepare workers are not stuck; those jobs stay pending.
		for range jobs {
		}
		sendDone <- err
	}()

	// Prepare workers: select, render and compose in parallel.
	work := make(chan *prepared, 256)
	var skipMu sync.Mutex
	var skips []store.Outcome
	flushSkips := func() {
		skipMu.Lock()
		batch := skips
		skips = nil
		skipMu.Unlock()
		if len(batch) > 0 {
			if r.Metrics != nil {
				for _, o := range batch {
					// "render error: <details>" -> "render error": a label
					// must not take unbounded values.
					reason, _, _ := strings.Cut(o.Delivery.Reason, ":")
					r.Metrics.Messages.WithLabelValues("skipped", reason).Inc()
				}
			}
			setErr(r.Store.Record(batch...))
			settled.Add(int64(len(batch)))
			progress()
		}
	}
	var wg sync.WaitGroup
	for range max(runtime.GOMAXPROCS(0), 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range work {
				ix, err := index()
				if err != nil {
					setErr(err)
					continue
				}
				job, skip := r.prepare(ix, sp, p, &stages)
				if job == nil {
					skipMu.Lock()
					skips = append(skips, skip)
					skipMu.Unlock()
					continue
				}
				select {
				case jobs <- job:
				case <-sendCtx.Done():
				}
			}
		}()
	}

	pol := r.policy()
	produceErr := r.subscribers(sp, tick, func(batch []model.Subscriber) error {
		if sendCtx.Err() != nil {
			return sendCtx.Err()
		}
		byDate := map[string][]uint64{}
		var due []prepared
		var early []uint64
		for i := range batch {
			date, ok := sp.due(&batch[i], pol)
			if !ok {
				if tick {
					early = append(early, batch[i].ID)
				}
				continue
			}
			byDate[date] = append(byDate[date], batch[i].ID)
			due = append(due, prepared{sub: batch[i], date: date})
		}
		// The index had them early (a new subscriber before their hour, a
		// change of zone): move them on, so the next tick does not read
		// them again.
		if err := r.Store.NotDueYet(early, sp.Now); err != nil {
			return err
		}
		if len(due) == 0 {
			return nil
		}
		settledInTick := map[uint64]bool{}
		for date, ids := range byDate {
			if sp.Date == "" {
				// Scheduled ticks do not reconsider who was already settled
				// today, nor touch the day's run when that is everyone.
				states, err := r.Store.LedgerStates(date, ids)
				if err != nil {
					return err
				}
				for id, st := range states {
					if st == model.DeliverySkipped || st == model.DeliverySent || st == model.DeliveryBounced {
						settledInTick[id] = true
					}
				}
				if len(settledInTick) > 0 {
					ids = slices.DeleteFunc(ids, func(id uint64) bool { return settledInTick[id] })
				}
				if len(ids) == 0 {
					continue
				}
			}
			if !begun[date] {
				if _, err := r.Store.BeginRun(date, sp.Now); err != nil {
					return err
				}
				begun[date] = true
			}
			if _, err := r.Store.AddDue(date, ids); err != nil {
				return err
			}
		}
		var withHistory []uint64
		for _, p := range due {
			if p.sub.LastDigest != "" {
				withHistory = append(withHistory, p.sub.ID)
			}
		}
		// Only the day's candidates can be left out for having been sent:
		// the rest of each reader's history is not read.
		var sent map[uint64]store.SentPapers
		if len(withHistory) > 0 {
			ix, err := index()
			if err != nil {
				return err
			}
			if sent, err = r.Store.SentSets(withHistory, ix.IDs()); err != nil {
				return err
			}
		}
		for i := range due {
			if settledInTick[due[i].sub.ID] {
				continue
			}
			dueTotal.Add(1)
			p := due[i]
			p.sent = sent[p.sub.ID]
			select {
			case work <- &p:
			case <-sendCtx.Done():
				return sendCtx.Err()
			}
		}
		flushSkips()
		return nil
	})
	close(work)
	wg.Wait()
	flushSkips()
	close(jobs)
	sendErr := <-sendDone
	stop, err := br.finish()
	setErr(err)
	setErr(r.Store.Flush())
	if e := recErr.Load(); e != nil && produceErr == nil {
		produceErr = *e
	}

	dates := make([]string, 0, len(begun))
	for d := range begun {
		dates = append(dates, d)
	}
	sort.Strings(dates)
	interrupted := ctx.Err() != nil
	unreached, unreachedErr := br.unreachable()
	for _, d := range dates {
		var run model.Run
		var err error
		if stop != nil {
			run, err = r.Store.StopRun(d, stop.Error(), time.Now())
		} else if interrupted || produceErr != nil || sendErr != nil {
			run, err = r.Store.Run(d)
		} else {
			run, err = r.Store.FinishRun(d, time.Now())
			if err == nil && unreached > 0 {
				// Finished, but nothing got through: status says why.
				run, err = r.Store.StopRun(d, "the SMTP server could not be reached: "+unreachedErr.Error(), time.Now())
			}
		}
		if err != nil {
			return sum, err
		}
		sum.Runs = append(sum.Runs, run)
	}
	sum.Duration = time.Since(start)
	for _, run := range sum.Runs {
		sum.Sent += run.Sent
		sum.Failed += run.Failed
		sum.Skipped += run.Skipped
		sum.Bounced += run.Bounced
		sum.Due += run.Due
		sum.Pending += max(run.Due-run.Sent-run.Failed-run.Skipped-run.Bounced, 0)
		r.Log.Info("digest run", append([]any{"date", run.Date, "due", run.Due, "sent", run.Sent, "failed", run.Failed,
			"skipped", run.Skipped, "bounced", run.Bounced, "attempt", run.Attempts,
			"duration_ms", sum.Duration.Milliseconds(), "interrupted", interrupted}, stages.attrs()...)...)
	}
	if r.Metrics != nil && len(sum.Runs) > 0 {
		r.Metrics.RunDuration.Observe(sum.Duration.Seconds())
	}
	if len(sum.Runs) > 0 && !interrupted {
		r.pruneLedgers()
		r.pruneSent(sp.Now)
	}
	for _, o := range br.refusals() {
		if stop != nil {
			break // the stop below names the reply
		}
		r.Log.Error("the relay refused digests for reasons that are not the readers' (nobody was marked bounced; they are retried in the next run)",
			"reply", o.reply.Reply(), "stage", string(o.reply.Stage), "refused", o.n)
	}
	for _, d := range br.refusedDomains() {
		r.Log.Error("the relay refused every recipient at a domain, its postmaster too (nobody there was marked bounced; they are retried in the next run)",
			"domain", d.domain, "reply", d.reply.Reply(), "refused", d.n, "not_charged", d.spared)
	}
	if unreached > 0 && stop == nil && !interrupted {
		r.Log.Error("the SMTP server could not be reached: nothing was sent (nobody was marked bounced; the next run tries again)",
			"failed", unreached, "error", unreachedErr.Error())
	}
	if stop != nil {
		r.Log.Error("digest run stopped: the failure is the operator's, not the readers' (nobody was marked bounced; the rest stay pending for the next run)",
			"reason", stop.Why, "reply", stop.detail(), "stage", string(stop.Reply.Stage), "pending", sum.Pending)
		return sum, stop
	}
	switch {
	case produceErr != nil && !errors.Is(produceErr, context.Canceled) && !errors.Is(produceErr, context.DeadlineExceeded):
		return sum, produceErr
	case sendErr != nil && !interrupted:
		return sum, sendErr
	case interrupted:
		return sum, ctx.Err()
	}
	return sum, nil
}

// subscribers streams the subscribers a run considers: for a scheduled
// tick only those the due index has due by now, for one subscriber or a
// resumed run only those, and for an operator's date everyone.
func (r *Runner) subscribers(sp Spec, tick bool, fn func([]model.Subscriber) error) error {
	switch {
	case tick:
		return r.Store.DueSubscribers(sp.Now, 1000, fn)
	case sp.Only != 0:
		return r.byID([]uint64{sp.Only}, fn)
	case sp.Resume != nil:
		ids := make([]uint64, 0, len(sp.Resume))
		for id, ok := range sp.Resume {
			if ok {
				ids = append(ids, id)
			}
		}
		slices.Sort(ids)
		for len(ids) > 0 {
			n := min(len(ids), 1000)
			if err := r.byID(ids[:n], fn); err != nil {
				return err
			}
			ids = ids[n:]
		}
		return nil
	}
	return r.Store.ForEachSubscriber(1000, fn)
}

// byID calls fn with the subscribers of ids that still exist.
func (r *Runner) byID(ids []uint64, fn func([]model.Subscriber) error) error {
	subs, err := r.Store.SubscribersByID(ids)
	if err != nil || len(subs) == 0 {
		return err
	}
	return fn(subs)
}

// outcome turns a finished job into a ledger outcome; ok is false for a job
// that was never attempted (the run was interrupted first).
func (r *Runner) outcome(j *mailer.Job) (store.Outcome, bool) {
	meta := j.Meta.(*jobMeta)
	d := model.Delivery{SubscriberID: j.Ref, Attempts: j.Attempts, MessageID: j.Msg.MessageID, At: time.Now().UTC(),
		EntityRef: j.Msg.EntityRefID}
	var reply *mailer.Error
	if errors.As(j.LastErr, &reply) && reply.Code != 0 {
		d.Code, d.Enhanced = reply.Code, reply.Enhanced
	}
	fault := mailer.FaultOf(j.LastErr)
	switch j.Result {
	case mailer.Sent:
		d.State = model.DeliverySent
		d.Papers = meta.papers
		if meta.fallback {
			d.Reason = ReasonFallback
		}
	case mailer.Bounced:
		d.State = model.DeliveryBounced
		d.Reason = errString(j.LastErr)
	case mailer.Failed:
		d.State = model.DeliveryFailed
		d.Reason = errString(j.LastErr)
		r.Log.Warn("digest not delivered", "subscriber", j.Ref, "date", meta.date, "error", d.Reason, "fault", fault.String())
	default: // TempFailed
		if errors.Is(j.LastErr, context.Canceled) || errors.Is(j.LastErr, context.DeadlineExceeded) {
			return store.Outcome{}, false // interrupted: stays pending for the resumed run
		}
		d.State = model.DeliveryFailed
		d.Reason = errString(j.LastErr)
		r.Log.Warn("digest delivery failed, will retry in a later run", "subscriber", j.Ref, "date", meta.date, "attempts", j.Attempts, "error", d.Reason)
	}
	// Only a reply about this mailbox (4.2.x, mailbox full) counts toward
	// a soft bounce; a relay that is down, refusing for its own reasons
	// (4.3.x, 4.7.x...) or closing the channel says nothing of the address.
	notBounce := d.State == model.DeliveryFailed && fault != mailer.FaultMailboxSoft
	return store.Outcome{Date: meta.date, Delivery: d, SoftLimit: r.Config.Bounce.SoftLimit, NotBounce: notBounce}, true
}

type jobMeta struct {
	date     string
	papers   []string
	fallback bool // trending papers only: no interest matched
}

// recipientDomain is the lower-cased domain of a bare address.
func recipientDomain(addr string) string {
	return strings.ToLower(addr[strings.LastIndexByte(addr, '@')+1:])
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func newID() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ResumeInterrupted finishes every recent run that did not finish (the
// process was killed or stopped mid-run): each subscriber still pending or
// failed in its ledger, and due, gets that date's digest.
func (r *Runner) ResumeInterrupted(ctx context.Context, now time.Time) error {
	runs, err := r.Store.Runs(14)
	if err != nil {
		return err
	}
	for _, run := range runs {
		if !run.Finished.IsZero() {
			continue
		}
		ledger, err := r.Store.Ledger(run.Date)
		if err != nil {
			return err
		}
		todo := make(map[uint64]bool)
		for id, d := range ledger {
			if d.State == model.DeliveryPending || d.State == model.DeliveryFailed {
				todo[id] = true
			}
		}
		r.Log.Info("resuming interrupted digest run", "date", run.Date, "remaining", len(todo))
		sum, err := r.Run(ctx, Spec{Now: now, Date: run.Date, Resume: todo})
		if err != nil {
			return fmt.Errorf("resume run %s: %w", run.Date, err)
		}
		if len(sum.Runs) == 0 {
			// Nobody left is due (unsubscribed or served since): done.
			if _, err := r.Store.FinishRun(run.Date, time.Now()); err != nil {
				return fmt.Errorf("resume run %s: %w", run.Date, err)
			}
		}
	}
	return nil
}

// Wait blocks until no run is in progress or ctx ends; it reports whether
// the runner went idle. Shutdown calls it before closing the store.
func (r *Runner) Wait(ctx context.Context) bool {
	idle := make(chan struct{})
	go func() {
		r.mu.Lock()
		r.mu.Unlock()
		close(idle)
	}()
	select {
	case <-idle:
		return true
	case <-ctx.Done():
		return false
	}
}
