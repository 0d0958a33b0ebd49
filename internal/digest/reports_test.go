package digest_test

import (
	"context"
	"fmt"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/papermail/papermail/internal/bounce"
	"github.com/papermail/papermail/internal/config"
	"github.com/papermail/papermail/internal/digest"
	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/smtptest"
)

// dsn writes a delivery status notification in the shape Postfix sends:
// to the envelope sender, about rcpt, quoting the original's header.
func dsn(to, rcpt, messageID, status, diagnostic string) []byte {
	return []byte(strings.ReplaceAll(fmt.Sprintf(`From: MAILER-DAEMON@relay.example.net (Mail Delivery System)
To: %[1]s
Subject: Undelivered Mail Returned to Sender
Message-Id: <dsn-%[3]s>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b0"

--b0
Content-Type: text/plain

This is the mail system at host relay.example.net.

--b0
Content-Type: message/delivery-status

Reporting-MTA: dns; relay.example.net

Final-Recipient: rfc822; %[2]s
Action: failed
Status: %[4]s
Diagnostic-Code: smtp; %[5]s

--b0
Content-Type: text/rfc822-headers

From: papermail <digest@papers.example.org>
To: %[2]s
Message-ID: <%[3]s>

--b0--
`, to, rcpt, messageID, status, diagnostic), "\n", "\r\n"))
}

