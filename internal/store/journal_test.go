package store

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/papermail/papermail/internal/model"
)

// journalRig is a store with n active subscribers and a begun run.
func journalRig(t *testing.T, n int) (*Store, []model.Subscriber, string) {
	t.Helper()
	s := openT(t)
	subs := make([]model.Subscriber, n)
	for i := range subs {
		subs[i] = model.Subscriber{Email: itoa(i) + "@example.org", State: model.StateActive, Hour: model.HourDefault, Created: time.Now()}
	}
	if _, err := s.AddSubscribers(subs); err != nil {
		t.Fatal(err)
	}
	const date = "2026-11-27"
	if _, err := s.BeginRun(date, time.Now()); err != nil {
		t.Fatal(err)
	}
	return s, subs, date
}

// journalSent journals a sent digest for each subscriber, from as many
// goroutines as SMTP connections would.
func journalSent(t *testing.T, s *Store, date string, subs []model.Subscriber) {
	t.Helper()
	var wg sync.WaitGroup
	const conns = 4
	for c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := c; i < len(subs); i += conns {
				o := Outcome{Date: date, Delivery: model.Delivery{SubscriberID: subs[i].ID, State: model.DeliverySent, Papers: []string{"2611.00001", itoa(i)}}}
				if err := s.Journal(o); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
}

// crashCopy copies the store file and its journal as they are on disk
// now, while s is open: what a process killed at this moment leaves
// behind (every fold is a committed transaction, every journaled outcome
// was synced before Journal returned).
func crashCopy(t *testing.T, s *Store) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{s.path, journalPath(s.path)} {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(name)), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, filepath.Base(s.path))
}

// checkSent opens the store at path and checks that the run and ledger
// hold exactly subs as sent, each with its delivery state and history.
func checkSent(t *testing.T, path, date string, subs []model.Subscriber) {
	t.Helper()
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	run, err := s.Run(date)
	if err != nil {
		t.Fatal(err)
	}
	if run.Sent != len(subs) || run.Due != len(subs) {
		t.Errorf("run %+v, want %d sent and due", run, len(subs))
	}
	ledger, err := s.Ledger(date)
	if err != nil {
		t.Fatal(err)
	}
	if len(ledger) != len(subs) {
		t.Errorf("ledger has %d lines, want %d", len(ledger), len(subs))
	}
	for i, sub := range subs {
		if d := ledger[sub.ID]; d.State != model.DeliverySent {
			t.Fatalf("subscriber %d: ledger %+v", sub.ID, d)
		}
		got, err := s.Subscriber(sub.ID)
		if err != nil || got.LastDigest != date {
			t.Fatalf("subscriber %d: LastDigest %q, %v", sub.ID, got.LastDigest, err)
		}
		if h, _ := s.SentHistory(sub.ID); h[itoa(i)] != date {
			t.Fatalf("subscriber %d: history %v", sub.ID, h)
		}
	}
	if fi, err := os.Stat(journalPath(path)); err != nil || fi.Size() != 0 {
		t.Errorf("journal after open: %v, %v; want empty", fi, err)
	}
}

func TestJournalSurvivesCrash(t *testing.T) {
	for _, n := range []int{1, 300, 2*foldEvery + 37} {
		t.Run(itoa(n), func(t *testing.T) {
			s, subs, date := journalRig(t, n)
			journalSent(t, s, date, subs)
			// Killed before the end of the run: whatever was not folded
			// is in the journal, and the next open applies it.
			path := crashCopy(t, s)
			checkSent(t, path, date, subs)
			// The run itself flushes: the buckets hold everything.
			if err := s.Flush(); err != nil {
				t.Fatal(err)
			}
			if run, _ := s.Run(date); run.Sent != n {
				t.Fatalf("after Flush: %+v", run)
			}
		})
	}
}

