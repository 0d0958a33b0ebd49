package store

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/papermail/papermail/internal/model"
)

func openT(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "papermail.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestSchemaAndSecret(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	sec := append([]byte(nil), s.Secret()...)
	if len(sec) != 32 {
		t.Fatalf("secret length %d", len(sec))
	}
	if _, err := Open(path, Options{Timeout: 50 * time.Millisecond}); !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: %v, want ErrLocked", err)
	}
	s.Close()
	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if string(s.Secret()) != string(sec) {
		t.Fatal("secret changed across opens")
	}
	// Pretend a newer papermail wrote the file.
	s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keySchema, []byte("99")) })
	s.Close()
	_, err = Open(path, Options{})
	if !errors.Is(err, ErrNewerSchema) || !strings.Contains(err.Error(), "99") {
		t.Fatalf("open newer schema: %v", err)
	}
}

func TestPutPapersMergesAndIsAtomic(t *testing.T) {
	s := openT(t)
	now := time.Date(2026, 11, 27, 6, 0, 0, 0, time.UTC)
	res, err := s.PutPapers([]model.Paper{
		{ID: "2401.00001", Title: "A", Abstract: "x", Upvotes: 3, Source: "hf", TrendingAt: now.Add(-time.Hour)},
		{ID: "t:abc", Title: "B", Abstract: "y", Source: "page"},
	}, now)
	if err != nil || res.Added != 2 {
		t.Fatalf("put: %+v %v", res, err)
	}
	later := now.Add(time.Hour)
	res, err = s.PutPapers([]model.Paper{{ID: "2401.00001", Title: "A", Abstract: "x", Upvotes: 10, Source: "hf", TrendingAt: now.Add(-time.Hour)}}, later)
	if err != nil || res.Updated != 1 || res.Added != 0 {
		t.Fatalf("re-put: %+v %v", res, err)
	}
	p, _ := s.Paper("2401.00001")
	if p.Upvotes != 10 || !p.Ingested.Equal(now) || !p.Updated.Equal(later) {
		t.Fatalf("merged paper %+v", p)
	}
	// One bad paper: nothing of the batch is stored.
	_, err = s.PutPapers([]model.Paper{{ID: "new1", Title: "N"}, {ID: "", Title: "no id"}}, later)
	if err == nil {
		t.Fatal("batch with an id-less paper accepted")
	}
	if n, _ := s.CountPapers(); n != 2 {
		t.Fatalf("papers after failed batch = %d, want 2", n)
	}
	recent, _ := s.PapersSince(now.Add(-2 * time.Hour))
	if len(recent) != 2 {
		t.Fatalf("PapersSince = %d papers", len(recent))
	}
	recent, _ = s.PapersSince(now.Add(30 * time.Minute))
	if len(recent) != 0 {
		t.Fatalf("PapersSince(future) = %d papers", len(recent))
	}
}

func TestLedgerRecordSentIsOneTransaction(t *testing.T) {
	s := openT(t)
	now := time.Now().UTC()
	sub := model.Subscriber{Email: "a@example.org", State: model.StateActive, Hour: model.HourDefault}
	if err := s.AddSubscriber(&sub); err != nil {
		t.Fatal(err)
	}
	if err := s.AddSubscriber(&model.Subscriber{Email: "a@example.org"}); !errors.Is(err, ErrExists) {
		t.Fatalf("duplicate address: %v", err)
	}
	if _, err := s.BeginRun("2026-11-27", now); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.AddDue("2026-11-27", []uint64{sub.ID}); n != 1 {
		t.Fatalf("AddDue = %d", n)
	}
	if n, _ := s.AddDue("2026-11-27", []uint64{sub.ID}); n != 0 {
		t.Fatalf("AddDue twice = %d", n)
	}
	err := s.Record(Outcome{Date: "2026-11-27", Delivery: model.Delivery{SubscriberID: sub.ID, State: model.DeliverySent, Papers: []string{"p1", "p2"}}})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := s.Subscriber(sub.ID)
	if got.LastDigest != "2026-11-27" {
		t.Fatalf("LastDigest = %q", got.LastDigest)
	}
	hist, _ := s.SentHistory(sub.ID)
	if len(hist) != 2 || hist["p1"] != "2026-11-27" {
		t.Fatalf("history %v", hist)
	}
	run, _ := s.Run("2026-11-27")
	if run.Due != 1 || run.Sent != 1 {
		t.Fatalf("run %+v", run)
	}
	// Recording the same outcome again (a retried batch) does not double count.
	s.Record(Outcome{Date: "2026-11-27", Delivery: model.Delivery{SubscriberID: sub.ID, State: model.DeliverySent, Papers: []string{"p1", "p2"}}})
	run, _ = s.Run("2026-11-27")
	if run.Sent != 1 {
		t.Fatalf("sent counted twice: %+v", run)
	}
}

