package store

import (
	bolt "go.etcd.io/bbolt"
)

// SentSets returns, for each subscriber id given, the ids of the papers it
// has been sent, read in one transaction. Subscribers with no history are
// absent from the map.
func (s *Store) SentSets(ids []uint64) (map[uint64]map[string]struct{}, error) {
	out := make(map[uint64]map[string]struct{})
	err := s.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketSent).Cursor()
		for _, id := range ids {
			prefix := u64(id)
			for k, _ := c.Seek(prefix); k != nil && hasPrefix(k, prefix); k, _ = c.Next() {
				set := out[id]
				if set == nil {
					set = make(map[string]struct{})
					out[id] = set
				}
				set[string(k[8:])] = struct{}{}
			}
		}
		return nil
	})
	return out, err
}

// SentHistory lists the paper ids sent to a subscriber with the date each was sent.
func (s *Store) SentHistory(id uint64) (map[string]string, error) {
	out := make(map[string]string)
	err := s.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketSent).Cursor()
		prefix := u64(id)
		for k, v := c.Seek(prefix); k != nil && hasPrefix(k, prefix); k, v = c.Next() {
			out[string(k[8:])] = string(v)
		}
		return nil
	})
	return out, err
}

func putSent(tx *bolt.Tx, id uint64, date string, papers []string) error {
	b := tx.Bucket(bucketSent)
	for _, p := range papers {
		k := make([]byte, 8, 8+len(p))
		copy(k, u64(id))
		k = append(k, p...)
		if err := b.Put(k, []byte(date)); err != nil {
			return err
		}
	}
	return nil
}
