package store

import (
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/papermail/papermail/internal/model"
)

// OutboxItem is one transactional mail (a confirmation, say) waiting to be
// delivered. It is written in the same transaction as the change that
// caused it, so a crash in between loses nothing.
type OutboxItem struct {
	ID           uint64          `json:"id"`
	Kind         string          `json:"kind"`
	SubscriberID uint64          `json:"subscriber_id"`
	To           string          `json:"to"`
	Message      json.RawMessage `json:"message"`
	Created      time.Time       `json:"created"`
	Attempts     int             `json:"attempts"`
	NextAttempt  time.Time       `json:"next_attempt"`
	LastError    string          `json:"last_error,omitempty"`
}

// SaveSubscriber creates or replaces a subscriber and, when item is not
// nil, queues item in the outbox in the same transaction. An address not
// yet on the list is created (with sub.ID when set, else a new id); an
// address that belongs to another id gets ErrExists.
func (s *Store) SaveSubscriber(sub *model.Subscriber, item *OutboxItem) error {
	return s.SaveSubscriberWith(sub, func(*model.Subscriber) (*OutboxItem, error) { return item, nil })
}

// SaveSubscriberWith is SaveSubscriber with the outbox item made inside the
// transaction, once sub has its id (a confirmation link names it): one
// commit, shared with concurrent callers (bbolt Batch). mail may run more
// than once and must not have side effects; it may return nil.
func (s *Store) SaveSubscriberWith(sub *model.Subscriber, mail func(*model.Subscriber) (*OutboxItem, error)) error {
	return s.db.Batch(func(tx *bolt.Tx) error {
		sb, eb := tx.Bucket(bucketSubscribers), tx.Bucket(bucketEmails)
		if v := eb.Get([]byte(sub.Email)); v != nil {
			if btoi(v) != sub.ID {
				return fmt.Errorf("subscriber %s: %w", sub.Email, ErrExists)
			}
		} else {
			if sub.ID == 0 {
				id, err := sb.NextSequence()
				if err != nil {
					return err
				}
				sub.ID = id
			} else if sb.Get(u64(sub.ID)) != nil {
				return fmt.Errorf("subscriber %d has another address: %w", sub.ID, ErrExists)
			}
			// An id handed out by a transaction that was rolled back (a
			// batch retried alone) must still move the sequence on.
			if sb.Sequence() < sub.ID {
				if err := sb.SetSequence(sub.ID); err != nil {
					return err
				}
			}
			if err := eb.Put([]byte(sub.Email), u64(sub.ID)); err != nil {
				return err
			}
		}
		if err := putSubscriber(sb, sub); err != nil {
			return err
		}
		item, err := mail(sub)
		if err != nil || item == nil {
			return err
		}
		item.SubscriberID = sub.ID
		return putOutbox(tx, item)
	})
}

// Enqueue adds an item to the outbox.
func (s *Store) Enqueue(item *OutboxItem) error {
	return s.db.Batch(func(tx *bolt.Tx) error { return putOutbox(tx, item) })
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
	var out []OutboxItem
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketOutbox).ForEach(func(k, v []byte) error {
			if limit > 0 && len(out) >= limit {
				return nil
			}
			var it OutboxItem
			if err := json.Unmarshal(v, &it); err != nil {
				return fmt.Errorf("outbox item %d unreadable: %w", btoi(k), err)
			}
			if !it.NextAttempt.After(now) {
				out = append(out, it)
			}
			return nil
		})
	})
	return out, err
}

// OutboxLen counts queued items.
func (s *Store) OutboxLen() (int, error) {
	n := 0
	err := s.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(bucketOutbox).Stats().KeyN
		return nil
	})
	return n, err
}

// OutboxDone removes a delivered (or permanently failed) item.
func (s *Store) OutboxDone(id uint64) error {
	return s.db.Batch(func(tx *bolt.Tx) error { return tx.Bucket(bucketOutbox).Delete(u64(id)) })
}

// OutboxRetry records a failed attempt and when to try again.
func (s *Store) OutboxRetry(item OutboxItem, next time.Time, reason string) error {
	item.Attempts++
	item.NextAttempt = next
	item.LastError = reason
	return s.db.Batch(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketOutbox).Get(u64(item.ID)) == nil {
			return nil
		}
		return putOutbox(tx, &item)
	})
}
