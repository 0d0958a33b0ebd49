package store

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/papermail/papermail/internal/due"
	"github.com/papermail/papermail/internal/model"
)

// checkIndex checks the due index against the subscribers: one key per
// subscriber who gets digests, at the instant their records give, and no
// other key.
func checkIndex(t *testing.T, s *Store) {
	t.Helper()
	want := map[string]bool{}
	s.ForEachSubscriber(100, func(b []model.Subscriber) error {
		for _, sub := range b {
			d := deliveryOf(&sub)
			s.db.View(func(tx *bolt.Tx) error { old, _ := getDelivery(tx, sub.ID); d.NotBefore = old.NotBefore; return nil })
			s.schedule(&sub, &d)
			if d.NextDue != 0 {
				want[string(dueKey(d.NextDue, sub.ID))] = true
			}
		}
		return nil
	})
	s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketDue).ForEach(func(k, _ []byte) error {
			if !want[string(k)] {
				t.Errorf("stray due key %d at %s", binary.BigEndian.Uint64(k[8:]), time.Unix(int64(binary.BigEndian.Uint64(k)), 0).UTC())
			}
			delete(want, string(k))
			return nil
		})
	})
	for k := range want {
		t.Errorf("missing due key of subscriber %d", binary.BigEndian.Uint64([]byte(k)[8:]))
	}
	// The kept counts by state are what a scan counts.
	kept, err := s.CountSubscribers()
	if err != nil {
		t.Fatal(err)
	}
	scanned, err := s.scanCounts()
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range model.States {
		if kept[st] != scanned[st] {
			t.Errorf("%s: %d kept, %d counted", st, kept[st], scanned[st])
		}
	}
}

