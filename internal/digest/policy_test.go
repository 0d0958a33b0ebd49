package digest_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/papermail/papermail/internal/config"
	"github.com/papermail/papermail/internal/digest"
	"github.com/papermail/papermail/internal/mailer"
	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/smtptest"
	"github.com/papermail/papermail/internal/subscription"
)

// relay is a test SMTP server whose faults can be switched off mid-test
// (the operator fixes the relay).
type relay struct {
	srv    *smtptest.Server
	broken atomic.Bool
}

func startRelay(t *testing.T, opts smtptest.Options, rcpt func(string) *smtp.SMTPError, mail *smtp.SMTPError) *relay {
	t.Helper()
	rl := &relay{}
	rl.broken.Store(true)
	if rcpt != nil {
		opts.RcptReply = func(to string, _ int) *smtp.SMTPError {
			if rl.broken.Load() {
				return rcpt(to)
			}
			return nil
		}
	}
	if mail != nil {
		opts.RejectMail = func(string) *smtp.SMTPError {
			if rl.broken.Load() {
				return mail
			}
			return nil
		}
	}
	rl.srv = smtptest.StartT(t, opts)
	return rl
}

func reply(code int, enh smtp.EnhancedCode, msg string) *smtp.SMTPError {
	return &smtp.SMTPError{Code: code, EnhancedCode: enh, Message: msg}
}

// assertNobodyCharged checks that no subscriber is bounced or has a
// soft-bounce day.
func (g *rig) assertNobodyCharged(subs []model.Subscriber) {
	g.t.Helper()
	for _, s := range subs {
		if cur := g.sub(s.ID); cur.State != model.StateActive || len(cur.SoftBounces) != 0 || cur.Bounce != nil {
			g.t.Errorf("%s: state %q, soft bounces %v, bounce %+v; want active and uncharged", s.Email, cur.State, cur.SoftBounces, cur.Bounce)
		}
	}
}

// assertOneEach checks that every subscriber got exactly one digest.
func assertOneEach(t *testing.T, srv *smtptest.Server, subs []model.Subscriber) {
	t.Helper()
	counts := srv.CountByRecipient()
	for _, s := range subs {
		if counts[s.Email] != 1 {
			t.Errorf("%s received %d digests, want 1", s.Email, counts[s.Email])
		}
	}
	if len(counts) != len(subs) {
		t.Errorf("server has mail for %d recipients, want %d", len(counts), len(subs))
	}
}

