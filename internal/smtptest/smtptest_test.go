package smtptest

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// send delivers one message over an open client.
func send(c *smtp.Client, from, to, body string) error {
	if err := c.Mail(from, nil); err != nil {
		return err
	}
	if err := c.Rcpt(to, nil); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write([]byte(body)); err != nil {
		return err
	}
	return w.Close()
}

func dial(t *testing.T, s *Server) *smtp.Client {
	t.Helper()
	c, err := smtp.Dial(s.Addr())
	if err != nil {
		t.Fatalf("dial %s: %v", s.Addr(), err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func smtpCode(err error) int {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return se.Code
	}
	return 0
}

const body = "Subject: hi\r\n\r\nhello\r\n"

func TestRecordsMessages(t *testing.T) {
	s := StartT(t, Options{})
	c := dial(t, s)
	for i := range 3 {
		if err := send(c, "a@example.org", fmt.Sprintf("r%d@example.net", i%2), body); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	if err := c.Quit(); err != nil {
		t.Fatalf("quit: %v", err)
	}
	if !s.WaitFor(3, time.Second) || s.Count() != 3 {
		t.Fatalf("count = %d, want 3", s.Count())
	}
	msgs := s.Messages()
	if msgs[0].From != "a@example.org" || msgs[0].To[0] != "r0@example.net" || !bytes.Equal(msgs[0].Data, []byte(body)) {
		t.Errorf("first message = %+v", msgs[0])
	}
	if msgs[0].Helo != "localhost" {
		t.Errorf("helo = %q", msgs[0].Helo)
	}
	if msgs[2].Conn != 0 || msgs[2].Size != len(body) {
		t.Errorf("third message conn/size = %d/%d", msgs[2].Conn, msgs[2].Size)
	}
	if got := s.CountByRecipient(); got["r0@example.net"] != 2 || got["r1@example.net"] != 1 {
		t.Errorf("by recipient = %v", got)
	}
	if got := s.MessagesPerConn(); len(got) != 1 || got[0] != 3 {
		t.Errorf("per conn = %v", got)
	}
	if s.Bytes() != int64(3*len(body)) {
		t.Errorf("bytes = %d", s.Bytes())
	}
	if !s.WaitIdle(time.Second) {
		t.Error("connection still open after QUIT")
	}
}

func TestFaults(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		// run sends with a fresh client per message and returns the SMTP codes.
		sends    int
		wantCode []int
		wantKept int
	}{
		{"evenly spread temp failures", Options{TempFailRate: 0.5}, 4, []int{0, 451, 0, 451}, 2},
		{"reject chosen recipient", Options{RejectRcpt: func(r string) *smtp.SMTPError {
			if strings.HasPrefix(r, "bad") {
				return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
			}
			return nil
		}}, 2, []int{550, 0}, 1},
		{"temp fail rcpt twice", Options{TempFailRcpt: func(_ string, attempt int) bool { return attempt <= 2 }}, 3, []int{451, 451, 0}, 1},
		{"per connection limit", Options{MaxMessagesPerConn: 2}, 3, []int{0, 0, 421}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := StartT(t, tc.opts)
			c := dial(t, s)
			for i := range tc.sends {
				to := "good@example.net"
				if i == 0 {
					to = "bad@example.net"
				}
				if tc.opts.TempFailRcpt != nil {
					to = "same@example.net"
				}
				err := send(c, "a@example.org", to, body)
				if code := smtpCode(err); code != tc.wantCode[i] {
					t.Fatalf("send %d: code %d (%v), want %d", i, code, err, tc.wantCode[i])
				}
				if err != nil {
					_ = c.Reset()
				}
			}
			if s.Count() != tc.wantKept {
				t.Errorf("kept %d, want %d", s.Count(), tc.wantKept)
			}
		})
	}
}

func TestSeededTempFailsAreReproducible(t *testing.T) {
	run := func() []int {
		s := StartT(t, Options{TempFailRate: 0.3, Seed: 42})
		c := dial(t, s)
		var codes []int
		for range 20 {
			codes = append(codes, smtpCode(send(c, "a@example.org", "b@example.net", body)))
		}
		return codes
	}
	a, b := run(), run()
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Fatalf("same seed gave %v and %v", a, b)
	}
	fails := strings.Count(fmt.Sprint(a), "451")
	if fails == 0 || fails == 20 {
		t.Fatalf("seeded 30%% failure rate failed %d of 20", fails)
	}
}

func TestCutMidData(t *testing.T) {
	s := StartT(t, Options{CutMidData: func(n int) bool { return n == 1 }})
	c := dial(t, s)
	long := "Subject: x\r\n\r\n" + strings.Repeat("line of text\r\n", 200)
	if err := send(c, "a@example.org", "b@example.net", long); err == nil {
		t.Fatal("first message should fail when the connection is cut")
	}
	c2 := dial(t, s)
	if err := send(c2, "a@example.org", "b@example.net", long); err != nil {
		t.Fatalf("second message: %v", err)
	}
	if s.Count() != 1 || s.Messages()[0].Conn != 1 {
		t.Fatalf("messages = %d, conn of first kept = %d", s.Count(), s.Messages()[0].Conn)
	}
}

