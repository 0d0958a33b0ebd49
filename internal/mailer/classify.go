package mailer

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"syscall"
)

// SMTP stages named in errors and reasons.
const (
	stageDial     = "dial"
	stageTLS      = "tls"
	stageGreeting = "greeting"
	stageEHLO     = "ehlo"
	stageStartTLS = "starttls"
	stageAuth     = "auth"
	stageMail     = "mail from"
	stageRcpt     = "rcpt to"
	stageData     = "data"
)

// stageError records in which SMTP stage err happened.
type stageError struct {
	stage string
	err   error
}

// Error names the stage and the underlying error.
func (e *stageError) Error() string { return "smtp " + e.stage + ": " + e.err.Error() }

// Unwrap returns the underlying error.
func (e *stageError) Unwrap() error { return e.err }

func staged(stage string, err error) error {
	if err == nil {
		return nil
	}
	return &stageError{stage: stage, err: err}
}

// connStage reports whether stage belongs to setting up a connection. A
// failure there says nothing about the message, so it is never permanent.
func connStage(stage string) bool {
	switch stage {
	case stageDial, stageTLS, stageGreeting, stageEHLO, stageStartTLS, stageAuth:
		return true
	}
	return false
}

// Classify sorts a delivery error: temporary errors (4xx replies, dropped
// connections, timeouts, refused connections, any failure while setting up
// a connection) are worth retrying; bounce means the recipient was
// rejected permanently (5xx on RCPT, or an address status 5.1.x later);
// everything else is a permanent failure. reason is short and
// low-cardinality ("rcpt to 550 5.1.1", "timeout", "connection refused")
// for metrics and logs.
func Classify(err error) (temporary bool, bounce bool, reason string) {
	if err == nil {
		return false, false, ""
	}
	if errors.Is(err, ErrInvalidMessage) {
		return false, false, "invalid message"
	}
	if errors.Is(err, ErrServerUnavailable) {
		return true, false, "server unavailable"
	}
	if errors.Is(err, context.Canceled) {
		return true, false, "canceled"
	}
	stage := ""
	var se *stageError
	if errors.As(err, &se) {
		stage = se.stage
	}
	var te *textproto.Error
	if errors.As(err, &te) {
		enh := enhancedCode(te.Msg)
		reason = strings.TrimSpace(stage + " " + strconv.Itoa(te.Code) + " " + enh)
		switch {
		case te.Code >= 400 && te.Code < 500, connStage(stage), te.Code < 400:
			return true, false, reason
		case stage == stageRcpt, stage != stageMail && strings.HasPrefix(enh, "5.1."):
			return false, true, reason
		default:
			return false, false, reason
		}
	}
	var ne net.Error
	var certErr *tls.CertificateVerificationError
	var uaErr x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var recErr tls.RecordHeaderError
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return true, false, "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return true, false, "connection refused"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE), errors.Is(err, net.ErrClosed):
		return true, false, "connection lost"
	case errors.As(err, &certErr), errors.As(err, &uaErr), errors.As(err, &hostErr), errors.As(err, &recErr),
		stage == stageTLS, stage == stageStartTLS:
		return true, false, "tls"
	case stage != "":
		return true, false, stage
	}
	return true, false, "error"
}

// enhancedCode returns the RFC 3463 status ("5.1.1") leading msg, or "".
func enhancedCode(msg string) string {
	code, _, _ := strings.Cut(msg, " ")
	parts := strings.Split(code, ".")
	if len(parts) != 3 || len(parts[0]) != 1 || (parts[0] != "2" && parts[0] != "4" && parts[0] != "5") {
		return ""
	}
	for _, p := range parts[1:] {
		if len(p) == 0 || len(p) > 3 {
			return ""
		}
		for i := 0; i < len(p); i++ {
			if p[i] < '0' || p[i] > '9' {
				return ""
			}
		}
	}
	return code
}