// TestOperatorFailuresStopTheRun: a relay that refuses for its own reasons
// (relay access, the sender, the credentials) stops the run with a
// StopError naming its reply, bounces nobody, leaves the rest pending, and
// once fixed every subscriber gets exactly one digest.
func TestOperatorFailuresStopTheRun(t *testing.T) {
	t.Parallel()
	const n = 30
	tests := []struct {
		name string
		opts smtptest.Options
		rcpt func(string) *smtp.SMTPError
		mail *smtp.SMTPError
		auth bool // the client sends a wrong password until fixed
		// noCreds: the client sends no credentials until fixed.
		noCreds bool
		want    string
	}{
		{name: "every RCPT 554 5.7.1", want: "554 5.7.1",
			rcpt: func(string) *smtp.SMTPError { return reply(554, smtp.EnhancedCode{5, 7, 1}, "Relay access denied") }},
		{name: "every RCPT 550 5.1.1 (relay does not know the domain)", want: "550 5.1.1",
			rcpt: func(string) *smtp.SMTPError {
				return reply(550, smtp.EnhancedCode{5, 1, 1}, "User unknown in relay recipient table")
			}},
		{name: "MAIL FROM 553 5.7.1", want: "553 5.7.1",
			mail: reply(553, smtp.EnhancedCode{5, 7, 1}, "Sender address rejected: not owned by user")},
		{name: "MAIL FROM 501 5.5.4", want: "501 5.5.4",
			mail: reply(501, smtp.EnhancedCode{5, 5, 4}, "Bad sender address syntax")},
		{name: "AUTH 535", auth: true, want: "535 5.7.8", opts: smtptest.Options{AuthUser: "u", AuthPass: "p"}},
		{name: "MAIL FROM without the AUTH the relay requires", noCreds: true, want: "502 5.7.0", opts: smtptest.Options{AuthUser: "u", AuthPass: "p"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := newRig(t, nil)
			now := time.Now()
			date := today(now)
			g.ingestPage(now.Add(-time.Hour))
			subs := g.addSubscribers(n, now, nil)
			rl := startRelay(t, tc.opts, tc.rcpt, tc.mail)
			pass := "p"
			if tc.auth {
				pass = "wrong"
			}
			creds := !tc.noCreds
			auth := func(c *mailer.Config) {
				if tc.opts.AuthUser != "" && creds {
					c.Username, c.Password = "u", pass
				}
			}
			g.useServer(rl.srv, auth)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			sum, err := g.r.Run(ctx, digest.Spec{Now: now, Date: date})
			var stop *digest.StopError
			if !errors.As(err, &stop) || !errors.Is(err, digest.ErrStopped) {
				t.Fatalf("run against the broken relay: %v (summary %+v), want a StopError", err, sum)
			}
			if !strings.Contains(err.Error(), tc.want) || stop.Reply.Key() != tc.want {
				t.Errorf("stop %q (reply %q), want it to name %q", err, stop.Reply.Key(), tc.want)
			}
			if sum.Bounced != 0 || sum.Sent != 0 || sum.Pending == 0 {
				t.Errorf("summary %+v: want nothing bounced or sent and some pending", sum)
			}
			g.assertNobodyCharged(subs)
			run := g.run(date)
			if !strings.Contains(run.Stopped, tc.want) || !run.Finished.IsZero() {
				t.Errorf("run %+v: want it stopped naming %q and unfinished", run, tc.want)
			}
			if rl.srv.Count() != 0 {
				t.Errorf("the broken relay accepted %d messages", rl.srv.Count())
			}

			// The operator fixes the relay (or the password); the next run
			// delivers to everyone exactly once.
			rl.broken.Store(false)
			pass, creds = "p", true
			g.useServer(rl.srv, auth)
			sum, err = g.r.Run(ctx, digest.Spec{Now: now.Add(time.Minute), Date: date})
			if err != nil || sum.Sent+0 == 0 {
				t.Fatalf("run after the fix: %v (%+v)", err, sum)
			}
			assertOneEach(t, rl.srv, subs)
			g.assertNobodyCharged(subs)
			if run := g.run(date); run.Sent != n || run.Bounced != 0 || run.Failed != 0 || run.Finished.IsZero() || run.Stopped != "" {
				t.Errorf("run after the fix %+v, want %d sent, finished", run, n)
			}
			// And a further run sends nothing again.
			if sum, err := g.r.Run(ctx, digest.Spec{Now: now.Add(2 * time.Minute), Date: date}); err != nil || sum.Sent != 0 {
				t.Errorf("third run: %v, %+v; want nothing sent", err, sum)
			}
		})
	}
}

// TestThrottledForDaysBouncesNobody: a relay answering 451 4.3.0 (or 452
// 4.3.1) to everyone for several days, more than bounce.soft_limit, bounces
// nobody and counts no soft-bounce day; when it recovers everyone gets the
// day's digest.
func TestThrottledForDaysBouncesNobody(t *testing.T) {
	t.Parallel()
	for _, r := range []*smtp.SMTPError{
		reply(451, smtp.EnhancedCode{4, 3, 0}, "Try again later"),
		reply(452, smtp.EnhancedCode{4, 3, 1}, "Insufficient system storage"),
	} {
		t.Run(r.Error(), func(t *testing.T) {
			t.Parallel()
			g := newRig(t, func(c *config.Config) { c.Bounce.SoftLimit = 2; c.SMTP.MaxAttempts = 2 })
			start := time.Now().Add(-96 * time.Hour)
			g.ingestPage(time.Now().Add(-time.Hour))
			subs := g.addSubscribers(12, start, nil)
			rl := startRelay(t, smtptest.Options{}, func(string) *smtp.SMTPError { return r }, nil)
			g.useServer(rl.srv, nil)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			for day := range 4 {
				now := start.Add(time.Duration(day) * 24 * time.Hour)
				_, err := g.r.Run(ctx, digest.Spec{Now: now, Date: today(now)})
				if !errors.Is(err, digest.ErrStopped) {
					t.Fatalf("day %d: %v, want the run stopped", day+1, err)
				}
				g.assertNobodyCharged(subs)
			}
			rl.broken.Store(false)
			now := start.Add(4 * 24 * time.Hour)
			if _, err := g.r.Run(ctx, digest.Spec{Now: now, Date: today(now)}); err != nil {
				t.Fatalf("after the relay recovered: %v", err)
			}
			assertOneEach(t, rl.srv, subs)
		})
	}
}