func TestStartDelay(t *testing.T) {
	s := StartT(t, Options{StartDelay: 300 * time.Millisecond})
	early := dial(t, s)
	if err := early.Hello("client.example"); smtpCode(err) != 421 {
		t.Fatalf("greeting before the start delay: %v, want 421", err)
	}
	time.Sleep(350 * time.Millisecond)
	c := dial(t, s)
	if err := send(c, "a@example.org", "b@example.net", body); err != nil {
		t.Fatalf("send after delay: %v", err)
	}
	if got := len(s.MessagesPerConn()); got != 1 {
		t.Errorf("turned-away connections must not be tracked; have %d", got)
	}
}

func TestAuth(t *testing.T) {
	for _, mech := range []string{sasl.Plain, sasl.Login} {
		t.Run(mech, func(t *testing.T) {
			s := StartT(t, Options{AuthUser: "u", AuthPass: "p", AuthMechanisms: []string{mech}})
			c := dial(t, s)
			if err := send(c, "a@example.org", "b@example.net", body); smtpCode(err) != 502 {
				t.Fatalf("unauthenticated send: %v, want 502", err)
			}
			_ = c.Reset()
			var bad, good sasl.Client
			if mech == sasl.Plain {
				bad, good = sasl.NewPlainClient("", "u", "x"), sasl.NewPlainClient("", "u", "p")
			} else {
				bad, good = sasl.NewLoginClient("u", "x"), sasl.NewLoginClient("u", "p")
			}
			if err := c.Auth(bad); smtpCode(err) != 535 {
				t.Fatalf("bad password: %v, want 535", err)
			}
			if err := c.Auth(good); err != nil {
				t.Fatalf("auth: %v", err)
			}
			if err := send(c, "a@example.org", "b@example.net", body); err != nil {
				t.Fatalf("authenticated send: %v", err)
			}
		})
	}
}

func TestTLSModes(t *testing.T) {
	for _, mode := range []string{"starttls", "tls"} {
		t.Run(mode, func(t *testing.T) {
			s := StartT(t, Options{TLS: mode, RequireTLS: true})
			var c *smtp.Client
			var err error
			if mode == "tls" {
				c, err = smtp.DialTLS(s.Addr(), s.ClientTLSConfig())
			} else {
				c, err = smtp.DialStartTLS(s.Addr(), s.ClientTLSConfig())
			}
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			defer c.Close()
			if _, ok := c.TLSConnectionState(); !ok {
				t.Fatal("connection is not encrypted")
			}
			if err := send(c, "a@example.org", "b@example.net", body); err != nil {
				t.Fatalf("send: %v", err)
			}
			if err := c.Quit(); err != nil {
				t.Fatalf("quit: %v", err)
			}
			if s.Count() != 1 || s.MaxConcurrentConns() != 1 {
				t.Fatalf("count %d, peak %d", s.Count(), s.MaxConcurrentConns())
			}
		})
	}
	s := StartT(t, Options{TLS: "starttls", RequireTLS: true})
	c := dial(t, s)
	if err := send(c, "a@example.org", "b@example.net", body); smtpCode(err) != 530 {
		t.Fatalf("plain send with RequireTLS: %v, want 530", err)
	}
	if _, err := Start(Options{TLS: "ssl"}); err == nil {
		t.Fatal("unknown TLS mode accepted")
	}
	if _, err := Start(Options{TempFailRate: 2}); err == nil {
		t.Fatal("TempFailRate 2 accepted")
	}
}

func TestConcurrencyAndDiscard(t *testing.T) {
	s := StartT(t, Options{Discard: true})
	const clients, each = 3, 5
	var wg, dialed sync.WaitGroup
	errs := make(chan error, clients)
	dialed.Add(clients)
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// go-smtp's client reads the greeting lazily, so Dial alone
			// does not mean the server has accepted: EHLO makes sure.
			c, err := smtp.Dial(s.Addr())
			if err == nil {
				err = c.Hello("localhost")
			}
			dialed.Done()
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			dialed.Wait() // all connections are accepted before anyone sends
			for range each {
				if err := send(c, "a@example.org", "b@example.net", body); err != nil {
					errs <- err
					return
				}
			}
			errs <- c.Quit()
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if s.Count() != clients*each || s.Bytes() != int64(clients*each*len(body)) {
		t.Fatalf("count %d bytes %d", s.Count(), s.Bytes())
	}
	if m := s.Messages()[0]; m.Data != nil || m.Size != len(body) {
		t.Errorf("discard mode kept data %q size %d", m.Data, m.Size)
	}
	if !s.WaitIdle(time.Second) {
		t.Fatal("connections still open")
	}
	if peak := s.MaxConcurrentConns(); peak != clients {
		t.Errorf("peak = %d, want %d", peak, clients)
	}
	// Sequential connections that QUIT before the next dial never overlap.
	s2 := StartT(t, Options{})
	for range 5 {
		c, err := smtp.Dial(s2.Addr())
		if err != nil {
			t.Fatal(err)
		}
		if err := send(c, "a@example.org", "b@example.net", body); err != nil {
			t.Fatal(err)
		}
		if err := c.Quit(); err != nil {
			t.Fatal(err)
		}
	}
	if !s2.WaitIdle(time.Second) {
		t.Fatal("connections still open")
	}
	if peak := s2.MaxConcurrentConns(); peak != 1 {
		t.Errorf("sequential peak = %d, want 1", peak)
	}
}

// TestCloseRightAfterStart: a server closed before any client connected
// (before its accept loop even ran) closes and does not hang.
func TestCloseRightAfterStart(t *testing.T) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 50 {
			s, err := Start(Options{})
			if err != nil {
				t.Error(err)
				return
			}
			if err := s.Close(); err != nil {
				t.Error(err)
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Close right after Start hung")
	}
}
