package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/papermail/papermail/internal/model"
)

// AddSubscriber stores a new subscriber, assigning its ID. The email must
// already be normalized; an address already on the list is ErrExists.
func (s *Store) AddSubscriber(sub *model.Subscriber) error {
	isNew := sub.ID == 0
	return s.batch(func(tx *bolt.Tx) error {
		eb := tx.Bucket(bucketEmails)
		if eb.Get([]byte(sub.Email)) != nil {
			return fmt.Errorf("subscriber %s: %w", sub.Email, ErrExists)
		}
		sb := tx.Bucket(bucketSubscribers)
		if isNew {
			id, err := sb.NextSequence()
			if err != nil {
				return err
			}
			sub.ID = id
		}
		if err := s.putSubscriber(tx, sub); err != nil {
			return err
		}
		return eb.Put([]byte(sub.Email), u64(sub.ID))
	})
}

// addChunk is how many subscribers one transaction of AddSubscribers
// writes: a bounded transaction keeps memory flat and an import linear.
const addChunk = 20000

// AddSubscribers stores many new subscribers; addresses already on the
// list (or twice in subs) are returned in existing and left unchanged.
// They are taken in address order (ids follow it) and written in
// transactions of addChunk subscribers, so each transaction touches one
// range of the address index and an import grows linearly with the list;
// a failure leaves the chunks before it stored (an import run again skips
// them as existing).
func (s *Store) AddSubscribers(subs []model.Subscriber) (existing []string, err error) {
	// Sorted by address, then by position (the first of two equal
	// addresses is the one added): an O(n log n) sort of the addresses
	// side by side. slices.SortStableFunc over indexes into subs was
	// O(n log² n) with a cache miss per comparison, 27 times slower at
	// 1M subscribers than at 100k.
	type byEmail struct {
		email string
		i     int
	}
	sorted := make([]byEmail, len(subs))
	for i := range subs {
		sorted[i] = byEmail{subs[i].Email, i}
	}
	slices.SortFunc(sorted, func(a, b byEmail) int {
		if c := strings.Compare(a.email, b.email); c != 0 {
			return c
		}
		return a.i - b.i
	})
	order := make([]int, len(subs))
	for j, e := range sorted {
		order[j] = e.i
	}
	sorted = nil
	for start := 0; start < len(order); start += addChunk {
		chunk := order[start:min(start+addChunk, len(order))]
		var ex []string
		err := s.update(func(tx *bolt.Tx) error {
			var err error
			ex, err = s.addChunk(tx, subs, chunk)
			return err
		})
		if err != nil {
			return existing, err
		}
		existing = append(existing, ex...)
	}
	return existing, nil
}

func (s *Store) addChunk(tx *bolt.Tx, subs []model.Subscriber, chunk []int) ([]string, error) {
	var existing []string
	eb, sb := tx.Bucket(bucketEmails), tx.Bucket(bucketSubscribers)
	// New ids come after every stored one, so profiles and delivery
	// records are appended: pages filled to 90% instead of bbolt's 50%
	// are fewer pages to write and a smaller file.
	sb.FillPercent, tx.Bucket(bucketDelivery).FillPercent = 0.9, 0.9
	type entry struct {
		key []byte
		id  uint64
	}
	emails := make([]entry, 0, len(chunk))
	dues := make([]entry, 0, len(chunk))
	seen := make(map[string]bool, len(chunk))
	added := map[model.State]int{}
	for _, i := range chunk {
		sub := &subs[i]
		if seen[sub.Email] || eb.Get([]byte(sub.Email)) != nil {
			existing = append(existing, sub.Email)
			continue
		}
		seen[sub.Email] = true
		id, err := sb.NextSequence()
		if err != nil {
			return nil, err
		}
		sub.ID = id
		buf, err := profileBytes(sub)
		if err != nil {
			return nil, err
		}
		if err := sb.Put(u64(id), buf); err != nil {
			return nil, err
		}
		d := deliveryOf(sub)
		s.schedule(sub, &d)
		if d.NextDue != 0 {
			dues = append(dues, entry{dueKey(d.NextDue, id), id})
		}
		if err := s.putDelivery(tx, id, d, d); err != nil {
			return nil, err
		}
		emails = append(emails, entry{[]byte(sub.Email), id})
		added[sub.State]++
	}
	if err := addCounts(tx, added); err != nil {
		return nil, err
	}
	// Keys in order: a B+tree filled in one transaction splits its pages
	// only at commit, and inserting at random places into pages that big
	// makes an import quadratic.
	byKey := func(a, b entry) int { return bytes.Compare(a.key, b.key) }
	slices.SortFunc(emails, byKey)
	slices.SortFunc(dues, byKey)
	for _, e := range emails {
		if err := eb.Put(e.key, u64(e.id)); err != nil {
			return nil, err
		}
	}
	ib := tx.Bucket(bucketDue)
	for _, e := range dues {
		if err := ib.Put(e.key, []byte{}); err != nil {
			return nil, err
		}
	}
	if len(dues) > 0 {
		tx.OnCommit(s.kickDue)
	}
	return existing, nil
}