// TestSomeMailboxesRefused: a relay refusing 3 of 30 recipients with
// 550 5.1.1 bounces exactly those 3, each with the reason, codes and time,
// wherever they are in the run; the others get one digest each.
func TestSomeMailboxesRefused(t *testing.T) {
	t.Parallel()
	for name, bad := range map[string][]int{"first three": {0, 1, 2}, "spread": {4, 17, 29}} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			g := newRig(t, nil)
			now := time.Now()
			date := today(now)
			g.ingestPage(now.Add(-time.Hour))
			subs := g.addSubscribers(30, now, nil)
			refused := map[string]bool{}
			for _, i := range bad {
				refused[subs[i].Email] = true
			}
			rl := startRelay(t, smtptest.Options{}, func(to string) *smtp.SMTPError {
				if refused[to] {
					return reply(550, smtp.EnhancedCode{5, 1, 1}, "Recipient address rejected: User unknown")
				}
				return nil
			}, nil)
			g.useServer(rl.srv, nil)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			sum, err := g.r.Run(ctx, digest.Spec{Now: now, Date: date})
			if err != nil || sum.Bounced != 3 || sum.Sent != 27 {
				t.Fatalf("run: %v, %+v; want 27 sent, 3 bounced", err, sum)
			}
			counts := rl.srv.CountByRecipient()
			for _, s := range subs {
				cur := g.sub(s.ID)
				if !refused[s.Email] {
					if cur.State != model.StateActive || counts[s.Email] != 1 {
						t.Errorf("%s: state %q, %d digests; want active with 1", s.Email, cur.State, counts[s.Email])
					}
					continue
				}
				b := cur.Bounce
				if cur.State != model.StateBounced || b == nil {
					t.Errorf("%s: state %q, bounce %+v; want bounced", s.Email, cur.State, b)
					continue
				}
				if b.Code != 550 || b.Enhanced != "5.1.1" || b.Source != model.BounceSMTP || !strings.Contains(b.Reason, "User unknown") ||
					time.Since(b.At) > time.Minute {
					t.Errorf("%s: bounce %+v; want 550 5.1.1 from smtp with the server's words and the time", s.Email, b)
				}
				if d := g.ledger(date)[s.ID]; d.State != model.DeliveryBounced || d.Code != 550 || d.Enhanced != "5.1.1" {
					t.Errorf("%s: ledger line %+v", s.Email, d)
				}
			}
		})
	}
}

// TestSmallRunsAreJudgedWhole: a run shorter than the breaker's window is
// judged at its end: when the same mailbox refusal hits 3 recipients and
// more than a fifth of the run, the relay is probed; when it refuses the
// probe recipient too, that is its answer to everyone and nobody is
// bounced; when it accepts it, or fewer are refused, they are real
// bounces.
func TestSmallRunsAreJudgedWhole(t *testing.T) {
	t.Parallel()
	tests := []struct {
		n, refused  int
		wantBounced int
		wantStop    bool // when the relay refuses the probe too
	}{
		{n: 3, refused: 3, wantBounced: 0, wantStop: true},
		{n: 3, refused: 2, wantBounced: 2},
		{n: 1, refused: 1, wantBounced: 1},
		{n: 20, refused: 5, wantBounced: 0, wantStop: true},
		{n: 20, refused: 4, wantBounced: 4}, // exactly a fifth: not more
		{n: 20, refused: 3, wantBounced: 3},
	}
	for _, tc := range tests {
		for _, probeOK := range []bool{false, true} {
			t.Run(fmt.Sprintf("%d of %d, probe accepted %v", tc.refused, tc.n, probeOK), func(t *testing.T) {
				t.Parallel()
				g := newRig(t, nil)
				now := time.Now()
				g.ingestPage(now.Add(-time.Hour))
				subs := g.addSubscribers(tc.n, now, nil)
				refused := map[string]bool{}
				for i := range tc.refused {
					refused[subs[i*tc.n/tc.refused].Email] = true
				}
				refused[g.cfg.ProbeAddress()] = !probeOK
				srv := smtptest.StartT(t, smtptest.Options{RejectRcpt: func(to string) *smtp.SMTPError {
					if refused[to] {
						return reply(550, smtp.EnhancedCode{5, 1, 1}, "User unknown")
					}
					return nil
				}})
				g.useServer(srv, nil)
				sum, err := g.r.Run(context.Background(), digest.Spec{Now: now, Date: today(now)})
				wantStop, wantBounced := tc.wantStop && !probeOK, tc.wantBounced
				if tc.wantStop && probeOK {
					wantBounced = tc.refused
				}
				if stopped := errors.Is(err, digest.ErrStopped); stopped != wantStop || (!stopped && err != nil) {
					t.Fatalf("run: %v, want stopped %v", err, wantStop)
				}
				bounced := 0
				for _, s := range subs {
					if g.sub(s.ID).State == model.StateBounced {
						bounced++
					}
				}
				if bounced != wantBounced || sum.Bounced != wantBounced {
					t.Errorf("%d bounced (summary %d), want %d", bounced, sum.Bounced, wantBounced)
				}
				if probes := srv.RcptAttempts(g.cfg.ProbeAddress()); probes > 1 || tc.wantStop != (probes == 1) {
					t.Errorf("the relay was probed %d times", probes)
				}
			})
		}
	}
}

