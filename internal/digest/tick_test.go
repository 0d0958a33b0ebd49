package digest_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/papermail/papermail/internal/config"
	"github.com/papermail/papermail/internal/digest"
	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/smtptest"
)

// noMatch is an interest nothing on the listing page is about.
const noMatch = "protein folding drug discovery"

// proteinPaper is a paper of our own about noMatch.
func proteinPaper(at time.Time) model.Paper {
	return model.Paper{
		ID:    "2611.99001",
		Title: "Protein Folding Models for Structure-Based Drug Discovery",
		Abstract: "We study how predicted protein folding structures can guide drug discovery. A folding model " +
			"predicts the structure of each target protein, and a docking stage ranks candidate molecules " +
			"against the predicted binding pockets. On three drug discovery benchmarks the predicted " +
			"structures recover most of the hits found with experimental structures.",
		Authors:    []string{"A. Writer"},
		TrendingAt: at, Source: "jsonl",
	}
}

// TestScheduledTickSkipsSettled runs scheduled ticks (no fixed date): a
// subscriber with nothing relevant is recorded skipped once, and later
// ticks that day leave them alone even after a relevant paper arrives (it
// goes out the next day); a subscriber already sent to is not sent again.
func TestScheduledTickSkipsSettled(t *testing.T) {
	t.Parallel()
	g := newRig(t, nil)
	base := time.Now().UTC().Truncate(24 * time.Hour).Add(12 * time.Hour)
	date := today(base)
	g.ingestPage(time.Now().Add(-time.Hour))
	subs := g.addSubscribers(2, base, func(i int, s *model.Subscriber) {
		s.Timezone, s.Hour = "UTC", 0 // due at every tick of the day
		if i == 0 {
			s.Interests = []string{noMatch}
		}
	})
	none, seg := subs[0], subs[1]
	srv := smtptest.StartT(t, smtptest.Options{})
	g.useServer(srv, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tick := func(now time.Time) digest.Summary {
		t.Helper()
		sum, err := g.r.Run(ctx, digest.Spec{Now: now})
		if err != nil {
			t.Fatalf("tick at %s: %v", now.Format(time.RFC3339), err)
		}
		return sum
	}

	tick(base)
	led := g.ledger(date)
	first := led[none.ID]
	if first.State != model.DeliverySkipped || first.Reason != "nothing relevant" {
		t.Fatalf("ledger line of the subscriber with no match: %+v", first)
	}
	if led[seg.ID].State != model.DeliverySent || srv.Count() != 1 {
		t.Fatalf("ledger line of the other subscriber %+v, %d messages", led[seg.ID], srv.Count())
	}

	// A relevant paper arrives; the later ticks of the day do not look again.
	g.putPapers([]model.Paper{proteinPaper(base.Add(time.Minute))}, base.Add(time.Minute))
	for _, later := range []time.Duration{5 * time.Minute, 10 * time.Minute, 6 * time.Hour} {
		if sum := tick(base.Add(later)); len(sum.Runs) != 0 {
			t.Errorf("tick +%v touched the day's run: %+v", later, sum)
		}
	}
	if srv.Count() != 1 {
		t.Errorf("later ticks sent %d more messages", srv.Count()-1)
	}
	if again := g.ledger(date)[none.ID]; !again.At.Equal(first.At) || again.State != model.DeliverySkipped {
		t.Errorf("the skipped subscriber was evaluated again: %+v, first %+v", again, first)
	}
	if run := g.run(date); run.Skipped != 1 || run.Sent != 1 || run.Due != 2 || run.Attempts != 1 || !run.Started.Equal(base) {
		t.Errorf("run %+v, want due 2, sent 1, skipped 1, started once at the first tick", run)
	}

	// Next day the new paper goes out.
	next := base.Add(24 * time.Hour)
	tick(next)
	d := g.ledger(today(next))[none.ID]
	if d.State != model.DeliverySent || !slices.Contains(d.Papers, "2611.99001") {
		t.Errorf("next day the subscriber's line is %+v, want sent with the new paper", d)
	}
	if got := srv.CountByRecipient(); got[none.Email] != 1 || got[seg.Email] != 2 {
		t.Errorf("received %v, want 1 for %s and 2 for %s", got, none.Email, seg.Email)
	}
}

// TestTrendingFallback: with digest.fallback trending, a subscriber with
// nothing relevant gets the trending papers, marked as such.
func TestTrendingFallback(t *testing.T) {
	t.Parallel()
	g := newRig(t, func(c *config.Config) { c.Digest.Fallback = "trending" })
	now := time.Now()
	g.ingestPage(now.Add(-time.Hour))
	subs := g.addSubscribers(1, now, func(_ int, s *model.Subscriber) { s.Interests = []string{noMatch} })
	srv := smtptest.StartT(t, smtptest.Options{})
	g.useServer(srv, nil)
	sum, err := g.r.Run(context.Background(), digest.Spec{Now: now, Date: today(now)})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Sent != 1 || sum.Skipped != 0 {
		t.Fatalf("summary %+v, want one sent", sum)
	}
	d := g.ledger(today(now))[subs[0].ID]
	if d.State != model.DeliverySent || len(d.Papers) != g.cfg.Digest.MaxPapers {
		t.Errorf("ledger line %+v, want sent with %d papers", d, g.cfg.Digest.MaxPapers)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	if s := subject(t, msgs[0].Data); !strings.HasPrefix(s, "Trending papers") {
		t.Errorf("subject %q does not say the papers are trending", s)
	}
	text := textPart(t, msgs[0].Data)
	if !strings.Contains(strings.Join(strings.Fields(text), " "), "Nothing matched your interests today") ||
		strings.Count(text, "Why: trending today") != g.cfg.Digest.MaxPapers {
		t.Errorf("the digest does not mark its papers as trending fallback:\n%s", text)
	}
}

// TestNoPapersSkips: with nothing ingested everyone due is skipped with
// "no new papers" and nothing is sent; the operator's run for the same
// date (unlike a scheduled tick) looks again, and once papers are in it
// sends them, turning the skipped lines into sent ones.
func TestNoPapersSkips(t *testing.T) {
	t.Parallel()
	const n = 3
	g := newRig(t, nil)
	now := time.Now()
	date := today(now)
	subs := g.addSubscribers(n, now, nil)
	srv := smtptest.StartT(t, smtptest.Options{})
	g.useServer(srv, nil)
	sum, err := g.r.Run(context.Background(), digest.Spec{Now: now, Date: date})
	if err != nil || sum.Skipped != n || sum.Sent != 0 || srv.Count() != 0 {
		t.Fatalf("run without papers: %+v, %v, %d messages", sum, err, srv.Count())
	}
	for _, s := range subs {
		if d := g.ledger(date)[s.ID]; d.State != model.DeliverySkipped || d.Reason != "no new papers" {
			t.Errorf("%s: ledger line %+v", s.Email, d)
		}
	}
	g.ingestPage(now)
	if sum, err = g.r.Run(context.Background(), digest.Spec{Now: now.Add(time.Minute), Date: date}); err != nil {
		t.Fatal(err)
	}
	if run := g.run(date); run.Sent != n || run.Skipped != 0 || run.Due != n || sum.Sent != n || srv.Count() != n {
		t.Errorf("operator run after ingest: run %+v, %d messages", run, srv.Count())
	}
}
