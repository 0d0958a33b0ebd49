package digest_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/papermail/papermail/internal/digest"
	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/smtptest"
	"github.com/papermail/papermail/internal/store"
	"github.com/papermail/papermail/internal/subscription"
)

// TestOutboxCrashSafe queues a confirmation for a new subscriber, then
// "crashes" (the store is closed and opened again before anything was
// sent): the subscriber and its confirmation survived together, a flush
// delivers the mail exactly once and empties the outbox, and a second
// request within ConfirmInterval queues nothing.
func TestOutboxCrashSafe(t *testing.T) {
	t.Parallel()
	g := newRig(t, nil)
	now := time.Now()
	subscribe := func(at time.Time) (bool, error) {
		t.Helper()
		svc, err := subscription.New(subscription.Deps{Store: g.st, Mail: g.r, Now: func() time.Time { return at }})
		if err != nil {
			t.Fatal(err)
		}
		return svc.Subscribe(subscription.Request{Email: "new@example.org", Interests: []string{"graph neural networks"}, Source: "web"})
	}
	if ok, err := subscribe(now); err != nil || !ok {
		t.Fatalf("Subscribe = %v, %v", ok, err)
	}

	g.reopen()
	stored, err := g.st.SubscriberByEmail("new@example.org")
	if err != nil {
		t.Fatalf("subscriber lost in the crash: %v", err)
	}
	conf, err := g.st.Confirmation(stored.ID)
	if stored.State != model.StatePending || err != nil || conf.Nonce == "" {
		t.Errorf("stored subscriber %+v, confirmation %+v (%v)", stored, conf, err)
	}
	items, err := g.st.DueOutbox(time.Now(), 0)
	if err != nil || len(items) != 1 || items[0].SubscriberID != stored.ID || items[0].Kind != "confirm" {
		t.Fatalf("outbox after the crash: %+v, %v", items, err)
	}

	srv := smtptest.StartT(t, smtptest.Options{})
	g.useServer(srv, nil)
	ob := digest.NewOutbox(g.st, g.r.Sender, g.log)
	sent, err := ob.Flush(context.Background())
	if err != nil || sent != 1 {
		t.Fatalf("Flush = %d, %v; want 1 sent", sent, err)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 || len(msgs[0].To) != 1 || msgs[0].To[0] != "new@example.org" {
		t.Fatalf("relay got %+v, want one confirmation to new@example.org", msgs)
	}
	if text := textPart(t, msgs[0].Data); !strings.Contains(text, g.cfg.BaseURL+"/confirm/") {
		t.Errorf("the confirmation has no confirm link:\n%s", text)
	}
	if n, err := g.st.OutboxLen(); err != nil || n != 0 {
		t.Errorf("outbox holds %d items after delivery (%v)", n, err)
	}
	if sent, err := ob.Flush(context.Background()); err != nil || sent != 0 || srv.Count() != 1 {
		t.Errorf("a second flush sent %d (%v), relay has %d", sent, err, srv.Count())
	}

	// Asking again within ConfirmInterval changes nothing.
	ok, err := subscribe(now.Add(subscription.ConfirmInterval - time.Minute))
	if err != nil || ok {
		t.Fatalf("second Subscribe within %v = %v, %v; want false", subscription.ConfirmInterval, ok, err)
	}
	if n, _ := g.st.OutboxLen(); n != 0 {
		t.Errorf("the refused request queued %d items", n)
	}
	if cur, _ := g.st.Confirmation(stored.ID); cur.Nonce != conf.Nonce || !cur.SentAt.Equal(conf.SentAt) {
		t.Errorf("the refused request changed the confirmation: %+v", cur)
	}
	// After the interval it is allowed again.
	ok, err = subscribe(now.Add(subscription.ConfirmInterval + time.Minute))
	if err != nil || !ok {
		t.Fatalf("Subscribe after %v = %v, %v; want true", subscription.ConfirmInterval, ok, err)
	}
	if n, _ := g.st.OutboxLen(); n != 1 {
		t.Errorf("outbox holds %d items, want 1", n)
	}
}

// queueMail puts n confirmations for outbox%04d@example.org into the
// outbox, from several goroutines so they share commits as the web
// pages' do.
func queueMail(t testing.TB, st *store.Store, n int) {
	t.Helper()
	queueMailFrom(t, st, 0, n)
}

// queueMailFrom queues the confirmations of recipients first..first+n-1.
func queueMailFrom(t testing.TB, st *store.Store, first, n int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	const writers = 16
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := first + w; i < first+n; i += writers {
				to := fmt.Sprintf("outbox%04d@example.org", i)
				item := &store.OutboxItem{Kind: "confirm", SubscriberID: uint64(i + 1), To: to, Created: time.Now(),
					Mail: store.OutboxMail{From: "Papermail <digest@papers.example.org>", To: to,
						Subject: "Confirm your subscription", Text: fmt.Sprintf("Confirm, reader %d.", i), AutoSubmitted: true}}
				if err := st.Enqueue(item); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("enqueue: %v", err)
	}
}

// assertEachOnce checks that the relay got exactly one mail for each of
// the first n queued recipients and nothing else.
func assertEachOnce(t *testing.T, srv *smtptest.Server, n int) {
	t.Helper()
	counts := srv.CountByRecipient()
	for i := range n {
		if to := fmt.Sprintf("outbox%04d@example.org", i); counts[to] != 1 {
			t.Errorf("%s got %d mails, want 1", to, counts[to])
		}
	}
	if len(counts) != n || srv.Count() != n {
		t.Errorf("relay has %d mails for %d recipients, want %d each once", srv.Count(), len(counts), n)
	}
}

// TestOutboxDrainsABacklogAtOnce: a burst of 2,000 queued mails (four
// store pages) is sent in one pass of Run, each exactly once, with Run's
// poll interval set to an hour: a pass that stopped after a page and
// waited for the timer would leave the rest queued until the test gives up.
// A mail queued later with a Wake goes out at once too.
func TestOutboxDrainsABacklogAtOnce(t *testing.T) {
	t.Parallel()
	const n = 2000
	g := newRig(t, nil)
	queueMail(t, g.st, n)
	srv := smtptest.StartT(t, smtptest.Options{Discard: true})
	ob := digest.NewOutbox(g.st, g.useServer(srv, nil), g.log)
	ob.Poll = time.Hour
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan struct{})
	go func() { defer close(ran); ob.Run(ctx) }()
	defer func() { cancel(); <-ran }()

	if !srv.WaitFor(n, 2*time.Minute) {
		t.Fatalf("the relay got %d of %d queued mails; the rest waited for the poll", srv.Count(), n)
	}
	waitOutboxEmpty(t, g.st)
	assertEachOnce(t, srv, n)

	// One more, woken: sent without waiting for the hour.
	queueMailFrom(t, g.st, n, 1)
	ob.Wake()
	if !srv.WaitFor(n+1, 2*time.Minute) {
		t.Fatalf("after a Wake the relay has %d mails, want %d", srv.Count(), n+1)
	}
	waitOutboxEmpty(t, g.st)
	assertEachOnce(t, srv, n+1)
}

