package digest_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/papermail/papermail/internal/backoff"
	"github.com/papermail/papermail/internal/digest"
	"github.com/papermail/papermail/internal/mailer"
	"github.com/papermail/papermail/internal/smtptest"
)

// TestOutboxKeepsMailWhileTheRelayIsDown: a relay that fails before any
// recipient is named (nothing listening, TLS failing, 421 at the greeting,
// a temporary refusal of MAIL FROM) is the operator's problem, like a
// refused password: each flush stops with an *digest.OperatorError naming
// the relay, every confirmation stays queued and due with no attempt
// counted and no error recorded against it, and once a working relay is
// configured each reader gets the confirmation once.
func TestOutboxKeepsMailWhileTheRelayIsDown(t *testing.T) {
	t.Parallel()
	const n, passes = 3, 3
	tests := []struct {
		name string
		// relay starts the failing relay (nil: nothing listens) and tweaks
		// the transport.
		relay func(t *testing.T) (*smtptest.Server, func(*mailer.Config))
		want  string
	}{
		{name: "connection refused", want: "connection refused"},
		{name: "implicit TLS to a plain relay", want: "smtp tls", relay: func(t *testing.T) (*smtptest.Server, func(*mailer.Config)) {
			return smtptest.StartT(t, smtptest.Options{}), func(c *mailer.Config) { c.TLS = "tls" }
		}},
		{name: "STARTTLS with an untrusted certificate", want: "smtp starttls", relay: func(t *testing.T) (*smtptest.Server, func(*mailer.Config)) {
			return smtptest.StartT(t, smtptest.Options{TLS: "starttls"}), func(c *mailer.Config) { c.TLS = "starttls"; c.TLSConfig = nil }
		}},
		{name: "421 at the greeting", want: "421", relay: func(t *testing.T) (*smtptest.Server, func(*mailer.Config)) {
			return smtptest.StartT(t, smtptest.Options{StartDelay: time.Hour}), nil
		}},
		{name: "451 at MAIL FROM", want: "451 4.3.0", relay: func(t *testing.T) (*smtptest.Server, func(*mailer.Config)) {
			return startRelay(t, smtptest.Options{}, nil, reply(451, smtp.EnhancedCode{4, 3, 0}, "Local error in processing")).srv, nil
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := newRig(t, nil)
			emails := queueConfirmations(t, g, n)
			fast := func(c *mailer.Config) { c.MaxAttempts = 2 }
			var srv *smtptest.Server
			var tr *mailer.SMTP
			if tc.relay == nil {
				tr = g.transport(closedPort(t), fast)
			} else {
				var tweak func(*mailer.Config)
				srv, tweak = tc.relay(t)
				tr = g.useServer(srv, func(c *mailer.Config) {
					fast(c)
					if tweak != nil {
						tweak(c)
					}
				})
			}
			ob := digest.NewOutbox(g.st, tr, g.log)
			for pass := 1; pass <= passes; pass++ {
				sent, err := ob.Flush(context.Background())
				var oe *digest.OperatorError
				if sent != 0 || !errors.As(err, &oe) || !strings.Contains(err.Error(), "relay 127.0.0.1:") || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("pass %d: %d sent, error %v; want nothing sent and an OperatorError naming the relay and %q", pass, sent, err, tc.want)
				}
			}
			items := outboxItems(t, g)
			due, err := g.st.DueOutbox(time.Now(), 1000)
			if len(items) != n || err != nil || len(due) != n {
				t.Fatalf("after %d passes: %d items, %d due (%v); want all %d queued and due", passes, len(items), len(due), err, n)
			}
			for _, e := range emails {
				if it := items[e]; it.Attempts != 0 || it.LastError != "" {
					t.Errorf("confirmation to %s: %d attempts, last error %q; want none counted", e, it.Attempts, it.LastError)
				}
			}
			if srv != nil && srv.Count() != 0 {
				t.Fatalf("the failing relay accepted %d messages", srv.Count())
			}

			// The relay is fixed (here: a working one is configured).
			good := smtptest.StartT(t, smtptest.Options{})
			ob = digest.NewOutbox(g.st, g.useServer(good, nil), g.log)
			if sent, err := ob.Flush(context.Background()); err != nil || sent != n {
				t.Fatalf("flush to a working relay: %d sent, %v; want %d", sent, err, n)
			}
			counts := good.CountByRecipient()
			for _, e := range emails {
				if counts[e] != 1 {
					t.Errorf("%s received %d confirmations, want 1", e, counts[e])
				}
			}
			if got, err := g.st.OutboxLen(); err != nil || got != 0 {
				t.Errorf("outbox after the fix holds %d items (%v), want none", got, err)
			}
		})
	}
}

