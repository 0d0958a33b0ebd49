package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/papermail/papermail/internal/mailer"
	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/store"
)

// outboxMessage is the queued mail of one outbox item.
func outboxMessage(t *testing.T, m store.OutboxMail) mailer.Message {
	t.Helper()
	return *m.Message()
}

// TestWelcomeAfterConfirm: confirming queues (in the same transaction) a
// welcome mail that carries the preferences link, and the link works.
func TestWelcomeAfterConfirm(t *testing.T) {
	e := newEnv(t, noRateLimit)
	if r := e.subscribe("new@example.org", "speech recognition"); r.status != http.StatusOK {
		t.Fatalf("subscribe: %d", r.status)
	}
	items := e.outboxItems()
	if len(items) != 1 {
		t.Fatalf("%d outbox items", len(items))
	}
	path := e.path(e.confirmURL(items[0]))
	e.flushOutbox()
	tok := e.formToken(path, path)
	if r := e.post(path, url.Values{"csrf": {tok}}); r.status != http.StatusOK {
		t.Fatalf("confirm: %d\n%s", r.status, r.body)
	}
	items = e.outboxItems()
	if len(items) != 1 || items[0].Kind != "welcome" {
		t.Fatalf("after confirming the outbox holds %+v, want the welcome mail", items)
	}
	sub, err := e.st.SubscriberByEmail("new@example.org")
	if err != nil || sub.State != model.StateActive {
		t.Fatalf("%+v %v", sub, err)
	}
	m := outboxMessage(t, items[0].Mail)
	prefs := e.links.Preferences(sub.ID)
	if !strings.Contains(m.Text, prefs) || !strings.Contains(m.HTML, prefs) || !strings.HasPrefix(m.Subject, "Welcome") || !m.AutoSubmitted {
		t.Errorf("welcome mail lacks the preferences link: %+v", m)
	}
	if r := e.get(e.path(prefs)); r.status != http.StatusOK {
		t.Errorf("the welcome mail's preferences link: %d", r.status)
	}
	e.flushOutbox()
	if n := len(e.maildirFiles()); n != 2 {
		t.Errorf("%d mails delivered, want the confirmation and the welcome", n)
	}
}

// TestSendMyLink: the form answers alike for every address; only
// addresses on the list get a mail, with their preferences link, at most
// one per 15 minutes.
func TestSendMyLink(t *testing.T) {
	e := newEnv(t, noRateLimit)
	e.addSubscriber("active@example.org", model.StateActive, "speech")
	e.addSubscriber("paused@example.org", model.StatePaused, "speech")
	e.addSubscriber("bounced@example.org", model.StateBounced, "speech")
	send := func(email string) response {
		t.Helper()
		tok := e.formToken("/link", "/link")
		return e.post("/link", url.Values{"csrf": {tok}, "email": {email}})
	}
	var answer string
	for _, email := range []string{"nobody@example.org", "active@example.org", "paused@example.org", "bounced@example.org", "Active@Example.org"} {
		r := send(email)
		if r.status != http.StatusOK {
			t.Fatalf("%s: %d", email, r.status)
		}
		body := normalize(r.body)
		if answer == "" {
			answer = body
		} else if body != answer {
			t.Errorf("%s gets another answer than nobody@example.org", email)
		}
	}
	items := e.outboxItems()
	to := map[string]int{}
	for _, it := range items {
		if it.Kind != "links" {
			t.Errorf("outbox item kind %q", it.Kind)
		}
		to[it.To]++
		m := outboxMessage(t, it.Mail)
		if !strings.Contains(m.Text, e.links.Preferences(it.SubscriberID)) {
			t.Errorf("links mail to %s lacks its preferences link", it.To)
		}
	}
	if len(items) != 2 || to["active@example.org"] != 1 || to["paused@example.org"] != 1 {
		t.Errorf("links mails went to %v, want active and paused once each", to)
	}
	e.advance(16 * time.Minute)
	send("active@example.org")
	if n := len(e.outboxItems()); n != 3 {
		t.Errorf("after 16 minutes: %d items, want a second mail", n)
	}
	if r := send("not an address"); r.status != http.StatusBadRequest {
		t.Errorf("a malformed address: %d", r.status)
	}
	if r := e.get("/"); !strings.Contains(r.body, `href="/link"`) {
		t.Errorf("the start page does not offer the link form")
	}
}

// TestSendMyLinkRateLimit: the form shares the subscribe form's per-client
// limit.
func TestSendMyLinkRateLimit(t *testing.T) {
	e := newEnv(t)
	tok := e.formToken("/link", "/link")
	limited := false
	for i := 0; i < 20 && !limited; i++ {
		r := e.post("/link", url.Values{"csrf": {tok}, "email": {"x@example.org"}})
		limited = r.status == http.StatusTooManyRequests
	}
	if !limited {
		t.Error("20 posts in a row were never limited")
	}
}
