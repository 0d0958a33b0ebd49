package web

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"time"
)

// The subscribe form answers every address with the same page, so the time
// it takes must not tell either: a new address costs a store commit (an
// fsync, milliseconds), a subscribed one a lookup (well under one). The
// commit stays on the request (the page promises a confirmation mail, so
// it must be stored before the answer; a crash right after must not lose
// it), and the answers that committed nothing wait as long as one that
// did: each waits out a duration drawn from the last committing answers.
// The two kinds then take the same time, in distribution, whatever the
// disk; what a client measures is the commit's time for every address.

// evenSamples is how many recent commit durations are kept.
const evenSamples = 16

// evenFloor bounds the wait while no commit has been timed yet (a fresh
// server): a draw from evenFloor/2 to evenFloor*3/2.
const evenFloor = 4 * time.Millisecond

// evenTiming makes the answers of one form take the same time whether or
// not they wrote to the store. The zero value is ready to use.
type evenTiming struct {
	mu      sync.Mutex
	samples ring
	// lates are how much later than asked the recent waits ended: on a
	// busy machine a sleeping goroutine runs again milliseconds after its
	// timer, which would make every answer that waited slower than one
	// that committed. Waits are shorter by their median: a mean is pulled
	// up by the rare wait that ends tens of milliseconds late and made the
	// typical answer that waited faster than one that committed (1.57x on
	// a loaded machine).
	lates ring
}

// ring holds the last evenSamples durations added.
type ring struct {
	d       [evenSamples]time.Duration
	n, next int
}

func (r *ring) add(d time.Duration) {
	r.d[r.next] = d
	r.next = (r.next + 1) % evenSamples
	r.n = min(r.n+1, evenSamples)
}

// run calls fn, which reports whether it committed something. A call that
// committed adds its duration to the samples; one that did not waits
// until it has taken as long as a sampled commit (or the request ends).
func (t *evenTiming) run(ctx context.Context, fn func() (bool, error)) (bool, error) {
	start := time.Now()
	wrote, err := fn()
	took := time.Since(start)
	if err != nil {
		return wrote, err
	}
	if wrote {
		t.add(took)
		return wrote, err
	}
	owed := t.draw() - took
	wait := owed - t.lateness()
	switch {
	case wait > 0:
		asleep := time.Now()
		timer := time.NewTimer(wait)
		select {
		case <-timer.C:
			t.noteLate(time.Since(asleep) - wait)
		case <-ctx.Done():
			timer.Stop()
		}
	case owed > 0:
		// Only the lateness made this answer skip its wait; a wait
		// skipped is none late. Without a sample here a burst of load
		// that raised the lateness to a commit's duration would stop
		// every wait, and no wait would ever bring it down again.
		t.noteLate(0)
	}
	return wrote, err
}

// lateness is the median of how late the recent waits ended (0 before
// the first).
func (t *evenTiming) lateness() time.Duration {
	t.mu.Lock()
	s := slices.Clone(t.lates.d[:t.lates.n])
	t.mu.Unlock()
	if len(s) == 0 {
		return 0
	}
	slices.Sort(s)
	return s[len(s)/2]
}

// noteLate records how late one wait ended.
func (t *evenTiming) noteLate(d time.Duration) {
	t.mu.Lock()
	t.lates.add(max(d, 0))
	t.mu.Unlock()
}

func (t *evenTiming) add(d time.Duration) {
	t.mu.Lock()
	t.samples.add(d)
	t.mu.Unlock()
}

// draw is one of the recent commit durations, at random.
func (t *evenTiming) draw() time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.samples.n == 0 {
		return evenFloor/2 + rand.N(evenFloor)
	}
	return t.samples.d[rand.IntN(t.samples.n)]
}
