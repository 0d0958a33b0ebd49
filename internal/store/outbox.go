package store

import (
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/papermail/papermail/internal/mailer"
)

// OutboxItem is one transactional mail (a confirmation, say) waiting to be
// delivered. It is written in the same transaction as the change that
// caused it, so a crash in between loses nothing.
type OutboxItem struct {
	ID           uint64     `json:"id"`
	Kind         string     `json:"kind"`
	SubscriberID uint64     `json:"subscriber_id"`
	To           string     `json:"to"`
	Mail         OutboxMail `json:"message"`
	Created      time.Time  `json:"created"`
	Attempts     int        `json:"attempts"`
	NextAttempt  time.Time  `json:"next_attempt"`
	LastError    string     `json:"last_error,omitempty"`
}

// OutboxMail is the mail an outbox item holds: what the mailer needs to
// compose it again at each attempt. Its keys are those items were written
// with before it was a type of its own, so mail queued by an older
// papermail is still delivered.
type OutboxMail struct {
	From            string    `json:"From"`
	ReplyTo         string    `json:"ReplyTo,omitempty"`
	To              string    `json:"To"`
	ReturnPath      string    `json:"ReturnPath,omitempty"`
	Subject         string    `json:"Subject"`
	Text            string    `json:"Text"`
	HTML            string    `json:"HTML,omitempty"`
	Date            time.Time `json:"Date"`
	MessageID       string    `json:"MessageID,omitempty"`
	ListUnsubscribe string    `json:"ListUnsubscribe,omitempty"`
	ListID          string    `json:"ListID,omitempty"`
	Bulk            bool      `json:"Bulk,omitempty"`
	AutoSubmitted   bool      `json:"AutoSubmitted,omitempty"`
	EntityRefID     string    `json:"EntityRefID,omitempty"`
}

// OutboxMailOf is the outbox record of a message.
func OutboxMailOf(m *mailer.Message) OutboxMail {
	return OutboxMail{From: m.From, ReplyTo: m.ReplyTo, To: m.To, ReturnPath: m.ReturnPath, Subject: m.Subject,
		Text: m.Text, HTML: m.HTML, Date: m.Date, MessageID: m.MessageID, ListUnsubscribe: m.ListUnsubscribe,
		ListID: m.ListID, Bulk: m.Bulk, AutoSubmitted: m.AutoSubmitted, EntityRefID: m.EntityRefID}
}

// Message is the message to compose from the record.
func (o *OutboxMail) Message() *mailer.Message {
	return &mailer.Message{From: o.From, ReplyTo: o.ReplyTo, To: o.To, ReturnPath: o.ReturnPath, Subject: o.Subject,
		Text: o.Text, HTML: o.HTML, Date: o.Date, MessageID: o.MessageID, ListUnsubscribe: o.ListUnsubscribe,
		ListID: o.ListID, Bulk: o.Bulk, AutoSubmitted: o.AutoSubmitted, EntityRefID: o.EntityRefID}
}

// Enqueue adds an item to the outbox.
func (s *Store) Enqueue(item *OutboxItem) error {
	return s.batch(func(tx *bolt.Tx) error { return putOutbox(tx, item) })
}

func putOutbox(tx *bolt.Tx, item *OutboxItem) error {
	ob := tx.Bucket(bucketOutbox)
	if item.ID == 0 {
		id, err := ob.NextSequence()
		if err != nil {
			return err
		}
		item.ID = id
	}
	buf, err := json.Marshal(item)
	if err != nil {
		return err
	}
	return ob.Put(u64(item.ID), buf)
}

// DueOutbox returns up to limit items whose next attempt is due at now.
func (s *Store) DueOutbox(now time.Time, limit int) ([]OutboxItem, error) {
	return s.DueOutboxAfter(now, 0, limit)
}

// DueOutboxAfter returns up to limit items after the item with id after
// (in the order they were queued) whose next attempt is due at now: a
// reader pages through a long outbox without reading the items it holds
// again. limit <= 0 means no limit.
func (s *Store) DueOutboxAfter(now time.Time, after uint64, limit int) ([]OutboxItem, error) {
	var out []OutboxItem
	err := s.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketOutbox).Cursor()
		for k, v := c.Seek(u64(after + 1)); k != nil && (limit <= 0 || len(out) < limit); k, v = c.Next() {
			if after > 0 && btoi(k) <= after {
				continue // after+1 wrapped around
			}
			var it OutboxItem
			if err := json.Unmarshal(v, &it); err != nil {
				return fmt.Errorf("outbox item %d unreadable: %w", btoi(k), err)
			}
			if !it.NextAttempt.After(now) {
				out = append(out, it)
			}
		}
		return nil
	})
	return out, err
}

// OutboxLen counts queued items.
func (s *Store) OutboxLen() (int, error) {
	n := 0
	err := s.view(func(tx *bolt.Tx) error {
		n = tx.Bucket(bucketOutbox).Stats().KeyN
		return nil
	})
	return n, err
}

// OutboxDone removes a delivered (or permanently failed) item.
func (s *Store) OutboxDone(id uint64) error {
	return s.batch(func(tx *bolt.Tx) error { return tx.Bucket(bucketOutbox).Delete(u64(id)) })
}

// OutboxDoneMany removes finished items in one commit; ids no longer
// queued are skipped.
func (s *Store) OutboxDoneMany(ids []uint64) error {
	return s.update(func(tx *bolt.Tx) error {
		ob := tx.Bucket(bucketOutbox)
		for _, id := range ids {
			if err := ob.Delete(u64(id)); err != nil {
				return err
			}
		}
		return nil
	})
}

// OutboxRetry records a failed attempt and when to try again.
func (s *Store) OutboxRetry(item OutboxItem, next time.Time, reason string) error {
	item.Attempts++
	item.NextAttempt = next
	item.LastError = reason
	return s.batch(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketOutbox).Get(u64(item.ID)) == nil {
			return nil
		}
		return putOutbox(tx, &item)
	})
}
