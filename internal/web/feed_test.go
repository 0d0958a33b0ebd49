package web

import (
	"context"
	"encoding/xml"
	"net/http"
	"testing"
	"time"

	"github.com/papermail/papermail/internal/digest"
	"github.com/papermail/papermail/internal/model"
)

// feedIDs fetches a feed over HTTP and returns its entry ids.
func (e *env) feedIDs(link string) []string {
	e.t.Helper()
	r := e.get(e.path(link))
	if r.status != http.StatusOK {
		e.t.Fatalf("feed: %d\n%s", r.status, r.body)
	}
	var f struct {
		Entries []struct {
			ID string `xml:"id"`
		} `xml:"entry"`
	}
	if err := xml.Unmarshal([]byte(r.body), &f); err != nil {
		e.t.Fatal(err)
	}
	ids := make([]string, len(f.Entries))
	for i, en := range f.Entries {
		ids[i] = en.ID
	}
	return ids
}

// TestFeedKeepsSentPicks: right after a digest the personal feed still
// holds what it sent (it used to show only what was not sent yet), for
// FeedDays days.
func TestFeedKeepsSentPicks(t *testing.T) {
	e := newEnv(t)
	sub := e.addSubscriber("x@example.org", model.StateActive, "language model inference", "robot learning")
	link := e.links.Feed(sub.ID)
	before := e.feedIDs(link)
	if len(before) == 0 {
		t.Fatal("the feed is empty before the digest")
	}
	now := e.clock()
	date := now.UTC().Format(digest.DateLayout)
	if _, err := e.runner.Run(context.Background(), digest.Spec{Now: now, Date: date, Only: sub.ID}); err != nil {
		t.Fatal(err)
	}
	ledger, err := e.st.Ledger(date)
	if err != nil || ledger[sub.ID].State != model.DeliverySent {
		t.Fatalf("digest not sent: %+v %v", ledger[sub.ID], err)
	}
	sent := ledger[sub.ID].Papers
	after := e.feedIDs(link)
	if len(after) < len(sent) {
		t.Fatalf("after the digest the feed holds %d entries, the digest sent %d", len(after), len(sent))
	}
	has := map[string]bool{}
	for _, id := range after {
		has[id] = true
	}
	for _, p := range sent {
		if !has["urn:papermail:paper:"+p] {
			t.Errorf("sent paper %s is not in the feed", p)
		}
	}
	e.advance((FeedDays + 2) * 24 * time.Hour)
	later := e.feedIDs(link)
	for _, id := range later {
		for _, p := range sent {
			if id == "urn:papermail:paper:"+p {
				t.Errorf("paper %s sent %d days ago is still in the feed", p, FeedDays+2)
			}
		}
	}
}