func TestSoftBouncesBecomeBounced(t *testing.T) {
	s := openT(t)
	sub := model.Subscriber{Email: "b@example.org", State: model.StateActive}
	s.AddSubscriber(&sub)
	for i, d := range []string{"2026-11-25", "2026-11-26", "2026-11-27"} {
		s.BeginRun(d, time.Now())
		s.Record(Outcome{Date: d, SoftLimit: 3, Delivery: model.Delivery{SubscriberID: sub.ID, State: model.DeliveryFailed}})
		got, _ := s.Subscriber(sub.ID)
		want := model.StateActive
		if i == 2 {
			want = model.StateBounced
		}
		if got.State != want {
			t.Fatalf("after %d soft bounces state = %s, want %s", i+1, got.State, want)
		}
		// The run and the ledger count the day the limit is reached as a
		// bounce, not as one more failure.
		run, _ := s.Run(d)
		led, _ := s.Ledger(d)
		wantRun, wantLine := [2]int{1, 0}, model.DeliveryFailed
		if i == 2 {
			wantRun, wantLine = [2]int{0, 1}, model.DeliveryBounced
		}
		if [2]int{run.Failed, run.Bounced} != wantRun || led[sub.ID].State != wantLine {
			t.Errorf("day %d: run failed %d bounced %d, ledger %q; want %v and %q", i+1, run.Failed, run.Bounced, led[sub.ID].State, wantRun, wantLine)
		}
	}
}

func TestForEachSubscriberStreamsAll(t *testing.T) {
	s := openT(t)
	var subs []model.Subscriber
	for i := range 2503 {
		subs = append(subs, model.Subscriber{Email: strings.Repeat("x", i%7+1) + "@" + itoa(i) + ".example.org", State: model.StateActive})
	}
	if existing, err := s.AddSubscribers(subs); err != nil || len(existing) != 0 {
		t.Fatal(existing, err)
	}
	seen, batches := 0, 0
	s.ForEachSubscriber(1000, func(b []model.Subscriber) error {
		batches++
		seen += len(b)
		return nil
	})
	if seen != 2503 || batches != 3 {
		t.Fatalf("seen %d in %d batches", seen, batches)
	}
}

func TestDeleteSubscriberErasesEverything(t *testing.T) {
	s := openT(t)
	sub := model.Subscriber{Email: "c@example.org", State: model.StateActive}
	s.AddSubscriber(&sub)
	s.BeginRun("2026-11-27", time.Now())
	s.Record(Outcome{Date: "2026-11-27", Delivery: model.Delivery{SubscriberID: sub.ID, State: model.DeliverySent, Papers: []string{"p"}}})
	if err := s.DeleteSubscriber(sub.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SubscriberByEmail("c@example.org"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("still found: %v", err)
	}
	if h, _ := s.SentHistory(sub.ID); len(h) != 0 {
		t.Fatalf("history left: %v", h)
	}
	if l, _ := s.Ledger("2026-11-27"); len(l) != 0 {
		t.Fatalf("ledger left: %v", l)
	}
}

func TestBackupWhileOpen(t *testing.T) {
	s := openT(t)
	s.PutPapers([]model.Paper{{ID: "x", Title: "X"}}, time.Now())
	path := filepath.Join(t.TempDir(), "backup.db")
	if _, err := s.BackupFile(path); err != nil {
		t.Fatal(err)
	}
	if err := CheckFile(path); err != nil {
		t.Fatal(err)
	}
	b, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if p, err := b.Paper("x"); err != nil || p.Title != "X" {
		t.Fatalf("backup paper %v %v", p, err)
	}
	junk := filepath.Join(t.TempDir(), "junk")
	os.WriteFile(junk, []byte("not a database"), 0o600)
	if err := CheckFile(junk); err == nil {
		t.Fatal("junk accepted as backup")
	}
}

func TestOutbox(t *testing.T) {
	s := openT(t)
	sub := model.Subscriber{Email: "d@example.org", State: model.StatePending}
	item := &OutboxItem{Kind: "confirm", To: sub.Email, Mail: OutboxMail{Subject: "hi"}, NextAttempt: time.Now().Add(-time.Second)}
	c := model.Confirmation{Nonce: "n"}
	if err := s.Subscribe(&sub, &c, func(*model.Subscriber) (*OutboxItem, error) { return item, nil }); err != nil {
		t.Fatal(err)
	}
	due, _ := s.DueOutbox(time.Now(), 10)
	if len(due) != 1 || due[0].SubscriberID != sub.ID {
		t.Fatalf("due %+v", due)
	}
	s.OutboxRetry(due[0], time.Now().Add(time.Hour), "451 try later")
	if due, _ := s.DueOutbox(time.Now(), 10); len(due) != 0 {
		t.Fatalf("retry not deferred: %+v", due)
	}
	s.OutboxDone(item.ID)
	if n, _ := s.OutboxLen(); n != 0 {
		t.Fatalf("outbox len %d", n)
	}
}

func itoa(i int) string {
	const digits = "0123456789"
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{digits[i%10]}, b...)
	}
	return string(b)
}

