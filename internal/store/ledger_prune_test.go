package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/papermail/papermail/internal/model"
)

// pruneFixture is a store with n active subscribers.
func pruneFixture(t *testing.T, path string, n int) (*Store, []uint64) {
	t.Helper()
	s, err := Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ids := make([]uint64, n)
	for i := range ids {
		sub := model.Subscriber{Email: fmt.Sprintf("reader%d@example.org", i), State: model.StateActive, Hour: model.HourDefault}
		if err := s.AddSubscriber(&sub); err != nil {
			t.Fatal(err)
		}
		ids[i] = sub.ID
	}
	return s, ids
}

// day is the i-th simulated run date.
func day(i int) string {
	return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i).Format("2006-01-02")
}

// runDay runs date to the end the way the runner does: every subscriber
// due, then a sent digest of the usual size recorded for each (the same
// paper ids every day, so the sent history does not grow), then finished
// unless finish is false, when the last `pending` stay pending.
func runDay(t *testing.T, s *Store, date string, ids []uint64, pending int, finish bool) {
	t.Helper()
	if _, err := s.BeginRun(date, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddDue(date, ids); err != nil {
		t.Fatal(err)
	}
	papers := []string{"2601.00001", "2601.00002", "2601.00003", "2601.00004", "2601.00005", "2601.00006", "2601.00007", "2601.00008"}
	var os []Outcome
	for i, id := range ids[:len(ids)-pending] {
		os = append(os, Outcome{Date: date, Delivery: model.Delivery{SubscriberID: id, State: model.DeliverySent,
			MessageID: fmt.Sprintf("<%s.%d.0123456789abcdef@papermail.example.org>", date, i), Papers: papers, At: time.Now().UTC(),
			EntityRef: fmt.Sprintf("%s-%d-0123456789abcdef", date, id)}})
	}
	if err := s.Record(os...); err != nil {
		t.Fatal(err)
	}
	if finish {
		if _, err := s.FinishRun(date, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
}

// ledgerDatesOf lists the dates that still have a ledger.
func ledgerDatesOf(t *testing.T, s *Store) []string {
	t.Helper()
	var dates []string
	if err := s.view(func(tx *bolt.Tx) error {
		var err error
		dates, err = ledgerDates(tx)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return dates
}

func TestPruneLedgersKeepsNewestDates(t *testing.T) {
	const subs = 30
	for _, tc := range []struct{ days, keep int }{{1, 2}, {2, 2}, {3, 2}, {10, 2}, {10, 7}, {12, 1}, {5, 30}} {
		t.Run(fmt.Sprintf("%d days keep %d", tc.days, tc.keep), func(t *testing.T) {
			s, ids := pruneFixture(t, filepath.Join(t.TempDir(), "p.db"), subs)
			removed := 0
			for i := range tc.days {
				runDay(t, s, day(i), ids, 0, true)
				res, err := s.PruneLedgers(tc.keep, time.Minute)
				if err != nil {
					t.Fatal(err)
				}
				removed += len(res.Dates)
				if res.Lines != len(res.Dates)*subs {
					t.Errorf("day %d: %d lines removed with %v, want %d", i, res.Lines, res.Dates, len(res.Dates)*subs)
				}
				if want := min(i+1, tc.keep); res.Kept != want {
					t.Errorf("day %d: Kept = %d, want %d", i, res.Kept, want)
				}
			}
			var want []string
			for i := max(tc.days-tc.keep, 0); i < tc.days; i++ {
				want = append(want, day(i))
			}
			if got := ledgerDatesOf(t, s); !slices.Equal(got, want) {
				t.Fatalf("ledgers of %v, want %v", got, want)
			}
			if removed != tc.days-len(want) {
				t.Errorf("%d ledgers removed, want %d", removed, tc.days-len(want))
			}
			for _, d := range want {
				if l, err := s.Ledger(d); err != nil || len(l) != subs {
					t.Errorf("kept ledger %s: %d lines, %v", d, len(l), err)
				}
			}
			// Every date keeps its run summary for status.
			runs, err := s.Runs(0)
			if err != nil || len(runs) != tc.days {
				t.Fatalf("%d run records, want %d (%v)", len(runs), tc.days, err)
			}
			for _, r := range runs {
				if r.Due != subs || r.Sent != subs || r.Finished.IsZero() {
					t.Errorf("run %s summary %+v", r.Date, r)
				}
			}
			if _, err := s.Ledger(day(0)); tc.days > tc.keep && !errors.Is(err, ErrNotFound) {
				t.Errorf("pruned ledger read: %v", err)
			}
		})
	}
}

func TestPruneLedgersRefusesNoRetention(t *testing.T) {
	s, ids := pruneFixture(t, filepath.Join(t.TempDir(), "p.db"), 3)
	runDay(t, s, day(0), ids, 0, true)
	for _, keep := range []int{0, -1} {
		if _, err := s.PruneLedgers(keep, time.Minute); !errors.Is(err, ErrBadRetention) {
			t.Errorf("keep %d: %v", keep, err)
		}
	}
	if got := ledgerDatesOf(t, s); len(got) != 1 {
		t.Errorf("a refused prune removed ledgers: %v", got)
	}
}

// An interrupted or stopped run is resumed from its ledger, however many
// runs came after: its ledger stays until the run finishes.
func TestPruneLedgersKeepsUnfinishedRuns(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.db")
	s, ids := pruneFixture(t, path, 40)
	runDay(t, s, day(0), ids, 0, true)
	runDay(t, s, day(1), ids, 15, false) // killed with 15 pending
	runDay(t, s, day(2), ids, 5, false)
	if _, err := s.StopRun(day(2), "454 4.7.0 relay quota", time.Now()); err != nil {
		t.Fatal(err)
	}
	for i := 3; i < 9; i++ {
		runDay(t, s, day(i), ids, 0, true)
		if _, err := s.PruneLedgers(2, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{day(1), day(2), day(7), day(8)}
	if got := ledgerDatesOf(t, s); !slices.Equal(got, want) {
		t.Fatalf("ledgers of %v, want %v", got, want)
	}
	// Reopened as after a kill -9: the interrupted run still knows who
	// is left.
	s.Close()
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	l, err := s.Ledger(day(1))
	if err != nil {
		t.Fatal(err)
	}
	pending := 0
	for _, d := range l {
		if d.State == model.DeliveryPending {
			pending++
		}
	}
	if len(l) != 40 || pending != 15 {
		t.Fatalf("interrupted ledger after prunes: %d lines, %d pending; want 40 and 15", len(l), pending)
	}
	// Resumed and finished, it goes with the next prune.
	runDay(t, s, day(1), ids, 0, true)
	res, err := s.PruneLedgers(2, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Dates, []string{day(1)}) || res.Lines != 40 {
		t.Fatalf("prune after the resumed run finished: %+v", res)
	}
	if got := ledgerDatesOf(t, s); !slices.Equal(got, []string{day(2), day(7), day(8)}) {
		t.Fatalf("ledgers of %v", got)
	}
}

// A ledger larger than one prune transaction is deleted chunk by chunk
// and goes whole. With its budget spent a prune starts no other chunk
// (it always does one): the next prune goes on where it stopped.
func TestPruneLedgersInChunks(t *testing.T) {
	n := pruneChunk*2 + pruneChunk/2
	for _, budget := range []time.Duration{0, time.Minute} {
		t.Run(fmt.Sprint("budget ", budget), func(t *testing.T) {
			s, ids := pruneFixture(t, filepath.Join(t.TempDir(), "p.db"), 1)
			big := day(0)
			if _, err := s.BeginRun(big, time.Now()); err != nil {
				t.Fatal(err)
			}
			many := make([]uint64, n)
			for i := range many {
				many[i] = ids[0] + uint64(i)
			}
			if _, err := s.AddDue(big, many); err != nil {
				t.Fatal(err)
			}
			if _, err := s.FinishRun(big, time.Now()); err != nil {
				t.Fatal(err)
			}
			runDay(t, s, day(1), ids, 0, true)
			runDay(t, s, day(2), ids, 0, true)
			type step struct {
				lines int
				dates []string
				more  bool
			}
			want := []step{{n + 1, []string{day(0), day(1)}, false}}
			if budget == 0 {
				want = []step{
					{pruneChunk, nil, true},
					{pruneChunk, nil, true},
					{pruneChunk / 2, []string{day(0)}, true},
					{1, []string{day(1)}, false},
				}
			}
			want = append(want, step{0, nil, false})
			for i, w := range want {
				res, err := s.PruneLedgers(1, budget)
				if err != nil {
					t.Fatal(err)
				}
				if res.Lines != w.lines || !slices.Equal(res.Dates, w.dates) || res.More != w.more {
					t.Fatalf("prune %d: %d lines, dates %v, more %v; want %d, %v, %v", i+1, res.Lines, res.Dates, res.More, w.lines, w.dates, w.more)
				}
			}
			if got := ledgerDatesOf(t, s); !slices.Equal(got, []string{day(2)}) {
				t.Fatalf("ledgers of %v", got)
			}
		})
	}
}

// highWater is the store's size in pages as a transaction sees it (the
// end of the last page in use, free pages inside included).
func highWater(t *testing.T, s *Store) int64 {
	t.Helper()
	var n int64
	s.view(func(tx *bolt.Tx) error { n = tx.Size() / int64(s.db.Info().PageSize); return nil })
	return n
}

// Once old ledgers are pruned, each day's ledger reuses the pages freed
// by the day that went: the file stops growing.
func TestPruneLedgersBoundsTheFile(t *testing.T) {
	const subs, days, keep = 1000, 8, 3
	grow := func(prune bool) (half, full int64) {
		s, ids := pruneFixture(t, filepath.Join(t.TempDir(), "p.db"), subs)
		for i := range 2 * days {
			runDay(t, s, day(i), ids, 0, true)
			if prune {
				if _, err := s.PruneLedgers(keep, time.Minute); err != nil {
					t.Fatal(err)
				}
			}
			if i == days-1 {
				half = highWater(t, s)
			}
		}
		return half, highWater(t, s)
	}
	half, full := grow(true)
	// A few pages of slack for the freelist and uneven splits.
	if full > half+half/20 {
		t.Errorf("with ledger_days %d the store grew from %d pages after %d days to %d after %d", keep, half, days, full, 2*days)
	}
	t.Logf("pruned: %d pages after %d days, %d after %d", half, days, full, 2*days)
	// The control: without pruning it grows by a day's ledger a day.
	half, full = grow(false)
	if full < half+half/2 {
		t.Errorf("without pruning the store grew only from %d to %d pages: the test measures nothing", half, full)
	}
	t.Logf("not pruned: %d pages after %d days, %d after %d", half, days, full, 2*days)
}

// BenchmarkPruneLedger deletes one run date's ledger of 100,000 sent
// lines (the size a run writes) from a durable store (fsync per chunk),
// with the newest dates kept beside it.
func BenchmarkPruneLedger(b *testing.B) {
	const n = 100_000
	s, err := Open(filepath.Join(b.TempDir(), "p.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	line, _ := json.Marshal(model.Delivery{State: model.DeliverySent, Attempts: 1, At: time.Now().UTC(),
		MessageID: "<2026-01-01.123456.0123456789abcdef@papermail.example.org>", EntityRef: "2026-01-01-123456-0123456789abcdef",
		Papers: []string{"2601.00001", "2601.00002", "2601.00003", "2601.00004", "2601.00005", "2601.00006", "2601.00007", "2601.00008"}})
	fill := func(date string) {
		if _, err := s.BeginRun(date, time.Now()); err != nil {
			b.Fatal(err)
		}
		if err := s.update(func(tx *bolt.Tx) error {
			lb := tx.Bucket(bucketLedger).Bucket([]byte(date))
			lb.FillPercent = 0.9
			for i := range n {
				if err := lb.Put(u64(uint64(i+1)), line); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			b.Fatal(err)
		}
		if _, err := s.FinishRun(date, time.Now()); err != nil {
			b.Fatal(err)
		}
	}
	fill(day(0))
	i := 0
	for b.Loop() {
		b.StopTimer()
		i++
		fill(day(i))
		b.StartTimer()
		res, err := s.PruneLedgers(1, time.Hour)
		if err != nil || res.Lines != n {
			b.Fatalf("prune: %+v, %v", res, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/line")
}

// An operator's new run of a date whose ledger is gone counts the readers
// it considers again once, beside the sent and bounced of the first run.
func TestRunAgainAfterPrune(t *testing.T) {
	s, ids := pruneFixture(t, filepath.Join(t.TempDir(), "p.db"), 6)
	date := day(0)
	runDay(t, s, date, ids[:4], 0, true)
	skips := []Outcome{
		{Date: date, Delivery: model.Delivery{SubscriberID: ids[4], State: model.DeliverySkipped, Reason: "nothing relevant"}},
		{Date: date, Delivery: model.Delivery{SubscriberID: ids[5], State: model.DeliverySkipped, Reason: "nothing relevant"}},
	}
	if err := s.Record(skips...); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		runDay(t, s, day(i), ids, 0, true)
	}
	if res, err := s.PruneLedgers(3, time.Minute); err != nil || !slices.Equal(res.Dates, []string{date}) {
		t.Fatalf("prune: %+v, %v", res, err)
	}
	run, err := s.BeginRun(date, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if run.Due != 4 || run.Sent != 4 || run.Skipped != 0 || run.Attempts != 2 {
		t.Fatalf("run again after its ledger went: %+v", run)
	}
	if _, err := s.AddDue(date, ids[4:]); err != nil {
		t.Fatal(err)
	}
	if err := s.Record(skips...); err != nil {
		t.Fatal(err)
	}
	run, _ = s.FinishRun(date, time.Now())
	if run.Due != 6 || run.Sent != 4 || run.Skipped != 2 {
		t.Fatalf("run again finished: %+v, want due 6, sent 4, skipped 2", run)
	}
	// A run whose ledger is there resumes with its counts as they are.
	again, _ := s.BeginRun(day(3), time.Now())
	if again.Due != 6 || again.Sent != 6 {
		t.Fatalf("resumed run with its ledger: %+v", again)
	}
}
