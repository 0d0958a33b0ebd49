package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"runtime/debug"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/papermail/papermail/internal/model"
)

// SalvageReport says what Salvage recovered.
type SalvageReport struct {
	// Papers and Subscribers are the records in the new store.
	Papers, Subscribers int
	// Records counts every key copied, in every bucket.
	Records int
	// Damaged counts the stretches of the file that could not be read
	// and were passed over; 0 means the whole file was read.
	Damaged int
	// Unreadable names the buckets whose root could not be read at all.
	Unreadable []string
	// LoosePapers and LooseSubscribers are the records found on leaf
	// pages the tree no longer reaches (see scanLoose), included in
	// Papers and Subscribers.
	LoosePapers, LooseSubscribers int
}

// salvageFlush is how many records are written to the new store per
// transaction.
const salvageFlush = 2000

// maxSeeks bounds the attempts to get past damaged pages in one bucket.
const maxSeeks = 20000

// Salvage reads what can still be read from the store file at src, however
// damaged, and writes it into a new store at dst (which must not exist):
// every bucket is walked key by key, and where a page cannot be read the
// walk seeks past it; papers and subscribers the walk missed are then
// looked up through the date and address indexes and, last, searched for
// on every leaf page of the file (scanLoose). The indexes of the new
// store are rebuilt from the records it holds, and it keeps the old link
// secret when that was readable, so links already mailed keep working.
// src is only read. A file whose two meta pages are both gone cannot be
// read by bbolt at all; that is a *DamageError.
func Salvage(src, dst string) (SalvageReport, error) {
	var rep SalvageReport
	if _, err := os.Stat(dst); err == nil {
		return rep, fmt.Errorf("salvage: %s exists; name a new file", dst)
	}
	fi, err := os.Stat(src)
	if err != nil {
		return rep, &NoStoreError{Path: src}
	}
	if fi.IsDir() {
		return rep, &NoStoreError{Path: src, Dir: true}
	}
	if fi.Size() == 0 {
		return rep, &NoStoreError{Path: src, Empty: true}
	}
	in, err := openBolt(src, Options{ReadOnly: true, Timeout: 250 * time.Millisecond})
	if err != nil {
		return rep, err
	}
	defer in.Close()
	out, err := Open(dst, Options{})
	if err != nil {
		return rep, err
	}
	defer out.Close()
	sv := &salvager{out: out, rep: &rep}
	err = func() (err error) {
		defer recoverDamage(src, &err)
		defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
		return in.View(func(tx *bolt.Tx) error { return sv.run(tx) })
	}()
	if err != nil {
		var de *DamageError
		if !errors.As(err, &de) {
			return rep, err
		}
		// The root of the file itself is unreadable: keep the fresh
		// store empty but say so.
		rep.Unreadable = append(rep.Unreadable, "(root)")
		rep.Damaged++
	}
	if p := metaProblem(src, in.Info().PageSize); p != "" {
		// bbolt read the tree of the older meta page: the records of
		// the last write may only be on their leaf pages.
		rep.Unreadable = append(rep.Unreadable, "(a meta page)")
		rep.Damaged++
	}
	if rep.Damaged > 0 {
		// Records the tree no longer leads to may still sit whole on
		// their leaf pages.
		finds, err := scanLoose(src, in.Info().PageSize)
		if err != nil {
			return rep, err
		}
		if rep.LoosePapers, rep.LooseSubscribers, err = out.addLoose(finds); err != nil {
			return rep, err
		}
		rep.Records += rep.LoosePapers + rep.LooseSubscribers
	}
	if err := out.rebuildIndexes(); err != nil {
		return rep, err
	}
	if err := out.reindex(); err != nil {
		return rep, err
	}
	counts, err := out.CountSubscribers()
	if err != nil {
		return rep, err
	}
	for _, n := range counts {
		rep.Subscribers += n
	}
	if rep.Papers, err = out.CountPapers(); err != nil {
		return rep, err
	}
	return rep, out.db.Sync()
}

// salvager copies readable records into the new store.
type salvager struct {
	out     *Store
	rep     *SalvageReport
	pending []salvaged
}

// salvaged is one record: key k with value v in the nested bucket path
// (a nil v with bucket set creates a nested bucket).
type salvaged struct {
	path   [][]byte
	k, v   []byte
	bucket bool
}

func (sv *salvager) run(tx *bolt.Tx) error {
	var names [][]byte
	if err := sv.try(func() error {
		return tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
			names = append(names, bytes.Clone(name))
			return nil
		})
	}); err != nil {
		return err
	}
	for _, name := range names {
		var b *bolt.Bucket
		if sv.try(func() error { b = tx.Bucket(name); return nil }) != nil || b == nil {
			sv.rep.Unreadable = append(sv.rep.Unreadable, string(name))
			sv.rep.Damaged++
			continue
		}
		if err := sv.bucket(b, [][]byte{name}); err != nil {
			return err
		}
	}
	if err := sv.viaIndexes(tx); err != nil {
		return err
	}
	return sv.flush()
}

