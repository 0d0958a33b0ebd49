package digest_test

import (
	"context"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/papermail/papermail/internal/config"
	"github.com/papermail/papermail/internal/digest"
	"github.com/papermail/papermail/internal/mailer"
	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/smtptest"
)

// received maps each recipient to the Message-IDs the server accepted for it.
func received(t testing.TB, srv *smtptest.Server) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, m := range srv.Messages() {
		msg, err := mail.ReadMessage(strings.NewReader(string(m.Data)))
		if err != nil {
			t.Fatalf("message to %v does not parse: %v", m.To, err)
		}
		id := strings.Trim(msg.Header.Get("Message-Id"), "<>")
		for _, rc := range m.To {
			out[rc] = append(out[rc], id)
		}
	}
	return out
}

// TestFaults runs one digest for 60 subscribers against an SMTP server
// that misbehaves in one way per case, and checks that every due digest
// arrives exactly once, that rejected addresses bounce after a single
// attempt, that the ledger and the run's counts say what the server saw,
// and that a second run for the date sends nothing.
func TestFaults(t *testing.T) {
	t.Parallel()
	const n = 60
	rejected := map[string]bool{addr(3): true, addr(17): true, addr(42): true}
	greylisted := map[string]bool{addr(5): true, addr(21): true, addr(50): true}
	reject550 := func(rcpt string) *smtp.SMTPError {
		if rejected[rcpt] {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user here"}
		}
		return nil
	}
	cases := []struct {
		name string
		opts smtptest.Options
		// mail adjusts the transport (the late server needs a retry
		// schedule that outlasts its delay, as the defaults do).
		mail func(*mailer.Config)
		// rejected are the 550 recipients; greylisted get 451 on their
		// first two RCPTs.
		rejected, greylisted map[string]bool
		// retries says the fault must have cost extra attempts.
		retries bool
	}{
		{name: "451 on 30% of DATA", opts: smtptest.Options{TempFailRate: 0.3}, retries: true},
		{name: "cut mid-DATA every 7th", opts: smtptest.Options{CutMidData: func(k int) bool { return k%7 == 0 }}, retries: true},
		{name: "550 for chosen recipients", opts: smtptest.Options{RejectRcpt: reject550}, rejected: rejected},
		{
			name: "server starts 1.5s late", opts: smtptest.Options{StartDelay: 1500 * time.Millisecond},
			mail:    func(c *mailer.Config) { c.RetryBase, c.RetryMax = 250*time.Millisecond, time.Second },
			retries: true,
		},
		{
			name: "451 on RCPT twice for some",
			opts: smtptest.Options{TempFailRcpt: func(rcpt string, attempt int) bool {
				return greylisted[rcpt] && attempt <= 2
			}},
			greylisted: greylisted, retries: true,
		},
		{
			name: "all faults at once",
			opts: smtptest.Options{TempFailRate: 0.2, CutMidData: func(k int) bool { return k%11 == 0 }, RejectRcpt: reject550,
				TempFailRcpt: func(rcpt string, attempt int) bool { return greylisted[rcpt] && attempt <= 2 }},
			rejected: rejected, greylisted: greylisted, retries: true,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// Ten attempts: a message that meets a 30% fault every time
			// (0.3^10) must not decide the test by chance.
			g := newRig(t, func(c *config.Config) { c.SMTP.MaxAttempts = 10 })
			now := time.Now()
			date := today(now)
			g.ingestPage(now.Add(-time.Hour))
			subs := g.addSubscribers(n, now, nil)
			srv := smtptest.StartT(t, tc.opts)
			g.useServer(srv, tc.mail)

			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			sum, err := g.r.Run(ctx, digest.Spec{Now: now, Date: date})
			if err != nil {
				t.Fatalf("run: %v", err)
			}

			got := received(t, srv)
			led := g.ledger(date)
			attempts := 0
			for _, s := range subs {
				d, ok := led[s.ID]
				if !ok {
					t.Errorf("%s has no ledger line", s.Email)
					continue
				}
				attempts += d.Attempts
				cur := g.sub(s.ID)
				if tc.rejected[s.Email] {
					if len(got[s.Email]) != 0 {
						t.Errorf("rejected %s received %d messages", s.Email, len(got[s.Email]))
					}
					if d.State != model.DeliveryBounced || cur.State != model.StateBounced {
						t.Errorf("rejected %s: ledger %q, subscriber %q; want bounced, bounced", s.Email, d.State, cur.State)
					}
					if !strings.Contains(d.Reason, "550") {
						t.Errorf("rejected %s: reason %q does not name the 550", s.Email, d.Reason)
					}
					if a := srv.RcptAttempts(s.Email); a != 1 {
						t.Errorf("rejected %s was tried %d times, want once", s.Email, a)
					}
					continue
				}
				if ids := got[s.Email]; len(ids) != 1 {
					t.Errorf("%s received %d digests, want exactly 1", s.Email, len(ids))
				} else if ids[0] != d.MessageID {
					t.Errorf("%s: server got Message-ID %q, ledger says %q", s.Email, ids[0], d.MessageID)
				}
				if d.State != model.DeliverySent || len(d.Papers) == 0 {
					t.Errorf("%s: ledger line %+v, want sent with papers", s.Email, d)
				}
				if cur.State != model.StateActive || cur.LastDigest != date || len(cur.SoftBounces) != 0 {
					t.Errorf("%s after delivery: state %q, last digest %q, soft bounces %v", s.Email, cur.State, cur.LastDigest, cur.SoftBounces)
				}
				if tc.greylisted[s.Email] {
					// Two 451s, then accepted; DATA faults may add more.
					a := srv.RcptAttempts(s.Email)
					if a < 3 || a != 3 && tc.opts.TempFailRate == 0 && tc.opts.CutMidData == nil {
						t.Errorf("greylisted %s: %d RCPTs, want 3", s.Email, a)
					}
					if d.Attempts < 3 {
						t.Errorf("greylisted %s: ledger counts %d attempts, want >= 3", s.Email, d.Attempts)
					}
				}
			}
			if len(got) != n-len(tc.rejected) {
				t.Errorf("server has mail for %d recipients, want %d", len(got), n-len(tc.rejected))
			}
			if tc.retries && attempts <= n {
				t.Errorf("ledger counts %d attempts for %d subscribers: the fault was never hit", attempts, n)
			}

			run := g.run(date)
			want := model.Run{Due: n, Sent: n - len(tc.rejected), Bounced: len(tc.rejected)}
			if run.Due != want.Due || run.Sent != want.Sent || run.Bounced != want.Bounced || run.Failed != 0 || run.Skipped != 0 {
				t.Errorf("run counts %+v, want due %d sent %d bounced %d", run, want.Due, want.Sent, want.Bounced)
			}
			if run.Finished.IsZero() || run.Attempts != 1 {
				t.Errorf("run not finished once: %+v", run)
			}
			if sum.Sent != run.Sent || sum.Bounced != run.Bounced || sum.Due != run.Due || len(sum.Runs) != 1 {
				t.Errorf("summary %+v does not match run %+v", sum, run)
			}
			if got := states(led); got[model.DeliverySent] != run.Sent || got[model.DeliveryBounced] != run.Bounced {
				t.Errorf("ledger states %v do not match run %+v", got, run)
			}

			// A second run for the same date finds nobody due.
			before := srv.Count()
			sum2, err := g.r.Run(ctx, digest.Spec{Now: now.Add(time.Minute), Date: date})
			if err != nil {
				t.Fatalf("second run: %v", err)
			}
			if srv.Count() != before || sum2.Due != 0 || sum2.Sent != 0 {
				t.Errorf("second run sent %d more (summary %+v)", srv.Count()-before, sum2)
			}
			for rc := range tc.rejected {
				if a := srv.RcptAttempts(rc); a != 1 {
					t.Errorf("bounced %s was tried again (%d RCPTs)", rc, a)
				}
			}
		})
	}
}
