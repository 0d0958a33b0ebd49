package web_test

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/papermail/papermail/internal/config"
	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/web"
)

// TestSubscribeTimingTellsNothing posts the subscribe form over real HTTP
// for an active address and for new ones, in interleaved pairs, and wants
// the answers to take the same time (see sameTiming), so timing does not
// tell whether an address is subscribed. Without the evening out a new
// address takes several times as long (a commit with its fsync).
func TestSubscribeTimingTellsNothing(t *testing.T) {
	e := newEnv(t, func(c *config.Config) { c.HTTP.SubscribeRate = 0 })
	e.addSubscriber("known@example.org", model.StateActive)
	tok := e.formToken("/", "/subscribe")
	post := func(email string) time.Duration {
		t.Helper()
		form := url.Values{"csrf": {tok}, "email": {email}, "interests": {"graph neural networks"}, "timezone": {"UTC"}}
		start := time.Now()
		r := e.post("/subscribe", form)
		took := time.Since(start)
		if r.status != http.StatusOK {
			t.Fatalf("POST /subscribe %s: %d", email, r.status)
		}
		return took
	}
	n := 0
	sameTiming(t, "a known address", func() time.Duration { return post("known@example.org") },
		"a new one", func() time.Duration { n++; return post(fmt.Sprintf("new%d@example.org", n)) })
}

// TestLinkTimingTellsNothing: "send me my link" for an address on the
// list queues a mail (a commit), for an unknown one nothing; the answers
// must take the same time all the same.
func TestLinkTimingTellsNothing(t *testing.T) {
	e := newEnv(t, func(c *config.Config) { c.HTTP.SubscribeRate = 0 })
	const known = timingWarmup + timingAttempts*timingRounds
	for i := range known {
		e.addSubscriber(fmt.Sprintf("known%d@example.org", i), model.StateActive)
	}
	tok := e.formToken("/link", "/link")
	post := func(email string) time.Duration {
		t.Helper()
		start := time.Now()
		r := e.post("/link", url.Values{"csrf": {tok}, "email": {email}})
		took := time.Since(start)
		if r.status != http.StatusOK {
			t.Fatalf("POST /link %s: %d", email, r.status)
		}
		return took
	}
	n, u := 0, 0
	sameTiming(t, "a known address", func() time.Duration {
		if n++; n > known {
			t.Fatalf("pair %d: only %d known addresses", n, known)
		}
		return post(fmt.Sprintf("known%d@example.org", n-1))
	}, "an unknown one", func() time.Duration { u++; return post(fmt.Sprintf("unknown%d@example.org", u)) })
	if got := len(e.outboxItems()); got != n {
		t.Fatalf("%d links mails queued for %d known addresses", got, n)
	}
}

// The timing comparison: pairs of answers taken back to back, so both of
// a pair meet the same load of a shared machine, in alternating order.
const (
	timingWarmup   = 8
	timingRounds   = 48
	timingAttempts = 3
	// timingBound is how much slower either kind may typically be.
	timingBound = 1.5
)

// sameTiming measures pairs of answer times, one of a and one of b, and fails
// when one kind clearly takes longer than the other: when the median of
// the pairs' ratios a/b lies beyond timingBound (or below its inverse) with
// 99% confidence (a distribution-free interval from the order statistics
// of the ratios). When the interval straddles the bound the machine was
// too noisy to tell; the measurement is then taken again with fresh
// pairs, up to timingAttempts times, and the last one decides by its
// median. A path that sleeps a few milliseconds more for one kind fails at
// the first attempt.
func sameTiming(t *testing.T, aName string, a func() time.Duration, bName string, b func() time.Duration) {
	t.Helper()
	n := 0
	pair := func() (time.Duration, time.Duration) {
		if n++; n%2 == 0 {
			db := b()
			return a(), db
		}
		da := a()
		return da, b()
	}
	for range timingWarmup {
		pair()
	}
	bound := math.Log(timingBound)
	for attempt := 1; ; attempt++ {
		ratios := make([]float64, timingRounds)
		var as, bs []time.Duration
		for i := range ratios {
			a, b := pair()
			ratios[i] = math.Log(float64(a) / float64(b))
			as, bs = append(as, a), append(bs, b)
		}
		slices.Sort(ratios)
		k := medianCIRank(len(ratios), 0.01)
		lo, mid, hi := ratios[k], ratios[len(ratios)/2], ratios[len(ratios)-1-k]
		t.Logf("attempt %d: median answer for %s %v, for %s %v; median ratio %.2f, 99%% interval %.2f-%.2f",
			attempt, aName, median(as), bName, median(bs), math.Exp(mid), math.Exp(lo), math.Exp(hi))
		clear := lo >= bound || hi <= -bound
		if clear || attempt == timingAttempts && math.Abs(mid) >= bound {
			t.Fatalf("answers for %s take %.2fx the time of answers for %s (99%% interval %.2f-%.2f), want within %.1fx either way",
				aName, math.Exp(mid), bName, math.Exp(lo), math.Exp(hi), timingBound)
		}
		if -bound < lo && hi < bound || attempt == timingAttempts {
			return
		}
	}
}

// medianCIRank is the 0-based rank k such that [x(k), x(n-1-k)] of n
// sorted samples covers their median with probability at least 1-alpha:
// the largest k with P(Binomial(n, 1/2) < k+1) <= alpha/2.
func medianCIRank(n int, alpha float64) int {
	k, cum := 0, 0.0
	for j := 0; j <= n/2; j++ {
		// P(X = j) = C(n, j) / 2^n, in logs to stay finite.
		lg, _ := math.Lgamma(float64(n + 1))
		lj, _ := math.Lgamma(float64(j + 1))
		lr, _ := math.Lgamma(float64(n - j + 1))
		cum += math.Exp(lg - lj - lr - float64(n)*math.Ln2)
		if cum > alpha/2 {
			break
		}
		k = j + 1
	}
	return k
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// TestPreviewThrottledAndCached: one client asking for many distinct
// previews is refused with 429 after its budget (4 per allowed subscribe
// post per minute), while the same interests keep being answered from the
// cache; another client is not affected; a minute later the budget is
// back.
func TestPreviewThrottledAndCached(t *testing.T) {
	e := newEnv(t, func(c *config.Config) { c.HTTP.TrustProxy = true })
	budget := web.PreviewRatePerSubscribe * config.DefaultSubscribeRate
	get := func(interests, ip string) response {
		return e.do("GET", "/preview?interests="+url.QueryEscape(interests), nil, "X-Forwarded-For", ip)
	}
	for i := range budget {
		if r := get(fmt.Sprintf("topic number %d", i), "192.0.2.1"); r.status != http.StatusOK {
			t.Fatalf("preview %d: %d", i+1, r.status)
		}
	}
	r := get("one topic too many", "192.0.2.1")
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
		t.Fatalf("preview %d: %d, want 429 with Retry-After", budget+1, r.status)
	}
	// Cached answers cost nothing and are still served.
	if r := get("topic number 0", "192.0.2.1"); r.status != http.StatusOK {
		t.Errorf("cached preview after the budget: %d", r.status)
	}
	if r := get("one topic too many", "192.0.2.9"); r.status != http.StatusOK {
		t.Errorf("another client: %d", r.status)
	}
	e.advance(61 * time.Second)
	if r := get("yet another topic", "192.0.2.1"); r.status != http.StatusOK {
		t.Errorf("a minute later: %d", r.status)
	}
}
