package mailer

import (
	"bytes"
	"context"
	"errors"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

func TestMaildirDelivers(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "Maildir")
	sent := 0
	md, err := NewMaildir(dir, nil, Hooks{OnAttempt: func(result, _ string, _ time.Duration) {
		if result == "sent" {
			sent++
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	jobs := makeJobs(4)
	jobs[3].Msg.To = "broken"
	o := deliver(t, context.Background(), md, jobs, nil)
	if o.err != nil || o.count(Sent) != 3 || jobs[3].Result != Failed || !errors.Is(jobs[3].LastErr, ErrInvalidMessage) {
		t.Fatalf("err %v, sent %d, job 3 %v %v", o.err, o.count(Sent), jobs[3].Result, jobs[3].LastErr)
	}
	if sent != 3 {
		t.Errorf("hook saw %d sent", sent)
	}
	for _, sub := range []string{"tmp", "cur"} {
		if ents, err := os.ReadDir(filepath.Join(dir, sub)); err != nil || len(ents) != 0 {
			t.Errorf("%s/ has %d entries (%v)", sub, len(ents), err)
		}
	}
	ents, err := os.ReadDir(filepath.Join(dir, "new"))
	if err != nil || len(ents) != 3 {
		t.Fatalf("new/ has %d entries (%v)", len(ents), err)
	}
	name := regexp.MustCompile(`^\d+\.M\d+P\d+Q\d+\.[^/:]+$`)
	got := map[string]bool{}
	for _, e := range ents {
		if !name.MatchString(e.Name()) {
			t.Errorf("file name %q does not follow the Maildir convention", e.Name())
		}
		b, err := os.ReadFile(filepath.Join(dir, "new", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		m, err := mail.ReadMessage(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s does not parse: %v", e.Name(), err)
		}
		got[m.Header.Get("To")] = true
	}
	for i := range 3 {
		if !got["<"+rcpt(i)+">"] {
			t.Errorf("no file for %s (have %v)", rcpt(i), got)
		}
	}
}

func TestMaildirCancelAndErrors(t *testing.T) {
	md, err := NewMaildir(t.TempDir(), nil, Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := md.Deliver(ctx, make(chan *Job), func(*Job) {}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled Deliver returned %v", err)
	}
	_ = md.Close()
	if err := DeliverOne(context.Background(), md, makeJobs(1)[0]); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
	if _, err := NewMaildir("", nil, Hooks{}); err == nil {
		t.Error("empty path accepted")
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := NewMaildir(filepath.Join(file, "md"), nil, Hooks{}); err == nil {
		t.Error("maildir below a regular file accepted")
	}
}
