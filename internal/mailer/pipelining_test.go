package mailer

import (
	"bufio"
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// scripted is an SMTP server on 127.0.0.1 speaking the wire format with
// fixed replies to MAIL, RCPT and DATA, offering PIPELINING or not. It
// answers each command as it reads it, so pipelined commands get their
// replies in order. got counts the messages (not empty) it accepted,
// envelopes the MAIL commands.
type scripted struct {
	pipelining       bool
	mail, rcpt, data string // replies; data's 354 takes the message
	mu               sync.Mutex
	got              int
	envelopes        []string
	// early counts MAIL commands that came with the next command in
	// the same read (pipelined).
	early int
}

func (sc *scripted) serve(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go sc.conn(c)
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

func (sc *scripted) conn(c net.Conn) {
	defer c.Close()
	r, w := bufio.NewReader(c), bufio.NewWriter(c)
	reply := func(s string) { w.WriteString(s + "\r\n"); w.Flush() }
	reply("220 scripted ESMTP")
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"):
			if sc.pipelining {
				w.WriteString("250-scripted\r\n250-PIPELINING\r\n")
			} else {
				w.WriteString("250-scripted\r\n")
			}
			reply("250 8BITMIME")
		case strings.HasPrefix(cmd, "MAIL"):
			sc.mu.Lock()
			sc.envelopes = append(sc.envelopes, strings.TrimSpace(line))
			if r.Buffered() > 0 {
				sc.early++
			}
			sc.mu.Unlock()
			reply(sc.mail)
		case strings.HasPrefix(cmd, "RCPT"):
			reply(sc.rcpt)
		case cmd == "DATA":
			reply(sc.data)
			if !strings.HasPrefix(sc.data, "354") {
				continue
			}
			lines := 0
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				lines++
			}
			sc.mu.Lock()
			if lines > 0 {
				sc.got++
			}
			sc.mu.Unlock()
			reply("250 2.0.0 queued")
		case cmd == "QUIT":
			reply("221 bye")
			return
		default: // RSET, NOOP
			reply("250 ok")
		}
	}
}

// TestEnvelopeReplies: MAIL, RCPT and DATA sent in one write to a server
// offering PIPELINING, or one at a time to one that does not, give the
// same outcome and the stage of the first refusal; a DATA the server
// takes after a refused recipient sends an empty message, and the
// connection carries on.
func TestEnvelopeReplies(t *testing.T) {
	tests := []struct {
		name             string
		mail, rcpt, data string
		result           Result
		stage            Stage
		code             int
	}{
		{"accepted", "250 ok", "250 ok", "354 go on", Sent, "", 0},
		{"sender refused", "553 5.7.1 sender refused", "503 5.5.1 no MAIL", "503 5.5.1 no RCPT", Failed, StageMail, 553},
		{"mailbox unknown", "250 ok", "550 5.1.1 no such user", "554 5.5.1 no valid recipients", Bounced, StageRcpt, 550},
		{"mailbox unknown, DATA taken", "250 ok", "550 5.1.1 no such user", "354 go on", Bounced, StageRcpt, 550},
		{"DATA refused", "250 ok", "250 ok", "554 5.3.4 too big", Failed, StageData, 554},
	}
	for _, tc := range tests {
		for _, pipe := range []bool{true, false} {
			name := tc.name + map[bool]string{true: ", pipelined", false: ", one at a time"}[pipe]
			t.Run(name, func(t *testing.T) {
				sc := &scripted{pipelining: pipe, mail: tc.mail, rcpt: tc.rcpt, data: tc.data}
				port := sc.serve(t)
				cfg := Config{Host: "127.0.0.1", Port: port, TLS: "none", Connections: 1, MaxAttempts: 1, Timeout: 5 * time.Second}
				jobs := makeJobs(3)
				o := deliver(t, context.Background(), newSMTP(t, cfg, Hooks{}), jobs, nil)
				if o.err != nil || len(o.finished) != 3 {
					t.Fatalf("err %v, finished %d", o.err, len(o.finished))
				}
				for _, j := range jobs {
					var e *Error
					if j.Result != tc.result {
						t.Fatalf("job %d: %v (%v), want %v", j.Ref, j.Result, j.LastErr, tc.result)
					}
					if tc.code != 0 && (!errors.As(j.LastErr, &e) || e.Stage != tc.stage || e.Code != tc.code) {
						t.Fatalf("job %d: error %#v, want stage %s code %d", j.Ref, j.LastErr, tc.stage, tc.code)
					}
				}
				want := 0
				if tc.result == Sent {
					want = 3
				}
				sc.mu.Lock()
				defer sc.mu.Unlock()
				if sc.got != want {
					t.Errorf("server accepted %d messages, want %d", sc.got, want)
				}
				// One connection carried the three transactions.
				if len(sc.envelopes) != 3 || !strings.HasSuffix(sc.envelopes[0], "> BODY=8BITMIME") {
					t.Errorf("MAIL commands %q", sc.envelopes)
				}
				if want := map[bool]int{true: 3, false: 0}[pipe]; sc.early != want {
					t.Errorf("%d of 3 MAIL commands came with RCPT in one read, want %d", sc.early, want)
				}
			})
		}
	}
}
