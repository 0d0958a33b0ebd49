package digest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/papermail/papermail/internal/digest"
	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/smtptest"
	"github.com/papermail/papermail/internal/subscription"
)

// TestOutboxCrashSafe queues a confirmation for a new subscriber, then
// "crashes" (the store is closed and opened again before anything was
// sent): the subscriber and its confirmation survived together, a flush
// delivers the mail exactly once and empties the outbox, and a second
// request within ConfirmInterval queues nothing.
func TestOutboxCrashSafe(t *testing.T) {
	t.Parallel()
	g := newRig(t, nil)
	now := time.Now()
	subscribe := func(at time.Time) (bool, error) {
		t.Helper()
		svc, err := subscription.New(subscription.Deps{Store: g.st, Mail: g.r, Now: func() time.Time { return at }})
		if err != nil {
			t.Fatal(err)
		}
		return svc.Subscribe(subscription.Request{Email: "new@example.org", Interests: []string{"graph neural networks"}, Source: "web"})
	}
	if ok, err := subscribe(now); err != nil || !ok {
		t.Fatalf("Subscribe = %v, %v", ok, err)
	}

	g.reopen()
	stored, err := g.st.SubscriberByEmail("new@example.org")
	if err != nil {
		t.Fatalf("subscriber lost in the crash: %v", err)
	}
	conf, err := g.st.Confirmation(stored.ID)
	if stored.State != model.StatePending || err != nil || conf.Nonce == "" {
		t.Errorf("stored subscriber %+v, confirmation %+v (%v)", stored, conf, err)
	}
	items, err := g.st.DueOutbox(time.Now(), 0)
	if err != nil || len(items) != 1 || items[0].SubscriberID != stored.ID || items[0].Kind != "confirm" {
		t.Fatalf("outbox after the crash: %+v, %v", items, err)
	}

	srv := smtptest.StartT(t, smtptest.Options{})
	g.useServer(srv, nil)
	ob := digest.NewOutbox(g.st, g.r.Sender, g.log)
	sent, err := ob.Flush(context.Background())
	if err != nil || sent != 1 {
		t.Fatalf("Flush = %d, %v; want 1 sent", sent, err)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 || len(msgs[0].To) != 1 || msgs[0].To[0] != "new@example.org" {
		t.Fatalf("relay got %+v, want one confirmation to new@example.org", msgs)
	}
	if text := textPart(t, msgs[0].Data); !strings.Contains(text, g.cfg.BaseURL+"/confirm/") {
		t.Errorf("the confirmation has no confirm link:\n%s", text)
	}
	if n, err := g.st.OutboxLen(); err != nil || n != 0 {
		t.Errorf("outbox holds %d items after delivery (%v)", n, err)
	}
	if sent, err := ob.Flush(context.Background()); err != nil || sent != 0 || srv.Count() != 1 {
		t.Errorf("a second flush sent %d (%v), relay has %d", sent, err, srv.Count())
	}

	// Asking again within ConfirmInterval changes nothing.
	ok, err := subscribe(now.Add(subscription.ConfirmInterval - time.Minute))
	if err != nil || ok {
		t.Fatalf("second Subscribe within %v = %v, %v; want false", subscription.ConfirmInterval, ok, err)
	}
	if n, _ := g.st.OutboxLen(); n != 0 {
		t.Errorf("the refused request queued %d items", n)
	}
	if cur, _ := g.st.Confirmation(stored.ID); cur.Nonce != conf.Nonce || !cur.SentAt.Equal(conf.SentAt) {
		t.Errorf("the refused request changed the confirmation: %+v", cur)
	}
	// After the interval it is allowed again.
	ok, err = subscribe(now.Add(subscription.ConfirmInterval + time.Minute))
	if err != nil || !ok {
		t.Fatalf("Subscribe after %v = %v, %v; want true", subscription.ConfirmInterval, ok, err)
	}
	if n, _ := g.st.OutboxLen(); n != 1 {
		t.Errorf("outbox holds %d items, want 1", n)
	}
}
