package mailer_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/papermail/papermail/internal/mailer"
	"github.com/papermail/papermail/internal/smtptest"
)

// TestProbe: a probe names the recipient to a real server and sends
// nothing; an accepted recipient is nil, a refused one the typed reply at
// RCPT, a refused sender the reply at MAIL FROM, and a server nobody
// listens on an error without a reply.
func TestProbe(t *testing.T) {
	t.Parallel()
	srv := smtptest.StartT(t, smtptest.Options{
		RejectRcpt: func(to string) *smtp.SMTPError {
			if to == "gone@example.org" {
				return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "User unknown"}
			}
			return nil
		},
		RejectMail: func(from string) *smtp.SMTPError {
			if from == "stranger@example.net" {
				return &smtp.SMTPError{Code: 553, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "Sender not owned"}
			}
			return nil
		},
	})
	tr, err := mailer.NewSMTP(mailer.Config{Host: "127.0.0.1", Port: srv.Port(), TLS: "none", Timeout: 5 * time.Second}, nil, mailer.Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tests := []struct {
		name, from, to string
		stage          mailer.Stage
		key            string
	}{
		{name: "accepted", from: "digest@example.org", to: "postmaster@example.org"},
		{name: "mailbox refused", from: "digest@example.org", to: "gone@example.org", stage: mailer.StageRcpt, key: "550 5.1.1"},
		{name: "sender refused", from: "stranger@example.net", to: "postmaster@example.org", stage: mailer.StageMail, key: "553 5.7.1"},
	}
	for _, tc := range tests {
		err := tr.Probe(ctx, tc.from, tc.to)
		var e *mailer.Error
		switch {
		case tc.key == "" && err != nil:
			t.Errorf("%s: Probe = %v, want accepted", tc.name, err)
		case tc.key != "" && (!errors.As(err, &e) || e.Stage != tc.stage || e.Key() != tc.key):
			t.Errorf("%s: Probe = %v, want %s at %s", tc.name, err, tc.key, tc.stage)
		}
	}
	if srv.RcptAttempts("postmaster@example.org") != 1 || srv.RcptAttempts("gone@example.org") != 1 {
		t.Errorf("RCPT attempts: %d, %d; want one each", srv.RcptAttempts("postmaster@example.org"), srv.RcptAttempts("gone@example.org"))
	}
	if srv.Count() != 0 {
		t.Errorf("a probe delivered %d messages", srv.Count())
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	down, err := mailer.NewSMTP(mailer.Config{Host: "127.0.0.1", Port: port, TLS: "none", Timeout: 2 * time.Second}, nil, mailer.Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	var e *mailer.Error
	if err := down.Probe(ctx, "digest@example.org", "postmaster@example.org"); err == nil || errors.As(err, &e) && e.Code != 0 {
		t.Errorf("probe of a closed port = %v, want an error without a reply", err)
	}
}
