package web_test

import (
	"fmt"
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
// for an active address and for new ones, interleaved, and compares the
// median answer times: within 1.5x of each other, so timing does not tell
// whether an address is subscribed. A behaviour test with a generous
// bound, on a bounded number of requests; without the evening out the new
// addresses take several times as long (a commit with its fsync).
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
	const warmup, rounds = 8, 40
	var known, fresh []time.Duration
	for i := range warmup + rounds {
		k := post("known@example.org")
		n := post(fmt.Sprintf("new%d@example.org", i))
		if i >= warmup {
			known, fresh = append(known, k), append(fresh, n)
		}
	}
	mk, mn := median(known), median(fresh)
	ratio := float64(max(mk, mn)) / float64(min(mk, mn))
	t.Logf("median answer: known address %v, new address %v (ratio %.2f)", mk, mn, ratio)
	if ratio >= 1.5 {
		t.Errorf("median answer for a known address %v, for a new one %v: ratio %.2f, want < 1.5", mk, mn, ratio)
	}
}

// TestLinkTimingTellsNothing: "send me my link" for an address on the
// list queues a mail (a commit), for an unknown one nothing; the answers
// must take the same time all the same.
func TestLinkTimingTellsNothing(t *testing.T) {
	e := newEnv(t, func(c *config.Config) { c.HTTP.SubscribeRate = 0 })
	const warmup, rounds = 8, 40
	for i := range warmup + rounds {
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
	var known, unknown []time.Duration
	for i := range warmup + rounds {
		k := post(fmt.Sprintf("known%d@example.org", i))
		u := post(fmt.Sprintf("unknown%d@example.org", i))
		if i >= warmup {
			known, unknown = append(known, k), append(unknown, u)
		}
	}
	if n := len(e.outboxItems()); n != warmup+rounds {
		t.Fatalf("%d links mails queued, want %d", n, warmup+rounds)
	}
	mk, mu := median(known), median(unknown)
	ratio := float64(max(mk, mu)) / float64(min(mk, mu))
	t.Logf("median answer: known address %v, unknown address %v (ratio %.2f)", mk, mu, ratio)
	if ratio >= 1.5 {
		t.Errorf("median answer for a known address %v, for an unknown one %v: ratio %.2f, want < 1.5", mk, mu, ratio)
	}
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
