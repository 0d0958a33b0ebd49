package digest_test

import (
	"context"
	"errors"
	"fmt"
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
	"github.com/papermail/papermail/internal/store"
	"github.com/papermail/papermail/internal/subscription"
)

// queueConfirmations subscribes n readers through the subscription service,
// which queues one confirmation each in the outbox; it returns their
// addresses.
func queueConfirmations(t *testing.T, g *rig, n int) []string {
	t.Helper()
	now := time.Now()
	svc, err := subscription.New(subscription.Deps{Store: g.st, Mail: g.r, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	emails := make([]string, n)
	for i := range emails {
		emails[i] = fmt.Sprintf("reader%d@example.org", i)
		if ok, err := svc.Subscribe(subscription.Request{Email: emails[i], Interests: []string{"graph neural networks"}, Source: "web"}); err != nil || !ok {
			t.Fatalf("subscribe %s: %v %v", emails[i], ok, err)
		}
	}
	if got, err := g.st.OutboxLen(); err != nil || got != n {
		t.Fatalf("outbox holds %d items (%v), want %d", got, err, n)
	}
	return emails
}

// outboxItems returns every outbox item, due or not, by recipient.
func outboxItems(t *testing.T, g *rig) map[string]store.OutboxItem {
	t.Helper()
	items, err := g.st.DueOutbox(time.Now().Add(1000*time.Hour), 1000)
	if err != nil {
		t.Fatal(err)
	}
	m := make(map[string]store.OutboxItem, len(items))
	for _, it := range items {
		m[it.To] = it
	}
	return m
}

// TestOutboxKeepsMailWhileTheRelayRefusesUs: a relay refusing our
// credentials (535) or our sender (MAIL FROM 553/550 5.7.1, 530 or 502
// without AUTH) is the operator's fault: over 20 passes every
// confirmation stays queued and due with no attempt counted, nothing is
// dropped or delivered, each pass stops at the first refusal (at most one
// connection per configured connection) and returns one error naming the
// relay and its reply. Once the operator fixes it, each reader gets the
// confirmation once and the outbox is empty.
func TestOutboxKeepsMailWhileTheRelayRefusesUs(t *testing.T) {
	t.Parallel()
	const n, passes = 5, 20
	tests := []struct {
		name string
		opts smtptest.Options
		mail *smtp.SMTPError
		// creds is what the client sends until fixed ("" = none); the
		// fix sends the right password ("p").
		creds string
		want  string
	}{
		{name: "AUTH 535 bad credentials", opts: smtptest.Options{AuthUser: "u", AuthPass: "p"}, creds: "wrong", want: "535 5.7.8"},
		{name: "MAIL FROM without the AUTH the relay requires", opts: smtptest.Options{AuthUser: "u", AuthPass: "p"}, want: "502 5.7.0"},
		{name: "MAIL FROM 530 authentication required", mail: reply(530, smtp.EnhancedCode{5, 7, 0}, "Authentication required"), want: "530 5.7.0"},
		{name: "MAIL FROM 553 5.7.1 sender not owned", mail: reply(553, smtp.EnhancedCode{5, 7, 1}, "Sender address rejected: not owned by user"), want: "553 5.7.1"},
		{name: "MAIL FROM 550 5.7.1 sender not allowed", mail: reply(550, smtp.EnhancedCode{5, 7, 1}, "Sender not allowed"), want: "550 5.7.1"},
		{name: "MAIL FROM plain 553", mail: reply(553, smtp.EnhancedCode{}, "sender refused"), want: "553"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := newRig(t, nil)
			emails := queueConfirmations(t, g, n)
			rl := startRelay(t, tc.opts, nil, tc.mail)
			creds := func(pass string) func(*mailer.Config) {
				return func(c *mailer.Config) {
					if tc.opts.AuthUser != "" && pass != "" {
						c.Username, c.Password = "u", pass
					}
				}
			}
			tr := g.useServer(rl.srv, creds(tc.creds))
			conns := tr.Config().Connections
			ob := digest.NewOutbox(g.st, tr, g.log)
			wantErr := "relay " + rl.srv.Addr() + " refused our credentials or sender"
			for pass := 1; pass <= passes; pass++ {
				sent, err := ob.Flush(context.Background())
				if sent != 0 || err == nil || !strings.Contains(err.Error(), wantErr) || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("pass %d: %d sent, error %v; want nothing sent and an error naming %q and %q", pass, sent, err, wantErr, tc.want)
				}
				var se *mailer.Error
				if !errors.As(err, &se) || mailer.FaultOf(err) != mailer.FaultSender {
					t.Fatalf("pass %d: error %v is no sender fault (%v)", pass, err, mailer.FaultOf(err))
				}
				// Each connection meets the refusal once; the sender may
				// hold one more item when the pass stops.
				if got := rl.srv.Conns(); got < pass || got > pass*(conns+1) {
					t.Fatalf("after pass %d the relay saw %d connections, want %d..%d (the pass stops at the refusal)", pass, got, pass, pass*(conns+1))
				}
			}
			items := outboxItems(t, g)
			if len(items) != n {
				t.Fatalf("after %d passes the outbox holds %d items, want all %d", passes, len(items), n)
			}
			due, err := g.st.DueOutbox(time.Now(), 1000)
			if err != nil || len(due) != n {
				t.Fatalf("%d items due now (%v), want all %d", len(due), err, n)
			}
			for _, e := range emails {
				if it := items[e]; it.Attempts != 0 || it.LastError != "" {
					t.Errorf("confirmation to %s: %d attempts, last error %q; want none counted", e, it.Attempts, it.LastError)
				}
			}
			if got := rl.srv.Count(); got != 0 {
				t.Fatalf("the refusing relay accepted %d messages", got)
			}

			// The daemon's worker logs the reason at ERROR once a pass
			// and drops nothing.
			logged := runOutboxLogged(t, g, tr, rl.srv)
			if logged.errors == 0 || logged.errors > logged.passes || logged.dropped != 0 || !strings.Contains(logged.last, tc.want) {
				t.Errorf("worker logged %d ERROR lines over %d passes (last %q) and %d drops; want one a pass naming %q and no drop",
					logged.errors, logged.passes, logged.last, logged.dropped, tc.want)
			}
			if got := outboxItems(t, g); len(got) != n {
				t.Fatalf("after the worker ran the outbox holds %d items, want %d", len(got), n)
			}

			// The operator fixes the password, or the relay's sender rules.
			rl.broken.Store(false)
			tr = g.useServer(rl.srv, creds("p"))
			ob = digest.NewOutbox(g.st, tr, g.log)
			sent, err := ob.Flush(context.Background())
			if err != nil || sent != n {
				t.Fatalf("flush after the fix: %d sent, %v; want %d", sent, err, n)
			}
			counts := rl.srv.CountByRecipient()
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

// TestOutboxStillChargesTheRecipient: a refusal of one recipient (550
// 5.1.1 at RCPT) drops that confirmation at once, and a temporary refusal
// (451 4.3.0 at RCPT) counts an attempt and backs off, while the others
// are delivered in the same pass.
func TestOutboxStillChargesTheRecipient(t *testing.T) {
	t.Parallel()
	g := newRig(t, nil)
	emails := queueConfirmations(t, g, 5)
	gone, busy := emails[1], emails[3]
	srv := smtptest.StartT(t, smtptest.Options{RcptReply: func(to string, _ int) *smtp.SMTPError {
		switch to {
		case gone:
			return reply(550, smtp.EnhancedCode{5, 1, 1}, "User unknown")
		case busy:
			return reply(451, smtp.EnhancedCode{4, 3, 0}, "Try again later")
		}
		return nil
	}})
	tr := g.useServer(srv, func(c *mailer.Config) { c.MaxAttempts = 1 })
	ob := digest.NewOutbox(g.st, tr, g.log)
	start := time.Now()
	sent, err := ob.Flush(context.Background())
	if err != nil || sent != 3 {
		t.Fatalf("flush: %d sent, %v; want 3 sent and no error", sent, err)
	}
	items := outboxItems(t, g)
	if len(items) != 1 {
		t.Fatalf("outbox holds %v, want only the temporarily refused one", items)
	}
	it, ok := items[busy]
	if !ok || it.Attempts != 1 || !it.NextAttempt.After(start) || !strings.Contains(it.LastError, "451 4.3.0") {
		t.Errorf("temporarily refused item %+v: want 1 attempt, due later, the 451 recorded", it)
	}
	counts := srv.CountByRecipient()
	if counts[gone] != 0 || counts[busy] != 0 || len(counts) != 3 {
		t.Errorf("relay received %v, want one each for the 3 accepted readers", counts)
	}
}

// logged is what an outbox worker logged.
type logged struct {
	passes  int // at most: connections the relay saw (a pass dials at least once)
	errors  int
	dropped int
	last    string // the error of the last ERROR line
}

// outboxLog is a slog.Handler counting what an outbox worker logs.
type outboxLog struct {
	mu sync.Mutex
	logged
}

func (l *outboxLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *outboxLog) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *outboxLog) WithGroup(string) slog.Handler            { return l }
func (l *outboxLog) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if r.Level >= slog.LevelError {
		l.errors++
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "error" {
				l.last = a.Value.String()
			}
			return true
		})
	}
	if strings.Contains(r.Message, "dropped") {
		l.dropped++
	}
	return nil
}

// runOutboxLogged runs an outbox worker on g's store, polling every 5 ms
// and backing off from 5 to 20 ms after a failed pass, until it logged 5
// errors, and returns what it logged; passes is an upper
// bound on its passes: the connections srv saw meanwhile (each pass dials
// at least once).
func runOutboxLogged(t *testing.T, g *rig, tr *mailer.SMTP, srv *smtptest.Server) logged {
	t.Helper()
	l := &outboxLog{}
	ob := digest.NewOutbox(g.st, tr, slog.New(l))
	ob.Poll = 5 * time.Millisecond
	ob.Down = backoff.Policy{Base: 5 * time.Millisecond, Max: 20 * time.Millisecond}
	conns := srv.Conns()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); ob.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		l.mu.Lock()
		n := l.errors
		l.mu.Unlock()
		if n >= 5 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.logged
	out.passes = srv.Conns() - conns
	return out
}