func TestRecordConcurrentOutcomes(t *testing.T) {
	s := openT(t)
	var subs []model.Subscriber
	for i := range 200 {
		subs = append(subs, model.Subscriber{Email: itoa(i) + "@example.org", State: model.StateActive})
	}
	s.AddSubscribers(subs)
	s.BeginRun("2026-11-27", time.Now())
	errs := make(chan error, len(subs))
	for _, sub := range subs {
		go func() {
			errs <- s.Record(Outcome{Date: "2026-11-27", Delivery: model.Delivery{SubscriberID: sub.ID, State: model.DeliverySent, Papers: []string{"p"}}})
		}()
	}
	// One outcome for a subscriber that does not exist fails alone.
	bad := s.Record(Outcome{Date: "2026-11-27", Delivery: model.Delivery{SubscriberID: 9999, State: model.DeliverySent}})
	if !errors.Is(bad, ErrNotFound) {
		t.Fatalf("unknown subscriber: %v", bad)
	}
	for range subs {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	run, _ := s.Run("2026-11-27")
	if run.Sent != 200 {
		t.Fatalf("sent %d, want 200", run.Sent)
	}
}

// TestMigrateMovesConfirmation: a schema 1 file, whose pending subscribers
// held their confirmation nonce, opens with the nonce in its own
// confirmation record and the subscriber otherwise unchanged.
func TestMigrateMovesConfirmation(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v1.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	sent := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	err = s.db.Update(func(tx *bolt.Tx) error {
		sb := tx.Bucket(bucketSubscribers)
		sb.Put(u64(1), []byte(`{"id":1,"email":"p@example.org","interests":["speech"],"state":"pending","hour":-1,"confirm_nonce":"abc","confirm_sent_at":"2026-11-01T09:00:00Z"}`))
		sb.Put(u64(2), []byte(`{"id":2,"email":"a@example.org","interests":["robots"],"state":"active","hour":7,"confirm_nonce":"old","last_digest":"2026-11-02"}`))
		tx.Bucket(bucketEmails).Put([]byte("p@example.org"), u64(1))
		tx.Bucket(bucketEmails).Put([]byte("a@example.org"), u64(2))
		sb.SetSequence(2)
		tx.DeleteBucket(bucketConfirm)
		return tx.Bucket(bucketMeta).Put(keySchema, []byte("1"))
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v, err := s.schemaVersion(); err != nil || v != SchemaVersion {
		t.Fatalf("schema %d, %v", v, err)
	}
	c, err := s.Confirmation(1)
	if err != nil || c.Nonce != "abc" || !c.SentAt.Equal(sent) {
		t.Errorf("confirmation %+v, %v", c, err)
	}
	if _, err := s.Confirmation(2); !errors.Is(err, ErrNoConfirmation) {
		t.Errorf("an active subscriber got a confirmation: %v", err)
	}
	a, err := s.SubscriberByEmail("a@example.org")
	if err != nil || a.Hour != 7 || a.LastDigest != "2026-11-02" || a.Interests[0] != "robots" {
		t.Errorf("active subscriber after migration: %+v, %v", a, err)
	}
	s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketSubscribers).Get(u64(1)); strings.Contains(string(v), "confirm_nonce") {
			t.Errorf("old field kept: %s", v)
		}
		return nil
	})
}