// waitOutboxEmpty waits until the outbox has no items: the last
// completions are recorded just after the relay accepted the mail.
func waitOutboxEmpty(t *testing.T, st *store.Store) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		n, err := st.OutboxLen()
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("outbox still holds %d items", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// outboxConns is the child's smtp.connections: at most this many accepted
// mails can be unrecorded at a kill.
const outboxConns = 4

// TestOutboxKilledMidDrain kills (SIGKILL) a process draining a backlog
// of the outbox at several points, then drains the rest in this one: every
// queued mail arrives, none more than twice, and no more duplicates than
// the child's connections (the mails in flight at the kill); the outbox
// ends empty.
func TestOutboxKilledMidDrain(t *testing.T) {
	t.Parallel()
	const n = 600
	for _, killAt := range []int{1, 250, 590} {
		t.Run(fmt.Sprintf("kill after %d", killAt), func(t *testing.T) {
			t.Parallel()
			g := newRig(t, nil)
			queueMail(t, g.st, n)
			if err := g.st.Close(); err != nil {
				t.Fatal(err)
			}
			srv := smtptest.StartT(t, smtptest.Options{DataDelay: 3 * time.Millisecond})
			exe, err := os.Executable()
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(exe, "-test.run=^$")
			cmd.Env = append(os.Environ(), envOutboxChild+"="+g.path, fmt.Sprintf("%s=%d", envOutboxPort, srv.Port()))
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			if !srv.WaitFor(killAt, time.Minute) {
				cmd.Process.Kill()
				<-exited
				t.Fatalf("the child delivered %d mails (stderr: %s)", srv.Count(), stderr.String())
			}
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			if err := <-exited; err == nil {
				t.Fatalf("the child ended by itself before the kill (stderr: %s)", stderr.String())
			}
			atKill := srv.Count()

			g.open()
			ob := digest.NewOutbox(g.st, g.useServer(srv, nil), g.log)
			if _, err := ob.Flush(context.Background()); err != nil {
				t.Fatalf("flush after the kill: %v", err)
			}
			if left, err := g.st.OutboxLen(); err != nil || left != 0 {
				t.Errorf("outbox holds %d items after the second drain (%v)", left, err)
			}
			counts := srv.CountByRecipient()
			dups := 0
			for i := range n {
				to := fmt.Sprintf("outbox%04d@example.org", i)
				switch c := counts[to]; {
				case c == 0:
					t.Errorf("%s: mail lost", to)
				case c > 2:
					t.Errorf("%s: %d mails", to, c)
				case c == 2:
					dups++
				}
			}
			if dups > outboxConns {
				t.Errorf("%d mails sent twice, more than the %d connections had in flight", dups, outboxConns)
			}
			t.Logf("killed at %d delivered; %d in all, %d sent twice", atKill, srv.Count(), dups)
		})
	}
}

// BenchmarkOutboxDrain sends a backlog of 2,000 queued mails to a relay
// on 127.0.0.1 in one flush, with the removals committed durably.
func BenchmarkOutboxDrain(b *testing.B) {
	const n = 2000
	g := newRig(b, nil)
	srv := smtptest.StartT(b, smtptest.Options{Discard: true})
	ob := digest.NewOutbox(g.st, g.useServer(srv, nil), g.log)
	for b.Loop() {
		b.StopTimer()
		queueMail(b, g.st, n)
		b.StartTimer()
		sent, err := ob.Flush(context.Background())
		if err != nil || sent != n {
			b.Fatalf("Flush = %d, %v; want %d sent", sent, err, n)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*n), "µs/mail")
}
