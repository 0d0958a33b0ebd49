package digest_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/papermail/papermail/internal/config"
	"github.com/papermail/papermail/internal/digest"
	"github.com/papermail/papermail/internal/mailer"
	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/selection"
	"github.com/papermail/papermail/internal/smtptest"
	"github.com/papermail/papermail/internal/store"
)

// TestRateAndConnectionLimits runs a digest with smtp.connections 2,
// max_per_connection 5 and rate_per_second 40 against a relay that
// enforces five messages per connection: never more than two connections
// at once, none carries more than five messages, the relay never has to
// refuse one, and 40 messages take at least 39 rate intervals.
func TestRateAndConnectionLimits(t *testing.T) {
	t.Parallel()
	const n = 40
	g := newRig(t, func(c *config.Config) {
		c.SMTP.Connections, c.SMTP.MaxPerConnection, c.SMTP.RatePerSecond = 2, 5, 40
	})
	now := time.Now()
	g.ingestPage(now.Add(-time.Hour))
	subs := g.addSubscribers(n, now, nil)
	srv := smtptest.StartT(t, smtptest.Options{MaxMessagesPerConn: 5})
	g.useServer(srv, nil)
	var mu sync.Mutex
	var calls, lastDone, lastDue int
	g.r.Progress = func(done, due int) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		lastDone, lastDue = max(lastDone, done), max(lastDue, due)
	}
	start := time.Now()
	sum, err := g.r.Run(context.Background(), digest.Spec{Now: now, Date: today(now)})
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Sent != n {
		t.Fatalf("summary %+v, want %d sent", sum, n)
	}
	counts := srv.CountByRecipient()
	for _, s := range subs {
		if counts[s.Email] != 1 {
			t.Errorf("%s received %d digests", s.Email, counts[s.Email])
		}
	}
	if c := srv.MaxConcurrentConns(); c > 2 {
		t.Errorf("%d connections at once, want at most 2", c)
	}
	per := srv.MessagesPerConn()
	for i, m := range per {
		if m > 5 {
			t.Errorf("connection %d carried %d messages, want at most 5", i, m)
		}
	}
	if len(per) < n/5 {
		t.Errorf("%d connections carried %d messages: more than 5 each", len(per), n)
	}
	if v := srv.LimitViolations(); v != 0 {
		t.Errorf("the relay refused %d messages over its per-connection limit", v)
	}
	if calls != n || lastDone != n || lastDue != n {
		t.Errorf("progress: %d calls, reached %d of %d; want %d of %d", calls, lastDone, lastDue, n, n)
	}
	if least := 39 * time.Second / 40; took < least {
		t.Errorf("%d messages at 40/s took %v, want at least %v", n, took, least)
	}
}

