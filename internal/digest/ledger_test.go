package digest_test

import (
	"context"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/papermail/papermail/internal/config"
	"github.com/papermail/papermail/internal/digest"
	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/smtptest"
	"github.com/papermail/papermail/internal/store"
)

// freshPapers stores the page under new ids, as if listed on the day of
// now.
func (g *rig) freshPapers(page []model.Paper, day int, now time.Time) {
	g.t.Helper()
	var fresh []model.Paper
	for _, p := range page {
		p.ID = fmt.Sprintf("day%02d-%s", day, strings.TrimPrefix(p.ID, "t:"))
		p.Title = fmt.Sprintf("%s (day %d)", p.Title, day+1)
		p.TrendingAt, p.Ingested = now.Add(-6*time.Hour), time.Time{}
		fresh = append(fresh, p)
	}
	g.putPapers(fresh, now.Add(-6*time.Hour))
}

// ledgerDates lists the run dates that still have a ledger, oldest first.
func (g *rig) ledgerDates(dates []string) []string {
	g.t.Helper()
	var out []string
	for _, d := range dates {
		_, err := g.st.Ledger(d)
		switch {
		case err == nil:
			out = append(out, d)
		case !errors.Is(err, store.ErrNotFound):
			g.t.Fatalf("ledger %s: %v", d, err)
		}
	}
	return out
}

// TestLedgersPrunedAfterRuns runs digests day after day with
// digest.ledger_days 3: after each run only the three newest dates keep a
// ledger, every date keeps its run summary, and the prune is logged. Then
// a run is interrupted mid-way and the process restarts; runs of later
// dates prune around the unfinished run without touching its ledger, and
// resuming it serves everyone left exactly once.
func TestLedgersPrunedAfterRuns(t *testing.T) {
	t.Parallel()
	const n, days, keep = 20, 5, 3
	logs := &syncBuffer{}
	g := newRig(t, func(c *config.Config) { c.Digest.LedgerDays = keep })
	g.log = slog.New(slog.NewTextHandler(logs, nil))
	g.reopen()
	start := time.Now().Add(-10 * 24 * time.Hour)
	page := pagePapers(t, start)
	subs := g.addSubscribers(n, start.Add(-time.Hour), nil)
	var dates []string
	var firstPapers []string // what subs[0] was sent on the first day
	ctx := context.Background()
	for day := range days {
		now := start.Add(time.Duration(day) * 24 * time.Hour)
		date := today(now)
		dates = append(dates, date)
		g.freshPapers(page, day, now)
		srv := smtptest.StartT(t, smtptest.Options{})
		g.useServer(srv, nil)
		sum, err := g.r.Run(ctx, digest.Spec{Now: now, Date: date})
		if err != nil || sum.Sent != n {
			t.Fatalf("day %d: %+v, %v; want %d sent", day, sum, err, n)
		}
		if day == 0 {
			firstPapers = g.ledger(date)[subs[0].ID].Papers
		}
		if got, want := g.ledgerDates(dates), dates[max(len(dates)-keep, 0):]; !slices.Equal(got, want) {
			t.Fatalf("after day %d ledgers of %v, want %v", day, got, want)
		}
	}
	// The first day's "view in browser" link still shows that digest's
	// papers, from the sent-papers history, and no other day's.
	_, view, err := g.r.BrowserDigest(&subs[0], dates[0])
	if err != nil {
		t.Fatalf("view of a pruned day: %v", err)
	}
	if len(firstPapers) == 0 {
		t.Fatal("no papers sent on the first day")
	}
	view = html.UnescapeString(strings.NewReplacer("<mark>", "", "</mark>", "").Replace(view)) // matched words marked
	for _, id := range firstPapers {
		p, err := g.st.Paper(id)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(view, p.Title) {
			t.Errorf("view of the pruned %s lacks %q", dates[0], p.Title)
		}
	}
	if got := strings.Count(view, "(day "); got != len(firstPapers) {
		t.Errorf("view of the pruned %s shows %d papers, want the %d sent", dates[0], got, len(firstPapers))
	}
	if strings.Contains(view, "(day 2)") {
		t.Errorf("view of %s shows a paper of the next day", dates[0])
	}
	if _, _, err := g.r.BrowserDigest(&subs[0], "2001-01-01"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("view of a day without a digest: %v", err)
	}
	for _, d := range dates {
		if run := g.run(d); run.Sent != n || run.Due != n || run.Finished.IsZero() {
			t.Errorf("run summary of %s after its ledger went: %+v", d, run)
		}
	}
	if got := strings.Count(logs.String(), fmt.Sprintf("msg=\"pruned old digest ledgers\" dates=1 lines=%d kept=%d ledger_days=%d more=false", n, keep, keep)); got != days-keep {
		t.Errorf("%d prune log lines, want %d:\n%s", got, days-keep, logs)
	}

	// Day 6 is interrupted after a few messages, and the process restarts.
	now := start.Add(days * 24 * time.Hour)
	date := today(now)
	dates = append(dates, date)
	g.freshPapers(page, days, now)
	srv := smtptest.StartT(t, smtptest.Options{DataDelay: 30 * time.Millisecond})
	g.useServer(srv, nil)
	cctx, cancel := context.WithCancel(ctx)
	go func() {
		if srv.WaitFor(4, time.Minute) {
			cancel()
		}
	}()
	if _, err := g.r.Run(cctx, digest.Spec{Now: now, Date: date}); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v", err)
	}
	cancel()
	g.reopen()
	led := g.ledger(date)
	var served *model.Subscriber
	for i := range subs {
		if led[subs[i].ID].State == model.DeliverySent {
			served = &subs[i]
			break
		}
	}
	if served == nil || states(led)[model.DeliveryPending] == 0 {
		t.Fatalf("interrupted ledger %v: want some sent, some pending", states(led))
	}

	// Three later dates' runs (one reader each) prune the finished ledgers
	// before them, not the unfinished one.
	other := smtptest.StartT(t, smtptest.Options{})
	g.useServer(other, nil)
	for day := days + 1; day <= days+keep; day++ {
		later := start.Add(time.Duration(day) * 24 * time.Hour)
		dates = append(dates, today(later))
		if _, err := g.r.Run(ctx, digest.Spec{Now: later, Date: today(later), Only: served.ID}); err != nil {
			t.Fatalf("run of %s: %v", today(later), err)
		}
	}
	if got, want := g.ledgerDates(dates), dates[days:]; len(want) != keep+1 || !slices.Equal(got, want) {
		t.Fatalf("ledgers of %v, want %v (the unfinished run's kept)", got, want)
	}

	// The restart resumes the interrupted run: everyone gets that day's
	// digest once; finished, its ledger goes too.
	g.useServer(srv, nil)
	if err := g.r.ResumeInterrupted(ctx, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	counts := srv.CountByRecipient()
	for _, s := range subs {
		if counts[s.Email] != 1 {
			t.Errorf("%s received %d digests of %s, want 1", s.Email, counts[s.Email], date)
		}
	}
	if run := g.run(date); run.Finished.IsZero() || run.Sent != n {
		t.Errorf("resumed run %+v, want finished with %d sent", run, n)
	}
	if got, want := g.ledgerDates(dates), dates[days+1:]; !slices.Equal(got, want) {
		t.Errorf("after the resumed run finished ledgers of %v, want %v", got, want)
	}
}

