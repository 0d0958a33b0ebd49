package scheduler

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/papermail/papermail/internal/config"
	"github.com/papermail/papermail/internal/due"
	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/store"
)

func openStore(t testing.TB) *store.Store {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "papermail.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.SetPolicy(due.Policy{Loc: time.UTC, Hour: 7}); err != nil {
		t.Fatal(err)
	}
	return st
}

// runs records the instants the digest job ran at.
type runs struct {
	mu  sync.Mutex
	at  []time.Time
	ran chan struct{}
}

func (r *runs) job(_ context.Context, now time.Time) {
	r.mu.Lock()
	r.at = append(r.at, now)
	r.mu.Unlock()
	select {
	case r.ran <- struct{}{}:
	default:
	}
}

func (r *runs) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.at)
}

func newScheduler(t *testing.T, st *store.Store, r *runs, now func() time.Time) *Scheduler {
	t.Helper()
	cfg := config.Default()
	cfg.Digest.Tick = 5 * time.Minute
	s, err := New(context.Background(), cfg, Jobs{Digest: r.job}, st, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	if err != nil {
		t.Fatal(err)
	}
	s.now = now
	return s
}

// TestTickRunsOnlyWhenDue: the digest runs when a due instant has come,
// not before; a subscriber the run left due (a failed delivery) is tried
// again after digest.tick, not at every look; the sleep reaches to the
// next due instant.
func TestTickRunsOnlyWhenDue(t *testing.T) {
	st := openStore(t)
	r := &runs{ran: make(chan struct{}, 1)}
	day := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	s := newScheduler(t, st, r, time.Now)
	if wait := s.Tick(day); wait != maxSleep || r.count() != 0 {
		t.Fatalf("empty list: ran %d, sleeps %v", r.count(), wait)
	}
	sub := model.Subscriber{Email: "a@example.org", State: model.StateActive, Created: day, Hour: 9, Frequency: model.FrequencyDaily,
		LastDigest: "2026-11-19"}
	if err := st.AddSubscriber(&sub); err != nil {
		t.Fatal(err)
	}
	if wait := s.Tick(day.Add(8 * time.Hour)); wait != time.Hour || r.count() != 0 {
		t.Fatalf("an hour early: ran %d, sleeps %v", r.count(), wait)
	}
	at9 := day.Add(9 * time.Hour)
	s.Tick(at9)
	if r.count() != 1 {
		t.Fatalf("at the due instant: ran %d", r.count())
	}
	// The run left the subscriber due: not again at once, again after
	// digest.tick.
	if wait := s.Tick(at9.Add(time.Minute)); r.count() != 1 || wait > 5*time.Minute {
		t.Fatalf("a minute after the run: ran %d, sleeps %v", r.count(), wait)
	}
	s.Tick(at9.Add(5 * time.Minute))
	if r.count() != 2 {
		t.Fatalf("after digest.tick: ran %d", r.count())
	}
	// Delivered: the next due instant is tomorrow at 9.
	st.BeginRun("2026-11-20", at9)
	if err := st.Record(store.Outcome{Date: "2026-11-20", Delivery: model.Delivery{SubscriberID: sub.ID, State: model.DeliverySent}}); err != nil {
		t.Fatal(err)
	}
	now := at9.Add(10 * time.Minute)
	if wait := s.Tick(now); r.count() != 2 || wait != maxSleep {
		t.Fatalf("after delivery: ran %d, sleeps %v (capped at %v)", r.count(), wait, maxSleep)
	}
	if wait := s.Tick(day.Add(32*time.Hour + 30*time.Minute)); r.count() != 2 || wait != 30*time.Minute {
		t.Fatalf("the next morning: ran %d, sleeps %v", r.count(), wait)
	}
}

// TestLoopWakesOnChange: the running loop, asleep with nobody due, runs
// the digest as soon as a change makes someone due.
func TestLoopWakesOnChange(t *testing.T) {
	st := openStore(t)
	r := &runs{ran: make(chan struct{}, 1)}
	s := newScheduler(t, st, r, time.Now)
	s.Start()
	defer s.Stop()
	time.Sleep(50 * time.Millisecond)
	if r.count() != 0 {
		t.Fatal("ran with nobody due")
	}
	// Due since the start of this hour, whatever the time of day the test
	// runs at (the store's default hour, 7 UTC, has not come before 7).
	now := time.Now().UTC()
	sub := model.Subscriber{Email: "b@example.org", State: model.StateActive, Created: now, Hour: now.Hour(), Frequency: model.FrequencyDaily}
	if err := st.AddSubscriber(&sub); err != nil {
		t.Fatal(err)
	}
	select {
	case <-r.ran:
	case <-time.After(10 * time.Second):
		t.Fatal("the loop did not wake when a subscriber became due")
	}
}
