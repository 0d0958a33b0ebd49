package store

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/papermail/papermail/internal/model"
)

// TestLedgerLinesLeaveOutTheKey checks the ledger's lines are written
// without the subscriber id their key holds, that every reader still
// gives it, and that a line written with it (by an older papermail) reads
// the same.
func TestLedgerLinesLeaveOutTheKey(t *testing.T) {
	s := openT(t)
	const date = "2026-11-27"
	var ids []uint64
	for _, e := range []string{"a@example.org", "b@example.org"} {
		sub := model.Subscriber{Email: e, State: model.StateActive, Hour: model.HourDefault}
		if err := s.AddSubscriber(&sub); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, sub.ID)
	}
	if _, err := s.BeginRun(date, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddDue(date, ids); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 27, 7, 0, 1, 0, time.UTC)
	sent := model.Delivery{SubscriberID: ids[0], State: model.DeliverySent, Attempts: 1, MessageID: "m1@example.org",
		Papers: []string{"p2", "p1"}, At: at, EntityRef: "e1"}
	if err := s.Record(Outcome{Date: date, Delivery: sent}); err != nil {
		t.Fatal(err)
	}
	// The second subscriber's line as an older papermail wrote it.
	old := model.Delivery{SubscriberID: ids[1], State: model.DeliveryFailed, Reason: "421 busy", Attempts: 2}
	if err := s.update(func(tx *bolt.Tx) error {
		buf, err := json.Marshal(&old)
		if err != nil {
			return err
		}
		return tx.Bucket(bucketLedger).Bucket([]byte(date)).Put(u64(ids[1]), buf)
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketLedger).Bucket([]byte(date)).Get(u64(ids[0]))
		if bytes.Contains(v, []byte("subscriber_id")) || !bytes.HasPrefix(v, []byte(`{"state":"sent"`)) {
			t.Errorf("sent line %s: want it without the subscriber id", v)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	l, err := s.Ledger(date)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []model.Delivery{sent, old} {
		got, err := s.Delivery(date, want.SubscriberID)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range []model.Delivery{got, l[want.SubscriberID]} {
			gj, _ := json.Marshal(g)
			wj, _ := json.Marshal(want)
			if !bytes.Equal(gj, wj) {
				t.Errorf("line read back %s, want %s", gj, wj)
			}
		}
	}
	states, err := s.LedgerStates(date, ids)
	if err != nil || states[ids[0]] != model.DeliverySent || states[ids[1]] != model.DeliveryFailed {
		t.Errorf("LedgerStates = %v, %v", states, err)
	}
	found, err := s.FindSent([]string{"m1@example.org"})
	if err != nil || found["m1@example.org"].Delivery.SubscriberID != ids[0] {
		t.Errorf("by message id: %+v, %v", found, err)
	}
}
