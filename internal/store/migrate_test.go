package store

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/papermail/papermail/internal/due"
	"github.com/papermail/papermail/internal/model"
)

// copyFixture copies testdata/name into a temporary folder.
func copyFixture(t *testing.T, name string) string {
	t.Helper()
	in, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	path := filepath.Join(t.TempDir(), "papermail.db")
	out, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// checkFixture checks that a store made from the fixtures holds
// everything the old papermail wrote (see testdata/README.md).
func checkFixture(t *testing.T, s *Store) {
	t.Helper()
	papers, err := s.PapersSince(time.Time{})
	if err != nil || len(papers) != 2 {
		t.Errorf("papers %d, %v", len(papers), err)
	}
	get := func(email string) model.Subscriber {
		t.Helper()
		sub, err := s.SubscriberByEmail(email)
		if err != nil {
			t.Fatalf("%s: %v", email, err)
		}
		return sub
	}
	active := get("active@example.org")
	if active.State != model.StateActive || active.Hour != 7 || active.Timezone != "Europe/Berlin" || active.Interests[0] != "mixture of experts" ||
		len(active.Feedback) != 1 || active.Feedback[0].Value != 1 || active.Examples[0] != "2401.01234" || active.LastDigest != "2026-11-19" ||
		active.Source != "import" || active.ConfirmedAt.IsZero() {
		t.Errorf("active subscriber %+v", active)
	}
	weekly := get("weekly@example.org")
	if weekly.Frequency != model.FrequencyWeekly || weekly.Weekday != 1 || weekly.Hour != model.HourDefault ||
		!slices.Equal(weekly.SoftBounces, []string{"2026-11-18", "2026-11-19"}) || weekly.LastDigest != "" {
		t.Errorf("weekly subscriber %+v", weekly)
	}
	paused := get("paused@example.org")
	if paused.State != model.StatePaused || !paused.PausedUntil.Equal(time.Date(2026, 12, 24, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("paused subscriber %+v", paused)
	}
	if gone := get("gone@example.org"); gone.State != model.StateUnsubscribed {
		t.Errorf("unsubscribed subscriber %+v", gone)
	}
	pending := get("pending@example.org")
	if c, err := s.Confirmation(pending.ID); pending.State != model.StatePending || err != nil || c.Nonce != "fixture-nonce" {
		t.Errorf("pending subscriber %+v, confirmation %+v, %v", pending, c, err)
	}
	if hist, err := s.SentHistory(active.ID); err != nil || hist["2611.00001"] != "2026-11-19" || len(hist) != 1 {
		t.Errorf("sent history %v, %v", hist, err)
	}
	run, err := s.Run("2026-11-19")
	if err != nil || run.Finished.IsZero() || run.Sent != 1 || run.Failed != 1 || run.Due != 2 {
		t.Errorf("run %+v, %v", run, err)
	}
	if l, err := s.Ledger("2026-11-19"); err != nil || l[active.ID].State != model.DeliverySent || l[weekly.ID].State != model.DeliveryFailed {
		t.Errorf("ledger %+v, %v", l, err)
	}
	if n, err := s.OutboxLen(); err != nil || n != 1 {
		t.Errorf("outbox %d, %v", n, err)
	}
	// Mail queued by the old papermail reads as an outbox record.
	if items, err := s.DueOutbox(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), 0); err != nil || len(items) != 1 ||
		items[0].Mail.To != "pending@example.org" || items[0].Mail.Subject != "Confirm" || items[0].Kind != "confirm" {
		t.Errorf("outbox items %+v, %v", items, err)
	}
	counts, err := s.CountSubscribers()
	want := map[model.State]int{model.StateActive: 2, model.StatePaused: 1, model.StateUnsubscribed: 1, model.StatePending: 1, model.StateBounced: 0}
	for st, n := range want {
		if err != nil || counts[st] != n {
			t.Errorf("%s: %d subscribers counted, want %d (%v)", st, counts[st], n, err)
		}
	}
}

// TestMigrateFixtures opens stores written by papermail at schema 1 and 2:
// everything is kept, the profile no longer holds the delivery state, and
// the due index has the subscribers who get digests, at the right instant.
func TestMigrateFixtures(t *testing.T) {
	for _, name := range []string{"schema1.db", "schema2.db"} {
		t.Run(name, func(t *testing.T) {
			path := copyFixture(t, name)
			// Read-only, before any migration: readable as it is.
			ro, err := Open(path, Options{ReadOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			if sub, err := ro.SubscriberByEmail("active@example.org"); err != nil || sub.LastDigest != "2026-11-19" {
				t.Errorf("read-only old store: %+v, %v", sub, err)
			}
			if _, ok, err := ro.FirstDue(); err != nil || ok {
				t.Errorf("read-only old store: FirstDue %v, %v", ok, err)
			}
			if n, err := ro.CountSubscribers(); err != nil || n[model.StateActive] != 2 {
				t.Errorf("read-only old store: counts %v, %v", n, err)
			}
			ro.Close()

			s, err := Open(path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if v, err := s.schemaVersion(); err != nil || v != SchemaVersion {
				t.Fatalf("schema %d, %v", v, err)
			}
			checkFixture(t, s)
			s.db.View(func(tx *bolt.Tx) error {
				return tx.Bucket(bucketSubscribers).ForEach(func(k, v []byte) error {
					if strings.Contains(string(v), "last_digest") || strings.Contains(string(v), "soft_bounces") || strings.Contains(string(v), "confirm_nonce") {
						t.Errorf("profile %d keeps delivery state: %s", btoi(k), v)
					}
					return nil
				})
			})
			berlin, _ := time.LoadLocation("Europe/Berlin")
			if err := s.SetPolicy(due.Policy{Loc: berlin, Hour: 8}); err != nil {
				t.Fatal(err)
			}
			want := map[string]time.Time{
				// 07:00 in Berlin the day after the last digest.
				"active@example.org": time.Date(2026, 11, 20, 6, 0, 0, 0, time.UTC),
				// Weekly on Mondays at the default 08:00 Berlin.
				"weekly@example.org": time.Date(2026, 11, 23, 7, 0, 0, 0, time.UTC),
				// At 09:00 Berlin on the day the pause ends.
				"paused@example.org": time.Date(2026, 12, 24, 8, 0, 0, 0, time.UTC),
			}
			got := map[string]time.Time{}
			err = s.DueSubscribers(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), 2, func(b []model.Subscriber) error {
				for _, sub := range b {
					got[sub.Email] = sub.NextDue
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Errorf("due index holds %v, want %v", got, want)
			}
			for email, at := range want {
				if !got[email].Equal(at) {
					t.Errorf("%s due at %s, want %s", email, got[email], at)
				}
			}
			// Opening again migrates nothing more and keeps everything.
			s.Close()
			s, err = Open(path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			checkFixture(t, s)
		})
	}
}

// TestRecordWritesOnlyDeliveryState: recording a sent digest leaves the
// profile record byte for byte as it was and writes a delivery record of a
// few dozen bytes.
func TestRecordWritesOnlyDeliveryState(t *testing.T) {
	s := openT(t)
	now := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	sub := model.Subscriber{Email: "r@example.org", State: model.StateActive, Created: now, Hour: 7, Timezone: "Europe/Berlin",
		Interests: []string{"graph neural networks", "protein folding"}, Examples: []string{"2401.01234", "Attention Is All You Need"},
		Feedback: []model.Feedback{{PaperID: "2611.00001", Title: "A paper title of some length", Value: 1, At: now}}}
	if err := s.AddSubscriber(&sub); err != nil {
		t.Fatal(err)
	}
	raw := func(bucket []byte) string {
		var v []byte
		s.db.View(func(tx *bolt.Tx) error { v = append(v, tx.Bucket(bucket).Get(u64(sub.ID))...); return nil })
		return string(v)
	}
	profile := raw(bucketSubscribers)
	s.BeginRun("2026-11-20", now)
	if err := s.Record(Outcome{Date: "2026-11-20", Delivery: model.Delivery{SubscriberID: sub.ID, State: model.DeliverySent, Papers: []string{"2611.00002"}}}); err != nil {
		t.Fatal(err)
	}
	if got := raw(bucketSubscribers); got != profile {
		t.Errorf("recording rewrote the profile:\n%s\n%s", profile, got)
	}
	d := raw(bucketDelivery)
	t.Logf("profile %d bytes, delivery record %d bytes: %s", len(profile), len(d), d)
	if len(d) > 64 || !strings.Contains(d, "2026-11-20") {
		t.Errorf("delivery record %q", d)
	}
	got, _ := s.Subscriber(sub.ID)
	if got.LastDigest != "2026-11-20" || !got.NextDue.Equal(time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC)) {
		t.Errorf("after the record: last %s, next due %s", got.LastDigest, got.NextDue)
	}
	if err := s.Record(Outcome{Date: "2026-11-20", Delivery: model.Delivery{SubscriberID: 999, State: model.DeliverySent}}); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown subscriber: %v", err)
	}
}