// TestDeadMailboxesDoNotStopTheRun: 30 of a run's first 50 recipients get
// 550 5.1.1 from the relay, which would trip the breaker. The relay is
// probed with the operator's address (bounce.probe, else the envelope
// sender; MAIL FROM, RCPT TO, RSET, no message): when it accepts, the run
// completes, exactly those 30 are bounced with the server's reply and the
// 20 others get one digest each; when it refuses the probe too, the run
// stops as before and nobody is charged.
func TestDeadMailboxesDoNotStopTheRun(t *testing.T) {
	t.Parallel()
	const n, dead = 50, 30
	tests := []struct {
		name     string
		probe    string // bounce.probe
		everyone bool   // the relay refuses every recipient, the probe too
	}{
		{name: "probe the envelope sender"},
		{name: "probe bounce.probe", probe: "postmaster@papers.example.org"},
		{name: "relay refuses everyone", everyone: true},
		{name: "relay refuses everyone, bounce.probe too", probe: "postmaster@papers.example.org", everyone: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := newRig(t, func(c *config.Config) { c.Bounce.Probe = tc.probe })
			now := time.Now()
			date := today(now)
			g.ingestPage(now.Add(-time.Hour))
			subs := g.addSubscribers(n, now, nil)
			refused := map[string]bool{}
			for i := range dead {
				refused[subs[i*n/dead].Email] = true
			}
			probe := g.cfg.ProbeAddress()
			if tc.probe != "" && probe != tc.probe {
				t.Fatalf("probe address %q, want bounce.probe %q", probe, tc.probe)
			}
			srv := smtptest.StartT(t, smtptest.Options{RejectRcpt: func(to string) *smtp.SMTPError {
				if refused[to] || tc.everyone {
					return reply(550, smtp.EnhancedCode{5, 1, 1}, "The email account that you tried to reach does not exist")
				}
				return nil
			}})
			g.useServer(srv, nil)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			sum, err := g.r.Run(ctx, digest.Spec{Now: now, Date: date})
			if got := srv.RcptAttempts(probe); got != 1 {
				t.Errorf("the relay got %d RCPT for the probe address %s, want 1", got, probe)
			}
			if c := srv.CountByRecipient()[probe]; c != 0 {
				t.Errorf("the probe delivered %d messages to %s", c, probe)
			}
			if tc.everyone {
				var stop *digest.StopError
				if !errors.As(err, &stop) || stop.Reply.Key() != "550 5.1.1" || !strings.Contains(err.Error(), "probe") {
					t.Fatalf("run: %v (%+v), want a stop naming 550 5.1.1 and the refused probe", err, sum)
				}
				if sum.Bounced != 0 || sum.Sent != 0 || srv.Count() != 0 {
					t.Errorf("summary %+v, relay %d messages: want nothing bounced or sent", sum, srv.Count())
				}
				g.assertNobodyCharged(subs)
				return
			}
			if err != nil || sum.Sent != n-dead || sum.Bounced != dead {
				t.Fatalf("run: %v, %+v; want %d sent and %d bounced", err, sum, n-dead, dead)
			}
			counts := srv.CountByRecipient()
			for _, s := range subs {
				cur := g.sub(s.ID)
				switch {
				case refused[s.Email] && (cur.State != model.StateBounced || cur.Bounce == nil || cur.Bounce.Enhanced != "5.1.1" || counts[s.Email] != 0):
					t.Errorf("%s: state %q, bounce %+v, %d digests; want bounced with 5.1.1", s.Email, cur.State, cur.Bounce, counts[s.Email])
				case !refused[s.Email] && (cur.State != model.StateActive || counts[s.Email] != 1):
					t.Errorf("%s: state %q, %d digests; want active with one", s.Email, cur.State, counts[s.Email])
				}
			}
			if run := g.run(date); run.Finished.IsZero() || run.Stopped != "" {
				t.Errorf("run %+v, want finished and not stopped", run)
			}
		})
	}
}

