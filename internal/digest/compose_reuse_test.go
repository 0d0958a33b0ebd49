package digest_test

import (
	"bytes"
	"context"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/papermail/papermail/internal/config"
	"github.com/papermail/papermail/internal/digest"
	"github.com/papermail/papermail/internal/smtptest"
)

// TestEachReaderGetsTheirOwnMessage: with composed messages' bytes
// reused once their job is done (mailer.Composer.Release), every message
// a run of 300 over four connections delivers is whole and its reader's:
// the To header is the envelope recipient, the Message-ID is the one the
// ledger holds for that reader, and the text part decodes.
func TestEachReaderGetsTheirOwnMessage(t *testing.T) {
	const n = 300
	g := newRig(t, func(c *config.Config) { c.SMTP.Connections = 4 })
	now := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	g.ingestPage(now)
	subs := g.addSubscribers(n, now, nil)
	srv := smtptest.StartT(t, smtptest.Options{})
	g.useServer(srv, nil)
	date := today(now)
	sum, err := g.r.Run(context.Background(), digest.Spec{Now: now, Date: date})
	if err != nil || sum.Sent != n {
		t.Fatalf("run: %v, sent %d of %d", err, sum.Sent, n)
	}
	ledger := g.ledger(date)
	idOf := map[string]uint64{}
	for _, s := range subs {
		idOf[s.Email] = s.ID
	}
	msgs := srv.Messages()
	if len(msgs) != n {
		t.Fatalf("server got %d messages, want %d", len(msgs), n)
	}
	for _, m := range msgs {
		rcpt := m.To[0]
		pm, err := mail.ReadMessage(bytes.NewReader(m.Data))
		if err != nil {
			t.Fatalf("message to %s does not parse: %v", rcpt, err)
		}
		if to, err := mail.ParseAddress(pm.Header.Get("To")); err != nil || to.Address != rcpt {
			t.Fatalf("message to %s has To %q", rcpt, pm.Header.Get("To"))
		}
		if want := "<" + ledger[idOf[rcpt]].MessageID + ">"; pm.Header.Get("Message-ID") != want {
			t.Fatalf("message to %s has Message-ID %s, ledger %s", rcpt, pm.Header.Get("Message-ID"), want)
		}
		if text := textPart(t, m.Data); !strings.Contains(text, "papers.example.org") {
			t.Fatalf("message to %s: text part %q", rcpt, text)
		}
	}
}