// TestDueIndexFollowsEveryChange changes subscribers at random through
// every store write (add, update of hour, zone, frequency, pause and
// state, confirm, record, delete) and checks after each step that the
// index and the counts by state are what the records say, and that the subscribers the index has
// due at a moment are exactly those a scan of everyone finds due.
func TestDueIndexFollowsEveryChange(t *testing.T) {
	s := openT(t)
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no zone database")
	}
	pol := due.Policy{Loc: berlin, Hour: 7, Minute: 30}
	if err := s.SetPolicy(pol); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	start := time.Date(2026, 3, 27, 12, 0, 0, 0, time.UTC)
	zones := []string{"", "UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"}
	states := []model.State{model.StateActive, model.StateActive, model.StatePaused, model.StateUnsubscribed, model.StateBounced, model.StatePending}
	var ids []uint64
	now := start
	for step := range 300 {
		now = now.Add(time.Duration(rng.IntN(180)) * time.Minute)
		date := now.In(berlin).Format(due.DateLayout)
		switch op := rng.IntN(7); {
		case op == 0 || len(ids) < 5:
			sub := model.Subscriber{Email: fmt.Sprintf("s%d@example.org", step), State: model.StateActive, Created: now,
				Timezone: zones[rng.IntN(len(zones))], Hour: rng.IntN(25) - 1, Frequency: model.FrequencyDaily}
			if err := s.AddSubscriber(&sub); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, sub.ID)
		case op == 1:
			_, err := s.UpdateSubscriber(ids[rng.IntN(len(ids))], func(x *model.Subscriber) error {
				x.Hour, x.Timezone = rng.IntN(25)-1, zones[rng.IntN(len(zones))]
				x.State = states[rng.IntN(len(states))]
				x.PausedUntil = time.Time{}
				if rng.IntN(3) == 0 {
					x.PausedUntil = now.Add(time.Duration(rng.IntN(96)) * time.Hour)
				}
				x.Frequency, x.Weekday = model.FrequencyDaily, rng.IntN(7)
				if rng.IntN(3) == 0 {
					x.Frequency = model.FrequencyWeekly
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		case op == 2:
			id := ids[rng.IntN(len(ids))]
			s.BeginRun(date, now)
			st := []string{model.DeliverySent, model.DeliverySkipped, model.DeliveryFailed, model.DeliveryBounced}[rng.IntN(4)]
			if err := s.Record(Outcome{Date: date, SoftLimit: 3, Delivery: model.Delivery{SubscriberID: id, State: st, Papers: []string{"p"}}}); err != nil {
				t.Fatal(err)
			}
		case op == 3 && len(ids) > 5:
			i := rng.IntN(len(ids))
			if err := s.DeleteSubscriber(ids[i]); err != nil {
				t.Fatal(err)
			}
			ids = slices.Delete(ids, i, i+1)
		case op == 4:
			id := ids[rng.IntN(len(ids))]
			sub, _ := s.Subscriber(id)
			c := model.Confirmation{Nonce: "n", SentAt: now}
			s.Subscribe(&sub, &c, func(*model.Subscriber) (*OutboxItem, error) { return nil, nil })
			if _, err := s.Confirm(id, "n", func(x *model.Subscriber, _ *model.Confirmation) error { x.State = model.StateActive; return nil }, nil); err != nil {
				t.Fatal(err)
			}
		default:
			// A tick: who the index has due must be who a scan finds due,
			// less those the index keeps for later.
			var viaIndex, early []uint64
			s.DueSubscribers(now, 7, func(b []model.Subscriber) error {
				for i := range b {
					if date, ok := pol.Due(&b[i], now, ""); ok && date > b[i].Settled {
						viaIndex = append(viaIndex, b[i].ID)
					} else {
						early = append(early, b[i].ID)
					}
				}
				return nil
			})
			var viaScan []uint64
			s.ForEachSubscriber(50, func(b []model.Subscriber) error {
				for i := range b {
					if date, ok := pol.Due(&b[i], now, ""); ok && date > b[i].Settled {
						viaScan = append(viaScan, b[i].ID)
					}
				}
				return nil
			})
			slices.Sort(viaIndex)
			slices.Sort(viaScan)
			if !slices.Equal(viaIndex, viaScan) {
				for _, id := range viaScan {
					sub, _ := s.Subscriber(id)
					var d deliveryRecord
					s.db.View(func(tx *bolt.Tx) error { d, _ = getDelivery(tx, id); return nil })
					t.Logf("%+v %+v next %s", sub, d, time.Unix(d.NextDue, 0).UTC())
				}
				t.Fatalf("step %d at %s: index has due %v, a scan %v", step, now, viaIndex, viaScan)
			}
			if err := s.NotDueYet(early, now); err != nil {
				t.Fatal(err)
			}
		}
		checkIndex(t, s)
		if t.Failed() {
			t.Fatalf("after step %d", step)
		}
	}
}

// TestImportBeforeTheDeliveryTimeIsNotDue: subscribers imported before
// the day's delivery time are keyed at that time, so a tick before it
// finds nobody due (a key at the day before's time would send the tick
// through every one of them to put it back); imported after it, they are
// due at once and get the day's digest.
func TestImportBeforeTheDeliveryTimeIsNotDue(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err) // the store's zones need the database (tzdata is linked into the binary)
	}
	for _, tc := range []struct {
		created, want time.Time
	}{
		{time.Date(2026, 3, 10, 5, 0, 0, 0, berlin), time.Date(2026, 3, 10, 7, 30, 0, 0, berlin)},
		{time.Date(2026, 3, 11, 9, 0, 0, 0, berlin), time.Date(2026, 3, 11, 7, 30, 0, 0, berlin)},
	} {
		s := openT(t)
		if err := s.SetPolicy(due.Policy{Loc: berlin, Hour: 7, Minute: 30}); err != nil {
			t.Fatal(err)
		}
		subs := make([]model.Subscriber, 3)
		for i := range subs {
			subs[i] = model.Subscriber{Email: fmt.Sprintf("r%d@example.org", i), State: model.StateActive,
				Created: tc.created, Updated: tc.created, Hour: model.HourDefault, Frequency: model.FrequencyDaily}
		}
		if _, err := s.AddSubscribers(subs); err != nil {
			t.Fatal(err)
		}
		first, ok, err := s.FirstDueAfter(time.Time{})
		if err != nil || !ok || !first.Equal(tc.want) {
			t.Errorf("created %s: first due %s (%v, %v), want %s", tc.created, first, ok, err, tc.want)
		}
	}
}
