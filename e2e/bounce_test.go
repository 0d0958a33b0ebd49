package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/papermail/papermail/internal/sample"
	"github.com/papermail/papermail/internal/smtptest"
	"github.com/papermail/papermail/internal/store"
)

// digestReachesEveryone runs the digest once the relay's fault is fixed and
// checks that each of emails got exactly one digest and status shows no
// stopped run.
func (in *instance) digestReachesEveryone(srv *smtptest.Server, emails []string) {
	in.t.Helper()
	out := in.ok("digest")
	if want := fmt.Sprintf("%d sent", len(emails)); !strings.Contains(out, want) {
		in.t.Errorf("after the fix, want %q: %s", want, out)
	}
	counts := srv.CountByRecipient()
	for _, e := range emails {
		if counts[e] != 1 {
			in.t.Errorf("%s got %d digests, want 1", e, counts[e])
		}
	}
	if st := in.ok("status"); strings.Contains(st, "STOPPED") {
		in.t.Errorf("status after the fix:\n%s", st)
	}
}

// listOf ingests the embedded sample papers and imports n active
// subscribers reader00@example.org... on graph neural networks.
func (in *instance) listOf(n int) []string {
	in.t.Helper()
	papers := filepath.Join(in.dir, "papers.jsonl")
	var csv strings.Builder
	csv.WriteString("email,interests\n")
	var emails []string
	for i := range n {
		e := fmt.Sprintf("reader%02d@example.org", i)
		emails = append(emails, e)
		fmt.Fprintf(&csv, "%s,graph neural networks; language models\n", e)
	}
	list := filepath.Join(in.dir, "list.csv")
	if err := os.WriteFile(papers, sample.PapersJSONL, 0o644); err != nil {
		in.t.Fatal(err)
	}
	if err := os.WriteFile(list, []byte(csv.String()), 0o644); err != nil {
		in.t.Fatal(err)
	}
	in.ok("ingest", "--format", "jsonl", papers)
	in.ok("subscribers", "import", list)
	return emails
}

// TestRelayRefusingEveryoneEndToEnd runs the real binary against relays
// that refuse for their own reasons: every RCPT with 554 5.7.1, MAIL FROM
// with 553 5.7.1 or 501 5.5.4, AUTH with 535. Each time the command exits
// non-zero with the server's reply on stderr (an ERROR log line and the
// error), nobody is bounced, status shows the stopped run; once the relay
// (or the password) is fixed the next digest exits 0 and everyone gets
// exactly one digest.
func TestRelayRefusingEveryoneEndToEnd(t *testing.T) {
	tests := []struct {
		name  string
		rcpt  *smtp.SMTPError
		mail  *smtp.SMTPError
		auth  bool
		reply string
	}{
		{name: "RCPT 554 5.7.1", reply: "554 5.7.1 Relay access denied",
			rcpt: &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "Relay access denied"}},
		{name: "MAIL FROM 553 5.7.1", reply: "553 5.7.1 Sender address rejected: not owned by user",
			mail: &smtp.SMTPError{Code: 553, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "Sender address rejected: not owned by user"}},
		{name: "MAIL FROM 501 5.5.4", reply: "501 5.5.4 Syntax error in MAIL FROM",
			mail: &smtp.SMTPError{Code: 501, EnhancedCode: smtp.EnhancedCode{5, 5, 4}, Message: "Syntax error in MAIL FROM"}},
		{name: "AUTH 535", auth: true, reply: "535 5.7.8"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var broken atomic.Bool
			broken.Store(true)
			opts := smtptest.Options{
				RcptReply: func(string, int) *smtp.SMTPError {
					if broken.Load() && tc.rcpt != nil {
						return tc.rcpt
					}
					return nil
				},
				RejectMail: func(string) *smtp.SMTPError {
					if broken.Load() && tc.mail != nil {
						return tc.mail
					}
					return nil
				},
			}
			var extra []string
			if tc.auth {
				opts.AuthUser, opts.AuthPass = "papermail", "right"
				extra = []string{"PAPERMAIL_SMTP_USERNAME=papermail", "PAPERMAIL_SMTP_PASSWORD=wrong"}
			}
			srv := smtptest.StartT(t, opts)
			in := newInstance(t, srv, extra...)
			emails := in.listOf(30)

			out, errOut := in.run(true, "digest")
			if !strings.Contains(errOut, tc.reply) || !strings.Contains(errOut, "level=ERROR") || !strings.Contains(errOut, "nobody was marked bounced") {
				t.Errorf("stderr does not name the reply %q at ERROR:\n%s", tc.reply, errOut)
			}
			if !strings.Contains(out, "0 sent") || !strings.Contains(out, "0 bounced") {
				t.Errorf("stdout: %s", out)
			}
			if list := in.ok("subscribers", "list", "--state", "bounced"); rows(list) != 0 {
				t.Errorf("subscribers bounced by the relay's refusal:\n%s", list)
			}
			if st := in.ok("status"); !strings.Contains(st, "STOPPED") || !strings.Contains(st, tc.reply) {
				t.Errorf("status does not show the stopped run:\n%s", st)
			}

			broken.Store(false)
			if tc.auth {
				in.env = append(in.env, "PAPERMAIL_SMTP_PASSWORD=right") // the later entry wins
			}
			in.digestReachesEveryone(srv, emails)
		})
	}
}

