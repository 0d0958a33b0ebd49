package store

import (
	"errors"
	"testing"
	"time"

	"github.com/papermail/papermail/internal/model"
)

// TestBounceRules: a bounce applies to active and paused subscribers only
// (an unsubscribed reader is not revived, the first bounce stays),
// reactivation undoes exactly bounces, and --all-bounced-since picks by
// the time of the bounce.
func TestBounceRules(t *testing.T) {
	s := openT(t)
	day := func(d int) time.Time { return time.Date(2026, 12, d, 8, 0, 0, 0, time.UTC) }
	subs := map[string]*model.Subscriber{}
	for _, st := range []model.State{model.StateActive, model.StatePaused, model.StateUnsubscribed, model.StatePending} {
		sub := &model.Subscriber{Email: string(st) + "@example.org", State: st}
		if err := s.AddSubscriber(sub); err != nil {
			t.Fatal(err)
		}
		subs[string(st)] = sub
	}
	tests := []struct {
		who     string
		at      time.Time
		changed bool
	}{
		{"active", day(1), true}, {"paused", day(3), true}, {"unsubscribed", day(3), false}, {"pending", day(3), false},
		{"active", day(5), false}, // already bounced: the first bounce stays
	}
	for _, tc := range tests {
		b := model.Bounce{At: tc.at, Reason: "550 5.1.1 user unknown", Code: 550, Enhanced: "5.1.1", Source: model.BounceDSN}
		got, changed, err := s.MarkBounced(subs[tc.who].ID, b)
		if err != nil || changed != tc.changed {
			t.Errorf("MarkBounced(%s) changed %v, %v; want %v", tc.who, changed, err, tc.changed)
		}
		if tc.changed && (got.State != model.StateBounced || got.Bounce == nil || *got.Bounce != b) {
			t.Errorf("%s after a bounce: %+v %+v", tc.who, got.State, got.Bounce)
		}
	}
	if cur, _ := s.Subscriber(subs["active"].ID); !cur.Bounce.At.Equal(day(1)) {
		t.Errorf("a second bounce replaced the first: %+v", cur.Bounce)
	}
	if _, err := s.Reactivate(subs["unsubscribed"].ID, day(6)); !errors.Is(err, ErrNotBounced) {
		t.Errorf("reactivating an unsubscribed reader: %v, want ErrNotBounced", err)
	}
	got, err := s.ReactivateBouncedSince(day(2), day(6))
	if err != nil || len(got) != 1 || got[0].Email != "paused@example.org" || got[0].State != model.StateActive || got[0].Bounce != nil {
		t.Fatalf("ReactivateBouncedSince(day 2) = %+v, %v; want only the one bounced on day 3", got, err)
	}
	if cur, err := s.Reactivate(subs["active"].ID, day(6)); err != nil || cur.State != model.StateActive || cur.Bounce != nil || cur.SoftBounces != nil {
		t.Errorf("Reactivate: %+v, %v", cur, err)
	}
}

// TestAddSoftBounceAndFindSent: mailbox-full reports count distinct days
// up to the limit; ledger lines are found by Message-ID and
// X-Entity-Ref-ID, newest run first.
func TestAddSoftBounceAndFindSent(t *testing.T) {
	s := openT(t)
	sub := model.Subscriber{Email: "full@example.org", State: model.StateActive}
	s.AddSubscriber(&sub)
	b := model.Bounce{Reason: "552 5.2.2 mailbox full", Code: 552, Enhanced: "5.2.2", Source: model.BounceDSN}
	for i, d := range []string{"2026-12-01", "2026-12-01", "2026-12-02", "2026-12-03"} {
		got, bounced, err := s.AddSoftBounce(sub.ID, d, 3, b)
		if err != nil || bounced != (i == 3) {
			t.Fatalf("report %d: bounced %v, %v", i+1, bounced, err)
		}
		if i == 3 && (got.Bounce == nil || got.Bounce.Source != model.BounceSoft || got.Bounce.Enhanced != "5.2.2") {
			t.Errorf("bounce %+v", got.Bounce)
		}
	}
	for _, d := range []string{"2026-12-01", "2026-12-02"} {
		if _, err := s.BeginRun(d, time.Now()); err != nil {
			t.Fatal(err)
		}
		err := s.Record(Outcome{Date: d, Delivery: model.Delivery{SubscriberID: sub.ID, State: model.DeliverySent,
			MessageID: "m-" + d + "@papers.example.org", EntityRef: "e-" + d}})
		if err != nil {
			t.Fatal(err)
		}
	}
	found, err := s.FindSent([]string{"m-2026-12-01@papers.example.org", "e-2026-12-02", "unknown@x", ""})
	if err != nil || len(found) != 2 {
		t.Fatalf("FindSent = %+v, %v", found, err)
	}
	if f := found["m-2026-12-01@papers.example.org"]; f.Date != "2026-12-01" || f.Delivery.SubscriberID != sub.ID {
		t.Errorf("by message id: %+v", f)
	}
	if f := found["e-2026-12-02"]; f.Date != "2026-12-02" || f.Delivery.SubscriberID != sub.ID {
		t.Errorf("by entity ref: %+v", f)
	}
}