// TestGracefulShutdown cancels a run mid-way against a slow relay: Run
// returns promptly, every message the relay accepted is recorded sent
// (in-flight transactions are finished and written, not dropped), the
// others stay pending, the run stays unfinished, and ResumeInterrupted
// then completes it with everyone served exactly once.
func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	const n = 80
	g := newRig(t, nil)
	now := time.Now()
	date := today(now)
	g.ingestPage(now.Add(-time.Hour))
	subs := g.addSubscribers(n, now, nil)
	srv := smtptest.StartT(t, smtptest.Options{DataDelay: 50 * time.Millisecond})
	g.useServer(srv, nil)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	canceled := make(chan time.Time, 1)
	go func() {
		if srv.WaitFor(10, time.Minute) {
			cancel()
			canceled <- time.Now()
		}
	}()
	sum, err := g.r.Run(ctx, digest.Spec{Now: now, Date: date})
	returned := time.Now()
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run returned %v, want context.Canceled", err)
	}
	var at time.Time
	select {
	case at = <-canceled:
	default:
		t.Fatal("Run returned before it was canceled")
	}
	if d := returned.Sub(at); d > 5*time.Second {
		t.Errorf("Run took %v to return after cancel", d)
	}
	accepted := srv.CountByRecipient()
	if len(accepted) >= n {
		t.Fatalf("all %d were sent before the cancel took effect", n)
	}
	led := g.ledger(date)
	if len(led) != n {
		t.Errorf("ledger has %d lines, want %d", len(led), n)
	}
	sent := 0
	for _, s := range subs {
		d := led[s.ID]
		switch {
		case accepted[s.Email] > 1:
			t.Errorf("%s received %d digests", s.Email, accepted[s.Email])
		case accepted[s.Email] == 1 && d.State != model.DeliverySent:
			t.Errorf("%s: the relay accepted the digest but the ledger says %q", s.Email, d.State)
		case accepted[s.Email] == 0 && d.State != model.DeliveryPending:
			t.Errorf("%s: nothing was accepted but the ledger says %q (%s)", s.Email, d.State, d.Reason)
		}
		if d.State == model.DeliverySent {
			sent++
		}
	}
	t.Logf("canceled after %d accepted; Run returned %v later", len(accepted), returned.Sub(at).Round(time.Millisecond))
	run := g.run(date)
	if !run.Finished.IsZero() || run.Sent != sent || run.Sent != len(accepted) || sum.Sent != sent {
		t.Errorf("interrupted run %+v (summary sent %d), want unfinished with %d sent", run, sum.Sent, len(accepted))
	}

	// The daemon's next start resumes the run.
	if err := g.r.ResumeInterrupted(context.Background(), now.Add(time.Minute)); err != nil {
		t.Fatalf("resume: %v", err)
	}
	counts := srv.CountByRecipient()
	for _, s := range subs {
		if counts[s.Email] != 1 {
			t.Errorf("after resume %s has %d digests, want 1", s.Email, counts[s.Email])
		}
	}
	run = g.run(date)
	if run.Finished.IsZero() || run.Sent != n || run.Due != n || run.Attempts != 2 {
		t.Errorf("resumed run %+v, want finished with %d sent after 2 attempts", run, n)
	}
	// Nothing left to resume.
	before := srv.Count()
	if err := g.r.ResumeInterrupted(context.Background(), now.Add(2*time.Minute)); err != nil || srv.Count() != before {
		t.Errorf("a second resume: %v, %d more messages", err, srv.Count()-before)
	}
}