// TestMailboxBouncesEndToEnd: 3 of 30 recipients refused with 550 5.1.1
// are bounced (and only they), listed with code and reason, and
// reactivated by address and by time.
func TestMailboxBouncesEndToEnd(t *testing.T) {
	bad := map[string]bool{"reader03@example.org": true, "reader11@example.org": true, "reader27@example.org": true}
	srv := smtptest.StartT(t, smtptest.Options{RejectRcpt: func(rcpt string) *smtp.SMTPError {
		if bad[rcpt] {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "Recipient address rejected: User unknown"}
		}
		return nil
	}})
	in := newInstance(t, srv)
	in.listOf(30)
	if out := in.ok("digest"); !strings.Contains(out, "27 sent") || !strings.Contains(out, "3 bounced") {
		t.Fatalf("digest: %s", out)
	}
	list := in.ok("subscribers", "list", "--state", "bounced")
	lines := strings.Split(strings.TrimSpace(list), "\n")[1:]
	if len(lines) != 3 {
		t.Fatalf("bounced list has %d rows, want 3:\n%s", len(lines), list)
	}
	for _, l := range lines {
		email := strings.Fields(l)[1]
		if !bad[email] || !strings.Contains(l, "550 5.1.1") || !strings.Contains(l, "User unknown") {
			t.Errorf("bounced row %q: want one of the refused addresses with 550 5.1.1 and the reason", l)
		}
	}

	in.ok("subscribers", "reactivate", "reader03@example.org")
	if list := in.ok("subscribers", "list", "--state", "bounced"); strings.Contains(list, "reader03@") || rows(list) != 2 {
		t.Errorf("after reactivating one:\n%s", list)
	}
	in.run(true, "subscribers", "reactivate", "reader04@example.org") // not bounced
	in.run(true, "subscribers", "reactivate", "--all-bounced-since", "yesterday")
	out := in.ok("subscribers", "reactivate", "--all-bounced-since", "2020-01-01")
	if !strings.Contains(out, "reactivated 2 ") {
		t.Errorf("reactivate --all-bounced-since: %s", out)
	}
	if list := in.ok("subscribers", "list", "--state", "bounced"); rows(list) != 0 {
		t.Errorf("still bounced:\n%s", list)
	}
}

