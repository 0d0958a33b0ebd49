package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/papermail/papermail/internal/model"
)

// pruneChunk is how many ledger lines one prune transaction deletes at
// most (about 3 MB of lines at ~330 bytes each), so a prune of a large
// day never holds the write lock long: the run's records and the web's
// writes take turns with it.
const pruneChunk = 10_000

// ErrBadRetention is returned by PruneLedgers for a retention below one
// run date.
var ErrBadRetention = errors.New("ledger retention must keep at least one run date")

// LedgerPrune is what PruneLedgers removed.
type LedgerPrune struct {
	// Dates are the run dates whose ledgers were removed whole, oldest first.
	Dates []string
	// Lines is how many ledger lines (one per subscriber due) were deleted.
	Lines int
	// Kept is how many run dates still have a ledger.
	Kept int
	// More reports that the budget ran out with ledgers left to prune
	// (the next prune goes on).
	More bool
}

// PruneLedgers deletes the delivery ledgers of every run date but the keep
// newest, and never that of a run that has not finished (an interrupted
// or stopped run is resumed from its ledger, however old). Each date's
// run record (its counts, for status) is kept. Lines are deleted in
// transactions of at most pruneChunk lines, so the pages they held are
// freed for reuse and the file stops growing; a crash between chunks
// leaves part of an old ledger, which the next prune finishes. No chunk
// starts once budget has passed (at least one always runs): a store
// upgraded with months of ledgers is pruned over several runs, none held
// up for long.
//
// What the ledger of a past date is still read for: resuming its run
// (unfinished runs, kept), the scheduler's "already settled today" check
// (the local dates current somewhere, the newest), status's last-run figures
// (the newest date), the browser view of a digest and the Message-ID
// match of bounce reports (both fine to lose after the retention: the
// sent-papers history and VERP addresses do not depend on it).
func (s *Store) PruneLedgers(keep int, budget time.Duration) (LedgerPrune, error) {
	start := time.Now()
	var res LedgerPrune
	if keep < 1 {
		return res, fmt.Errorf("%w, got %d", ErrBadRetention, keep)
	}
	var old []string
	err := s.view(func(tx *bolt.Tx) error {
		dates, err := ledgerDates(tx)
		if err != nil {
			return err
		}
		res.Kept = len(dates)
		if len(dates) <= keep {
			return nil
		}
		for _, d := range dates[:len(dates)-keep] {
			unfinished, err := runUnfinished(tx, d)
			if err != nil {
				return err
			}
			if !unfinished {
				old = append(old, d)
			}
		}
		return nil
	})
	if err != nil {
		return res, err
	}
	deadline := start.Add(budget)
	chunks, stopped := 0, false
	allow := func() bool {
		chunks++
		stopped = chunks > 1 && !time.Now().Before(deadline)
		return !stopped
	}
	for _, date := range old {
		n, gone, err := s.pruneLedger(date, allow)
		res.Lines += n
		if err != nil {
			return res, fmt.Errorf("prune ledger %s: %w", date, err)
		}
		if gone {
			res.Dates = append(res.Dates, date)
			res.Kept--
		}
		if stopped {
			res.More = true
			break
		}
	}
	return res, nil
}

// pruneLedger deletes one date's ledger chunk by chunk while allow says
// so; gone reports that it was removed whole (false when the budget ran
// out first, or its run was begun again meanwhile).
func (s *Store) pruneLedger(date string, allow func() bool) (lines int, gone bool, err error) {
	for {
		if !allow() {
			return lines, false, nil
		}
		done := false
		n := 0
		err := s.update(func(tx *bolt.Tx) error {
			n = 0
			// A run may have begun again for this date since the prune
			// looked (an operator's `digest --date`): its ledger stays.
			if unfinished, err := runUnfinished(tx, date); err != nil || unfinished {
				done = true
				return err
			}
			lb := tx.Bucket(bucketLedger)
			b := lb.Bucket([]byte(date))
			if b == nil {
				done, gone = true, true
				return nil
			}
			keys := make([][]byte, 0, pruneChunk)
			c := b.Cursor()
			for k, _ := c.First(); k != nil && len(keys) < pruneChunk; k, _ = c.Next() {
				keys = append(keys, append([]byte(nil), k...))
			}
			if len(keys) < pruneChunk {
				// The last chunk: the bucket goes with it.
				n = len(keys)
				done, gone = true, true
				return lb.DeleteBucket([]byte(date))
			}
			for _, k := range keys {
				if err := b.Delete(k); err != nil {
					return err
				}
			}
			n = len(keys)
			return nil
		})
		if err != nil {
			return lines, false, err
		}
		lines += n
		if done {
			return lines, gone, nil
		}
	}
}

// ledgerDates lists the run dates that have a ledger, oldest first.
func ledgerDates(tx *bolt.Tx) ([]string, error) {
	var dates []string
	err := tx.Bucket(bucketLedger).ForEachBucket(func(k []byte) error {
		dates = append(dates, string(k))
		return nil
	})
	return dates, err
}

// runUnfinished reports whether date has a run that has not finished. A
// ledger without a run record is not a run's: nothing resumes it.
func runUnfinished(tx *bolt.Tx, date string) (bool, error) {
	v := tx.Bucket(bucketRuns).Get([]byte(date))
	if v == nil {
		return false, nil
	}
	var run model.Run
	if err := json.Unmarshal(v, &run); err != nil {
		return false, fmt.Errorf("run %s unreadable: %w", date, err)
	}
	return run.Finished.IsZero(), nil
}
