//go:build unix

package e2e

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/papermail/papermail/internal/smtptest"
)

// postfix is a private Postfix instance: its own config_directory,
// queue_directory and data_directory in a temporary folder, listening on
// 127.0.0.1 only, relaying everything to a relayhost on 127.0.0.1.
type postfix struct {
	t    *testing.T
	bin  string // the postfix command; postqueue is beside it
	conf string
	log  string
	port int
}

// startPostfix starts Debian's real Postfix relaying to relayPort. It
// skips (in one line) where postfix is not installed or cannot run (it
// needs root to start its master daemon); on CI it must run.
func startPostfix(t *testing.T, relayPort int, extraMain, extraMaster string) *postfix {
	t.Helper()
	return startPostfixOn(t, relayPort, 0, extraMain, extraMaster)
}

// startPostfixOn is startPostfix listening on port (0: a free one).
func startPostfixOn(t *testing.T, relayPort, port int, extraMain, extraMaster string) *postfix {
	t.Helper()
	bin, err := exec.LookPath("postfix")
	if err != nil {
		bin = "/usr/sbin/postfix"
	}
	_, statErr := os.Stat(bin)
	_, userErr := user.Lookup("postfix")
	switch {
	case statErr != nil || userErr != nil:
		if os.Getenv("CI") != "" {
			t.Fatalf("CI: postfix is not installed (apt-get install postfix): %v %v", statErr, userErr)
		}
		t.Skip("postfix is not installed (apt-get install postfix)")
	case os.Geteuid() != 0:
		t.Skip("postfix needs root to start its master daemon; run the tests as root (CI does)")
	}
	pfUser, _ := user.Lookup("postfix")
	uid, _ := strconv.Atoi(pfUser.Uid)

	dir := t.TempDir()
	openUp(t, dir) // the postfix user must reach the queue and data folders
	if port == 0 {
		port = freePort(t)
	}
	pf := &postfix{t: t, bin: bin, conf: filepath.Join(dir, "conf"), log: filepath.Join(dir, "maillog"), port: port}
	for _, d := range []string{"conf", "queue", "data"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chown(filepath.Join(dir, "data"), uid, -1); err != nil {
		t.Fatal(err)
	}
	mainCF := fmt.Sprintf(`compatibility_level = 3.6
queue_directory = %[1]s/queue
data_directory = %[1]s/data
maillog_file = %[1]s/maillog
maillog_file_prefixes = %[1]s
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = relay.papermail.test
mydomain = papermail.test
myorigin = $myhostname
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
relayhost = [127.0.0.1]:%[2]d
smtp_dns_support_level = disabled
smtp_tls_security_level = none
smtpd_tls_security_level = none
smtputf8_enable = no
biff = no
`, dir, relayPort) + extraMain
	// Every service runs without chroot: the queue folder is ours.
	masterCF := fmt.Sprintf(`127.0.0.1:%d inet n - n - - smtpd
pickup     unix  n - n 60   1 pickup
cleanup    unix  n - n -    0 cleanup
qmgr       unix  n - n 300  1 qmgr
rewrite    unix  - - n -    - trivial-rewrite
bounce     unix  - - n -    0 bounce
defer      unix  - - n -    0 bounce
trace      unix  - - n -    0 bounce
verify     unix  - - n -    1 verify
flush      unix  n - n 1000 0 flush
proxymap   unix  - - n -    - proxymap
smtp       unix  - - n -    - smtp
relay      unix  - - n -    - smtp
showq      unix  n - n -    - showq
error      unix  - - n -    - error
retry      unix  - - n -    - error
discard    unix  - - n -    - discard
anvil      unix  - - n -    1 anvil
scache     unix  - - n -    1 scache
postlog    unix-dgram n - n - 1 postlogd
`, pf.port) + extraMaster
	if err := os.WriteFile(filepath.Join(pf.conf, "main.cf"), []byte(mainCF), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(pf.conf, "master.cf"), []byte(masterCF), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := pf.cmd(bin, "start"); err != nil {
		t.Fatalf("postfix start: %v\n%s\n%s", err, out, pf.maillog())
	}
	t.Cleanup(func() {
		if out, err := pf.cmd(bin, "stop"); err != nil {
			t.Logf("postfix stop: %v\n%s", err, out)
			_, _ = pf.cmd(bin, "abort")
		}
		// Wait for the master to exit so the folder can be removed (the
		// pid file stays behind).
		b, err := os.ReadFile(filepath.Join(dir, "queue", "pid", "master.pid"))
		pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 1 {
			return
		}
		for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if syscall.Kill(pid, 0) != nil {
				break
			}
		}
	})
	// Wait until smtpd answers.
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", pf.port), time.Second)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("postfix does not listen on %d: %v\n%s", pf.port, err, pf.maillog())
		}
	}
	return pf
}

