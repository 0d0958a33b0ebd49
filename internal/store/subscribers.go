package store

import (
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/papermail/papermail/internal/model"
)

// AddSubscriber stores a new subscriber, assigning its ID. The email must
// already be normalized; an address already on the list is ErrExists.
func (s *Store) AddSubscriber(sub *model.Subscriber) error {
	return s.batch(func(tx *bolt.Tx) error {
		eb := tx.Bucket(bucketEmails)
		if eb.Get([]byte(sub.Email)) != nil {
			return fmt.Errorf("subscriber %s: %w", sub.Email, ErrExists)
		}
		sb := tx.Bucket(bucketSubscribers)
		if sub.ID == 0 {
			id, err := sb.NextSequence()
			if err != nil {
				return err
			}
			sub.ID = id
		}
		if err := putSubscriber(sb, sub); err != nil {
			return err
		}
		return eb.Put([]byte(sub.Email), u64(sub.ID))
	})
}

// AddSubscribers stores many new subscribers in one transaction; addresses
// already on the list are returned in existing and left unchanged.
func (s *Store) AddSubscribers(subs []model.Subscriber) (existing []string, err error) {
	err = s.update(func(tx *bolt.Tx) error {
		existing = existing[:0]
		eb, sb := tx.Bucket(bucketEmails), tx.Bucket(bucketSubscribers)
		for i := range subs {
			sub := &subs[i]
			if eb.Get([]byte(sub.Email)) != nil {
				existing = append(existing, sub.Email)
				continue
			}
			id, err := sb.NextSequence()
			if err != nil {
				return err
			}
			sub.ID = id
			if err := putSubscriber(sb, sub); err != nil {
				return err
			}
			if err := eb.Put([]byte(sub.Email), u64(sub.ID)); err != nil {
				return err
			}
		}
		return nil
	})
	return existing, err
}

func putSubscriber(sb *bolt.Bucket, sub *model.Subscriber) error {
	buf, err := json.Marshal(sub)
	if err != nil {
		return err
	}
	return sb.Put(u64(sub.ID), buf)
}

func getSubscriber(tx *bolt.Tx, id uint64) (model.Subscriber, error) {
	var sub model.Subscriber
	v := tx.Bucket(bucketSubscribers).Get(u64(id))
	if v == nil {
		return sub, fmt.Errorf("subscriber %d: %w", id, ErrNotFound)
	}
	if err := json.Unmarshal(v, &sub); err != nil {
		return sub, fmt.Errorf("subscriber %d unreadable: %w", id, err)
	}
	return sub, nil
}

// Subscriber returns one subscriber by id.
func (s *Store) Subscriber(id uint64) (model.Subscriber, error) {
	var sub model.Subscriber
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		sub, err = getSubscriber(tx, id)
		return err
	})
	return sub, err
}

// SubscriberByEmail returns the subscriber with a normalized address.
func (s *Store) SubscriberByEmail(email string) (model.Subscriber, error) {
	var sub model.Subscriber
	err := s.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketEmails).Get([]byte(email))
		if v == nil {
			return fmt.Errorf("subscriber %s: %w", email, ErrNotFound)
		}
		var err error
		sub, err = getSubscriber(tx, btoi(v))
		return err
	})
	return sub, err
}

// UpdateSubscriber changes one subscriber inside a transaction: fn edits
// the record; if fn returns an error nothing is written. The email and id
// cannot be changed through it.
func (s *Store) UpdateSubscriber(id uint64, fn func(*model.Subscriber) error) (model.Subscriber, error) {
	var out model.Subscriber
	err := s.batch(func(tx *bolt.Tx) error {
		sub, err := getSubscriber(tx, id)
		if err != nil {
			return err
		}
		email := sub.Email
		if err := fn(&sub); err != nil {
			return err
		}
		sub.ID, sub.Email = id, email
		sub.Updated = time.Now().UTC()
		out = sub
		return putSubscriber(tx.Bucket(bucketSubscribers), &sub)
	})
	return out, err
}

// DeleteSubscriber erases a subscriber for good: the record, its address,
// its sent history and its ledger lines.
func (s *Store) DeleteSubscriber(id uint64) error {
	return s.update(func(tx *bolt.Tx) error {
		sub, err := getSubscriber(tx, id)
		if err != nil {
			return err
		}
		if err := tx.Bucket(bucketSubscribers).Delete(u64(id)); err != nil {
			return err
		}
		if err := tx.Bucket(bucketEmails).Delete([]byte(sub.Email)); err != nil {
			return err
		}
		if err := tx.Bucket(bucketConfirm).Delete(u64(id)); err != nil {
			return err
		}
		prefix := u64(id)
		c := tx.Bucket(bucketSent).Cursor()
		for k, _ := c.Seek(prefix); k != nil && hasPrefix(k, prefix); k, _ = c.Seek(prefix) {
			if err := c.Delete(); err != nil {
				return err
			}
		}
		lb := tx.Bucket(bucketLedger)
		return lb.ForEachBucket(func(date []byte) error {
			return lb.Bucket(date).Delete(prefix)
		})
	})
}

// ForEachSubscriber streams all subscribers in id order in batches of size
// n, each batch read in its own short transaction, so memory does not grow
// with the list and writers are not blocked.
func (s *Store) ForEachSubscriber(n int, fn func([]model.Subscriber) error) error {
	if n <= 0 {
		n = 1000
	}
	var after uint64
	first := true
	batch := make([]model.Subscriber, 0, n)
	for {
		batch = batch[:0]
		err := s.view(func(tx *bolt.Tx) error {
			c := tx.Bucket(bucketSubscribers).Cursor()
			var k, v []byte
			if first {
				k, v = c.First()
			} else {
				k, v = c.Seek(u64(after + 1))
			}
			for ; k != nil && len(batch) < n; k, v = c.Next() {
				var sub model.Subscriber
				if err := json.Unmarshal(v, &sub); err != nil {
					return fmt.Errorf("subscriber %d unreadable: %w", btoi(k), err)
				}
				batch = append(batch, sub)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if len(batch) == 0 {
			return nil
		}
		first = false
		after = batch[len(batch)-1].ID
		if err := fn(batch); err != nil {
			return err
		}
		if len(batch) < n {
			return nil
		}
	}
}

// CountSubscribers counts subscribers by state; every state is present.
func (s *Store) CountSubscribers() (map[model.State]int, error) {
	counts := make(map[model.State]int, len(model.States))
	for _, st := range model.States {
		counts[st] = 0
	}
	err := s.ForEachSubscriber(5000, func(b []model.Subscriber) error {
		for i := range b {
			counts[b[i].State]++
		}
		return nil
	})
	return counts, err
}

func hasPrefix(b, p []byte) bool { return len(b) >= len(p) && string(b[:len(p)]) == string(p) }