// TestReturnPathAndReports sends digests with VERP on, checks each went
// out with its own signed envelope sender, then feeds back reports: a
// permanent mailbox failure bounces its subscriber with reason and codes,
// a mailbox-full report counts a soft-bounce day, a complaint
// unsubscribes, and a report for an unknown message, a forged VERP token
// or a relay's policy refusal change nothing.
func TestReturnPathAndReports(t *testing.T) {
	t.Parallel()
	g := newRig(t, func(c *config.Config) { c.Mail.VERP = true; c.Mail.ReturnPath = "bounces@papers.example.org" })
	now := time.Now()
	date := today(now)
	g.ingestPage(now.Add(-time.Hour))
	subs := g.addSubscribers(6, now, nil)
	srv := smtptest.StartT(t, smtptest.Options{})
	g.useServer(srv, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if sum, err := g.r.Run(ctx, digest.Spec{Now: now, Date: date}); err != nil || sum.Sent != 6 {
		t.Fatalf("run: %v %+v", err, sum)
	}
	verp, err := bounce.NewVERP("bounces@papers.example.org", g.st.Secret())
	if err != nil {
		t.Fatal(err)
	}
	envelope := map[string]string{}
	msgID := map[string]string{}
	for _, m := range srv.Messages() {
		envelope[m.To[0]] = m.From
		h, err := mail.ReadMessage(strings.NewReader(string(m.Data)))
		if err != nil {
			t.Fatal(err)
		}
		msgID[m.To[0]] = strings.Trim(h.Header.Get("Message-Id"), "<>")
		if h.Header.Get("Return-Path") != "" {
			t.Errorf("the message carries a Return-Path header")
		}
	}
	for _, s := range subs {
		id, d, ok, err := verp.Parse(envelope[s.Email])
		if !ok || err != nil || id != s.ID || d != date {
			t.Errorf("%s went out with envelope sender %q (parsed %d %s %v %v)", s.Email, envelope[s.Email], id, d, ok, err)
		}
	}

	forged := strings.Replace(envelope[subs[4].Email], fmt.Sprintf("+%d.", subs[4].ID), fmt.Sprintf("+%d.", subs[5].ID), 1)
	msgs := []bounce.Message{
		{Name: "verp", Raw: dsn(envelope[subs[0].Email], subs[0].Email, "unknown-1@elsewhere", "5.1.1", "550 5.1.1 <x>: Recipient address rejected: User unknown")},
		{Name: "message-id", Raw: dsn("bounces@papers.example.org", "alias@forwarded.example.net", msgID[subs[1].Email], "5.2.1", "550 5.2.1 mailbox disabled")},
		{Name: "full", Raw: dsn("bounces@papers.example.org", subs[2].Email, msgID[subs[2].Email], "5.2.2", "552 5.2.2 Mailbox full")},
		{Name: "policy", Raw: dsn(envelope[subs[3].Email], subs[3].Email, msgID[subs[3].Email], "5.7.1", "554 5.7.1 Message rejected as spam")},
		{Name: "forged", Raw: dsn(forged, subs[5].Email, "x@y", "5.1.1", "550 5.1.1 unknown")},
		{Name: "unknown", Raw: dsn("bounces@papers.example.org", "stranger@example.com", "never-sent@papers.example.org", "5.1.1", "550 5.1.1 unknown")},
		{Name: "complaint", Raw: []byte(strings.ReplaceAll(fmt.Sprintf("From: fbl@isp.example\nTo: bounces@papers.example.org\nMIME-Version: 1.0\nContent-Type: multipart/report; report-type=feedback-report; boundary=f\n\n--f\nContent-Type: text/plain\n\nabuse report\n--f\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\nUser-Agent: ISP-FBL/1\nVersion: 1\n\n--f\nContent-Type: message/rfc822\n\nMessage-ID: <%s>\nTo: redacted@isp.example\n\nbody\n--f--\n", msgID[subs[4].Email]), "\n", "\r\n"))},
		{Name: "reply", Raw: []byte("From: a@b.example\r\nSubject: thanks\r\n\r\nhello\r\n")},
	}
	res, err := g.r.ApplyReports(msgs)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]digest.ReportResult{}
	for _, r := range res {
		got[r.Source] = r
	}
	want := map[string]struct{ action, by string }{
		"verp": {digest.ReportBounced, "verp"}, "message-id": {digest.ReportBounced, "message-id"},
		"full": {digest.ReportSoftBounce, "message-id"}, "policy": {digest.ReportUnchanged, "verp"},
		"forged": {digest.ReportForged, ""}, "unknown": {digest.ReportUnmatched, ""},
		"complaint": {digest.ReportUnsubscribed, "message-id"}, "reply": {digest.ReportNotReport, ""},
	}
	for name, w := range want {
		if r := got[name]; r.Action != w.action || r.MatchedBy != w.by {
			t.Errorf("%s: %+v, want %s by %q", name, r, w.action, w.by)
		}
	}
	check := func(i int, state model.State, code int, enh, source string) {
		t.Helper()
		cur := g.sub(subs[i].ID)
		if cur.State != state {
			t.Errorf("%s: state %s, want %s", cur.Email, cur.State, state)
		}
		if source == "" {
			if cur.Bounce != nil {
				t.Errorf("%s: bounce %+v recorded", cur.Email, cur.Bounce)
			}
			return
		}
		if b := cur.Bounce; b == nil || b.Code != code || b.Enhanced != enh || b.Source != source || b.At.IsZero() || b.Reason == "" {
			t.Errorf("%s: bounce %+v, want %d %s from %s", cur.Email, cur.Bounce, code, enh, source)
		}
	}
	check(0, model.StateBounced, 550, "5.1.1", model.BounceDSN)
	check(1, model.StateBounced, 550, "5.2.1", model.BounceDSN)
	check(2, model.StateActive, 0, "", "")
	check(3, model.StateActive, 0, "", "")
	check(4, model.StateUnsubscribed, 0, "", model.BounceComplaint)
	check(5, model.StateActive, 0, "", "")
	if cur := g.sub(subs[2].ID); len(cur.SoftBounces) != 1 || cur.SoftBounces[0] != date {
		t.Errorf("mailbox full: soft bounces %v, want [%s]", cur.SoftBounces, date)
	}
	if !strings.Contains(g.sub(subs[0].ID).Bounce.Reason, "User unknown") {
		t.Errorf("reason %q lacks the server's words", g.sub(subs[0].ID).Bounce.Reason)
	}
	// Applying the same reports again changes nothing more.
	again, err := g.r.ApplyReports(msgs[:2])
	if err != nil || again[0].Action != digest.ReportUnchanged || again[1].Action != digest.ReportUnchanged {
		t.Errorf("second application: %+v, %v", again, err)
	}
}

// TestReportsByRecipient: without VERP a report that quotes no message is
// matched by its failed recipient; with VERP such a report (which anyone
// could write) changes nothing, and neither does one quoting a message
// papermail never sent.
func TestReportsByRecipient(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		verp   bool
		quoted string
		bounce bool
	}{{false, "", true}, {true, "", false}, {false, "not-ours@elsewhere.example", false}} {
		t.Run(fmt.Sprintf("verp=%v quoted=%q", tc.verp, tc.quoted), func(t *testing.T) {
			t.Parallel()
			g := newRig(t, func(c *config.Config) { c.Mail.VERP = tc.verp })
			subs := g.addSubscribers(2, time.Now(), nil)
			res, err := g.r.ApplyReports([]bounce.Message{{Name: "r", Raw: dsn("digest@papers.example.org", subs[1].Email, tc.quoted, "5.1.1", "550 5.1.1 unknown")}})
			if err != nil || len(res) != 1 {
				t.Fatalf("%+v %v", res, err)
			}
			want, state := digest.ReportBounced, model.StateBounced
			if !tc.bounce {
				want, state = digest.ReportUnmatched, model.StateActive
			}
			if res[0].Action != want || g.sub(subs[1].ID).State != state || g.sub(subs[0].ID).State != model.StateActive {
				t.Errorf("result %+v, state %s; want %s and %s", res[0], g.sub(subs[1].ID).State, want, state)
			}
		})
	}
}