func (pf *postfix) cmd(bin string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return exec.CommandContext(ctx, bin, append([]string{"-c", pf.conf}, args...)...).CombinedOutput()
}

func (pf *postfix) maillog() string {
	b, _ := os.ReadFile(pf.log)
	return string(b)
}

// delivered reports whether the maillog has a line of a message delivered
// (status=sent) by relay.
func (pf *postfix) delivered(relay string) bool {
	for _, l := range strings.Split(pf.maillog(), "\n") {
		if strings.Contains(l, "relay="+relay+",") && strings.Contains(l, "status=sent") {
			return true
		}
	}
	return false
}

// queueEmpty reports whether the instance's queue holds no mail, as
// postqueue -p lists it, and what it listed.
func (pf *postfix) queueEmpty() (bool, string) {
	out, err := pf.cmd(filepath.Join(filepath.Dir(pf.bin), "postqueue"), "-p")
	return err == nil && strings.Contains(string(out), "Mail queue is empty"), string(out)
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestPostfixBouncesEndToEnd sends a digest run through a real Postfix
// relaying to a sink that refuses two of six recipients with 550 5.1.1.
// papermail's run succeeds (Postfix accepted everything); the DSNs Postfix
// generates come back to the VERP return path at the sink, are put into a
// Maildir and fed to `papermail bounces`: exactly those two subscribers
// are bounced, matched by their VERP token, with Postfix's status and the
// sink's words.
func TestPostfixBouncesEndToEnd(t *testing.T) {
	bad := map[string]bool{"reader01@example.org": true, "reader04@example.org": true}
	sink := smtptest.StartT(t, smtptest.Options{RejectRcpt: func(rcpt string) *smtp.SMTPError {
		if bad[rcpt] {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "<" + rcpt + ">: Recipient address rejected: User unknown"}
		}
		return nil
	}})
	pf := startPostfix(t, sink.Port(), "", "")

	in := newInstance(t, nil, "PAPERMAIL_SMTP_HOST=127.0.0.1", fmt.Sprintf("PAPERMAIL_SMTP_PORT=%d", pf.port), "PAPERMAIL_SMTP_TLS=none",
		"PAPERMAIL_MAIL_VERP=true", "PAPERMAIL_MAIL_RETURN_PATH=bounces@papers.example.org")
	in.listOf(6)
	if out := in.ok("digest"); !strings.Contains(out, "6 sent") {
		t.Fatalf("digest through postfix: %s", out)
	}

	// 4 digests and 2 DSNs (null sender, to the VERP address) reach the sink.
	var dsns []smtptest.Message
	deadline := time.Now().Add(3 * time.Minute)
	for {
		dsns = dsns[:0]
		digests := 0
		for _, m := range sink.Messages() {
			if m.From == "" {
				dsns = append(dsns, m)
			} else {
				digests++
			}
		}
		if digests == 4 && len(dsns) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 3 min the sink has %d digests and %d DSNs, want 4 and 2\nmaillog:\n%s", digests, len(dsns), pf.maillog())
		}
		time.Sleep(200 * time.Millisecond)
	}
	maildir := filepath.Join(in.dir, "bounces")
	for _, sub := range []string{"new", "cur", "tmp"} {
		if err := os.MkdirAll(filepath.Join(maildir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for i, m := range dsns {
		if len(m.To) != 1 || !strings.HasPrefix(m.To[0], "bounces+") {
			t.Errorf("DSN %d went to %v, want the VERP return path", i, m.To)
		}
		if err := os.WriteFile(filepath.Join(maildir, "new", fmt.Sprintf("%d.dsn", i)), m.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := in.ok("bounces", maildir)
	if !strings.Contains(out, "2 bounced") || strings.Count(out, "verp") != 2 {
		t.Errorf("bounces output:\n%s", out)
	}
	list := in.ok("subscribers", "list", "--state", "bounced")
	if rows(list) != 2 {
		t.Fatalf("bounced after Postfix's DSNs:\n%s", list)
	}
	// The applied reports are now seen (cur/): a timer running the same
	// command finds nothing new; --seen reads them again and changes nothing.
	if out := in.ok("bounces", maildir); !strings.Contains(out, "no new messages") {
		t.Errorf("bounces with nothing new:\n%s", out)
	}
	if out := in.ok("bounces", "--seen", maildir); !strings.Contains(out, "2 unchanged") {
		t.Errorf("bounces --seen:\n%s", out)
	}
	for e := range bad {
		line := ""
		for _, l := range strings.Split(list, "\n") {
			if strings.Contains(l, " "+e+" ") {
				line = l
			}
		}
		if !strings.Contains(line, "5.1.1 (dsn)") || !strings.Contains(line, "User unknown") {
			t.Errorf("%s: bounced row %q, want Postfix's 5.1.1 and the sink's words", e, line)
		}
	}
}

// openUp makes dir and its parents up to the temporary folder readable by
// other users (the postfix pipe runs papermail as nobody).
func openUp(t *testing.T, dir string) {
	t.Helper()
	for d := dir; d != os.TempDir() && d != "/" && strings.HasPrefix(d, os.TempDir()); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

// TestPostfixPipeTransport runs the README's setup: Postfix delivers mail
// for the return path's domain to `papermail bounces -` through a pipe
// transport (as user nobody). A digest run through Postfix to a sink that
// refuses one recipient with 550 5.1.1 makes Postfix pipe its DSN into
// papermail, which bounces exactly that subscriber. While papermail
// itself holds the store (the digest command, a list), the pipe exits
// EX_TEMPFAIL and Postfix tries again: the report is not lost.
func TestPostfixPipeTransport(t *testing.T) {
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Skip("no user nobody to run the pipe transport as")
	}
	uid, _ := strconv.Atoi(nobody.Uid)
	gid, _ := strconv.Atoi(nobody.Gid)
	sink := smtptest.StartT(t, smtptest.Options{RejectRcpt: func(rcpt string) *smtp.SMTPError {
		if rcpt == "reader01@example.org" {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "<" + rcpt + ">: Recipient address rejected: User unknown"}
		}
		return nil
	}})

	// papermail's settings as a file the pipe can read.
	in := newInstance(t, nil)
	data := filepath.Join(in.dir, "data")
	pfPort := freePort(t)
	cfgFile := filepath.Join(in.dir, "config.yaml")
	cfg := fmt.Sprintf(`data_dir: %s
base_url: https://papers.example.org
log:
  level: warn
digest:
  timezone: UTC
mail:
  from: "Papermail <digest@papers.example.org>"
  return_path: bounces@papers.example.org
  verp: true
smtp:
  host: 127.0.0.1
  port: %d
  tls: none
`, data, pfPort)
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	in.env = append(in.env, "PAPERMAIL_CONFIG="+cfgFile)
	in.listOf(4)
	openUp(t, in.dir)
	openUp(t, filepath.Dir(binary))
	err = filepath.Walk(data, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Chown(p, uid, gid)
	})
	if err != nil {
		t.Fatal(err)
	}

	extraMain := `transport_maps = inline:{papers.example.org=papermail-bounces:}
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
`
	extraMaster := fmt.Sprintf(`papermail-bounces unix - n n - 1 pipe
  flags=Rq user=nobody argv=%s --config %s bounces -
`, binary, cfgFile)
	pf := startPostfixOn(t, sink.Port(), pfPort, extraMain, extraMaster)

	if out := in.ok("digest"); !strings.Contains(out, "4 sent") {
		t.Fatalf("digest through postfix: %s", out)
	}
	// Wait for Postfix to be done: the DSN delivered through the pipe (the
	// pipe exits EX_TEMPFAIL while a papermail command holds the store, and
	// Postfix tries again) and nothing left in its queue. Nothing here
	// opens the store meanwhile: a command polling it would make the pipe
	// defer again, and itself fail while the pipe holds the store.
	var queue string
	for deadline := time.Now().Add(3 * time.Minute); ; time.Sleep(200 * time.Millisecond) {
		var empty bool
		if pf.delivered("papermail-bounces") {
			if empty, queue = pf.queueEmpty(); empty {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 3 min Postfix has not delivered the DSN through the pipe and emptied its queue\npostqueue -p:\n%s\nmaillog:\n%s", queue, pf.maillog())
		}
	}
	list := in.ok("subscribers", "list", "--state", "bounced")
	if rows(list) != 1 || !strings.Contains(list, "reader01@example.org") || !strings.Contains(list, "550 5.1.1 (dsn)") {
		t.Fatalf("after the DSN went through the pipe, bounced:\n%s\nwant reader01 alone, with 550 5.1.1 (dsn)\nmaillog:\n%s", list, pf.maillog())
	}
	if got := sink.CountByRecipient(); len(got) != 3 {
		t.Errorf("sink got digests for %v, want the 3 accepted recipients (the DSN went to the pipe)", got)
	}
}