// passLog records the outbox worker's ERROR lines (one a failed pass) and
// its recovery line.
type passLog struct {
	mu        sync.Mutex
	at        []time.Time
	steps     []int64
	recovered bool
}

func (l *passLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *passLog) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *passLog) WithGroup(string) slog.Handler            { return l }
func (l *passLog) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if strings.Contains(r.Message, "takes mail again") {
		l.recovered = true
	}
	if r.Level < slog.LevelError {
		return nil
	}
	step := int64(-1)
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "passes_failed" {
			step = a.Value.Int64()
		}
		return true
	})
	l.at, l.steps = append(l.at, time.Now()), append(l.steps, step)
	return nil
}

func (l *passLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.at)
}

// TestOutboxBacksOffWhileTheRelayRefusesUs: the daemon's worker, polling
// every millisecond and woken every millisecond, meets a relay refusing
// our sender. It does not try again at every poll or wake: its passes are
// spaced by the back-off policy (each wait at least half the doubled
// delay), it logs one ERROR line per pass with the pass count, and the
// relay sees no more connections than those passes make. Once the relay
// is fixed, the next pass sends every confirmation once and says the
// relay takes mail again.
func TestOutboxBacksOffWhileTheRelayRefusesUs(t *testing.T) {
	t.Parallel()
	const n, steps = 3, 6
	g := newRig(t, nil)
	emails := queueConfirmations(t, g, n)
	rl := startRelay(t, smtptest.Options{}, nil, reply(553, smtp.EnhancedCode{5, 7, 1}, "Sender address rejected: not owned by user"))
	tr := g.useServer(rl.srv, nil)
	conns := tr.Config().Connections
	l := &passLog{}
	ob := digest.NewOutbox(g.st, tr, slog.New(l))
	ob.Poll = time.Millisecond
	down := backoff.Policy{Base: 40 * time.Millisecond, Max: 160 * time.Millisecond}
	ob.Down = down

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() { defer close(done); ob.Run(ctx) }()
	stopWaking := make(chan struct{})
	woke := make(chan struct{})
	go func() {
		defer close(woke)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stopWaking:
				return
			case <-tick.C:
				ob.Wake()
			}
		}
	}()
	for deadline := time.Now().Add(30 * time.Second); l.count() < steps; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the worker logged %d failed passes in 30s, want %d", l.count(), steps)
		}
	}
	connsAtSteps := rl.srv.Conns()
	l.mu.Lock()
	at, got := append([]time.Time(nil), l.at[:steps]...), append([]int64(nil), l.steps[:steps]...)
	l.mu.Unlock()
	for i, s := range got {
		if s != int64(i+1) {
			t.Fatalf("ERROR lines carry passes_failed %v, want 1..%d: one line a pass", got, steps)
		}
	}
	for i := 1; i < steps; i++ {
		// The wait after failed pass i is Delay(i): at least half of
		// Base·2^(i-1), capped at Max.
		least := min(down.Base<<(i-1), down.Max) / 2
		if gap := at[i].Sub(at[i-1]); gap < least {
			t.Errorf("pass %d came %v after pass %d, want at least %v (the back-off)", i+1, gap, i, least)
		}
	}
	// Each pass dials at most one connection per configured connection
	// (and one more for the item the sender held); the pass in progress
	// counts too.
	if max := (steps + 1) * (conns + 1); connsAtSteps > max {
		t.Errorf("the relay saw %d connections over %d passes, want at most %d", connsAtSteps, steps, max)
	}
	if got := outboxItems(t, g); len(got) != n {
		t.Fatalf("while backing off the outbox holds %d items, want %d", len(got), n)
	}

	// The relay is fixed: a later pass (the back-off is at most Max)
	// sends everything once.
	rl.broken.Store(false)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		left, err := g.st.OutboxLen()
		l.mu.Lock()
		recovered := l.recovered
		l.mu.Unlock()
		if err != nil || left == 0 && recovered {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("30s after the relay's fix the outbox holds %d items, recovery logged: %v; want empty and logged", left, recovered)
		}
	}
	close(stopWaking)
	<-woke
	cancel()
	<-done
	counts := rl.srv.CountByRecipient()
	for _, e := range emails {
		if counts[e] != 1 {
			t.Errorf("%s received %d confirmations, want 1", e, counts[e])
		}
	}
}
