package bounce

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func parseFile(t *testing.T, name string) (*Report, error) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return Parse(bytes.NewReader(b))
}

func TestParseDSN(t *testing.T) {
	tests := []struct {
		file     string
		rcpt     Recipient
		original Original
		to       string
	}{
		{"postfix-user-unknown.eml",
			Recipient{Final: "gone.reader@example.org", Original: "gone.reader@example.org", Action: "failed", Status: "5.1.1", Code: 550,
				Diagnostic: "550 5.1.1 <gone.reader@example.org>: Recipient address rejected: User unknown in virtual mailbox table", RemoteMTA: "mail.example.org"},
			Original{MessageID: "5d1c0e7a9b2f4c6e8a1b3d5f@papers.example.org", EntityRefID: "0f3e5a7c9b1d2f4e6a8c0b2d", ReturnPath: "digest@papers.example.org",
				From: `"papermail" <digest@papers.example.org>`, To: "gone.reader@example.org"},
			"digest@papers.example.org"},
		{"ses-user-unknown.eml",
			Recipient{Final: "nobody.here@example.com", Action: "failed", Status: "5.1.1", Code: 550,
				Diagnostic: "550 5.1.1 The email account that you tried to reach does not exist.", RemoteMTA: "mx.example.com"},
			Original{MessageID: "8a6c4e2f0b9d7a5c3e1f0a2b@papers.example.org", EntityRefID: "7a9c1e3f5b7d9f1a3c5e7a9c", ReturnPath: "bounces@papers.example.org",
				From: "papermail <digest@papers.example.org>", To: "nobody.here@example.com"},
			"bounces@papers.example.org"},
		{"postfix-delayed.eml",
			Recipient{Final: "gone.reader@example.org", Original: "gone.reader@example.org", Action: "delayed", Status: "4.4.1",
				Diagnostic: "connect to mail.example.org[192.0.2.25]:25: Connection timed out", RemoteMTA: "mail.example.org"},
			Original{MessageID: "5d1c0e7a9b2f4c6e8a1b3d5f@papers.example.org", EntityRefID: "0f3e5a7c9b1d2f4e6a8c0b2d", ReturnPath: "digest@papers.example.org",
				From: `"papermail" <digest@papers.example.org>`, To: "gone.reader@example.org"},
			"digest@papers.example.org"},
		{"multiline-reply-user-unknown.eml", // nested human part, a multi-line reply quoted with 550-
			Recipient{Final: "no.such.person@mail.example.com", Action: "failed", Status: "5.1.1", Code: 550,
				Diagnostic: "550-5.1.1 The account you tried to write to does not exist. 550-5.1.1 Please check the address for typing mistakes or spaces. 550 5.1.1 a1b2c3 - inbound",
				RemoteMTA:  "in1.mail.example.com. (192.0.2.44, the server for the domain mail.example.com.)"},
			Original{MessageID: "e1f2a3b4c5d6e7f8a9b0c1d2@papers.example.org", ReturnPath: "bounces+7.20261203.abcdefghijklmnop@papers.example.org",
				From: "papermail <digest@papers.example.org>", To: "no.such.person@mail.example.com"},
			"bounces+7.20261203.abcdefghijklmnop@papers.example.org"},
		{"sendmail-mailbox-full.eml", // base64 delivery-status, upper-case types
			Recipient{Final: "full.box@example.org", Action: "failed", Status: "5.2.2", Code: 552, Diagnostic: "552 5.2.2 Mailbox full", RemoteMTA: "mail.example.org"},
			Original{MessageID: "c3e5a7b9d1f3a5c7e9b1d3f5@papers.example.org", From: "papermail <digest@papers.example.org>", To: "full.box@example.org"},
			"digest@papers.example.org"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			rep, err := parseFile(t, tc.file)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Kind != DSN || len(rep.Recipients) != 1 || rep.Feedback != nil {
				t.Fatalf("report %+v, want a DSN with one recipient", rep)
			}
			if got := rep.Recipients[0]; got != tc.rcpt {
				t.Errorf("recipient\n got %+v\nwant %+v", got, tc.rcpt)
			}
			if rep.Original != tc.original {
				t.Errorf("original\n got %+v\nwant %+v", rep.Original, tc.original)
			}
			if len(rep.To) == 0 || rep.To[0] != tc.to {
				t.Errorf("to %v, want %s first", rep.To, tc.to)
			}
		})
	}
}