// TestJournalTornTail: an entry cut short by the crash (never
// acknowledged) is dropped; those before it are applied.
func TestJournalTornTail(t *testing.T) {
	s, subs, date := journalRig(t, 20)
	journalSent(t, s, date, subs[:19])
	path := crashCopy(t, s)
	entry, err := appendEntry(nil, Outcome{Date: date, Delivery: model.Delivery{SubscriberID: subs[19].ID, State: model.DeliverySent}})
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(journalPath(path), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(entry[:len(entry)-3])
	f.Close()
	checkSent(t, path, date, subs[:19])
}

// TestJournalReplayedTwice: a crash after the last fold and before the
// journal was emptied applies its outcomes again, which changes nothing.
func TestJournalReplayedTwice(t *testing.T) {
	s, subs, date := journalRig(t, 50)
	journalSent(t, s, date, subs)
	journal, err := os.ReadFile(journalPath(s.path))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(journalPath(s.path), journal, 0o600); err != nil {
		t.Fatal(err)
	}
	checkSent(t, s.path, date, subs)
}

// TestJournalRefusedOutcome: an outcome the buckets refuse (its
// subscriber was deleted before the fold) is dropped with an error from
// Flush; the others are applied.
func TestJournalRefusedOutcome(t *testing.T) {
	s, subs, date := journalRig(t, 10)
	journalSent(t, s, date, subs[:9])
	if err := s.Journal(Outcome{Date: date, Delivery: model.Delivery{SubscriberID: 9999, State: model.DeliverySent}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Flush(); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Flush = %v, want ErrNotFound", err)
	}
	if run, _ := s.Run(date); run.Sent != 9 {
		t.Fatalf("run %+v, want 9 sent", run)
	}
	if err := s.Flush(); err != nil {
		t.Fatalf("second Flush = %v", err)
	}
}

// TestJournalOfAnotherFold: a store file whose stored fold offset does
// not point at an entry of the journal beside it (a backup taken
// mid-run, restored after a crash left a journal) applies the whole
// journal: nothing acknowledged is skipped.
func TestJournalOfAnotherFold(t *testing.T) {
	s, subs, date := journalRig(t, 30)
	// A backup from before the outcomes, whose store says 5 bytes of
	// its journal were folded.
	path := crashCopy(t, s)
	c, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keyJournalFolded, u64(5)) }); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	journalSent(t, s, date, subs)
	journal, err := os.ReadFile(journalPath(s.path))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(journalPath(path), journal, 0o600); err != nil {
		t.Fatal(err)
	}
	checkSent(t, path, date, subs)
}

// TestJournalFoldsWithinASecond: a few outcomes, far fewer than a fold's
// worth (a slow, rate-limited run), reach the buckets within foldAfter
// without a Flush; a lookup by message (Delivery, FindSent) folds at once.
func TestJournalFoldsWithinASecond(t *testing.T) {
	s, subs, date := journalRig(t, 3)
	o := Outcome{Date: date, Delivery: model.Delivery{SubscriberID: subs[0].ID, State: model.DeliverySent, MessageID: "m0@example.org"}}
	if err := s.Journal(o); err != nil {
		t.Fatal(err)
	}
	if d, err := s.Delivery(date, subs[0].ID); err != nil || d.MessageID != "m0@example.org" {
		t.Fatalf("Delivery right after Journal: %+v, %v", d, err)
	}
	o.Delivery.SubscriberID, o.Delivery.MessageID = subs[1].ID, "m1@example.org"
	if err := s.Journal(o); err != nil {
		t.Fatal(err)
	}
	if found, err := s.FindSent([]string{"m1@example.org"}); err != nil || found["m1@example.org"].Delivery.SubscriberID != subs[1].ID {
		t.Fatalf("FindSent right after Journal: %+v, %v", found, err)
	}
	o.Delivery.SubscriberID, o.Delivery.MessageID = subs[2].ID, "m2@example.org"
	if err := s.Journal(o); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * foldAfter)
	for {
		if run, _ := s.Run(date); run.Sent == 3 {
			break
		}
		if time.Now().After(deadline) {
			run, _ := s.Run(date)
			t.Fatalf("after %v: run %+v, want 3 sent", 5*foldAfter, run)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestJournalEmptiedDuringARun: past journalMax the journal is emptied
// while outcomes keep coming, and a crash at the end still loses none.
func TestJournalEmptiedDuringARun(t *testing.T) {
	// Put the limit back after the store is closed (cleanups run last
	// first; this one is registered before the store's): the store's fold
	// reads it until then.
	m := journalMax
	t.Cleanup(func() { journalMax = m })
	journalMax = 64 << 10
	s, subs, date := journalRig(t, 2*foldEvery+300)
	journalSent(t, s, date, subs)
	j := s.journal
	j.mu.Lock()
	for j.writing || j.folding || j.paused {
		j.folded.Wait()
	}
	end := j.end
	j.mu.Unlock()
	// 2,348 outcomes are over 300 KB of entries: without emptying, the
	// file would hold them all.
	if end >= 300<<10 {
		t.Errorf("journal holds %d bytes of entries, want it emptied past %d", end, journalMax)
	}
	checkSent(t, crashCopy(t, s), date, subs)
}
