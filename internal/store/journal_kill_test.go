package store

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/papermail/papermail/internal/model"
)

// envJournalChild names the store a child process of TestJournalKilled
// journals into until it is killed.
const envJournalChild = "PAPERMAIL_TEST_JOURNAL_STORE"

// TestMain runs the tests, or, started by TestJournalKilled, the child
// that journals outcomes.
func TestMain(m *testing.M) {
	if path := os.Getenv(envJournalChild); path != "" {
		if err := journalChild(path); err != nil {
			fmt.Fprintln(os.Stderr, "journal child:", err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// journalChild journals a sent digest for every subscriber of the store
// at path from four goroutines, as four SMTP connections would, and
// prints each subscriber's id once Journal has returned for it.
func journalChild(path string) error {
	s, err := Open(path, Options{Timeout: 5 * time.Second})
	if err != nil {
		return err
	}
	var ids []uint64
	if err := s.ForEachSubscriber(1000, func(subs []model.Subscriber) error {
		for _, sub := range subs {
			ids = append(ids, sub.ID)
		}
		return nil
	}); err != nil {
		return err
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for c := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := c; i < len(ids); i += 4 {
				o := Outcome{Date: killDate, Delivery: model.Delivery{SubscriberID: ids[i], State: model.DeliverySent, Papers: []string{"2611.00001"}}}
				if err := s.Journal(o); err != nil {
					errs <- err
					return
				}
				mu.Lock()
				fmt.Fprintln(os.Stdout, ids[i])
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	// Finished before the kill: wait for it without closing the store.
	time.Sleep(time.Minute)
	return nil
}

const killDate = "2026-11-27"

// TestJournalKilled kills (SIGKILL) a process journaling outcomes after
// it acknowledged some of them, before, during and after background
// folds, and opens the store again: every outcome acknowledged is in the
// ledger, counted once.
func TestJournalKilled(t *testing.T) {
	const n = 3000
	for _, killAt := range []int{1, foldEvery + 50, 2*foldEvery + 500} {
		t.Run(strconv.Itoa(killAt), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "papermail.db")
			s, err := Open(path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			subs := make([]model.Subscriber, n)
			for i := range subs {
				subs[i] = model.Subscriber{Email: itoa(i) + "@example.org", State: model.StateActive, Hour: model.HourDefault, Created: time.Now()}
			}
			if _, err := s.AddSubscribers(subs); err != nil {
				t.Fatal(err)
			}
			if _, err := s.BeginRun(killDate, time.Now()); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}

			acked := killJournalChild(t, path, killAt)

			s, err = Open(path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			ledger, err := s.Ledger(killDate)
			if err != nil {
				t.Fatal(err)
			}
			sent := 0
			for id := range acked {
				if ledger[id].State != model.DeliverySent {
					t.Errorf("subscriber %d: acknowledged, ledger %+v", id, ledger[id])
				}
			}
			for _, d := range ledger {
				if d.State == model.DeliverySent {
					sent++
				}
			}
			run, err := s.Run(killDate)
			if err != nil || run.Sent != sent || run.Due != len(ledger) {
				t.Errorf("run %+v (%v), ledger has %d lines, %d sent", run, err, len(ledger), sent)
			}
			t.Logf("killed after %d acknowledged; %d sent after reopening", len(acked), sent)
		})
	}
}

// TestReadOnlySeesPendingJournal kills a process journaling outcomes
// before it folds them and opens the store read-only, as a command does
// while the daemon is down: the open writes nothing (store and journal
// stay byte for byte), and PendingOutcomes reports the outcomes its
// buckets do not hold yet; together with the ledger's they cover every
// acknowledged one. The next writable open applies exactly those, and a
// read-only open after it reports none pending.
func TestReadOnlySeesPendingJournal(t *testing.T) {
	const n, killAt = 500, 20
	path := filepath.Join(t.TempDir(), "papermail.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	subs := make([]model.Subscriber, n)
	for i := range subs {
		subs[i] = model.Subscriber{Email: itoa(i) + "@example.org", State: model.StateActive, Hour: model.HourDefault, Created: time.Now()}
	}
	if _, err := s.AddSubscribers(subs); err != nil {
		t.Fatal(err)
	}
	if _, err := s.BeginRun(killDate, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	acked := killJournalChild(t, path, killAt)

	sentIn := func(s *Store) int {
		t.Helper()
		ledger, err := s.Ledger(killDate)
		if err != nil {
			t.Fatal(err)
		}
		sent := 0
		for _, d := range ledger {
			if d.State == model.DeliverySent {
				sent++
			}
		}
		return sent
	}
	db0, _ := os.ReadFile(path)
	j0, _ := os.ReadFile(journalPath(path))
	ro, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	pending, sentRO := ro.PendingOutcomes(), sentIn(ro)
	if err := ro.Close(); err != nil {
		t.Fatal(err)
	}
	if db1, _ := os.ReadFile(path); !bytes.Equal(db0, db1) {
		t.Error("the read-only open changed the store file")
	}
	if j1, _ := os.ReadFile(journalPath(path)); !bytes.Equal(j0, j1) {
		t.Error("the read-only open changed the journal")
	}
	if pending == 0 || sentRO+pending < len(acked) {
		t.Fatalf("read-only: %d pending, %d sent in the ledger; want some pending and together at least the %d acknowledged", pending, sentRO, len(acked))
	}

	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := sentIn(s); got != sentRO+pending {
		t.Errorf("after the writable open the ledger has %d sent, want %d in it before + %d pending", got, sentRO, pending)
	}
	if got := s.PendingOutcomes(); got != 0 {
		t.Errorf("writable store reports %d pending, want 0", got)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ro, err = Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if got := ro.PendingOutcomes(); got != 0 {
		t.Errorf("read-only after the journal was applied: %d pending, want 0", got)
	}
	t.Logf("killed after %d acknowledged: %d pending, %d in the ledger", len(acked), pending, sentRO)
}

// killJournalChild runs journalChild on the store at path, kills it
// (SIGKILL) once it acknowledged killAt outcomes and returns the
// acknowledged subscriber ids.
func killJournalChild(t *testing.T, path string, killAt int) map[uint64]bool {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envJournalChild+"="+path)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked := map[uint64]bool{}
	sc := bufio.NewScanner(out)
	for len(acked) < killAt && sc.Scan() {
		id, _ := strconv.ParseUint(sc.Text(), 10, 64)
		acked[id] = true
	}
	cmd.Process.Signal(syscall.SIGKILL)
	for sc.Scan() { // printed before the kill: acknowledged too
		id, _ := strconv.ParseUint(sc.Text(), 10, 64)
		acked[id] = true
	}
	cmd.Wait()
	if len(acked) < killAt {
		t.Fatalf("the child acknowledged only %d outcomes", len(acked))
	}
	return acked
}