// try runs fn, turning bbolt's panics on a damaged page into an error.
func (sv *salvager) try(fn func() error) (err error) {
	defer recoverDamage("", &err)
	return fn()
}

// bucket copies every readable key of b (at path), seeking past what
// cannot be read.
func (sv *salvager) bucket(b *bolt.Bucket, path [][]byte) error {
	var last []byte // the last key copied
	started := false
	seeks := 0
	for {
		var from []byte
		if started {
			from = last
		}
		err := sv.try(func() error {
			c := b.Cursor()
			var k, v []byte
			if !started {
				k, v = c.First()
			} else {
				k, v = c.Seek(from)
				if k != nil && bytes.Equal(k, from) {
					k, v = c.Next()
				}
			}
			for ; k != nil; k, v = c.Next() {
				if err := sv.record(b, path, k, v); err != nil {
					return err
				}
				last, started = bytes.Clone(k), true
			}
			return nil
		})
		if err == nil {
			return nil
		}
		var de *DamageError
		if !errors.As(err, &de) {
			return err
		}
		sv.rep.Damaged++
		next, ok := sv.pastDamage(b, last, started, &seeks)
		if !ok {
			return nil
		}
		// Resume at next itself: step back so the resumed walk's
		// "after from" includes it.
		last, started = next, true
		if err := sv.resumeAt(b, path, next); err != nil {
			return err
		}
	}
}

// resumeAt copies the record at key, which pastDamage found readable.
func (sv *salvager) resumeAt(b *bolt.Bucket, path [][]byte, key []byte) error {
	return sv.try(func() error {
		k, v := b.Cursor().Seek(key)
		if k == nil || !bytes.Equal(k, key) {
			return nil
		}
		return sv.record(b, path, k, v)
	})
}

// record queues one key for the new store; a nested bucket is walked.
func (sv *salvager) record(b *bolt.Bucket, path [][]byte, k, v []byte) error {
	if v == nil {
		if child := b.Bucket(k); child != nil {
			sv.pending = append(sv.pending, salvaged{path: path, k: bytes.Clone(k), bucket: true})
			sub := append(append([][]byte(nil), path...), bytes.Clone(k))
			return sv.bucket(child, sub)
		}
	}
	sv.pending = append(sv.pending, salvaged{path: path, k: bytes.Clone(k), v: bytes.Clone(v)})
	sv.rep.Records++
	if len(sv.pending) >= salvageFlush {
		return sv.flush()
	}
	return nil
}

// pastDamage finds the first key after the damaged stretch that follows
// last (the start of the bucket when !started): it tries keys further and
// further on until a seek reads, then narrows down between the two by
// bisection, so the intact pages right after the damage are kept.
func (sv *salvager) pastDamage(b *bolt.Bucket, last []byte, started bool, seeks *int) ([]byte, bool) {
	// seek reports the key a seek to x lands on, or ok=false when the
	// pages on its way are damaged.
	seek := func(x []byte) (k []byte, ok bool) {
		*seeks++
		err := sv.try(func() error {
			k, _ = b.Cursor().Seek(x)
			k = bytes.Clone(k)
			return nil
		})
		return k, err == nil
	}
	var lo []byte
	if started {
		lo = last
	}
	// Candidates, nearest first: the key just after last, then last with
	// a byte raised at ever shorter lengths, then every first byte.
	var cands [][]byte
	if started {
		cands = append(cands, append(bytes.Clone(last), 0))
		for i := len(last) - 1; i >= 0; i-- {
			if last[i] < 0xff {
				c := bytes.Clone(last[:i+1])
				c[i]++
				cands = append(cands, c)
			}
		}
	}
	first := 0
	if started && len(last) > 0 {
		first = int(last[0]) + 1
	}
	for c := first; c <= 0xff; c++ {
		cands = append(cands, []byte{byte(c)})
	}
	for _, hi := range cands {
		if *seeks > maxSeeks {
			return nil, false
		}
		k, ok := seek(hi)
		if !ok {
			lo = hi
			continue
		}
		// Narrow down between lo (damaged) and hi (readable): the
		// first readable key may lie well before k. A nil best at the
		// end means nothing readable follows the damage.
		best := k
		for range 64 {
			mid, ok := midKey(lo, hi)
			if !ok || *seeks > maxSeeks {
				break
			}
			mk, ok := seek(mid)
			if !ok {
				lo = mid
				continue
			}
			hi = mid
			if mk != nil && (best == nil || bytes.Compare(mk, best) < 0) && (!started || bytes.Compare(mk, last) > 0) {
				best = mk
			}
		}
		return best, best != nil
	}
	return nil, false
}

