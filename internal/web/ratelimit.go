package web

import (
	"sync"
	"time"
)

// limiter allows each key (a client IP) at most n events in any sliding
// window of length per. n <= 0 allows everything.
type limiter struct {
	n   int
	per time.Duration

	mu   sync.Mutex
	seen map[string][]time.Time
}

// maxKeys is how many clients the limiter tracks before it forgets those
// whose window has passed.
const maxKeys = 10000

func newLimiter(n int, per time.Duration) *limiter {
	return &limiter{n: n, per: per, seen: make(map[string][]time.Time)}
}

// allow records an event for key at now and reports whether it is within
// the limit. Refused events are not recorded, so a client that keeps
// trying gets through again once its window has passed.
func (l *limiter) allow(key string, now time.Time) bool {
	if l.n <= 0 {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	cut := now.Add(-l.per)
	if len(l.seen) >= maxKeys {
		for k, ts := range l.seen {
			if !ts[len(ts)-1].After(cut) {
				delete(l.seen, k)
			}
		}
	}
	ts := l.seen[key]
	i := 0
	for i < len(ts) && !ts[i].After(cut) {
		i++
	}
	ts = ts[i:]
	if len(ts) >= l.n {
		l.seen[key] = ts
		return false
	}
	l.seen[key] = append(ts, now)
	return true
}