// putSubscriber writes a subscriber's profile and delivery state and
// keeps its due key.
func (s *Store) putSubscriber(tx *bolt.Tx, sub *model.Subscriber) error {
	was, err := storedState(tx, sub.ID)
	if err != nil {
		return err
	}
	if err := stateChange(tx, was, sub.State); err != nil {
		return err
	}
	buf, err := profileBytes(sub)
	if err != nil {
		return err
	}
	if err := tx.Bucket(bucketSubscribers).Put(u64(sub.ID), buf); err != nil {
		return err
	}
	old, err := getDelivery(tx, sub.ID)
	if err != nil {
		return err
	}
	d := deliveryOf(sub)
	d.NextDue, d.NotBefore = old.NextDue, old.NotBefore
	s.schedule(sub, &d)
	return s.putDelivery(tx, sub.ID, old, d)
}

// getSubscriber reads a subscriber's profile and delivery state. A
// profile written before schema 3 may still hold delivery fields (a store
// opened read-only is not migrated); the delivery record, when there is
// one, is what counts.
func getSubscriber(tx *bolt.Tx, id uint64) (model.Subscriber, error) {
	var sub model.Subscriber
	v := tx.Bucket(bucketSubscribers).Get(u64(id))
	if v == nil {
		return sub, fmt.Errorf("subscriber %d: %w", id, ErrNotFound)
	}
	if err := json.Unmarshal(v, &sub); err != nil {
		return sub, fmt.Errorf("subscriber %d unreadable: %w", id, err)
	}
	if b := tx.Bucket(bucketDelivery); b != nil && b.Get(u64(id)) != nil {
		d, err := getDelivery(tx, id)
		if err != nil {
			return sub, err
		}
		d.applyTo(&sub)
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

// SubscribersByID returns the subscribers of ids that exist, in one
// transaction.
func (s *Store) SubscribersByID(ids []uint64) ([]model.Subscriber, error) {
	out := make([]model.Subscriber, 0, len(ids))
	err := s.view(func(tx *bolt.Tx) error {
		for _, id := range ids {
			sub, err := getSubscriber(tx, id)
			if errors.Is(err, ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			out = append(out, sub)
		}
		return nil
	})
	return out, err
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
		if err := s.putSubscriber(tx, &sub); err != nil {
			return err
		}
		out, err = getSubscriber(tx, id)
		return err
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
		if err := stateChange(tx, sub.State, ""); err != nil {
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
		d, err := getDelivery(tx, id)
		if err != nil {
			return err
		}
		if err := s.putDelivery(tx, id, d, deliveryRecord{}); err != nil {
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
	from := uint64(1) // ids start at 1
	return s.inBatches(n, fn, func(tx *bolt.Tx, batch []model.Subscriber) ([]model.Subscriber, error) {
		c := tx.Bucket(bucketSubscribers).Cursor()
		for k, _ := c.Seek(u64(from)); k != nil && len(batch) < cap(batch); k, _ = c.Next() {
			sub, err := getSubscriber(tx, btoi(k))
			if err != nil {
				return batch, err
			}
			batch = append(batch, sub)
			from = btoi(k) + 1
		}
		return batch, nil
	})
}

// inBatches calls fn with batches of at most n subscribers (1,000 for
// n <= 0) until a batch is short. Each batch is read in its own short
// transaction by next, which appends to the empty batch it is given up
// to its capacity, from where the batch before ended.
func (s *Store) inBatches(n int, fn func([]model.Subscriber) error, next func(*bolt.Tx, []model.Subscriber) ([]model.Subscriber, error)) error {
	if n <= 0 {
		n = 1000
	}
	batch := make([]model.Subscriber, 0, n)
	for {
		err := s.view(func(tx *bolt.Tx) error {
			var err error
			batch, err = next(tx, batch[:0])
			return err
		})
		if err != nil || len(batch) == 0 {
			return err
		}
		if err := fn(batch); err != nil {
			return err
		}
		if len(batch) < n {
			return nil
		}
	}
}

func hasPrefix(b, p []byte) bool { return len(b) >= len(p) && string(b[:len(p)]) == string(p) }
