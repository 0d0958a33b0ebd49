package digest_test

import (
	"context"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/papermail/papermail/internal/config"
	"github.com/papermail/papermail/internal/digest"
	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/smtptest"
)

// TestServerDownMarksFailedThenRetried runs a digest while the relay is
// down (nothing listens, or it answers every connection with 421): every
// subscriber ends failed in the ledger, none counts a soft bounce (the
// relay's state says nothing about the addresses), and once the relay is
// back a run for the same date delivers exactly one digest to each.
func TestServerDownMarksFailedThenRetried(t *testing.T) {
	t.Parallel()
	const n = 20
	for _, mode := range []string{"no listener", "421 at greeting"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			g := newRig(t, nil)
			now := time.Now()
			date := today(now)
			g.ingestPage(now.Add(-time.Hour))
			subs := g.addSubscribers(n, now, nil)
			var down *smtptest.Server
			if mode == "no listener" {
				g.r.Sender = g.transport(closedPort(t), nil)
			} else {
				down = smtptest.StartT(t, smtptest.Options{StartDelay: time.Hour})
				g.useServer(down, nil)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			sum, err := g.r.Run(ctx, digest.Spec{Now: now, Date: date})
			if err != nil {
				t.Fatalf("run with the relay down: %v", err)
			}
			if sum.Failed != n || sum.Sent != 0 {
				t.Fatalf("run with the relay down: %+v, want %d failed", sum, n)
			}
			if down != nil && down.Count() != 0 {
				t.Fatalf("the late server accepted %d messages", down.Count())
			}
			led := g.ledger(date)
			for _, s := range subs {
				d := led[s.ID]
				cur := g.sub(s.ID)
				if d.State != model.DeliveryFailed || d.Reason == "" {
					t.Errorf("%s: ledger line %+v, want failed with a reason", s.Email, d)
				}
				if cur.State != model.StateActive || len(cur.SoftBounces) != 0 || cur.LastDigest != "" {
					t.Errorf("%s after the relay was down: state %q, soft bounces %v, last digest %q; want active, none, none",
						s.Email, cur.State, cur.SoftBounces, cur.LastDigest)
				}
			}
			if run := g.run(date); run.Failed != n || run.Finished.IsZero() {
				t.Errorf("run %+v, want %d failed and finished", run, n)
			}

			// The relay is back: the same date is run again.
			srv := smtptest.StartT(t, smtptest.Options{})
			g.useServer(srv, nil)
			sum, err = g.r.Run(ctx, digest.Spec{Now: now.Add(10 * time.Minute), Date: date})
			if err != nil {
				t.Fatalf("run after the relay came back: %v", err)
			}
			counts := srv.CountByRecipient()
			for _, s := range subs {
				if counts[s.Email] != 1 {
					t.Errorf("%s received %d digests, want 1", s.Email, counts[s.Email])
				}
				if cur := g.sub(s.ID); cur.LastDigest != date || len(cur.SoftBounces) != 0 {
					t.Errorf("%s: last digest %q, soft bounces %v", s.Email, cur.LastDigest, cur.SoftBounces)
				}
			}
			if len(counts) != n {
				t.Errorf("server has mail for %d recipients, want %d", len(counts), n)
			}
			run := g.run(date)
			if run.Sent != n || run.Failed != 0 || run.Due != n || run.Attempts != 2 || run.Finished.IsZero() {
				t.Errorf("run after retry %+v, want due %d, sent %d, failed 0, 2 attempts, finished", run, n, n)
			}
			if got := states(g.ledger(date)); got[model.DeliverySent] != n {
				t.Errorf("ledger states %v, want %d sent", got, n)
			}
		})
	}
}

// TestSoftBounceLimit answers one recipient 452 4.2.2 (mailbox full) on
// RCPT on every attempt on three days in a row: with bounce.soft_limit 3 the address is bounced
// after the third day (and not before), while a neighbour on the same
// runs gets a digest each day and stays active.
func TestSoftBounceLimit(t *testing.T) {
	t.Parallel()
	g := newRig(t, func(c *config.Config) { c.Bounce.SoftLimit = 3; c.SMTP.MaxAttempts = 3 })
	start := time.Now().Add(-72 * time.Hour)
	// Papers dated after a run's time count as new at that time, so one
	// ingest serves all four days.
	g.ingestPage(time.Now().Add(-time.Hour))
	subs := g.addSubscribers(2, start, func(i int, s *model.Subscriber) { s.Interests = []string{"language models"} })
	full, ok := subs[0], subs[1]
	srv := smtptest.StartT(t, smtptest.Options{RcptReply: func(rcpt string, _ int) *smtp.SMTPError {
		if rcpt == full.Email {
			return &smtp.SMTPError{Code: 452, EnhancedCode: smtp.EnhancedCode{4, 2, 2}, Message: "Mailbox full"}
		}
		return nil
	}})
	g.useServer(srv, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for day := range 4 {
		now := start.Add(time.Duration(day) * 24 * time.Hour)
		date := today(now)
		if _, err := g.r.Run(ctx, digest.Spec{Now: now, Date: date}); err != nil {
			t.Fatalf("day %d: %v", day+1, err)
		}
		cur := g.sub(full.ID)
		led := g.ledger(date)
		switch day {
		case 0, 1:
			if cur.State != model.StateActive || len(cur.SoftBounces) != day+1 {
				t.Errorf("day %d: state %q, soft bounces %v; want active with %d", day+1, cur.State, cur.SoftBounces, day+1)
			}
			if d := led[full.ID]; d.State != model.DeliveryFailed || d.Attempts != 3 {
				t.Errorf("day %d: ledger line %+v, want failed after 3 attempts", day+1, d)
			}
		case 2:
			if cur.State != model.StateBounced || len(cur.SoftBounces) != 3 {
				t.Errorf("day 3: state %q, soft bounces %v; want bounced with 3", cur.State, cur.SoftBounces)
			}
		case 3:
			if _, ok := led[full.ID]; ok {
				t.Errorf("day 4: the bounced address is in the ledger again: %+v", led[full.ID])
			}
		}
		if d := led[ok.ID]; d.State != model.DeliverySent {
			t.Errorf("day %d: the healthy neighbour's ledger line is %+v", day+1, d)
		}
	}
	if a := srv.RcptAttempts(full.Email); a != 9 {
		t.Errorf("the failing address saw %d RCPTs, want 3 days × 3 attempts", a)
	}
	if got := srv.CountByRecipient(); got[full.Email] != 0 || got[ok.Email] != 4 {
		t.Errorf("received %v, want nothing for %s and 4 digests for %s", got, full.Email, ok.Email)
	}
	if cur := g.sub(ok.ID); cur.State != model.StateActive || len(cur.SoftBounces) != 0 {
		t.Errorf("neighbour: state %q, soft bounces %v", cur.State, cur.SoftBounces)
	}
}
