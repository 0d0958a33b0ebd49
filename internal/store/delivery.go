package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/papermail/papermail/internal/due"
	"github.com/papermail/papermail/internal/model"
)

// A subscriber is kept in two records: its profile (bucket subscribers:
// what the reader chose, JSON, room to grow) and its delivery state
// (bucket delivery: what delivery did, a few dozen bytes), so recording a
// digest rewrites only the small one. The due index (bucket due) holds one
// key per subscriber who gets digests: the instant they are next due (Unix
// seconds, big-endian) followed by their id, so a tick reads only the keys
// up to now. Every write of a profile or a delivery state updates the index
// in the same transaction.

// deliveryRecord is the delivery state of one subscriber.
type deliveryRecord struct {
	LastDigest  string   `json:"l,omitempty"`
	Settled     string   `json:"s,omitempty"`
	SoftBounces []string `json:"b,omitempty"`
	// Bounce says why mail stopped (set with the bounced state).
	Bounce *model.Bounce `json:"x,omitempty"`
	// NextDue is the subscriber's key in the due index (Unix seconds,
	// rounded up); 0 when they are not in it.
	NextDue int64 `json:"n,omitempty"`
	// NotBefore is the instant of a tick that found the subscriber not
	// due yet: the next due instant is searched from there.
	NotBefore int64 `json:"f,omitempty"`
}

func deliveryOf(sub *model.Subscriber) deliveryRecord {
	return deliveryRecord{LastDigest: sub.LastDigest, Settled: sub.Settled, SoftBounces: sub.SoftBounces, Bounce: sub.Bounce}
}

func (d *deliveryRecord) applyTo(sub *model.Subscriber) {
	sub.LastDigest, sub.Settled, sub.SoftBounces, sub.Bounce = d.LastDigest, d.Settled, d.SoftBounces, d.Bounce
	sub.NextDue = time.Time{}
	if d.NextDue != 0 {
		sub.NextDue = time.Unix(d.NextDue, 0).UTC()
	}
}

// profileBytes encodes what the reader chose: the subscriber without its
// delivery state.
func profileBytes(sub *model.Subscriber) ([]byte, error) {
	p := *sub
	p.LastDigest, p.Settled, p.SoftBounces, p.Bounce, p.NextDue = "", "", nil, nil, time.Time{}
	return json.Marshal(&p)
}

func getDelivery(tx *bolt.Tx, id uint64) (deliveryRecord, error) {
	var d deliveryRecord
	b := tx.Bucket(bucketDelivery)
	if b == nil {
		return d, nil // a store of an older schema opened read-only
	}
	v := b.Get(u64(id))
	if v == nil {
		return d, nil
	}
	if err := json.Unmarshal(v, &d); err != nil {
		return d, fmt.Errorf("delivery state of subscriber %d unreadable: %w", id, err)
	}
	return d, nil
}

// putDelivery writes the delivery state of subscriber id, moving its key
// in the due index from old.NextDue to d.NextDue.
func (s *Store) putDelivery(tx *bolt.Tx, id uint64, old, d deliveryRecord) error {
	if old.NextDue != d.NextDue {
		ib := tx.Bucket(bucketDue)
		if old.NextDue != 0 {
			if err := ib.Delete(dueKey(old.NextDue, id)); err != nil {
				return err
			}
		}
		if d.NextDue != 0 {
			if err := ib.Put(dueKey(d.NextDue, id), []byte{}); err != nil {
				return err
			}
		}
		tx.OnCommit(s.kickDue)
	}
	if d.LastDigest == "" && d.Settled == "" && len(d.SoftBounces) == 0 && d.Bounce == nil && d.NextDue == 0 && d.NotBefore == 0 {
		return tx.Bucket(bucketDelivery).Delete(u64(id))
	}
	buf, err := json.Marshal(&d)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketDelivery).Put(u64(id), buf)
}

func dueKey(at int64, id uint64) []byte {
	k := make([]byte, 16)
	binary.BigEndian.PutUint64(k, uint64(at))
	binary.BigEndian.PutUint64(k[8:], id)
	return k
}

// nextDue is the due index key of sub (delivery fields current) with
// the search floor notBefore: 0 when sub gets no digests.
func (s *Store) nextDue(sub *model.Subscriber, notBefore int64) int64 {
	pol := s.policy()
	from := pol.Arrival(sub)
	if nb := time.Unix(notBefore, 0); notBefore != 0 && nb.After(from) {
		from = nb
	}
	t := pol.Next(sub, from)
	if t.IsZero() {
		return 0
	}
	u := t.Unix()
	if t.Nanosecond() != 0 {
		u++
	}
	return max(u, 1)
}

// schedule sets d.NextDue for sub and d's state.
func (s *Store) schedule(sub *model.Subscriber, d *deliveryRecord) {
	view := *sub
	d.applyTo(&view)
	d.NextDue = s.nextDue(&view, d.NotBefore)
}

// policy is the default delivery time the index is built with.
func (s *Store) policy() due.Policy {
	if p := s.pol.Load(); p != nil {
		return *p
	}
	return due.Policy{Loc: time.UTC}
}

var keyPolicy = []byte("due_policy")