// TestSentHistoryPrunedAfterRuns runs digests over more days than the
// sent-papers history is kept (digest.SentHistoryDays: 37 with the
// default window). Day 1's papers trend again on day 38, the last day
// with new papers; days 39 and 40 bring nothing new. After the runs the
// picks of day 0 are gone, those of the feed's last 30 days stay, and day
// 1's, past the horizon but candidates again, keep their entries: nobody
// is sent a paper twice.
func TestSentHistoryPrunedAfterRuns(t *testing.T) {
	t.Parallel()
	const n = 4
	logs := &syncBuffer{}
	g := newRig(t, nil)
	g.log = slog.New(slog.NewTextHandler(logs, nil))
	g.reopen()
	horizon := g.r.SentHistoryDays()
	if horizon < digest.FeedDays+1 || horizon != 37 {
		t.Fatalf("SentHistoryDays = %d, want 37 (the feed's %d days and a margin)", horizon, digest.FeedDays)
	}
	const retrend, last = 38, 40
	start := time.Now().Add(-last * 24 * time.Hour)
	page := pagePapers(t, start)
	subs := g.addSubscribers(n, start.Add(-time.Hour), nil)
	srv := smtptest.StartT(t, smtptest.Options{})
	g.useServer(srv, nil)
	ctx := context.Background()
	sentOn := map[int]map[uint64][]string{}
	for _, day := range []int{0, 1, 10, retrend, last - 1, last} {
		now := start.Add(time.Duration(day) * 24 * time.Hour)
		if day <= retrend {
			g.freshPapers(page, day, now)
		}
		if day == retrend {
			var again []model.Paper
			for _, ids := range sentOn[1] {
				for _, id := range ids {
					p, err := g.st.Paper(id)
					if err != nil {
						t.Fatal(err)
					}
					p.TrendingAt = now.Add(-time.Hour)
					again = append(again, p)
				}
			}
			g.putPapers(again, now.Add(-time.Hour))
		}
		sum, err := g.r.Run(ctx, digest.Spec{Now: now, Date: today(now)})
		if err != nil {
			t.Fatalf("day %d: %v", day, err)
		}
		if day <= retrend && sum.Sent != n {
			t.Fatalf("day %d: %+v; want %d sent", day, sum, n)
		}
		sentOn[day] = map[uint64][]string{}
		for id, d := range g.ledger(today(now)) {
			if d.State == model.DeliverySent {
				sentOn[day][id] = d.Papers
			}
		}
	}
	for _, s := range subs {
		if len(sentOn[0][s.ID]) == 0 || len(sentOn[1][s.ID]) == 0 {
			t.Fatalf("%s was sent nothing on day 0 or 1", s.Email)
		}
		hist, err := g.st.SentHistory(s.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range sentOn[0][s.ID] {
			if _, ok := hist[id]; ok {
				t.Errorf("%s: day 0's %s is still in the history %d days later", s.Email, id, last)
			}
		}
		for _, day := range []int{1, 10} {
			for _, id := range sentOn[day][s.ID] {
				if hist[id] != today(start.Add(time.Duration(day)*24*time.Hour)) {
					t.Errorf("%s: day %d's %s has %q in the history, want its date", s.Email, day, id, hist[id])
				}
			}
		}
		seen := map[string]int{}
		for _, day := range []int{1, 10, retrend, last - 1, last} {
			for _, id := range sentOn[day][s.ID] {
				if d, ok := seen[id]; ok {
					t.Errorf("%s was sent %s on day %d and again on day %d", s.Email, id, d, day)
				}
				seen[id] = day
			}
		}
	}
	if !strings.Contains(logs.String(), "msg=\"pruned the sent-papers history\"") {
		t.Errorf("no prune logged:\n%s", logs)
	}
}