// TestDigestServerDownExitsNonZero: with nothing listening at the relay's
// address, or a relay answering every connection with 421 at the
// greeting, the digest command fails, says how many failed and logs one
// ERROR with the connection error (and the server's reply when there was
// one); nobody is bounced.
func TestDigestServerDownExitsNonZero(t *testing.T) {
	tests := []struct {
		name  string
		opts  smtptest.Options
		close bool
		want  string
	}{
		{name: "no listener", close: true, want: "connection refused"},
		{name: "421 at greeting", opts: smtptest.Options{StartDelay: time.Hour}, want: "421 4.3.2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := smtptest.StartT(t, tc.opts)
			in := newInstance(t, srv, "PAPERMAIL_SMTP_MAX_ATTEMPTS=2")
			in.listOf(3)
			if tc.close {
				srv.Close()
			}
			_, errOut := in.run(true, "digest")
			var errLine string
			for _, l := range strings.Split(errOut, "\n") {
				if strings.Contains(l, "level=ERROR") && strings.Contains(l, "could not be reached") {
					errLine = l
				}
			}
			if !strings.Contains(errOut, "3 of 3 digests failed") || !strings.Contains(errLine, tc.want) {
				t.Errorf("want an ERROR line naming %q and 3 of 3 failed; stderr:\n%s", tc.want, errOut)
			}
			if list := in.ok("subscribers", "list", "--state", "bounced"); rows(list) != 0 {
				t.Errorf("bounced while the server was down:\n%s", list)
			}
			if st := in.ok("status"); !strings.Contains(st, "FAILED") || !strings.Contains(st, "could not be reached") || !strings.Contains(st, tc.want) {
				t.Errorf("status does not say why the run failed:\n%s", st)
			}
		})
	}
}

// dsnFor is a Postfix-shaped delivery status notification to the
// envelope sender to, about rcpt, quoting the original Message-ID.
func dsnFor(to, rcpt, messageID string) string {
	return strings.ReplaceAll(`From: MAILER-DAEMON@relay.example.net (Mail Delivery System)
To: `+to+`
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b1"

--b1
Content-Type: text/plain

This is the mail system at host relay.example.net.

--b1
Content-Type: message/delivery-status

Reporting-MTA: dns; relay.example.net

Final-Recipient: rfc822; `+rcpt+`
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <`+rcpt+`>: Recipient address rejected: User unknown

--b1
Content-Type: text/rfc822-headers

Message-ID: <`+messageID+`>
To: `+rcpt+`

--b1--
`, "\n", "\r\n")
}

