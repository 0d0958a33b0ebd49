package store

import (
	"sync"

	bolt "go.etcd.io/bbolt"
)

// Recorder writes delivery outcomes with group commit: while one commit is
// being made durable, the outcomes that arrive queue up and go into the
// next transaction together, so many sending connections share each fsync
// and nobody waits for a timer (bbolt's Batch waits MaxBatchDelay).
type Recorder struct {
	s  *Store
	ch chan recordReq
	wg sync.WaitGroup
}

type recordReq struct {
	o   Outcome
	err chan error
}

// maxGroup bounds one transaction's size.
const maxGroup = 512

// NewRecorder starts a recorder; Close stops it.
func (s *Store) NewRecorder() *Recorder {
	r := &Recorder{s: s, ch: make(chan recordReq, maxGroup)}
	r.wg.Add(1)
	go r.loop()
	return r
}

// Record writes o durably and returns once it is committed.
func (r *Recorder) Record(o Outcome) error {
	req := recordReq{o: o, err: make(chan error, 1)}
	r.ch <- req
	return <-req.err
}

// Close waits for queued outcomes to be written and stops the recorder.
func (r *Recorder) Close() {
	close(r.ch)
	r.wg.Wait()
}

func (r *Recorder) loop() {
	defer r.wg.Done()
	group := make([]recordReq, 0, maxGroup)
	for first := range r.ch {
		group = append(group[:0], first)
	drain:
		for len(group) < maxGroup {
			select {
			case req, ok := <-r.ch:
				if !ok {
					break drain
				}
				group = append(group, req)
			default:
				break drain
			}
		}
		err := r.s.update(func(tx *bolt.Tx) error {
			for _, req := range group {
				if err := r.s.record(tx, req.o); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			// One bad outcome must not fail the others: write them one by one.
			for _, req := range group {
				req.err <- r.s.update(func(tx *bolt.Tx) error { return r.s.record(tx, req.o) })
			}
			continue
		}
		for _, req := range group {
			req.err <- nil
		}
	}
}
