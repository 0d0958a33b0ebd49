package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/papermail/papermail/internal/model"
)

// sentScanChunk is how many sent-history entries one prune transaction
// looks at most. The history is keyed by subscriber and paper, not by
// date, so finding old entries is a scan of the whole bucket: it goes in
// chunks of this size, each its own write transaction that deletes what
// it found, so a prune never holds the write lock long.
const sentScanChunk = 20_000

// keySentCursor is the meta key where a sent-history prune that ran out
// of budget left off; the next prune goes on from there.
var keySentCursor = []byte("sent_prune_cursor")

// keySentPass is the meta key holding the cutoff the pass under way
// began with, and keySentPassed that of the last finished pass: a pass
// with that cutoff again would find nothing new (entries recorded since
// are newer, and a paper's date only moves forward), so the runs of a
// day after the first scan nothing.
var (
	keySentPass   = []byte("sent_prune_pass")
	keySentPassed = []byte("sent_prune_passed")
)

// ErrBadCutoff is returned by PruneSent for a cutoff that is not a date.
var ErrBadCutoff = errors.New("sent-history cutoff must be a date (YYYY-MM-DD)")

// SentPrune is what PruneSent did.
type SentPrune struct {
	// Scanned is how many entries were looked at.
	Scanned int
	// Deleted is how many entries were removed.
	Deleted int
	// Chunks is how many transactions the prune took.
	Chunks int
	// More reports that the budget ran out before the whole history was
	// looked at: the next prune goes on where this one stopped.
	More bool
}

// PruneSent deletes the sent-papers history entries (subscriber, paper,
// date sent) that nothing can need any more: sent before the date before
// (YYYY-MM-DD, compared with the subscriber's local date the entry holds)
// and about a paper that is no longer stored or whose date (model.Paper.Date:
// a paper that trends again moves forward) is before paperBefore, so no
// digest can pick it again.
//
// The history is keyed by subscriber and paper, so the prune scans it in
// transactions of at most sentScanChunk entries, deleting what each
// found. No chunk starts once budget has passed (at least one always
// runs); the key it stopped at is stored and the next prune resumes
// there, so a pass looks at every entry however large the history, over
// as many runs as it needs; a prune that reaches the last key ends the
// pass (More false) and the next begins again at the first. A crash
// between chunks loses nothing: deleted entries were past the horizon,
// and the next prune resumes from the last stored key. Once a pass has
// finished, prunes with the before it began with scan nothing: a daemon
// running every hour scans the history once a day.
func (s *Store) PruneSent(before string, paperBefore time.Time, budget time.Duration) (SentPrune, error) {
	start := time.Now()
	var res SentPrune
	if _, err := time.Parse("2006-01-02", before); err != nil || len(before) != 10 {
		return res, fmt.Errorf("%w, got %q", ErrBadCutoff, before)
	}
	deadline := start.Add(budget)
	// Many subscribers were sent the same papers: each paper's fate is
	// read once a prune.
	gone := make(map[string]bool)
	skip := false
	if err := s.view(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		skip = meta.Get(keySentCursor) == nil && string(meta.Get(keySentPassed)) == before
		return nil
	}); err != nil || skip {
		return res, err
	}
	for {
		if res.Chunks > 0 && !time.Now().Before(deadline) {
			res.More = true
			return res, nil
		}
		done := false
		err := s.update(func(tx *bolt.Tx) error {
			meta := tx.Bucket(bucketMeta)
			from := meta.Get(keySentCursor)
			if from == nil {
				// A new pass: what it finishes holds for this cutoff.
				if err := meta.Put(keySentPass, []byte(before)); err != nil {
					return err
				}
			}
			b := tx.Bucket(bucketSent)
			c := b.Cursor()
			var k, v []byte
			if len(from) == 0 {
				k, v = c.First()
			} else {
				k, v = c.Seek(from)
			}
			var del [][]byte
			n := 0
			for ; k != nil && n < sentScanChunk; k, v = c.Next() {
				n++
				if len(k) <= 8 || string(v) >= before {
					continue
				}
				id := string(k[8:])
				old, seen := gone[id]
				if !seen {
					var err error
					if old, err = paperPast(tx, id, paperBefore); err != nil {
						return err
					}
					gone[id] = old
				}
				if old {
					del = append(del, append([]byte(nil), k...))
				}
			}
			for _, dk := range del {
				if err := b.Delete(dk); err != nil {
					return err
				}
			}
			res.Scanned += n
			res.Deleted += len(del)
			if k != nil {
				return meta.Put(keySentCursor, append([]byte(nil), k...))
			}
			// The end of the bucket: the pass is over, the next
			// begins at the first key.
			done = true
			passed := append([]byte(nil), meta.Get(keySentPass)...)
			if len(passed) == 0 {
				passed = []byte(before)
			}
			if err := meta.Put(keySentPassed, passed); err != nil {
				return err
			}
			return meta.Delete(keySentCursor)
		})
		if err != nil {
			return res, fmt.Errorf("prune sent history: %w", err)
		}
		res.Chunks++
		if done {
			return res, nil
		}
	}
}

// paperPast reports whether paper id can no longer be a digest's
// candidate: not stored, or dated before t.
func paperPast(tx *bolt.Tx, id string, t time.Time) (bool, error) {
	v := tx.Bucket(bucketPapers).Get([]byte(id))
	if v == nil {
		return true, nil
	}
	var p model.Paper
	if err := json.Unmarshal(v, &p); err != nil {
		return false, fmt.Errorf("paper %s: %w", id, err)
	}
	return p.Date().Before(t), nil
}