// TestBouncesCommandEndToEnd: digests go out with VERP envelope senders;
// a DSN for one of them, piped to `papermail bounces -`, bounces that
// subscriber; a DSN for an unknown message changes nothing and is
// reported; input without any report exits non-zero.
func TestBouncesCommandEndToEnd(t *testing.T) {
	srv := smtptest.StartT(t, smtptest.Options{})
	in := newInstance(t, srv, "PAPERMAIL_MAIL_VERP=true", "PAPERMAIL_MAIL_RETURN_PATH=bounces@papers.example.org")
	in.listOf(4)
	in.ok("digest")
	var verpAddr, rcpt string
	for _, m := range srv.Messages() {
		if !strings.HasPrefix(m.From, "bounces+") || !strings.HasSuffix(m.From, "@papers.example.org") {
			t.Errorf("envelope sender %q is not a VERP address", m.From)
		}
		if m.To[0] == "reader02@example.org" {
			verpAddr, rcpt = m.From, m.To[0]
		}
	}
	run := func(wantFail bool, stdin string, args ...string) string {
		t.Helper()
		cmd := exec.Command(binary, args...)
		cmd.Env, cmd.Dir = in.env, in.dir
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		if (err != nil) != wantFail {
			t.Fatalf("papermail %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	out := run(false, dsnFor(verpAddr, rcpt, "whatever@relay"), "bounces", "-")
	if !strings.Contains(out, "bounced") || !strings.Contains(out, "reader02@example.org") || !strings.Contains(out, "verp") {
		t.Errorf("bounces output:\n%s", out)
	}
	list := in.ok("subscribers", "list", "--state", "bounced")
	if rows(list) != 1 || !strings.Contains(list, "reader02@example.org") || !strings.Contains(list, "550 5.1.1 (dsn)") {
		t.Errorf("bounced list:\n%s", list)
	}

	unknown := filepath.Join(in.dir, "unknown.eml")
	if err := os.WriteFile(unknown, []byte(dsnFor("bounces@papers.example.org", "stranger@example.com", "never@papers.example.org")), 0o644); err != nil {
		t.Fatal(err)
	}
	out = in.ok("bounces", unknown)
	if !strings.Contains(out, "unmatched") || !strings.Contains(out, "1 unmatched") {
		t.Errorf("unknown DSN output:\n%s", out)
	}
	if list := in.ok("subscribers", "list", "--state", "bounced"); rows(list) != 1 {
		t.Errorf("the unknown DSN changed something:\n%s", list)
	}
	run(true, "From: a@b.example\r\nSubject: hi\r\n\r\nhello\r\n", "bounces", "-")
	run(true, "", "bounces", "-")
	in.run(true, "bounces", filepath.Join(in.dir, "missing"))

	// A Maildir a timer reads: once its reports are applied they are
	// seen, and the next run, with nothing new, has no work and succeeds.
	md := filepath.Join(in.dir, "Maildir")
	for _, sub := range []string{"new", "cur", "tmp"} {
		if err := os.MkdirAll(filepath.Join(md, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(md, "new", "1.eml"), []byte(dsnFor("bounces@papers.example.org", "stranger@example.com", "never@papers.example.org")), 0o644); err != nil {
		t.Fatal(err)
	}
	if out := in.ok("bounces", md); !strings.Contains(out, "1 unmatched") {
		t.Errorf("Maildir run:\n%s", out)
	}
	if out := in.ok("bounces", md); !strings.Contains(out, "no new messages") {
		t.Errorf("Maildir run with nothing new:\n%s", out)
	}
}

// rows counts the subscribers in a `subscribers list` table.
func rows(list string) int {
	return max(len(strings.Split(strings.TrimSpace(list), "\n"))-1, 0)
}

// TestBouncesThroughDaemon: with `serve` holding the store (a Postfix
// pipe transport runs `papermail bounces -` then), the command and the
// report on its stdin are handed to the daemon and applied.
func TestBouncesThroughDaemon(t *testing.T) {
	srv := smtptest.StartT(t, smtptest.Options{})
	// The daemon's own tick finds nobody due (see idleZone): the digest
	// is the forwarded command's.
	in := newInstance(t, srv, "PAPERMAIL_MAIL_VERP=true", "PAPERMAIL_DIGEST_TIMEZONE="+idleZone(time.Now()))
	d := in.serve(t)
	defer d.stop(t)
	in.listOf(2)
	if out := in.ok("digest"); !strings.Contains(out, "2 sent") {
		t.Fatalf("digest through the daemon: %s", out)
	}
	var verpAddr string
	for _, m := range srv.Messages() {
		if len(m.To) == 1 && m.To[0] == "reader01@example.org" {
			verpAddr = m.From
		}
	}
	if !strings.HasPrefix(verpAddr, "bounces+") || !strings.HasSuffix(verpAddr, "@papers.example.org") {
		t.Fatalf("envelope sender %q is not a VERP address on the From domain", verpAddr)
	}
	cmd := exec.Command(binary, "bounces", "-")
	cmd.Env, cmd.Dir = in.env, in.dir
	cmd.Stdin = strings.NewReader(dsnFor(verpAddr, "reader01@example.org", "x@relay"))
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "1 bounced") {
		t.Fatalf("bounces through the daemon: %v\n%s", err, out)
	}
	if list := in.ok("subscribers", "list", "--state", "bounced"); rows(list) != 1 || !strings.Contains(list, "reader01@example.org") {
		t.Errorf("bounced:\n%s", list)
	}
}

// TestThrottledForDaysEndToEnd: a relay answering 451 4.3.0 to everyone
// on four days in a row (more than bounce.soft_limit) bounces nobody; each
// day's digest exits non-zero, and once the relay recovers everyone gets
// that day's digest once.
func TestThrottledForDaysEndToEnd(t *testing.T) {
	var broken atomic.Bool
	broken.Store(true)
	srv := smtptest.StartT(t, smtptest.Options{RcptReply: func(string, int) *smtp.SMTPError {
		if broken.Load() {
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try again later"}
		}
		return nil
	}})
	in := newInstance(t, srv, "PAPERMAIL_SMTP_MAX_ATTEMPTS=2", "PAPERMAIL_BOUNCE_SOFT_LIMIT=2")
	emails := in.listOf(12)
	for _, d := range []string{"2026-11-28", "2026-11-29", "2026-11-30", "2026-12-01"} {
		_, errOut := in.run(true, "digest", "--date", d)
		if !strings.Contains(errOut, "451 4.3.0 Try again later") {
			t.Errorf("%s: stderr does not name the reply:\n%s", d, errOut)
		}
		if list := in.ok("subscribers", "list", "--state", "bounced"); rows(list) != 0 {
			t.Fatalf("%s: bounced by a throttling relay:\n%s", d, list)
		}
	}
	broken.Store(false)
	if out := in.ok("digest", "--date", "2026-12-02"); !strings.Contains(out, "12 sent") {
		t.Errorf("after the relay recovered: %s", out)
	}
	counts := srv.CountByRecipient()
	for _, e := range emails {
		if counts[e] != 1 {
			t.Errorf("%s got %d digests, want 1", e, counts[e])
		}
	}
}

// TestBouncesWithoutVERPEndToEnd: with the default return path (the From
// address), a DSN quoting a sent digest's Message-ID bounces that
// subscriber; one quoting a message papermail never sent, though it names
// a subscriber, changes nothing and is reported.
func TestBouncesWithoutVERPEndToEnd(t *testing.T) {
	srv := smtptest.StartT(t, smtptest.Options{})
	in := newInstance(t, srv)
	in.listOf(3)
	in.ok("digest")
	var msgID string
	for _, m := range srv.Messages() {
		if m.From != "digest@papers.example.org" {
			t.Errorf("envelope sender %q, want the From address", m.From)
		}
		if m.To[0] == "reader01@example.org" {
			h, err := mail.ReadMessage(bytes.NewReader(m.Data))
			if err != nil {
				t.Fatal(err)
			}
			msgID = strings.Trim(h.Header.Get("Message-Id"), "<>")
		}
	}
	dir := t.TempDir()
	known, unknown := filepath.Join(dir, "known.eml"), filepath.Join(dir, "unknown.eml")
	os.WriteFile(known, []byte(dsnFor("digest@papers.example.org", "reader01@example.org", msgID)), 0o644)
	os.WriteFile(unknown, []byte(dsnFor("digest@papers.example.org", "reader02@example.org", "hand-written@papers.example.org")), 0o644)
	if out := in.ok("bounces", unknown); !strings.Contains(out, "1 unmatched") {
		t.Errorf("unknown message: %s", out)
	}
	if out := in.ok("bounces", known); !strings.Contains(out, "1 bounced") || !strings.Contains(out, "message-id") {
		t.Errorf("sent digest: %s", out)
	}
	list := in.ok("subscribers", "list", "--state", "bounced")
	if rows(list) != 1 || !strings.Contains(list, "reader01@example.org") {
		t.Errorf("bounced:\n%s", list)
	}
}

// TestBouncesStoreBusyExitsTempFail: when another process (not serve)
// holds the store, `papermail bounces -` exits 75 (EX_TEMPFAIL), so a
// Postfix pipe transport defers the report and tries again instead of
// losing it; once the store is free the same input is applied.
func TestBouncesStoreBusyExitsTempFail(t *testing.T) {
	srv := smtptest.StartT(t, smtptest.Options{})
	in := newInstance(t, srv)
	in.listOf(2)
	in.ok("digest")
	report := dsnFor("digest@papers.example.org", "reader01@example.org", "")
	st, err := store.Open(filepath.Join(in.dir, "data", "papermail.db"), store.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, "bounces", "-")
	cmd.Env, cmd.Dir = in.env, in.dir
	cmd.Stdin = strings.NewReader(report)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 75 {
		t.Errorf("bounces with the store held: %v, want exit status 75\n%s", err, out)
	}
	st.Close()
	cmd = exec.Command(binary, "bounces", "-")
	cmd.Env, cmd.Dir = in.env, in.dir
	cmd.Stdin = strings.NewReader(report)
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "1 bounced") {
		t.Errorf("bounces once the store is free: %v\n%s", err, out)
	}
}
