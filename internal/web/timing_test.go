package web

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/papermail/papermail/internal/config"
	"github.com/papermail/papermail/internal/model"
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

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
