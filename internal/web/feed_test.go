package web_test

import (
	"context"
	"encoding/xml"
	"html"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/papermail/papermail/internal/digest"
	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/web"
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
// web.FeedDays days.
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
	e.advance((web.FeedDays + 2) * 24 * time.Hour)
	later := e.feedIDs(link)
	for _, id := range later {
		for _, p := range sent {
			if id == "urn:papermail:paper:"+p {
				t.Errorf("paper %s sent %d days ago is still in the feed", p, web.FeedDays+2)
			}
		}
	}
}

// TestViewInBrowser: each digest carries a signed "view in browser" link
// that shows that digest's papers as a page; a forged link or a day
// without a digest shows none.
func TestViewInBrowser(t *testing.T) {
	e := newEnv(t)
	sub := e.addSubscriber("v@example.org", model.StateActive, "language model inference", "robot learning")
	now := e.clock()
	date := now.UTC().Format(digest.DateLayout)
	if _, err := e.runner.Run(context.Background(), digest.Spec{Now: now, Date: date, Only: sub.ID}); err != nil {
		t.Fatal(err)
	}
	link := e.links.View(sub.ID, date)
	files := e.maildirFiles()
	if len(files) != 1 {
		t.Fatalf("%d mails", len(files))
	}
	raw, err := os.ReadFile(filepath.Join(e.cfg.MaildirPath(), "new", files[0]))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.ReplaceAll(strings.ReplaceAll(string(raw), "=\r\n", ""), "=3D", "="), link) {
		t.Errorf("the digest does not carry its view-in-browser link %s", link)
	}
	r := e.get(e.path(link))
	if r.status != http.StatusOK || !strings.Contains(r.header.Get("Content-Security-Policy"), "sandbox") {
		t.Fatalf("view: %d %q", r.status, r.header.Get("Content-Security-Policy"))
	}
	ledger, _ := e.st.Ledger(date)
	for _, id := range ledger[sub.ID].Papers {
		p, _ := e.st.Paper(id)
		if !strings.Contains(r.body, html.EscapeString(strings.Fields(p.Title)[0])) {
			t.Errorf("the page lacks paper %s", id)
		}
	}
	if !strings.Contains(r.body, "Matched") {
		t.Errorf("the page does not say why papers were picked")
	}
	if r := e.get(e.path(e.links.View(sub.ID, "2001-01-01"))); r.status != http.StatusNotFound {
		t.Errorf("a day without a digest: %d", r.status)
	}
	if r := e.get(e.path(link) + "x"); r.status == http.StatusOK {
		t.Errorf("a forged link: %d", r.status)
	}
}

// TestFeedKeepsSentPicksAfterPrune: runs prune the sent-papers history,
// yet a digest's picks stay in the feed for all of web.FeedDays days.
func TestFeedKeepsSentPicksAfterPrune(t *testing.T) {
	e := newEnv(t)
	sub := e.addSubscriber("p@example.org", model.StateActive, "language model inference", "robot learning")
	link := e.links.Feed(sub.ID)
	now := e.clock()
	date := now.UTC().Format(digest.DateLayout)
	if _, err := e.runner.Run(context.Background(), digest.Spec{Now: now, Date: date, Only: sub.ID}); err != nil {
		t.Fatal(err)
	}
	ledger, err := e.st.Ledger(date)
	if err != nil || ledger[sub.ID].State != model.DeliverySent {
		t.Fatalf("digest not sent: %+v %v", ledger[sub.ID], err)
	}
	// A run on the feed's last day prunes the history after it.
	e.advance((web.FeedDays - 1) * 24 * time.Hour)
	later := e.clock()
	if _, err := e.runner.Run(context.Background(), digest.Spec{Now: later, Date: later.UTC().Format(digest.DateLayout), Only: sub.ID}); err != nil {
		t.Fatal(err)
	}
	has := map[string]bool{}
	for _, id := range e.feedIDs(link) {
		has[id] = true
	}
	for _, p := range ledger[sub.ID].Papers {
		if !has["urn:papermail:paper:"+p] {
			t.Errorf("paper %s sent %d days ago left the feed", p, web.FeedDays-1)
		}
	}
	if web.FeedDays >= e.runner.SentHistoryDays() {
		t.Errorf("the history is kept %d days, the feed shows %d", e.runner.SentHistoryDays(), web.FeedDays)
	}
}