// TestFeedbackShiftsSelection records "less like this" on a subscriber's
// top paper and "more like this" on a lower one, the way the web handler
// stores them: the next preview leaves the disliked paper out and ranks
// the liked one higher, and the next digest follows.
func TestFeedbackShiftsSelection(t *testing.T) {
	t.Parallel()
	g := newRig(t, func(c *config.Config) { c.Digest.MaxPapers = 20 })
	now := time.Now()
	g.ingestPage(now.Add(-time.Hour))
	sub := g.addSubscribers(1, now, func(_ int, s *model.Subscriber) { s.Interests = []string{"language models"} })[0]
	before, err := g.r.PreviewFor(&sub, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(before) < 15 {
		t.Fatalf("only %d papers for %q", len(before), sub.Interests[0])
	}
	disliked, liked := before[0].Paper.ID, before[12].Paper.ID
	sub, err = g.st.UpdateSubscriber(sub.ID, func(s *model.Subscriber) error {
		s.Feedback = append(s.Feedback,
			model.Feedback{PaperID: disliked, Title: before[0].Paper.Title, Value: -1, At: now},
			model.Feedback{PaperID: liked, Title: before[12].Paper.Title, Value: 1, At: now})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	after, err := g.r.PreviewFor(&sub, now)
	if err != nil {
		t.Fatal(err)
	}
	rank := func(picks []selection.Pick, id string) int {
		return slices.IndexFunc(picks, func(p selection.Pick) bool { return p.Paper.ID == id })
	}
	if r := rank(after, disliked); r >= 0 {
		t.Errorf("the disliked paper is still picked, at rank %d", r+1)
	}
	if r := rank(after, liked); r < 0 || r >= 12 || after[r].Score <= before[12].Score {
		t.Errorf("the liked paper went from rank 13 (score %.3f) to rank %d; want higher", before[12].Score, r+1)
	}
	if len(after) != len(before) {
		t.Errorf("%d picks after feedback, %d before", len(after), len(before))
	}

	srv := smtptest.StartT(t, smtptest.Options{})
	g.useServer(srv, nil)
	if _, err := g.r.Run(context.Background(), digest.Spec{Now: now, Date: today(now)}); err != nil {
		t.Fatal(err)
	}
	d := g.ledger(today(now))[sub.ID]
	if d.State != model.DeliverySent || slices.Contains(d.Papers, disliked) || !slices.Contains(d.Papers, liked) {
		t.Errorf("digest after feedback: %+v; want sent, with %s and without %s", d, liked, disliked)
	}
}

// TestSenderGivesUpEarly runs a digest through a transport that refuses
// to deliver at all (it was closed): Run must return its error promptly
// instead of waiting forever for someone to take the prepared mail, leave
// every subscriber pending and the run unfinished, so that resuming with a
// working transport delivers everything once.
func TestSenderGivesUpEarly(t *testing.T) {
	t.Parallel()
	const n = 30
	g := newRig(t, nil)
	now := time.Now()
	date := today(now)
	g.ingestPage(now.Add(-time.Hour))
	subs := g.addSubscribers(n, now, nil)
	srv := smtptest.StartT(t, smtptest.Options{})
	closed := g.useServer(srv, nil)
	closed.Close()

	type result struct {
		sum digest.Summary
		err error
	}
	ch := make(chan result, 1)
	go func() {
		sum, err := g.r.Run(context.Background(), digest.Spec{Now: now, Date: date})
		ch <- result{sum, err}
	}()
	var res result
	select {
	case res = <-ch:
	case <-time.After(20 * time.Second):
		t.Fatal("Run still waiting 20s after the transport refused to deliver")
	}
	if !errors.Is(res.err, mailer.ErrClosed) {
		t.Errorf("Run returned %v, want the transport's ErrClosed", res.err)
	}
	if got := states(g.ledger(date)); got[model.DeliveryPending] != n {
		t.Errorf("ledger states %v, want all %d pending", got, n)
	}
	if run := g.run(date); !run.Finished.IsZero() {
		t.Errorf("run %+v is marked finished", run)
	}

	g.useServer(srv, nil)
	if err := g.r.ResumeInterrupted(context.Background(), now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	counts := srv.CountByRecipient()
	for _, s := range subs {
		if counts[s.Email] != 1 {
			t.Errorf("%s received %d digests, want 1", s.Email, counts[s.Email])
		}
	}
}

// TestResumeInterrupted leaves two runs unfinished the way a killed
// process does (ledger lines written, run not finished) and resumes them:
// pending and failed lines that are still due get their digest once,
// sent lines and subscribers who left since get nothing, and both runs end
// finished, including the one where nobody was left to serve.
func TestResumeInterrupted(t *testing.T) {
	t.Parallel()
	g := newRig(t, nil)
	now := time.Now()
	date, yesterday := today(now), today(now.Add(-24*time.Hour))
	g.ingestPage(now.Add(-time.Hour))
	subs := g.addSubscribers(4, now, nil)
	pending, left, failed, sent := subs[0], subs[1], subs[2], subs[3]
	ids := []uint64{pending.ID, left.ID, failed.ID, sent.ID}
	for _, d := range []string{yesterday, date} {
		if _, err := g.st.BeginRun(d, now.Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := g.st.AddDue(yesterday, []uint64{left.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := g.st.AddDue(date, ids); err != nil {
		t.Fatal(err)
	}
	for _, o := range []store.Outcome{
		{Date: date, NotBounce: true, Delivery: model.Delivery{SubscriberID: failed.ID, State: model.DeliveryFailed, Reason: "connection refused", Attempts: 5}},
		{Date: date, Delivery: model.Delivery{SubscriberID: sent.ID, State: model.DeliverySent, Papers: []string{"x"}, MessageID: "m@x"}},
	} {
		if err := g.st.Record(o); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := g.st.UpdateSubscriber(left.ID, func(s *model.Subscriber) error { s.State = model.StateUnsubscribed; return nil }); err != nil {
		t.Fatal(err)
	}

	srv := smtptest.StartT(t, smtptest.Options{})
	g.useServer(srv, nil)
	if err := g.r.ResumeInterrupted(context.Background(), now); err != nil {
		t.Fatal(err)
	}
	counts := srv.CountByRecipient()
	want := map[string]int{pending.Email: 1, failed.Email: 1}
	if len(counts) != len(want) || counts[pending.Email] != 1 || counts[failed.Email] != 1 {
		t.Errorf("received %v, want %v", counts, want)
	}
	led := g.ledger(date)
	for id, st := range map[uint64]string{pending.ID: model.DeliverySent, failed.ID: model.DeliverySent,
		sent.ID: model.DeliverySent, left.ID: model.DeliveryPending} {
		if led[id].State != st {
			t.Errorf("subscriber %d: ledger %q, want %q", id, led[id].State, st)
		}
	}
	for _, d := range []string{yesterday, date} {
		if run := g.run(d); run.Finished.IsZero() {
			t.Errorf("run %s is still unfinished after resume: %+v", d, run)
		}
	}
}
