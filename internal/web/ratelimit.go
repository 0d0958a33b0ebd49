package web

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiter allows each key (a client address, see limitKey) n events per
// period, as a token bucket of n tokens refilled evenly over the period
// (golang.org/x/time/rate): a burst of n, then one every period/n. n <= 0
// allows everything.
type limiter struct {
	n     int
	per   time.Duration
	every rate.Limit

	mu      sync.Mutex
	clients map[string]*bucketClient
}

// bucketClient is one key's bucket and when it was last used.
type bucketClient struct {
	bucket *rate.Limiter
	last   time.Time
}

// maxKeys bounds the memory of a limiter: how many clients it tracks. A
// client whose bucket has refilled is forgotten first (it is as if new);
// beyond that arbitrary ones are.
const maxKeys = 10000

func newLimiter(n int, per time.Duration) *limiter {
	l := &limiter{n: n, per: per, clients: make(map[string]*bucketClient)}
	if n > 0 {
		l.every = rate.Every(per / time.Duration(n))
	}
	return l
}

// allow takes a token of key's bucket at now and reports whether there
// was one. A refused event takes none, so a client that keeps trying gets
// through as the bucket refills.
func (l *limiter) allow(key string, now time.Time) bool {
	if l.n <= 0 {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.clients[key]
	if c == nil {
		if len(l.clients) >= maxKeys {
			l.forget(now)
		}
		c = &bucketClient{bucket: rate.NewLimiter(l.every, l.n)}
		l.clients[key] = c
	}
	c.last = now
	return c.bucket.AllowN(now, 1)
}

// forget drops the clients whose buckets are full again and, while more
// than seven eighths of maxKeys remain, arbitrary ones: the map never
// grows past maxKeys, and the sweep runs once per maxKeys/8 new clients at
// most, not on every request of a crowd of addresses.
func (l *limiter) forget(now time.Time) {
	for k, c := range l.clients {
		if now.Sub(c.last) >= l.per {
			delete(l.clients, k)
		}
	}
	for k := range l.clients {
		if len(l.clients) <= maxKeys*7/8 {
			return
		}
		delete(l.clients, k)
	}
}
