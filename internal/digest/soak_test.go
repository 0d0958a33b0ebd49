package digest_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/papermail/papermail/internal/config"
	"github.com/papermail/papermail/internal/digest"
	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/smtptest"
)

// TestSoak is an opt-in long test; it is skipped unless PAPERMAIL_SOAK=1:
//
//	PAPERMAIL_SOAK=1 go test -run TestSoak -v ./internal/digest/
//
// (PAPERMAIL_SOAK_SEED=N repeats a run.) It simulates 14 days of digests
// (one operator run per date, then a retry run the same date as the
// scheduler's next tick would do) for 300 subscribers, with new papers
// each day and a relay that fails randomly: 451 on 15% of DATA, 3% of
// connections cut mid-DATA, 550 for a few addresses, and one day on which
// it is down for the first run. Every day the ledger is checked against
// what the relay received: each sent line has exactly one message with
// its Message-ID, nobody gets two digests for one date, bounced and
// unsubscribed addresses never receive again, weekly readers get one a
// week, and no paper is sent twice to one reader.
func TestSoak(t *testing.T) {
	if os.Getenv("PAPERMAIL_SOAK") != "1" {
		t.Skip("opt-in soak test: run with PAPERMAIL_SOAK=1 go test -run TestSoak -v ./internal/digest/")
	}
	const days, n = 14, 300
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("PAPERMAIL_SOAK_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("PAPERMAIL_SOAK_SEED=%q: %v", s, err)
		}
		seed = v
	}
	t.Logf("seed %d (PAPERMAIL_SOAK_SEED=%d repeats this run)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, seed^0x5eed))

	g := newRig(t, func(c *config.Config) { c.SMTP.MaxAttempts = 3 })
	start := time.Now().UTC().Truncate(24 * time.Hour).Add(-days*24*time.Hour + 12*time.Hour)
	page := pagePapers(t, start)
	subs := g.addSubscribers(n, start, func(i int, s *model.Subscriber) {
		if i%7 == 0 {
			s.Interests = append(s.Interests, topics[(i/7)%len(topics)])
		}
		if i%10 == 3 {
			s.Frequency, s.Weekday = model.FrequencyWeekly, i%7
		}
	})
	byEmail := map[string]*model.Subscriber{}
	for i := range subs {
		byEmail[subs[i].Email] = &subs[i]
	}
	rejected := map[string]bool{}
	for len(rejected) < 4 {
		rejected[addr(rng.IntN(n))] = true
	}
	reject := func(rcpt string) *smtp.SMTPError {
		if rejected[rcpt] {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user here"}
		}
		return nil
	}
	downDay := 2 + rng.IntN(days-4)

	gone := map[uint64]string{}              // bounced or unsubscribed, with the date
	papersOf := map[uint64]map[string]bool{} // every paper sent to each reader
	datesOf := map[uint64][]string{}         // dates each reader got a digest
	var total struct{ sent, skipped, bounced, failed, attempts, messages, retryRunSent int }
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()

	for day := range days {
		now := start.Add(time.Duration(day) * 24 * time.Hour)
		date := today(now)
		// New papers: a quarter of the page, as if listed today.
		var fresh []model.Paper
		for i, p := range page {
			if (i+day)%4 != 0 {
				continue
			}
			p.ID = fmt.Sprintf("soak%02d-%s", day, strings.TrimPrefix(p.ID, "t:"))
			p.Title = fmt.Sprintf("%s (day %d)", p.Title, day+1)
			p.TrendingAt, p.Ingested = now.Add(-6*time.Hour), time.Time{}
			p.Upvotes = rng.IntN(300)
			fresh = append(fresh, p)
		}
		g.putPapers(fresh, now.Add(-6*time.Hour))
		// One reader leaves each day.
		for {
			s := &subs[rng.IntN(n)]
			if _, ok := gone[s.ID]; ok {
				continue
			}
			if _, err := g.st.UpdateSubscriber(s.ID, func(x *model.Subscriber) error {
				x.State = model.StateUnsubscribed
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			gone[s.ID] = date
			break
		}

		if day == downDay {
			soft := map[uint64]int{}
			for i := range subs {
				soft[subs[i].ID] = len(g.sub(subs[i].ID).SoftBounces)
			}
			g.r.Sender = g.transport(closedPort(t), nil)
			sum, err := g.r.Run(ctx, digest.Spec{Now: now, Date: date})
			if err != nil || sum.Sent != 0 || sum.Failed == 0 {
				t.Fatalf("day %d, relay down: %+v, %v", day+1, sum, err)
			}
			for i := range subs {
				if cur := g.sub(subs[i].ID); len(cur.SoftBounces) != soft[cur.ID] {
					t.Errorf("day %d: the relay outage counted as a soft bounce for %s: %v", day+1, cur.Email, cur.SoftBounces)
				}
			}
			t.Logf("day %2d %s: relay down for the first run, %d failed", day+1, date, sum.Failed)
		}

		daySeed := rng.Uint64()
		srv, err := smtptest.Start(smtptest.Options{
			TempFailRate: 0.15, Seed: int64(daySeed>>1) | 1, RejectRcpt: reject,
			CutMidData: func(k int) bool { return mix(daySeed^uint64(k))%100 < 3 },
		})
		if err != nil {
			t.Fatal(err)
		}
		g.useServer(srv, nil)
		sum1, err := g.r.Run(ctx, digest.Spec{Now: now, Date: date})
		if err != nil {
			t.Fatalf("day %d: %v", day+1, err)
		}
		afterFirst := srv.Count()
		if _, err := g.r.Run(ctx, digest.Spec{Now: now.Add(30 * time.Minute), Date: date}); err != nil {
			t.Fatalf("day %d, retry run: %v", day+1, err)
		}
		srv.Close()
		total.retryRunSent += srv.Count() - afterFirst

		got := received(t, srv)
		led := g.ledger(date)
		st := states(led)
		run := g.run(date)
		for rc, ids := range got {
			s := byEmail[rc]
			if s == nil {
				t.Errorf("day %d: mail for unknown %s", day+1, rc)
				continue
			}
			d := led[s.ID]
			switch {
			case len(ids) != 1:
				t.Errorf("day %d: %s got %d digests for %s", day+1, rc, len(ids), date)
			case d.State != model.DeliverySent || d.MessageID != ids[0]:
				t.Errorf("day %d: %s received %s but the ledger line is %+v", day+1, rc, ids[0], d)
			}
			if when, ok := gone[s.ID]; ok && when < date {
				t.Errorf("day %d: %s left on %s and still got mail", day+1, rc, when)
			}
		}
		for id, d := range led {
			s := &subs[id-subs[0].ID]
			if d.State == model.DeliverySent {
				if len(got[s.Email]) != 1 {
					t.Errorf("day %d: ledger says sent to %s, relay got %d", day+1, s.Email, len(got[s.Email]))
				}
				seen := papersOf[id]
				if seen == nil {
					seen = map[string]bool{}
					papersOf[id] = seen
				}
				for _, p := range d.Papers {
					if seen[p] {
						t.Errorf("day %d: paper %s sent to %s again", day+1, p, s.Email)
					}
					seen[p] = true
				}
				datesOf[id] = append(datesOf[id], date)
				total.attempts += d.Attempts
			}
			if d.State == model.DeliveryBounced {
				if !rejected[s.Email] {
					t.Errorf("day %d: %s bounced without a 550: %s", day+1, s.Email, d.Reason)
				}
				gone[id] = date
			}
		}
		for rc := range rejected {
			when, ok := gone[byEmail[rc].ID]
			switch a := srv.RcptAttempts(rc); {
			case ok && when < date && a != 0:
				t.Errorf("day %d: %s, gone since %s, was tried again", day+1, rc, when)
			case ok && when == date && led[byEmail[rc].ID].State == model.DeliveryBounced && a != 1:
				t.Errorf("day %d: %s was tried %d times before it bounced, want once", day+1, rc, a)
			}
		}
		if run.Sent != st[model.DeliverySent] || run.Skipped != st[model.DeliverySkipped] ||
			run.Bounced != st[model.DeliveryBounced] || run.Failed != st[model.DeliveryFailed] || run.Finished.IsZero() {
			t.Errorf("day %d: run %+v does not match its ledger %v", day+1, run, st)
		}
		total.sent += run.Sent
		total.skipped += run.Skipped
		total.bounced += run.Bounced
		total.failed += run.Failed
		total.messages += srv.Count()
		t.Logf("day %2d %s: due %3d sent %3d skipped %3d bounced %d failed %d (run sent %d, retry run %d), %d papers new",
			day+1, date, run.Due, run.Sent, run.Skipped, run.Bounced, run.Failed, sum1.Sent, srv.Count()-afterFirst, len(fresh))
	}

	// Weekly readers: one digest a week at most; daily readers: one a day.
	for i := range subs {
		s := &subs[i]
		ds := datesOf[s.ID]
		if s.Frequency == model.FrequencyWeekly {
			for k := 1; k < len(ds); k++ {
				a, _ := time.Parse(digest.DateLayout, ds[k-1])
				b, _ := time.Parse(digest.DateLayout, ds[k])
				if b.Sub(a) < 7*24*time.Hour {
					t.Errorf("weekly %s got digests on %s and %s", s.Email, ds[k-1], ds[k])
				}
			}
		}
		if c := slices.Compact(slices.Clone(ds)); len(c) != len(ds) {
			t.Errorf("%s got two digests for one date: %v", s.Email, ds)
		}
	}
	t.Logf("summary: %d days, %d subscribers, relay down on day %d; %d digests sent (%d by retry runs), %d skipped, %d bounced, %d failed at day end; %d attempts for the sent ones",
		days, n, downDay+1, total.sent, total.retryRunSent, total.skipped, total.bounced, total.failed, total.attempts)
	if total.messages != total.sent {
		t.Errorf("the relay accepted %d messages, the ledgers record %d sent", total.messages, total.sent)
	}
}

// mix is SplitMix64's finalizer: a well-spread hash of x.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
