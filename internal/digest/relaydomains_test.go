package digest_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/papermail/papermail/internal/config"
	"github.com/papermail/papermail/internal/digest"
	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/smtptest"
)

// TestRelayRefusingOneDomain: a real SMTP server on 127.0.0.1 takes mail
// for example.org and refuses every recipient at blocked.example, its
// postmaster too. However many of the run's readers are there (most of
// the window, or a tenth), and whether the refusal reads as a mailbox's
// (550 5.1.1) or the relay's own (554 5.7.1), the run is not stopped as if
// the relay refused everyone: the readers at example.org get one digest
// each, nobody at blocked.example is charged (failed, retried by the next
// run), the relay is asked about blocked.example's postmaster once at
// most, and the run's end names the domain. Beside it, dead mailboxes at
// a domain whose postmaster the relay takes are bounced as before.
func TestRelayRefusingOneDomain(t *testing.T) {
	t.Parallel()
	mailbox := reply(550, smtp.EnhancedCode{5, 1, 1}, "Recipient address rejected: User unknown in virtual alias table")
	policy := reply(554, smtp.EnhancedCode{5, 7, 1}, "Relay access denied for this destination")
	tests := []struct {
		name       string
		n, blocked int // readers, and how many of them at blocked.example
		refusal    *smtp.SMTPError
		// postmasterOK: the relay takes blocked.example's postmaster (its
		// refusals there are dead mailboxes).
		postmasterOK bool
		probe        string // bounce.probe
	}{
		{name: "mailbox refusals, most of the window", n: 50, blocked: 30, refusal: mailbox},
		{name: "mailbox refusals, a tenth", n: 50, blocked: 5, refusal: mailbox},
		{name: "relay refusals, most of the window", n: 50, blocked: 30, refusal: policy},
		{name: "bounce.probe at the refused domain", n: 50, blocked: 30, refusal: mailbox, probe: "me@blocked.example"},
		{name: "dead mailboxes at a domain the relay takes", n: 50, blocked: 5, refusal: mailbox, postmasterOK: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := newRig(t, func(c *config.Config) { c.Bounce.Probe = tc.probe })
			var logs syncBuffer
			g.log = slog.New(slog.NewTextHandler(&logs, nil))
			g.reopen()
			now := time.Now()
			date := today(now)
			g.ingestPage(now.Add(-time.Hour))
			blocked := map[string]bool{}
			subs := g.addSubscribers(tc.n, now, func(i int, s *model.Subscriber) {
				if i*tc.blocked/tc.n != (i+1)*tc.blocked/tc.n { // spread over the run
					s.Email = fmt.Sprintf("reader%03d@blocked.example", i)
					blocked[s.Email] = true
				}
			})
			if len(blocked) != tc.blocked {
				t.Fatalf("%d readers at blocked.example, want %d", len(blocked), tc.blocked)
			}
			srv := smtptest.StartT(t, smtptest.Options{RejectRcpt: func(to string) *smtp.SMTPError {
				if strings.HasSuffix(to, "@blocked.example") && !(tc.postmasterOK && to == "postmaster@blocked.example") {
					return tc.refusal
				}
				return nil
			}})
			g.useServer(srv, nil)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			sum, err := g.r.Run(ctx, digest.Spec{Now: now, Date: date})
			if err != nil {
				t.Fatalf("run: %v (%+v), want it to finish", err, sum)
			}
			wantBounced := 0
			if tc.postmasterOK && tc.refusal == mailbox {
				wantBounced = tc.blocked
			}
			if sum.Sent != tc.n-tc.blocked || sum.Bounced != wantBounced || sum.Failed != tc.blocked-wantBounced {
				t.Errorf("summary %+v; want %d sent, %d bounced, %d failed", sum, tc.n-tc.blocked, wantBounced, tc.blocked-wantBounced)
			}
			if run := g.run(date); run.Finished.IsZero() || run.Stopped != "" {
				t.Errorf("run %+v, want finished and not stopped", run)
			}
			counts := srv.CountByRecipient()
			ledger := g.ledger(date)
			for _, s := range subs {
				cur := g.sub(s.ID)
				switch {
				case !blocked[s.Email]:
					if counts[s.Email] != 1 || cur.State != model.StateActive {
						t.Errorf("%s: %d digests, state %q; want one and active", s.Email, counts[s.Email], cur.State)
					}
				case wantBounced > 0:
					if cur.State != model.StateBounced || ledger[s.ID].State != model.DeliveryBounced {
						t.Errorf("%s: state %q, ledger %q; want bounced", s.Email, cur.State, ledger[s.ID].State)
					}
				default:
					if cur.State != model.StateActive || cur.Bounce != nil || len(cur.SoftBounces) != 0 || ledger[s.ID].State != model.DeliveryFailed {
						t.Errorf("%s: state %q, bounce %+v, soft %v, ledger %q; want active, uncharged, failed", s.Email, cur.State, cur.Bounce, cur.SoftBounces, ledger[s.ID].State)
					}
				}
			}
			if n := srv.RcptAttempts("postmaster@blocked.example"); n > 1 || tc.blocked >= 3 && n != 1 {
				t.Errorf("the relay was asked about postmaster@blocked.example %d times, want once", n)
			}
			if c := counts["postmaster@blocked.example"]; c != 0 {
				t.Errorf("a probe delivered %d messages", c)
			}
			reported := strings.Contains(logs.String(), "level=ERROR msg=\"the relay refused every recipient at a domain")
			if want := wantBounced == 0; reported != want {
				t.Errorf("the log names the refused domain: %v, want %v\n%s", reported, want, logs.String())
			}
		})
	}
}
