package digest_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/papermail/papermail/internal/digest"
	"github.com/papermail/papermail/internal/mailer"
	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/smtptest"
	"github.com/papermail/papermail/internal/subscription"
)

// lacksCases are relays that lack what the client's settings require,
// with the settings and the fix.
var lacksCases = []struct {
	name         string
	opts         smtptest.Options
	broken, fix  func(*mailer.Config)
	lacks, stage string
}{
	{name: "no STARTTLS while tls is starttls", lacks: "does not offer STARTTLS, and smtp.tls is starttls", stage: "starttls",
		broken: func(c *mailer.Config) { c.TLS = "starttls" }, fix: func(c *mailer.Config) { c.TLS = "none" }},
	{name: "no AUTH while a user name is set", lacks: "does not offer AUTH, and smtp.username is set", stage: "auth",
		broken: func(c *mailer.Config) { c.Username, c.Password = "u", "p" }, fix: nil},
	{name: "no PLAIN or LOGIN", lacks: "does not offer AUTH PLAIN or LOGIN (it offers AUTH CRAM-MD5), and smtp.username is set", stage: "auth",
		opts:   smtptest.Options{AuthUser: "u", AuthPass: "p", AuthMechanisms: []string{"CRAM-MD5"}},
		broken: func(c *mailer.Config) { c.Username, c.Password = "u", "p" }, fix: nil},
}

// TestRelayLackingWhatTheSettingsRequireStopsTheRun: a relay without
// STARTTLS while smtp.tls is starttls, or without a usable AUTH while
// credentials are set, stops the run at once with a StopError naming the
// relay, what it lacks and the setting: no connection beyond one per
// configured connection, nothing recorded against anyone, everyone still
// pending in the ledger, the run STOPPED with the reason; once the
// settings fit, everyone gets one digest.
func TestRelayLackingWhatTheSettingsRequireStopsTheRun(t *testing.T) {
	t.Parallel()
	const n = 30
	for _, tc := range lacksCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := newRig(t, nil)
			now := time.Now()
			date := today(now)
			g.ingestPage(now.Add(-time.Hour))
			subs := g.addSubscribers(n, now, nil)
			srv := smtptest.StartT(t, tc.opts)
			tr := g.useServer(srv, tc.broken)
			conns := tr.Config().Connections

			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			sum, err := g.r.Run(ctx, digest.Spec{Now: now, Date: date})
			var stop *digest.StopError
			if !errors.As(err, &stop) || !errors.Is(err, digest.ErrStopped) || !errors.Is(err, mailer.ErrRelayLacks) {
				t.Fatalf("run against the relay: %v (summary %+v), want a StopError for the relay's shortcoming", err, sum)
			}
			want := "relay " + srv.Addr() + " " + tc.lacks
			if !strings.Contains(err.Error(), want) || string(stop.Reply.Stage) != tc.stage {
				t.Errorf("stop %q at stage %q, want it to name %q at %s", err, stop.Reply.Stage, want, tc.stage)
			}
			if got := srv.Conns(); got < 1 || got > conns {
				t.Errorf("the relay saw %d connections, want 1..%d (one per configured connection, no retries)", got, conns)
			}
			if sum.Sent != 0 || sum.Bounced != 0 || sum.Failed != 0 || sum.Pending != n {
				t.Errorf("summary %+v: want all %d pending, nothing sent, failed or bounced", sum, n)
			}
			g.assertNobodyCharged(subs)
			ids := make([]uint64, len(subs))
			for i, s := range subs {
				ids[i] = s.ID
			}
			states, err := g.st.LedgerStates(date, ids)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range subs {
				if st := states[s.ID]; st != model.DeliveryPending {
					t.Errorf("%s is %q in the ledger, want pending", s.Email, st)
				}
			}
			run := g.run(date)
			if !strings.Contains(run.Stopped, want) || !run.Finished.IsZero() || run.Attempts != 1 {
				t.Errorf("run %+v: want it stopped naming %q, unfinished", run, want)
			}

			// The operator makes the settings fit the relay.
			fix := tc.fix
			if fix == nil {
				fix = func(c *mailer.Config) { c.Username, c.Password = "", "" }
				if tc.opts.AuthUser != "" {
					// The relay insists on a login: it gets PLAIN now.
					srv = smtptest.StartT(t, smtptest.Options{AuthUser: "u", AuthPass: "p"})
					fix = func(c *mailer.Config) { c.Username, c.Password = "u", "p" }
				}
			}
			g.useServer(srv, fix)
			sum, err = g.r.Run(ctx, digest.Spec{Now: now.Add(time.Minute), Date: date})
			if err != nil || sum.Sent != n {
				t.Fatalf("run after the fix: %v (%+v), want %d sent", err, sum, n)
			}
			assertOneEach(t, srv, subs)
			g.assertNobodyCharged(subs)
			if run := g.run(date); run.Sent != n || run.Finished.IsZero() || run.Stopped != "" {
				t.Errorf("run after the fix %+v, want %d sent, finished", run, n)
			}
		})
	}
}

// TestOutboxKeepsMailWhenTheRelayLacksWhatTheSettingsRequire: the outbox
// keeps every confirmation queued, with no attempt counted, and each pass
// reports the reason once; at most one connection per configured
// connection a pass.
func TestOutboxKeepsMailWhenTheRelayLacksWhatTheSettingsRequire(t *testing.T) {
	t.Parallel()
	for _, tc := range lacksCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := newRig(t, nil)
			now := time.Now()
			svc, err := subscription.New(subscription.Deps{Store: g.st, Mail: g.r, Now: func() time.Time { return now }})
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range []string{"a@example.org", "b@example.org", "c@example.org"} {
				if ok, err := svc.Subscribe(subscription.Request{Email: e, Interests: []string{"graph neural networks"}, Source: "web"}); err != nil || !ok {
					t.Fatalf("subscribe %s: %v %v", e, ok, err)
				}
			}
			srv := smtptest.StartT(t, tc.opts)
			tr := g.useServer(srv, tc.broken)
			ob := digest.NewOutbox(g.st, g.r.Sender, g.log)
			want := "relay " + srv.Addr() + " " + tc.lacks
			for pass := 1; pass <= 2; pass++ {
				sent, err := ob.Flush(context.Background())
				if sent != 0 || !errors.Is(err, mailer.ErrRelayLacks) || !strings.Contains(err.Error(), want) {
					t.Fatalf("pass %d: %d sent, %v; want nothing sent and an error naming %q", pass, sent, err, want)
				}
				if got := srv.Conns(); got < pass || got > pass*tr.Config().Connections {
					t.Errorf("after pass %d the relay saw %d connections, want at most %d a pass", pass, got, tr.Config().Connections)
				}
			}
			items, err := g.st.DueOutbox(time.Now(), 100)
			if err != nil || len(items) != 3 {
				t.Fatalf("due outbox items: %d (%v), want all 3 still due", len(items), err)
			}
			for _, it := range items {
				if it.Attempts != 0 {
					t.Errorf("item to %s has %d attempts counted, want 0", it.To, it.Attempts)
				}
			}
		})
	}
}