// midKey is a key between lo and hi in byte order (lo < hi), or false when
// none lies strictly between at the keys' length plus one byte.
func midKey(lo, hi []byte) ([]byte, bool) {
	n := max(len(lo), len(hi)) + 1
	pad := func(b []byte) *big.Int {
		p := make([]byte, n)
		copy(p, b)
		return new(big.Int).SetBytes(p)
	}
	a, z := pad(lo), pad(hi)
	m := new(big.Int).Add(a, z)
	m.Rsh(m, 1)
	if m.Cmp(a) <= 0 || m.Cmp(z) >= 0 {
		return nil, false
	}
	out := m.FillBytes(make([]byte, n))
	return bytes.TrimRight(out, "\x00"), true
}

// viaIndexes looks up the papers named by the date index and the
// subscribers named by the address index that the walk did not copy (their
// page was reached through a damaged branch, but another path leads to
// them).
func (sv *salvager) viaIndexes(tx *bolt.Tx) error {
	if err := sv.flush(); err != nil {
		return err
	}
	lookup := func(index, primary []byte, key func(k, v []byte) []byte) error {
		ib, pb := tx.Bucket(index), tx.Bucket(primary)
		if ib == nil || pb == nil {
			return nil
		}
		var keys [][]byte
		seen := 0
		_ = sv.try(func() error {
			return ib.ForEach(func(k, v []byte) error {
				if id := key(k, v); id != nil {
					keys = append(keys, bytes.Clone(id))
				}
				seen++
				return nil
			})
		})
		for _, id := range keys {
			var have bool
			if err := sv.out.view(func(otx *bolt.Tx) error {
				have = otx.Bucket(primary).Get(id) != nil
				return nil
			}); err != nil {
				return err
			}
			if have {
				continue
			}
			var v []byte
			if sv.try(func() error { v = bytes.Clone(pb.Get(id)); return nil }) == nil && v != nil {
				sv.pending = append(sv.pending, salvaged{path: [][]byte{primary}, k: id, v: v})
				sv.rep.Records++
			}
		}
		return sv.flush()
	}
	if err := lookup(bucketPaperDates, bucketPapers, func(k, _ []byte) []byte {
		if len(k) <= 8 {
			return nil
		}
		return k[8:]
	}); err != nil {
		return err
	}
	return lookup(bucketEmails, bucketSubscribers, func(_, v []byte) []byte {
		if len(v) != 8 {
			return nil
		}
		return v
	})
}

// flush writes the queued records into the new store.
func (sv *salvager) flush() error {
	if len(sv.pending) == 0 {
		return nil
	}
	err := sv.out.update(func(tx *bolt.Tx) error {
		for _, r := range sv.pending {
			b, err := tx.CreateBucketIfNotExists(r.path[0])
			if err != nil {
				return err
			}
			for _, p := range r.path[1:] {
				if b, err = b.CreateBucketIfNotExists(p); err != nil {
					return err
				}
			}
			if r.bucket {
				if _, err := b.CreateBucketIfNotExists(r.k); err != nil {
					return err
				}
				continue
			}
			if err := b.Put(r.k, r.v); err != nil {
				return err
			}
		}
		return nil
	})
	sv.pending = sv.pending[:0]
	return err
}

// rebuildIndexes makes the address and date indexes agree with the
// subscribers and papers the store holds (after a salvage either may name
// records that were lost, or miss some that were found). Records that do
// not decode are dropped.
func (s *Store) rebuildIndexes() error {
	return s.update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketEmails, bucketPaperDates} {
			if tx.Bucket(name) != nil {
				if err := tx.DeleteBucket(name); err != nil {
					return err
				}
			}
			if _, err := tx.CreateBucket(name); err != nil {
				return err
			}
		}
		eb, db := tx.Bucket(bucketEmails), tx.Bucket(bucketPaperDates)
		sb, pb := tx.Bucket(bucketSubscribers), tx.Bucket(bucketPapers)
		var bad [][]byte
		err := sb.ForEach(func(k, v []byte) error {
			var sub model.Subscriber
			if json.Unmarshal(v, &sub) != nil || len(k) != 8 || sub.ID != btoi(k) || sub.Email == "" {
				bad = append(bad, bytes.Clone(k))
				return nil
			}
			return eb.Put([]byte(sub.Email), bytes.Clone(k))
		})
		if err != nil {
			return err
		}
		for _, k := range bad {
			if err := sb.Delete(k); err != nil {
				return err
			}
		}
		bad = bad[:0]
		err = pb.ForEach(func(k, v []byte) error {
			var p model.Paper
			if json.Unmarshal(v, &p) != nil || p.ID != string(k) {
				bad = append(bad, bytes.Clone(k))
				return nil
			}
			return db.Put(dateKey(p.Date(), p.ID), nil)
		})
		if err != nil {
			return err
		}
		for _, k := range bad {
			if err := pb.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}
