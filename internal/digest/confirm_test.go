package digest_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/papermail/papermail/internal/config"
	"github.com/papermail/papermail/internal/digest"
	"github.com/papermail/papermail/internal/links"
	"github.com/papermail/papermail/internal/mailer"
	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/store"
	"github.com/papermail/papermail/internal/subscription"
	"github.com/papermail/papermail/internal/token"
)

// storeWriter is the real runner as the subscription service's mailer,
// with one more thing done while the confirmation renders: another
// subscriber is stored. Were the template run inside the store's write
// transaction (as it was), that write would wait for the transaction
// that waits for it.
type storeWriter struct {
	*digest.Runner
	st     *store.Store
	wrote  error
	drafts int
}

func (w *storeWriter) ConfirmDraft(sub *model.Subscriber, nonce string, now time.Time) (func(uint64) (*mailer.Message, error), error) {
	w.drafts++
	other := model.Subscriber{Email: "written-while-rendering@example.org", State: model.StateActive, Created: now, Hour: model.HourDefault, Frequency: model.FrequencyDaily}
	w.wrote = w.st.AddSubscriber(&other)
	return w.Runner.ConfirmDraft(sub, nonce, now)
}

// TestConfirmationRenderedBeforeTheTransaction: subscribing a new address
// renders its confirmation outside the store's write transaction (the
// store takes a write meanwhile), and the mail queued with the subscriber
// is, field for field, the one rendered for the stored id: its link
// confirms that subscriber with the stored nonce.
func TestConfirmationRenderedBeforeTheTransaction(t *testing.T) {
	t.Parallel()
	g := newRig(t, nil)
	now := time.Now()
	w := &storeWriter{Runner: g.r, st: g.st}
	svc, err := subscription.New(subscription.Deps{Store: g.st, Mail: w, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := svc.Subscribe(subscription.Request{Email: "new@example.org", Interests: []string{"graph neural networks"}, Source: "web"})
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Subscribe did not return in 20s: the write made while the confirmation rendered waits for the subscribe transaction")
	}
	if w.drafts != 1 || w.wrote != nil {
		t.Fatalf("%d drafts, write while rendering: %v", w.drafts, w.wrote)
	}
	sub, err := g.st.SubscriberByEmail("new@example.org")
	if err != nil {
		t.Fatal(err)
	}
	conf, err := g.st.Confirmation(sub.ID)
	if err != nil {
		t.Fatal(err)
	}
	items := outboxItems(t, g)
	it, ok := items["new@example.org"]
	if !ok || len(items) != 1 || it.SubscriberID != sub.ID {
		t.Fatalf("outbox %+v, want one confirmation for subscriber %d", items, sub.ID)
	}
	want, err := g.r.ConfirmMessage(&sub, conf.Nonce, now)
	if err != nil {
		t.Fatal(err)
	}
	if it.Mail.Subject != want.Subject || it.Mail.Text != want.Text || it.Mail.HTML != want.HTML || it.Mail.From != want.From || it.Mail.To != want.To {
		t.Fatalf("queued confirmation differs from the one rendered for subscriber %d:\nqueued text:\n%s\nrendered text:\n%s", sub.ID, it.Mail.Text, want.Text)
	}
	prefix := g.cfg.BaseURL + links.PathConfirm
	i := strings.Index(it.Mail.Text, prefix)
	if i < 0 {
		t.Fatalf("no confirm link in:\n%s", it.Mail.Text)
	}
	tok := strings.Fields(it.Mail.Text[i+len(prefix):])[0]
	c, err := g.r.Links.Signer.Verify(tok, token.Confirm, conf.Nonce, now)
	if err != nil || c.ID != sub.ID {
		t.Fatalf("the queued link's token gives %+v, %v; want subscriber %d", c, err, sub.ID)
	}
}

// TestConfirmDraftFallsBack: a confirmation template that does more with
// the link than show it whole (here it also shows it cut in two) is
// rendered with the real link, so the queued mail is the
// one rendered for the stored id.
func TestConfirmDraftFallsBack(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "mail"), 0o755)
	tmpl := "Confirm:\n{{link .ConfirmURL}}\n\nor type it:\n{{printf \"%.40s\" .ConfirmURL}}\n{{if gt (len .ConfirmURL) 40}}{{slice .ConfirmURL 40}}{{end}}\n"
	if err := os.WriteFile(filepath.Join(dir, "mail", "confirm.txt"), []byte(tmpl), 0o644); err != nil {
		t.Fatal(err)
	}
	g := newRig(t, func(c *config.Config) { c.TemplatesDir = dir })
	queueConfirmations(t, g, 1)
	sub, err := g.st.SubscriberByEmail("reader0@example.org")
	if err != nil {
		t.Fatal(err)
	}
	conf, err := g.st.Confirmation(sub.ID)
	if err != nil {
		t.Fatal(err)
	}
	it := outboxItems(t, g)["reader0@example.org"]
	// queueConfirmations subscribes at its own now: render at the item's.
	want, err := g.r.ConfirmMessage(&sub, conf.Nonce, it.Created)
	if err != nil {
		t.Fatal(err)
	}
	if it.Mail.Text != want.Text || it.Mail.HTML != want.HTML {
		t.Fatalf("queued text:\n%s\nwant:\n%s", it.Mail.Text, want.Text)
	}
	if !strings.Contains(it.Mail.Text, "/confirm/") {
		t.Fatalf("the custom template was not used:\n%s", it.Mail.Text)
	}
}