// TestOutboxKeepsMailTheRelayRefuses: a confirmation the relay refuses
// for its own reasons (MAIL FROM 553 5.7.1) stays in the outbox, due, with
// no attempt counted, and the flush says why (see also
// TestOutboxKeepsMailWhileTheRelayRefusesUs).
func TestOutboxKeepsMailTheRelayRefuses(t *testing.T) {
	t.Parallel()
	g := newRig(t, nil)
	now := time.Now()
	svc, err := subscription.New(subscription.Deps{Store: g.st, Mail: g.r, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []string{"a@example.org", "gone@example.org"} {
		if ok, err := svc.Subscribe(subscription.Request{Email: e, Interests: []string{"graph neural networks"}, Source: "web"}); err != nil || !ok {
			t.Fatalf("subscribe %s: %v %v", e, ok, err)
		}
	}
	rl := startRelay(t, smtptest.Options{}, nil, reply(553, smtp.EnhancedCode{5, 7, 1}, "Sender address rejected: not owned by user"))
	g.useServer(rl.srv, nil)
	ob := digest.NewOutbox(g.st, g.r.Sender, g.log)
	if _, err := ob.Flush(context.Background()); err == nil || !strings.Contains(err.Error(), "553 5.7.1") {
		t.Fatalf("flush against the relay refusing our sender: %v, want an error naming 553 5.7.1", err)
	}
	items, err := g.st.DueOutbox(time.Now(), 100)
	if err != nil || len(items) != 2 {
		t.Fatalf("outbox after the relay refused the sender: %d items due (%v), want both kept", len(items), err)
	}
	for _, it := range items {
		if it.Attempts != 0 {
			t.Errorf("item to %s: %d attempts counted, want 0", it.To, it.Attempts)
		}
	}
}

// TestAfterTheWindow: once a run's first recipients were judged healthy,
// a block of dead addresses side by side is bounced, while the relay
// refusing everything from some point on (a quota that ran out) stops the
// run and charges nobody.
func TestAfterTheWindow(t *testing.T) {
	t.Parallel()
	const n = 100
	t.Run("dead addresses side by side", func(t *testing.T) {
		t.Parallel()
		g := newRig(t, nil)
		now := time.Now()
		g.ingestPage(now.Add(-time.Hour))
		subs := g.addSubscribers(n, now, nil)
		dead := map[string]bool{}
		for _, s := range subs[70:82] {
			dead[s.Email] = true
		}
		srv := smtptest.StartT(t, smtptest.Options{RejectRcpt: func(to string) *smtp.SMTPError {
			if dead[to] {
				return reply(550, smtp.EnhancedCode{5, 1, 1}, "User unknown")
			}
			return nil
		}})
		g.useServer(srv, func(c *mailer.Config) { c.Connections = 1 })
		sum, err := g.r.Run(context.Background(), digest.Spec{Now: now, Date: today(now)})
		if err != nil || sum.Bounced != 12 || sum.Sent != n-12 {
			t.Fatalf("run: %v %+v; want %d sent and 12 bounced", err, sum, n-12)
		}
	})
	t.Run("relay quota runs out", func(t *testing.T) {
		t.Parallel()
		g := newRig(t, func(c *config.Config) { c.SMTP.MaxAttempts = 2 })
		now := time.Now()
		g.ingestPage(now.Add(-time.Hour))
		subs := g.addSubscribers(n, now, nil)
		var accepted atomic.Int64
		srv := smtptest.StartT(t, smtptest.Options{RcptReply: func(string, int) *smtp.SMTPError {
			if accepted.Add(1) > 60 {
				return reply(451, smtp.EnhancedCode{4, 7, 0}, "Daily sending quota exceeded")
			}
			return nil
		}})
		g.useServer(srv, func(c *mailer.Config) { c.Connections = 1 })
		sum, err := g.r.Run(context.Background(), digest.Spec{Now: now, Date: today(now)})
		if !errors.Is(err, digest.ErrStopped) || !strings.Contains(err.Error(), "in a row") || !strings.Contains(err.Error(), "451 4.7.0") {
			t.Fatalf("run: %v, want a stop naming the streak and the reply", err)
		}
		if sum.Sent != 60 || sum.Bounced != 0 || sum.Pending == 0 {
			t.Errorf("summary %+v: want 60 sent, none bounced, some pending", sum)
		}
		g.assertNobodyCharged(subs)
	})
}
