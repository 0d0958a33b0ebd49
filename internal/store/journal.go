package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"slices"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The journal makes a digest run's outcomes durable with one append and
// one fsync per group of concurrent callers, instead of a bbolt commit
// each (page writes and two fsyncs: about 1 ms, which every SMTP
// connection waited out before its next message's final dot). The
// outcomes reach the buckets in large transactions (folds) in the
// background and when Flush is called; a crash leaves them in the
// journal, and the next Open applies them. Folding an outcome twice
// changes nothing (record is idempotent), but each fold also stores how
// far into the journal it reached, so nothing is applied twice except in
// the moment between the last fold and emptying the file.
//
// An entry is its length (4 bytes, little-endian), the CRC-32 of its
// payload (4 bytes) and the payload, the Outcome as JSON. A torn entry at
// the end (the crash came mid-append) was never acknowledged and is
// dropped. The file is filled with zeros a megabyte ahead of the entries
// (journalChunk), so an append overwrites blocks already on disk and its
// fdatasync flushes only them, without the filesystem journal commit a
// growing file needs (0.22 -> 0.15 ms a sync of 700 bytes here); a zero
// length ends the entries.

// foldEvery is how many journaled outcomes start a background fold: big
// enough that a fold's pages are shared by many outcomes, small enough
// that the buckets lag a run by a fraction of a second.
const foldEvery = 1024

// journalChunk is how far ahead of its entries the journal is written
// with zeros.
const journalChunk = 1 << 20

var keyJournalFolded = []byte("journal_folded")

// journal is the store's outcome journal, open while the store is open
// for writing.
type journal struct {
	f *os.File

	mu       sync.Mutex
	queue    []*journalCall // waiting to be appended
	writing  bool           // a goroutine appends the queue
	end      int64          // bytes appended and synced
	zeroed   int64          // the file's size: zeros from end to here
	unfolded []journaled    // appended, not yet in the buckets
	folding  bool
	paused   bool // no group is appended while compactJournal empties the file
	timed    bool // a fold is due within foldAfter
	// recent holds the sizes of the last groups and grace half the last
	// sync: a group waits up to grace until as many callers as the
	// biggest recent group are queued. Without it the connections fall
	// into step with the syncs, one alone in a group and the rest in the
	// next, and each waits two syncs a message.
	recent  [8]int
	groups  int
	grace   time.Duration
	more    chan struct{} // a call was queued while a group waits
	folded  *sync.Cond    // signalled when a fold ends
	broken  error         // a failed append: nothing more is acknowledged
	foldErr error         // the first outcome a fold could not apply
}

type journalCall struct {
	entry []byte
	outs  []Outcome
	err   chan error
}

// journaled is an appended outcome and the journal offset after it.
type journaled struct {
	o   Outcome
	end int64
}

func journalPath(path string) string { return path + "-journal" }

