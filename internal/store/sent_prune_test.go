package store

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/papermail/papermail/internal/model"
)

// dayTime is noon UTC of the i-th simulated run date.
func dayTime(i int) time.Time {
	return time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC).AddDate(0, 0, i)
}

// dayPapers are the ids of the eight papers trending on day i.
func dayPapers(i int) []string {
	ids := make([]string, 8)
	for j := range ids {
		ids[j] = fmt.Sprintf("d%03d.%05d", i, j)
	}
	return ids
}

// sentDay stores day i's papers, records a sent digest of them for every
// subscriber and finishes the run, then prunes ledgers to three dates the
// way the runner does.
func sentDay(t testing.TB, s *Store, i int, ids []uint64) {
	t.Helper()
	date := day(i)
	var papers []model.Paper
	for _, id := range dayPapers(i) {
		papers = append(papers, model.Paper{ID: id, Title: "Paper " + id, TrendingAt: dayTime(i).Add(-6 * time.Hour)})
	}
	if _, err := s.PutPapers(papers, dayTime(i)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.BeginRun(date, dayTime(i)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddDue(date, ids); err != nil {
		t.Fatal(err)
	}
	var os []Outcome
	for _, id := range ids {
		os = append(os, Outcome{Date: date, Delivery: model.Delivery{SubscriberID: id, State: model.DeliverySent,
			MessageID: fmt.Sprintf("<%s.%d@papermail.example.org>", date, id), Papers: dayPapers(i), At: dayTime(i)}})
	}
	if err := s.Record(os...); err != nil {
		t.Fatal(err)
	}
	if _, err := s.FinishRun(date, dayTime(i)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PruneLedgers(3, time.Minute); err != nil {
		t.Fatal(err)
	}
}

// pruneSentAt prunes as the runner does on day i with a horizon of days.
func pruneSentAt(t testing.TB, s *Store, i, days int, budget time.Duration) SentPrune {
	t.Helper()
	res, err := s.PruneSent(day(i-days), dayTime(i-days).Add(-12*time.Hour), budget)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// sentCount is how many entries the sent-papers history holds.
func sentCount(t testing.TB, s *Store) int {
	t.Helper()
	n := 0
	s.view(func(tx *bolt.Tx) error { n = tx.Bucket(bucketSent).Stats().KeyN; return nil })
	return n
}

// After simulated days, entries sent before the horizon are gone and the
// newer ones stay, except one whose paper trends again: a candidate once
// more, its entry stays until the new date is past the horizon too.
func TestPruneSentKeepsTheHorizon(t *testing.T) {
	const subs, days, horizon, retrend = 12, 30, 10, 12
	s, ids := pruneFixture(t, filepath.Join(t.TempDir(), "p.db"), subs)
	again := dayPapers(2)[3]
	for i := range days {
		sentDay(t, s, i, ids)
		if i == retrend {
			if _, err := s.PutPapers([]model.Paper{{ID: again, Title: "again", TrendingAt: dayTime(i)}}, dayTime(i)); err != nil {
				t.Fatal(err)
			}
		}
		res := pruneSentAt(t, s, i, horizon, time.Minute)
		want := 0
		if i > horizon {
			want = 8 * subs // the day that went past the horizon
		}
		switch i {
		case horizon + 3: // day 2's, but for the paper trending again
			want -= subs
		case retrend + horizon + 1: // that paper's new date is past too
			want += subs
		}
		if res.Deleted != want || res.More {
			t.Errorf("day %d: %+v, want %d deleted and no more", i, res, want)
		}
		if i == retrend+horizon {
			sets, err := s.SentSets(ids, []string{again})
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range ids {
				if !sets[id].Has(again) {
					t.Errorf("day %d: subscriber %d lost the entry of the paper trending again", i, id)
				}
			}
		}
	}
	last := days - 1
	want := map[string]string{}
	for i := last - horizon; i <= last; i++ {
		for _, p := range dayPapers(i) {
			want[p] = day(i)
		}
	}
	for _, id := range ids {
		hist, err := s.SentHistory(id)
		if err != nil {
			t.Fatal(err)
		}
		if len(hist) != len(want) {
			t.Errorf("subscriber %d: %d entries, want %d", id, len(hist), len(want))
		}
		for p, d := range want {
			if hist[p] != d {
				t.Errorf("subscriber %d: %s sent %q, want %q", id, p, hist[p], d)
			}
		}
	}
}

// A cutoff that is not a date is refused and nothing is deleted.
func TestPruneSentRefusesBadCutoff(t *testing.T) {
	s, ids := pruneFixture(t, filepath.Join(t.TempDir(), "p.db"), 3)
	sentDay(t, s, 0, ids)
	for _, bad := range []string{"", "2026-1-1", "yesterday", "2026-13-01", "2026-01-01T00:00"} {
		if _, err := s.PruneSent(bad, dayTime(100), time.Minute); !errors.Is(err, ErrBadCutoff) {
			t.Errorf("cutoff %q: %v, want ErrBadCutoff", bad, err)
		}
	}
	if n := sentCount(t, s); n != 3*8 {
		t.Errorf("%d entries after refused prunes, want %d", n, 3*8)
	}
}

// With no budget each prune runs one chunk and says there is more; the
// next resumes where it stopped, to the end of the history; the pass
// after goes from the first key again. Every old entry goes and no new
// one does.
func TestPruneSentResumesInChunks(t *testing.T) {
	subs := sentScanChunk/8 + 300 // over two chunks a day
	s, err := Open(filepath.Join(t.TempDir(), "p.db"), Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	for i := range 3 {
		if err := s.update(func(tx *bolt.Tx) error { return putSentDay(tx, subs, i) }); err != nil {
			t.Fatal(err)
		}
	}
	// A pass left mid-way by a run out of budget.
	res := pruneSentAt(t, s, 3, 3, 0) // nothing past the horizon yet
	if res.Chunks != 1 || !res.More || res.Deleted != 0 || res.Scanned != sentScanChunk {
		t.Fatalf("first prune %+v, want one chunk of %d and more", res, sentScanChunk)
	}
	// Day 0 is now past the horizon; prunes of one chunk each finish that
	// pass, then a whole new one.
	total, calls, passes, scanned := 0, 0, 0, sentScanChunk
	for passes < 2 {
		res := pruneSentAt(t, s, 3, 2, 0)
		if res.Chunks != 1 {
			t.Fatalf("prune without budget: %+v, want one chunk", res)
		}
		total += res.Deleted
		scanned += res.Scanned
		calls++
		if !res.More {
			passes++
		}
		if calls > 20 {
			t.Fatal("the prune never finishes its pass")
		}
	}
	if total != subs*8 {
		t.Errorf("deleted %d in %d prunes, want day 0's %d", total, calls, subs*8)
	}
	if scanned < 3*subs*8 {
		t.Errorf("scanned %d entries in two passes over %d: some were never looked at", scanned, 3*subs*8)
	}
	if n := sentCount(t, s); n != 2*subs*8 {
		t.Errorf("%d entries left, want days 1 and 2's %d", n, 2*subs*8)
	}
	// The pass with this cutoff is done: the day's later runs scan nothing.
	if res := pruneSentAt(t, s, 3, 2, time.Minute); res.Scanned != 0 || res.Chunks != 0 || res.More {
		t.Errorf("prune after a finished pass with the same cutoff: %+v, want nothing scanned", res)
	}
	// A full budget does a whole pass in one prune.
	if res := pruneSentAt(t, s, 4, 2, time.Minute); res.More || res.Deleted != subs*8 || res.Scanned != 2*subs*8 {
		t.Errorf("prune with budget: %+v, want day 1's %d deleted of %d", res, subs*8, 2*subs*8)
	}
}

// Once the history is pruned, each day's entries reuse the pages freed by
// the day that went past the horizon: the file stops growing. The control
// without the sent prune grows by a day's history a day.
func TestPruneSentBoundsTheFile(t *testing.T) {
	const subs, days, horizon = 500, 12, 4
	grow := func(prune bool) (half, full int64) {
		s, ids := pruneFixture(t, filepath.Join(t.TempDir(), "p.db"), subs)
		for i := range 2 * days {
			sentDay(t, s, i, ids)
			if prune {
				pruneSentAt(t, s, i, horizon, time.Minute)
			}
			if i == days-1 {
				half = highWater(t, s)
			}
		}
		return half, highWater(t, s)
	}
	half, full := grow(true)
	// The papers themselves are kept (8 a day): a few pages a day, and
	// slack for the freelist and uneven splits.
	if full > half+half/20 {
		t.Errorf("with the sent prune the store grew from %d pages after %d days to %d after %d", half, days, full, 2*days)
	}
	t.Logf("pruned: %d pages after %d days, %d after %d", half, days, full, 2*days)
	half, full = grow(false)
	// A quarter more at least (12 more days of history on 12): the
	// history's pages are filled to 90% (putSent), so the papers and the
	// rest of the store weigh more than at bbolt's half (1,948 -> 2,710
	// pages here, against 1,323 -> 1,340 pruned).
	if full < half+half/4 {
		t.Errorf("without the sent prune the store grew only from %d to %d pages: the test measures nothing", half, full)
	}
	t.Logf("not pruned: %d pages after %d days, %d after %d", half, days, full, 2*days)
}

// BenchmarkPruneSent prunes a durable store's sent history of 100,000
// entries (12,500 subscribers with eight papers each), a day's worth
// (12,500 subscribers x 8 papers) of them past the horizon, in chunks with
// fsync each: the cost of the scan and of the deletes.
func BenchmarkPruneSent(b *testing.B) {
	const subs, perDay, total = 1250, 8, 100_000
	s, err := Open(filepath.Join(b.TempDir(), "p.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	// total entries over total/(subs*perDay) = 10 days of subs readers.
	dayN := total / (subs * perDay)
	fill := func(i int) {
		if err := s.update(func(tx *bolt.Tx) error {
			return putSentDay(tx, subs, i)
		}); err != nil {
			b.Fatal(err)
		}
	}
	for i := range dayN {
		fill(i)
	}
	i := dayN - 1
	for b.Loop() {
		b.StopTimer()
		i++
		fill(i)
		b.StartTimer()
		res, err := s.PruneSent(day(i-dayN+1), dayTime(i), time.Hour)
		if err != nil || res.Deleted != subs*perDay || res.Scanned != total+subs*perDay {
			b.Fatalf("prune: %+v, %v", res, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*(total+subs*perDay)), "ns/entry")
}

// putSentDay writes day i's eight papers as sent to subscribers 1..subs
// (no papers stored: they count as gone).
func putSentDay(tx *bolt.Tx, subs, i int) error {
	for id := 1; id <= subs; id++ {
		if err := putSent(tx, uint64(id), day(i), dayPapers(i)); err != nil {
			return err
		}
	}
	return nil
}