func TestParseComplaint(t *testing.T) {
	rep, err := parseFile(t, "arf-abuse.eml")
	if err != nil {
		t.Fatal(err)
	}
	want := &Feedback{Type: "abuse", UserAgent: "ExampleFBL/2.1", OriginalMailFrom: "digest@papers.example.org",
		OriginalRcptTo: []string{"annoyed.reader@example.com"}, ArrivalDate: "Thu, 03 Dec 2026 07:02:09 +0000"}
	if rep.Kind != Complaint || !reflect.DeepEqual(rep.Feedback, want) || len(rep.Recipients) != 0 {
		t.Errorf("report %+v feedback %+v", rep, rep.Feedback)
	}
	if rep.Original.MessageID != "2b4d6f8a0c1e3a5c7e9b1d3f@papers.example.org" || rep.Original.To != "annoyed.reader@example.com" {
		t.Errorf("original %+v", rep.Original)
	}
}

func TestParseNotReport(t *testing.T) {
	for _, raw := range []string{"", "garbage", "Subject: x\n\nhello", "Content-Type: multipart/report; boundary=x\n\n--x\nContent-Type: text/plain\n\nno report\n--x--\n"} {
		if _, err := Parse(strings.NewReader(raw)); !errors.Is(err, ErrNotReport) {
			t.Errorf("Parse(%q) = %v, want ErrNotReport", raw, err)
		}
	}
	if _, err := parseFile(t, "not-a-report.eml"); !errors.Is(err, ErrNotReport) {
		t.Errorf("plain reply: %v, want ErrNotReport", err)
	}
}

func TestReadSources(t *testing.T) {
	mbox, err := Read(filepath.Join("testdata", "three.mbox"), nil, false)
	if err != nil || len(mbox) != 3 {
		t.Fatalf("mbox: %d messages, %v", len(mbox), err)
	}
	kinds := []Kind{}
	for _, m := range mbox {
		rep, err := Parse(bytes.NewReader(m.Raw))
		if err != nil {
			kinds = append(kinds, 0)
			continue
		}
		kinds = append(kinds, rep.Kind)
	}
	if !reflect.DeepEqual(kinds, []Kind{DSN, Complaint, 0}) {
		t.Errorf("mbox kinds %v", kinds)
	}
	if !bytes.Contains(mbox[0].Raw, []byte("\nFrom: MAILER-DAEMON")) {
		t.Errorf("the first message lost its From header")
	}

	one, err := os.ReadFile(filepath.Join("testdata", "ses-user-unknown.eml"))
	if err != nil {
		t.Fatal(err)
	}
	stdin, err := Read("-", bytes.NewReader(one), false)
	if err != nil || len(stdin) != 1 || !bytes.Equal(stdin[0].Raw, one) {
		t.Fatalf("stdin: %d messages, %v", len(stdin), err)
	}

	dir := t.TempDir()
	for _, sub := range []string{"new", "cur", "tmp"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(dir, "new", "1.a"), one, 0o644)
	os.WriteFile(filepath.Join(dir, "cur", "2.b:2,S"), one, 0o644)
	os.WriteFile(filepath.Join(dir, "tmp", "3.c"), one, 0o644) // being written: not read
	if md, err := Read(dir, nil, true); err != nil || len(md) != 2 {
		t.Fatalf("maildir with seen: %d messages, %v", len(md), err)
	}
	md, err := Read(dir, nil, false)
	if err != nil || len(md) != 1 || filepath.Base(md[0].Name) != "1.a" {
		t.Fatalf("maildir: %+v, %v; want only new/1.a", md, err)
	}
	if err := MarkSeen(append(md, mbox...)); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "cur", "1.a:2,S")); err != nil {
		t.Errorf("the new message was not moved to cur/ as seen: %v", err)
	}
	if again, err := Read(dir, nil, false); err != nil || len(again) != 0 {
		t.Errorf("after MarkSeen new/ still has %d messages (%v)", len(again), err)
	}
	if _, err := Read(t.TempDir(), nil, false); err == nil {
		t.Error("an empty directory read as a Maildir")
	}
	if _, err := Read(filepath.Join(dir, "missing"), nil, false); err == nil {
		t.Error("a missing file read without error")
	}
}