// loadPolicy reads the policy the index was last built with.
func (s *Store) loadPolicy(tx *bolt.Tx) {
	v := tx.Bucket(bucketMeta).Get(keyPolicy)
	if p, ok := parsePolicy(string(v)); ok {
		s.pol.Store(&p)
	}
}

// parsePolicy reads due.Policy.String: "Europe/Berlin 07:30".
func parsePolicy(v string) (due.Policy, bool) {
	zone, hm, ok := strings.Cut(v, " ")
	h, m, ok2 := strings.Cut(hm, ":")
	if !ok || !ok2 {
		return due.Policy{}, false
	}
	loc, err := model.LoadZone(zone)
	hour, err1 := strconv.Atoi(h)
	minute, err2 := strconv.Atoi(m)
	if err != nil || err1 != nil || err2 != nil {
		return due.Policy{}, false
	}
	return due.Policy{Loc: loc, Hour: hour, Minute: minute}, true
}

// rescheduleAll computes every subscriber's next due instant again, in
// chunks (each its own transaction), and writes the deliveries that
// changed. With emptyIndex the due index was just emptied, so every
// delivery is written and keyed anew.
func (s *Store) rescheduleAll(emptyIndex bool) error {
	return s.eachSubscriberChunk(func(tx *bolt.Tx, id uint64, _ []byte) error {
		sub, err := getSubscriber(tx, id)
		if err != nil {
			return err
		}
		old, err := getDelivery(tx, id)
		if err != nil {
			return err
		}
		d := old
		s.schedule(&sub, &d)
		if emptyIndex {
			old.NextDue = 0 // no key in the new index yet
		} else if d.NextDue == old.NextDue {
			return nil
		}
		return s.putDelivery(tx, id, old, d)
	})
}

// SetPolicy sets the default delivery time (digest.timezone and
// digest.schedule) the due index is kept with. When it differs from the
// one the index was built with, every subscriber's next due instant is
// computed again (in chunks, each its own transaction).
func (s *Store) SetPolicy(p due.Policy) error {
	if s.readOnly {
		s.pol.Store(&p)
		return nil
	}
	var stored string
	if err := s.view(func(tx *bolt.Tx) error {
		stored = string(tx.Bucket(bucketMeta).Get(keyPolicy))
		return nil
	}); err != nil {
		return err
	}
	s.pol.Store(&p)
	if stored == p.String() {
		return nil
	}
	err := s.rescheduleAll(false)
	if err != nil {
		return fmt.Errorf("store: rebuild the due index: %w", err)
	}
	return s.update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keyPolicy, []byte(p.String()))
	})
}

// DueChanged is signalled after a commit that changed the due index, so
// a scheduler sleeping until the first due instant looks again.
func (s *Store) DueChanged() <-chan struct{} { return s.kick }

func (s *Store) kickDue() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// FirstDue is the earliest instant anyone is due; ok is false when nobody
// gets digests.
func (s *Store) FirstDue() (at time.Time, ok bool, err error) {
	return s.FirstDueAfter(time.Time{})
}

// FirstDueAfter is the earliest instant after t that someone is due; ok
// is false when there is none.
func (s *Store) FirstDueAfter(t time.Time) (at time.Time, ok bool, err error) {
	from := int64(0)
	if !t.IsZero() {
		from = max(t.Unix()+1, 0)
	}
	err = s.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketDue)
		if b == nil {
			return nil // a store of an older schema opened read-only
		}
		k, _ := b.Cursor().Seek(dueKey(from, 0))
		if k != nil {
			at, ok = time.Unix(int64(binary.BigEndian.Uint64(k)), 0), true
		}
		return nil
	})
	return at, ok, err
}

// DueSubscribers streams, in batches of up to n, the subscribers whose
// due key is at or before now, each batch read in its own short
// transaction; nobody else is read. fn may record outcomes, which move
// the keys it was given.
func (s *Store) DueSubscribers(now time.Time, n int, fn func([]model.Subscriber) error) error {
	limit := uint64(now.Unix())
	after := dueKey(0, 0)
	return s.inBatches(n, fn, func(tx *bolt.Tx, batch []model.Subscriber) ([]model.Subscriber, error) {
		b := tx.Bucket(bucketDue)
		if b == nil {
			return batch, nil // a store of an older schema opened read-only
		}
		c := b.Cursor()
		for k, _ := c.Seek(after); k != nil && len(batch) < cap(batch) && binary.BigEndian.Uint64(k) <= limit; k, _ = c.Next() {
			after = append(append(after[:0], k...), 0) // the next key after this one
			sub, err := getSubscriber(tx, binary.BigEndian.Uint64(k[8:]))
			if err != nil {
				return batch, err
			}
			batch = append(batch, sub)
		}
		return batch, nil
	})
}

// NotDueYet moves the due keys of subscribers a tick at now found not
// due (their key was early) to their next due instant searched from now.
func (s *Store) NotDueYet(ids []uint64, now time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	return s.update(func(tx *bolt.Tx) error {
		for _, id := range ids {
			sub, err := getSubscriber(tx, id)
			if err != nil {
				return err
			}
			old, err := getDelivery(tx, id)
			if err != nil {
				return err
			}
			d := old
			d.NotBefore = now.Unix() + 1
			s.schedule(&sub, &d)
			if err := s.putDelivery(tx, id, old, d); err != nil {
				return err
			}
		}
		return nil
	})
}
