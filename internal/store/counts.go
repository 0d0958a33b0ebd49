package store

import (
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/papermail/papermail/internal/model"
)

// keyCounts holds the number of subscribers in each state, kept in the
// same transaction as every change of state, so the subscriber gauge and
// `papermail status` read one key instead of the whole list.
var keyCounts = []byte("subscriber_counts")

// addCounts adds delta to the stored counts. Before the counts exist (a
// store being migrated) it does nothing; countAll makes them afterwards.
func addCounts(tx *bolt.Tx, delta map[model.State]int) error {
	meta := tx.Bucket(bucketMeta)
	v := meta.Get(keyCounts)
	if v == nil || len(delta) == 0 {
		return nil
	}
	counts := map[model.State]int{}
	if err := json.Unmarshal(v, &counts); err != nil {
		return fmt.Errorf("subscriber counts unreadable: %w", err)
	}
	changed := false
	for st, n := range delta {
		if n != 0 {
			counts[st] += n
			changed = true
		}
	}
	if !changed {
		return nil
	}
	buf, err := json.Marshal(counts)
	if err != nil {
		return err
	}
	return meta.Put(keyCounts, buf)
}

// stateChange records that one subscriber went from state from to to
// ("" for none: added or deleted).
func stateChange(tx *bolt.Tx, from, to model.State) error {
	if from == to {
		return nil
	}
	delta := map[model.State]int{}
	if from != "" {
		delta[from]--
	}
	if to != "" {
		delta[to]++
	}
	return addCounts(tx, delta)
}

// storedState is the state in a stored profile, "" when there is none.
func storedState(tx *bolt.Tx, id uint64) (model.State, error) {
	v := tx.Bucket(bucketSubscribers).Get(u64(id))
	if v == nil {
		return "", nil
	}
	var sf struct {
		State model.State `json:"state"`
	}
	if err := json.Unmarshal(v, &sf); err != nil {
		return "", fmt.Errorf("subscriber %d unreadable: %w", id, err)
	}
	return sf.State, nil
}

// countAll makes the counts when the store has none yet (a new store, or
// one written before they were kept). It runs at open, before anyone
// else uses the store.
func (s *Store) countAll() error {
	var have bool
	if err := s.view(func(tx *bolt.Tx) error {
		have = tx.Bucket(bucketMeta).Get(keyCounts) != nil
		return nil
	}); err != nil || have {
		return err
	}
	counts, err := s.scanCounts()
	if err != nil {
		return err
	}
	buf, err := json.Marshal(counts)
	if err != nil {
		return err
	}
	return s.update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(keyCounts, buf) })
}

// scanCounts counts subscribers by state by reading every profile.
func (s *Store) scanCounts() (map[model.State]int, error) {
	counts := map[model.State]int{}
	var after uint64
	for {
		n := 0
		err := s.view(func(tx *bolt.Tx) error {
			c := tx.Bucket(bucketSubscribers).Cursor()
			for k, v := c.Seek(u64(after + 1)); k != nil && n < 10000; k, v = c.Next() {
				var sf struct {
					State model.State `json:"state"`
				}
				if err := json.Unmarshal(v, &sf); err != nil {
					return fmt.Errorf("subscriber %d unreadable: %w", btoi(k), err)
				}
				counts[sf.State]++
				after = btoi(k)
				n++
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if n < 10000 {
			return counts, nil
		}
	}
}

// CountSubscribers counts subscribers by state; every state is present.
func (s *Store) CountSubscribers() (map[model.State]int, error) {
	counts := make(map[model.State]int, len(model.States))
	for _, st := range model.States {
		counts[st] = 0
	}
	var stored map[model.State]int
	err := s.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketMeta).Get(keyCounts)
		if v == nil {
			return nil
		}
		return json.Unmarshal(v, &stored)
	})
	if err != nil {
		return counts, err
	}
	if stored == nil {
		// A store opened read-only before it had counts.
		if stored, err = s.scanCounts(); err != nil {
			return counts, err
		}
	}
	for st, n := range stored {
		counts[st] = n
	}
	return counts, nil
}

// reindex builds the due index and the state counts again from the
// subscriber records (after a salvage copied records by hand).
func (s *Store) reindex() error {
	err := s.update(func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket(bucketDue); err != nil && tx.Bucket(bucketDue) != nil {
			return err
		}
		_, err := tx.CreateBucket(bucketDue)
		return err
	})
	if err != nil {
		return err
	}
	err = s.rescheduleAll(true)
	if err != nil {
		return err
	}
	if err := s.update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Delete(keyCounts) }); err != nil {
		return err
	}
	return s.countAll()
}
