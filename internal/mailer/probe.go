package mailer

import (
	"context"
)

// Probe asks the relay whether it takes mail from the envelope sender from
// for the recipient to, and sends none: a connection set up as for
// delivery (TLS, EHLO, STARTTLS, AUTH), MAIL FROM, RCPT TO, then RSET and
// QUIT, never DATA. nil means the relay accepted the recipient; otherwise
// the *Error says at which stage and with which reply it refused. The
// digest's circuit breaker probes with an address the relay must accept to
// tell a relay refusing everyone from many refused mailboxes. A probe
// counts against smtp.rate_per_second like a message.
func (s *SMTP) Probe(ctx context.Context, from, to string) error {
	if s.closed.Load() {
		return ErrClosed
	}
	if err := s.limiter.Wait(ctx); err != nil {
		return err
	}
	w := &worker{s: s, r: &run{ctx: ctx}}
	if err := w.connect(from); err != nil {
		return err
	}
	defer w.quit()
	c := w.c
	if err := c.UpdateDeadline(s.cfg.Timeout); err != nil {
		return staged(stageMail, err)
	}
	if err := c.Mail("<" + from + ">"); err != nil {
		return staged(stageMail, err)
	}
	if err := c.Rcpt("<" + to + ">"); err != nil {
		return staged(stageRcpt, err)
	}
	// Accepted. Nothing was sent: RSET ends the transaction and a failing
	// RSET changes nothing about the answer (QUIT follows anyway).
	_ = c.Reset()
	return nil
}
