package store

import (
	"encoding/binary"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// SentSets returns, for each subscriber id given, the papers among
// candidates it has been sent, read in one transaction: what a digest
// choosing from candidates must leave out. Only those entries are read;
// the rest of each subscriber's history is stepped or sought past, neither
// decoded nor copied. Candidates may come in any order (sorted ascending,
// as selection.Index.IDs gives them, saves a copy and a sort).
// Subscribers sent none of them are absent from the map. The sets share
// a few arrays (the strings are the candidates'): a batch of a thousand
// readers costs a few dozen allocations, not one map each.
func (s *Store) SentSets(ids []uint64, candidates []string) (map[uint64]SentPapers, error) {
	out := make(map[uint64]SentPapers)
	if len(ids) == 0 || len(candidates) == 0 {
		return out, nil
	}
	if !slices.IsSorted(candidates) {
		candidates = slices.Sorted(slices.Values(candidates))
	}
	err := s.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketSent).Cursor()
		seek := make([]byte, 8, 64)
		var all []string // the subscribers' hits, each one's in a row
		for _, id := range ids {
			// The subscriber's entries (keyed by paper id after the
			// subscriber's 8 bytes, so sorted) merged with the candidates.
			binary.BigEndian.PutUint64(seek, id)
			prefix := seek[:8]
			start := len(all)
			j, skipped := 0, 0
			seek = append(seek[:8], candidates[0]...)
			k, _ := c.Seek(seek)
			for k != nil && j < len(candidates) && hasPrefix(k, prefix) {
				paper, cand := k[8:], candidates[j]
				switch {
				case string(paper) == cand:
					if len(all) == cap(all) {
						// A new chunk, the subscriber's hits so far moved
						// along: no copying of the earlier ones.
						next := make([]string, len(all)-start, max(2*(len(all)-start), sentChunk))
						copy(next, all[start:])
						all, start = next, 0
					}
					all = append(all, cand)
					j++
					skipped = 0
					k, _ = c.Next()
				case string(paper) > cand:
					// Candidates not sent: on to the first not below paper.
					j += searchFrom(candidates[j:], paper)
					skipped = 0
				case skipped < sentSkipNext:
					// Entries of no candidate: a few are stepped over, a
					// longer run is sought past.
					skipped++
					k, _ = c.Next()
				default:
					skipped = 0
					seek = append(seek[:8], cand...)
					k, _ = c.Seek(seek)
				}
			}
			if len(all) > start {
				// In candidate order, so sorted; capped so that an append
				// to one cannot reach the next.
				out[id] = SentPapers(all[start:len(all):len(all)])
			}
		}
		return nil
	})
	return out, err
}

// SentPapers are the ids of papers a subscriber was sent, sorted.
type SentPapers []string

// Has reports whether paper is one of them.
func (p SentPapers) Has(paper string) bool {
	_, ok := slices.BinarySearch(p, paper)
	return ok
}

// sentChunk is how many hits SentSets allocates room for at a time.
const sentChunk = 4096

// sentSkipNext is how many non-candidate entries in a row SentSets steps
// over with Next before it seeks: a seek descends the tree, a step mostly
// stays on the leaf page.
const sentSkipNext = 16

// searchFrom returns the index of the first of sorted ids not below id.
func searchFrom(ids []string, id []byte) int {
	lo, hi := 0, len(ids)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if ids[m] < string(id) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
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
	// A fold records a run's readers in nearly ascending id order, and a
	// reader's new papers have the highest ids of their history, so the
	// entries arrive in key order: pages split at 90% instead of bbolt's
	// half hold nearly twice as many: after a full-list run at 100k
	// (784,920 entries) 9,457 leaf pages instead of 17,063, each one a
	// page the run's folds read back (file-backed RSS) and later runs'
	// SentSets and PruneSent read.
	b.FillPercent = 0.9
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