// TestReportReasonFromMultilineReply: the bounce keeps the reply code,
// the status and the server's words, without the codes a multi-line reply
// repeats on every line.
func TestReportReasonFromMultilineReply(t *testing.T) {
	t.Parallel()
	g := newRig(t, nil)
	subs := g.addSubscribers(1, time.Now(), nil)
	raw := dsn("digest@papers.example.org", subs[0].Email, "", "5.1.1", "550-5.1.1 The account does not exist.\n 550-5.1.1 Check the address.\n 550 5.1.1 a1b2 - inbound")
	if _, err := g.r.ApplyReports([]bounce.Message{{Name: "g", Raw: raw}}); err != nil {
		t.Fatal(err)
	}
	b := g.sub(subs[0].ID).Bounce
	if b == nil || b.Code != 550 || b.Enhanced != "5.1.1" || b.Reason != "550 5.1.1 The account does not exist. Check the address. a1b2 - inbound" {
		t.Errorf("bounce %+v", b)
	}
}

// TestMultiRecipientReport: a report that quotes one digest but lists
// several recipients charges the digest's subscriber only with the block
// about that subscriber's address. Here that block is "delayed" (nothing
// changes) while another subscriber's address and a stranger's failed
// with 5.1.1: the quoted digest was not sent to them, so nobody is
// bounced, with or without VERP.
func TestMultiRecipientReport(t *testing.T) {
	t.Parallel()
	for _, verp := range []bool{false, true} {
		t.Run(fmt.Sprintf("verp=%v", verp), func(t *testing.T) {
			t.Parallel()
			g := newRig(t, func(c *config.Config) { c.Mail.VERP = verp; c.Mail.ReturnPath = "bounces@papers.example.org" })
			now := time.Now()
			g.ingestPage(now.Add(-time.Hour))
			subs := g.addSubscribers(2, now, nil)
			srv := smtptest.StartT(t, smtptest.Options{})
			g.useServer(srv, nil)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if sum, err := g.r.Run(ctx, digest.Spec{Now: now, Date: today(now)}); err != nil || sum.Sent != 2 {
				t.Fatalf("run: %v %+v", err, sum)
			}
			var envelope, msgID string
			for _, m := range srv.Messages() {
				if m.To[0] == subs[0].Email {
					h, err := mail.ReadMessage(strings.NewReader(string(m.Data)))
					if err != nil {
						t.Fatal(err)
					}
					envelope, msgID = m.From, strings.Trim(h.Header.Get("Message-Id"), "<>")
				}
			}
			raw := strings.ReplaceAll(fmt.Sprintf(`From: MAILER-DAEMON@relay.example.net
To: %[1]s
Subject: Delivery Status Notification
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b0"

--b0
Content-Type: message/delivery-status

Reporting-MTA: dns; relay.example.net

Final-Recipient: rfc822; %[2]s
Action: delayed
Status: 4.4.1
Diagnostic-Code: smtp; 451 4.4.1 try again later

Final-Recipient: rfc822; %[3]s
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 User unknown

Final-Recipient: rfc822; stranger@example.com
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 User unknown

--b0
Content-Type: text/rfc822-headers

From: papermail <digest@papers.example.org>
To: %[2]s
Message-ID: <%[4]s>

--b0--
`, envelope, subs[0].Email, subs[1].Email, msgID), "\n", "\r\n")
			res, err := g.r.ApplyReports([]bounce.Message{{Name: "multi", Raw: []byte(raw)}})
			if err != nil || len(res) != 3 {
				t.Fatalf("%+v %v", res, err)
			}
			for _, r := range res {
				if r.Action == digest.ReportBounced || r.Action == digest.ReportSoftBounce {
					t.Errorf("block about %s: %+v", r.Recipient, r)
				}
			}
			for _, s := range subs {
				if cur := g.sub(s.ID); cur.State != model.StateActive || cur.Bounce != nil {
					t.Errorf("%s: state %s, bounce %+v; want active, none", s.Email, cur.State, cur.Bounce)
				}
			}
		})
	}
}