// openJournal opens (creating) the journal of the store and applies
// what it holds past the last fold.
func (s *Store) openJournal() error {
	f, err := os.OpenFile(journalPath(s.path), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	j := &journal{f: f, more: make(chan struct{}, 1)}
	j.folded = sync.NewCond(&j.mu)
	s.journal = j
	outs, from, err := s.unfoldedJournal(f)
	if err != nil {
		return err
	}
	if len(outs) > 0 || from > 0 {
		items := make([]journaled, len(outs))
		for i := range outs {
			items[i].o = outs[i]
		}
		// An outcome refused now was refused when journaled too (its
		// subscriber was deleted before it was folded): it is dropped.
		if _, err := s.fold(items, 0); err != nil {
			return fmt.Errorf("journal: replay: %w", err)
		}
	}
	// Everything is applied (or was a torn entry): the file starts over.
	return f.Truncate(0)
}

// unfoldedJournal reads, writing nothing, the outcomes in the journal f
// past the offset the last fold stored (from): those the buckets may
// lack because the writer stopped (a crash) before folding them.
func (s *Store) unfoldedJournal(f *os.File) (outs []Outcome, from int64, err error) {
	if err := s.view(func(tx *bolt.Tx) error {
		if meta := tx.Bucket(bucketMeta); meta != nil {
			if v := meta.Get(keyJournalFolded); len(v) == 8 {
				from = int64(btoi(v))
			}
		}
		return nil
	}); err != nil {
		return nil, 0, err
	}
	outs, torn, err := readJournal(f, from)
	if err == nil && torn && len(outs) == 0 && from > 0 {
		// The stored offset is not at an entry: this journal was not
		// folded into this file (a backup restored after a crash).
		// Applying an outcome again changes nothing: all of it is.
		outs, _, err = readJournal(f, 0)
	}
	return outs, from, err
}

// countPending counts, for a read-only open, the outcomes a writer left
// in the journal unfolded (see PendingOutcomes). It opens the journal
// read-only and never creates it.
func (s *Store) countPending() error {
	f, err := os.Open(journalPath(s.path))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	defer f.Close()
	outs, _, err := s.unfoldedJournal(f)
	s.pending = len(outs)
	return err
}

// PendingOutcomes is, for a store opened read-only, how many delivery
// outcomes the journal (papermail.db-journal) holds that its buckets may
// not: a writer that stopped without closing the store (a crash, kill -9)
// left them. Reads of a read-only store (ledger, runs, delivery state) do
// not include them; the next writable open applies them. It is 0 for a
// store open for writing, which applied them at open.
func (s *Store) PendingOutcomes() int { return s.pending }

// readJournal reads the entries from offset from to the end (zeros or
// the file's end) or, torn reports, to an entry that is not whole.
func readJournal(f *os.File, from int64) (outs []Outcome, torn bool, err error) {
	data, err := io.ReadAll(io.NewSectionReader(f, from, 1<<62))
	if err != nil {
		return nil, false, fmt.Errorf("journal: %w", err)
	}
	for len(data) >= 8 {
		n := binary.LittleEndian.Uint32(data)
		if n == 0 || uint64(n) > uint64(len(data)-8) {
			break
		}
		payload := data[8 : 8+n]
		if crc32.ChecksumIEEE(payload) != binary.LittleEndian.Uint32(data[4:]) {
			break
		}
		var o Outcome
		if err := json.Unmarshal(payload, &o); err != nil {
			break
		}
		outs = append(outs, o)
		data = data[8+n:]
	}
	rest := data[:min(len(data), 8)]
	return outs, len(bytes.Trim(rest, "\x00")) > 0, nil
}

func appendEntry(buf []byte, o Outcome) ([]byte, error) {
	payload, err := json.Marshal(o)
	if err != nil {
		return buf, err
	}
	buf = binary.LittleEndian.AppendUint32(buf, uint32(len(payload)))
	buf = binary.LittleEndian.AppendUint32(buf, crc32.ChecksumIEEE(payload))
	return append(buf, payload...), nil
}

// Journal writes outcomes durably, like Record, but to the journal: it
// returns once they are synced to disk, sharing one append and one fsync
// with the callers that came meanwhile. They reach the buckets (the
// ledger, the run's counts, the delivery state) within foldEvery
// outcomes, and all of them by Flush or Close; after a crash, at the next
// Open.
func (s *Store) Journal(outs ...Outcome) error {
	j := s.journal
	if j == nil {
		return s.Record(outs...) // opened read-only: refused there
	}
	var entry []byte
	for _, o := range outs {
		var err error
		if entry, err = appendEntry(entry, o); err != nil {
			return fmt.Errorf("journal: %w", err)
		}
	}
	c := &journalCall{entry: entry, outs: outs, err: make(chan error, 1)}
	j.mu.Lock()
	j.queue = append(j.queue, c)
	lead := !j.writing && !j.paused
	if lead {
		j.writing = true
	}
	if len(j.queue) >= j.wantLocked() {
		select {
		case j.more <- struct{}{}:
		default:
		}
	}
	j.mu.Unlock()
	if lead {
		go s.appendQueued()
	}
	return <-c.err
}

// appendQueued appends the queued calls, a group at a time, until none
// is left.
func (s *Store) appendQueued() {
	j := s.journal
	var buf bytes.Buffer
	for {
		j.mu.Lock()
		j.awaitGroupLocked()
		calls, broken := j.queue, j.broken
		if j.paused {
			calls = nil // compactJournal starts another appender
		}
		j.queue = j.queue[len(calls):]
		if len(calls) == 0 {
			j.writing = false
			j.folded.Broadcast()
			j.mu.Unlock()
			return
		}
		j.mu.Unlock()
		err := broken
		if err == nil {
			buf.Reset()
			for _, c := range calls {
				buf.Write(c.entry)
			}
			start := time.Now()
			err = j.write(buf.Bytes())
			j.mu.Lock()
			j.recent[j.groups%len(j.recent)] = len(calls)
			j.groups++
			j.grace = min(time.Since(start)/2, time.Millisecond)
			j.mu.Unlock()
			if err != nil {
				// What follows a failed append could come after a torn
				// entry, which a replay stops at: nothing more is
				// acknowledged.
				err = fmt.Errorf("journal: %w", err)
			}
		}
		j.mu.Lock()
		if err != nil {
			j.broken = err
		} else {
			for _, c := range calls {
				j.end += int64(len(c.entry))
				for _, o := range c.outs {
					j.unfolded = append(j.unfolded, journaled{o: o, end: j.end})
				}
			}
			s.foldLaterLocked()
		}
		j.mu.Unlock()
		for _, c := range calls {
			c.err <- err
		}
	}
}

// wantLocked is the size of the biggest recent group.
func (j *journal) wantLocked() int {
	return slices.Max(j.recent[:])
}

// awaitGroupLocked waits, with j.mu held and released meanwhile, up to
// j.grace for wantLocked calls to be queued.
func (j *journal) awaitGroupLocked() {
	if len(j.queue) == 0 || len(j.queue) >= j.wantLocked() {
		return
	}
	t := time.NewTimer(j.grace)
	defer t.Stop()
	for len(j.queue) < j.wantLocked() {
		j.mu.Unlock()
		select {
		case <-j.more:
			j.mu.Lock()
		case <-t.C:
			j.mu.Lock()
			return
		}
	}
}

// write writes entries at the journal's end and syncs them. Only the
// appending goroutine calls it.
func (j *journal) write(b []byte) error {
	at := j.end
	if at+int64(len(b)) <= j.zeroed {
		if _, err := j.f.WriteAt(b, at); err != nil {
			return err
		}
		return datasync(j.f)
	}
	// The file grows: the entries and zeros up to the next chunk, in one
	// write and one full sync.
	size := (at + int64(len(b)) + journalChunk) / journalChunk * journalChunk
	grown := make([]byte, size-at)
	copy(grown, b)
	if _, err := j.f.WriteAt(grown, at); err != nil {
		return err
	}
	if err := j.f.Sync(); err != nil {
		return err
	}
	j.zeroed = size
	return nil
}

// journalMax is the size past which the journal is emptied during a run:
// appends pause while the outcomes since the last fold are folded and the
// file starts over (a run of a million would otherwise leave some 300 MB
// until its end).
var journalMax int64 = 64 << 20

// compactJournal folds everything with appends paused and empties the
// file, then lets the queued callers' group go on.
func (s *Store) compactJournal() {
	j := s.journal
	err := s.foldPending()
	j.mu.Lock()
	defer j.mu.Unlock()
	if err != nil && j.foldErr == nil {
		j.foldErr = err
	}
	j.paused = false
	if len(j.queue) > 0 && !j.writing {
		j.writing = true
		go s.appendQueued()
	}
	j.folded.Broadcast()
}

// foldAfter is the longest an outcome waits in the journal for a fold
// (the buckets are read by status, bounce matching and a reader's click
// on "view in the browser" while a slow, rate-limited run goes on).
const foldAfter = time.Second

// foldLaterLocked starts a fold when foldEvery outcomes are unfolded, and
// makes sure one starts within foldAfter of the first unfolded one.
func (s *Store) foldLaterLocked() {
	j := s.journal
	switch {
	case j.folding || len(j.unfolded) == 0:
	case len(j.unfolded) >= foldEvery:
		s.startFoldLocked()
	case !j.timed:
		j.timed = true
		time.AfterFunc(foldAfter, func() {
			j.mu.Lock()
			defer j.mu.Unlock()
			j.timed = false
			if !j.folding && len(j.unfolded) > 0 {
				s.startFoldLocked()
			}
		})
	}
}

// startFoldLocked folds what is unfolded in the background.
func (s *Store) startFoldLocked() {
	j := s.journal
	items := j.unfolded
	j.unfolded = nil
	j.folding = true
	go func() {
		refused, err := s.fold(items, items[len(items)-1].end)
		j.mu.Lock()
		j.folding = false
		if err = errors.Join(refused, err); err != nil && j.foldErr == nil {
			j.foldErr = err
		}
		s.foldLaterLocked() // what came meanwhile
		if j.end >= journalMax && !j.paused {
			j.paused = true
			go s.compactJournal()
		}
		j.folded.Broadcast()
		j.mu.Unlock()
	}()
}

// fold applies items in one transaction that also stores upto as the
// journal offset folded. An outcome record refuses (its subscriber was
// deleted meanwhile, say) is left out and the others applied: the first
// such refusal is returned as refused, a failed commit as err.
func (s *Store) fold(items []journaled, upto int64) (refused, err error) {
	for {
		bad := -1
		err := s.update(func(tx *bolt.Tx) error {
			for i, it := range items {
				if err := s.record(tx, it.o); err != nil {
					bad = i
					return err
				}
			}
			return tx.Bucket(bucketMeta).Put(keyJournalFolded, u64(uint64(upto)))
		})
		if err == nil || bad < 0 {
			return refused, err
		}
		if refused == nil {
			refused = fmt.Errorf("journal: subscriber %d on %s: %w", items[bad].o.Delivery.SubscriberID, items[bad].o.Date, err)
		}
		items = append(items[:bad:bad], items[bad+1:]...)
	}
}

// Flush waits for the journal's appends and folds to end and folds the
// rest, so the buckets hold every journaled outcome; the journal is then
// emptied. It returns the first outcome a fold could not apply since the
// last Flush.
func (s *Store) Flush() error {
	j := s.journal
	if j == nil {
		return nil
	}
	err := s.foldPending()
	j.mu.Lock()
	defer j.mu.Unlock()
	err, j.foldErr = errors.Join(j.foldErr, err), nil
	return err
}

// foldPending folds what is journaled and not yet folded, and empties the
// file when nothing more is; an outcome refused is kept for Flush to
// report. Lookups by a message's identity call it, so a bounce or a
// click that comes right after the message finds its ledger line.
func (s *Store) foldPending() error {
	j := s.journal
	if j == nil {
		return nil
	}
	j.mu.Lock()
	for j.writing || j.folding {
		j.folded.Wait()
	}
	items, end := j.unfolded, j.end
	j.unfolded = nil
	j.folding = true // no append starts a fold meanwhile
	j.mu.Unlock()
	var refused, err error
	if len(items) > 0 || end > 0 {
		refused, err = s.fold(items, 0)
	}
	j.mu.Lock()
	if err == nil && !j.writing && len(j.unfolded) == 0 {
		// Everything is folded with offset 0: the file can start over.
		if err = j.f.Truncate(0); err == nil {
			j.end, j.zeroed = 0, 0
		}
	}
	if refused != nil && j.foldErr == nil {
		j.foldErr = refused
	}
	j.folding = false
	j.folded.Broadcast()
	j.mu.Unlock()
	return err
}