func TestVERP(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	v, err := NewVERP("bounces@papers.example.org", secret)
	if err != nil {
		t.Fatal(err)
	}
	addr := v.Address(123456, "2026-12-03")
	at := strings.IndexByte(addr, '@')
	if !strings.HasPrefix(addr, "bounces+123456.20261203.") || at > 64 || addr[at:] != "@papers.example.org" {
		t.Fatalf("address %q", addr)
	}
	for _, in := range []string{addr, strings.ToUpper(addr), "<" + addr + ">"} {
		id, date, ok, err := v.Parse(in)
		if !ok || err != nil || id != 123456 || date != "2026-12-03" {
			t.Errorf("Parse(%q) = %d %q %v %v", in, id, date, ok, err)
		}
	}
	other, _ := NewVERP("bounces@papers.example.org", []byte("another secret of 16+ bytes"))
	forged := []string{
		other.Address(123456, "2026-12-03"),                                              // another key
		strings.Replace(addr, "123456.", "123457.", 1),                                   // another subscriber
		strings.Replace(addr, "20261203", "20261204", 1),                                 // another date
		addr[:at-1] + string("ab"[(strings.Index("ab", addr[at-1:at])+1)%2]) + addr[at:], // one letter changed
	}
	for _, f := range forged {
		if _, _, ok, err := v.Parse(f); ok || !errors.Is(err, ErrForged) {
			t.Errorf("Parse(%q) = %v %v, want ErrForged", f, ok, err)
		}
	}
	for _, plain := range []string{"bounces@papers.example.org", "digest@papers.example.org", "bounces+x@other.example.org", "nobody"} {
		if _, _, ok, err := v.Parse(plain); ok || err != nil {
			t.Errorf("Parse(%q) = %v %v, want not a VERP address", plain, ok, err)
		}
	}
	if _, err := NewVERP("bounces+x@example.org", secret); err == nil {
		t.Error("a base with '+' was accepted")
	}
}

// FuzzParse: no input panics, and a report always has a kind.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		rep, err := Parse(bytes.NewReader(b))
		if err == nil && rep.Kind != DSN && rep.Kind != Complaint {
			t.Fatalf("report without a kind: %+v", rep)
		}
		for _, m := range split("fuzz", b) {
			_, _ = Parse(bytes.NewReader(m.Raw))
		}
	})
}

// FuzzVERPParse: no address panics, and only addresses Address made
// parse, back to what they were made from.
func FuzzVERPParse(f *testing.F) {
	v, err := NewVERP("bounces@papers.example.org", []byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(v.Address(42, "2026-12-03"))
	f.Add("bounces+1.20261203.aaaaaaaaaaaaaaaa@papers.example.org")
	f.Add("<BOUNCES+18446744073709551615.99999999.x@PAPERS.EXAMPLE.ORG>")
	f.Fuzz(func(t *testing.T, addr string) {
		id, date, ok, err := v.Parse(addr)
		if ok {
			if err != nil || !strings.EqualFold(strings.Trim(strings.TrimSpace(addr), "<>"), v.Address(id, date)) {
				t.Fatalf("Parse(%q) = %d %q %v %v", addr, id, date, ok, err)
			}
		}
	})
}
