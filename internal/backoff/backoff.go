// Package backoff owns papermail's one retry schedule: exponential backoff
// with jitter. The SMTP mailer uses it between redials and before retrying
// a temporarily refused digest, the outbox between attempts of a
// transactional mail.
package backoff

import (
	"math/rand/v2"
	"time"
)

// Policy is an exponential backoff: retry n waits Base·2^(n-1), at most
// Max, jittered.
type Policy struct {
	Base, Max time.Duration
}

// Delay returns how long to wait before retry n (the first retry is 1):
// Base·2^(n-1) capped at Max, then a random time in [d/2, d] so that many
// jobs failing together do not retry together. n below 1 counts as 1.
func (p Policy) Delay(n int) time.Duration {
	d := p.full(n)
	if d <= 0 {
		return 0
	}
	return d/2 + rand.N(d/2+1)
}

// Longest is the most that retries 1 to n can wait in all.
func (p Policy) Longest(n int) time.Duration {
	var t time.Duration
	for i := 1; i <= n; i++ {
		t += max(p.full(i), 0)
	}
	return t
}

// full is the delay before retry n without jitter.
func (p Policy) full(n int) time.Duration {
	n = max(n, 1)
	if n < 63 {
		if b := p.Base << (n - 1); b > 0 && b>>(n-1) == p.Base && b < p.Max {
			return b
		}
	}
	return p.Max
}
