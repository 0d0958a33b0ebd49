package mailer

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"syscall"
)

// Stage is the step of an SMTP exchange an Error happened in.
type Stage string

// SMTP stages named in errors and reasons.
const (
	StageDial     Stage = "dial"
	StageTLS      Stage = "tls"
	StageGreeting Stage = "greeting"
	StageEHLO     Stage = "ehlo"
	StageStartTLS Stage = "starttls"
	StageAuth     Stage = "auth"
	StageMail     Stage = "mail from"
	StageRcpt     Stage = "rcpt to"
	StageData     Stage = "data"
)

const (
	stageDial     = StageDial
	stageTLS      = StageTLS
	stageGreeting = StageGreeting
	stageEHLO     = StageEHLO
	stageStartTLS = StageStartTLS
	stageAuth     = StageAuth
	stageMail     = StageMail
	stageRcpt     = StageRcpt
	stageData     = StageData
)

// Error is a failed SMTP exchange: the stage it failed in and, when the
// server answered, its reply code, RFC 3463 enhanced status code and
// text. Callers decide retry and bounce from these fields (see FaultOf),
// never from the text.
type Error struct {
	Stage Stage
	// Code is the reply code (550); 0 when the server gave no reply
	// (connection refused or lost, timeout, TLS failure).
	Code int
	// Enhanced is the RFC 3463 status code leading the reply ("5.1.1");
	// empty when the reply had none.
	Enhanced string
	// Text is the server's words after the codes, lines joined by "; ".
	Text string
	// Err is the underlying error (a *textproto.Error for replies).
	Err error
}

// Error names the stage and the reply or the underlying error.
func (e *Error) Error() string {
	if e.Code == 0 {
		return "smtp " + string(e.Stage) + ": " + e.Err.Error()
	}
	return "smtp " + string(e.Stage) + ": " + e.Reply()
}

// Reply is the server's reply as one line: "550 5.1.1 no such user"; empty
// when there was no reply.
func (e *Error) Reply() string {
	if e.Code == 0 {
		return ""
	}
	s := strconv.Itoa(e.Code)
	if e.Enhanced != "" {
		s += " " + e.Enhanced
	}
	if e.Text != "" {
		s += " " + e.Text
	}
	return s
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Permanent reports a 5xx reply.
func (e *Error) Permanent() bool { return e.Code >= 500 && e.Code < 600 }

// Temporary reports anything but a 5xx reply: a 4xx reply or no reply at
// all; the same message may succeed later.
func (e *Error) Temporary() bool { return !e.Permanent() }

// Key identifies the kind of reply for telling many recipients refused
// the same way apart from single refusals: "550 5.1.1"; "" without a reply.
func (e *Error) Key() string {
	if e.Code == 0 {
		return ""
	}
	return strings.TrimSpace(strconv.Itoa(e.Code) + " " + e.Enhanced)
}

// senderStage reports a stage that happens before any recipient is named:
// a refusal there is about us (relay, credentials, sender), never about
// the recipient.
func (e *Error) senderStage() bool {
	switch e.Stage {
	case StageDial, StageTLS, StageGreeting, StageEHLO, StageStartTLS, StageAuth, StageMail:
		return true
	}
	return false
}

// ErrRelayLacks marks a relay that does not offer what the configuration
// requires of it (see MismatchError).
var ErrRelayLacks = errors.New("mailer: the relay lacks what smtp requires")

// MismatchError is a relay that lacks what the smtp settings require:
// STARTTLS while smtp.tls is starttls, or AUTH (or a mechanism we speak,
// PLAIN or LOGIN) while smtp.username is set. Every connection meets it
// the same way until the operator changes the relay or the settings, so
// it is a permanent operator fault (FaultSender), never retried. It comes
// wrapped in an *Error of the stage (StageStartTLS, StageAuth) with no
// reply code.
type MismatchError struct {
	// Relay is the relay's host:port.
	Relay string
	// Lacks is what it does not offer: "STARTTLS", "AUTH", "AUTH PLAIN or
	// LOGIN".
	Lacks string
	// Offered is what it offers instead (its AUTH mechanisms), if anything.
	Offered string
	// Setting is the setting that requires it: "smtp.tls is starttls".
	Setting string
	// Fix says what the operator can change.
	Fix string
}

// Error names the relay, what it lacks and the setting that requires it.
func (e *MismatchError) Error() string {
	s := "relay " + e.Relay + " does not offer " + e.Lacks
	if e.Offered != "" {
		s += fmt.Sprintf(" (it offers %s)", e.Offered)
	}
	s += ", and " + e.Setting
	if e.Fix != "" {
		s += "; " + e.Fix
	}
	return s
}

// Unwrap makes errors.Is find ErrRelayLacks.
func (e *MismatchError) Unwrap() error { return ErrRelayLacks }

// staged wraps err as an *Error of stage, taking the reply apart when err
// is one.
func staged(stage Stage, err error) error {
	if err == nil {
		return nil
	}
	e := &Error{Stage: stage, Err: err}
	var te *textproto.Error
	if errors.As(err, &te) {
		e.Code = te.Code
		e.Enhanced, e.Text = splitReply(te.Msg)
	}
	return e
}

// splitReply separates the enhanced status code leading a reply's text
// from the words. Continuation lines often repeat the code; it is dropped
// from each.
func splitReply(msg string) (enhanced, text string) {
	lines := strings.Split(strings.ReplaceAll(msg, "\r", ""), "\n")
	words := make([]string, 0, len(lines))
	for i, line := range lines {
		code, rest, _ := strings.Cut(strings.TrimSpace(line), " ")
		if c := enhancedCode(code); c != "" {
			if i == 0 {
				enhanced = c
			}
			line = rest
		}
		if line = strings.TrimSpace(line); line != "" {
			words = append(words, line)
		}
	}
	return enhanced, strings.Join(words, "; ")
}

// Fault says whose problem a failed delivery is; it decides whether a
// subscriber is charged with it.
type Fault int

// Faults, from FaultOf.
const (
	// FaultNone: not a failure (nil error).
	FaultNone Fault = iota
	// FaultTransient: no usable reply (connection refused or lost,
	// timeout, TLS, server unavailable, cancelled) or a temporary reply
	// that names nobody (421, 451 without a status code). Retry later;
	// nobody is charged.
	FaultTransient
	// FaultMailbox: the recipient's mailbox does not exist or is disabled
	// (5.1.x, 5.2.1, a plain 550/551/553 at RCPT). A hard bounce.
	FaultMailbox
	// FaultMailboxSoft: the mailbox exists but cannot take mail now
	// (4.2.x, 5.2.2 mailbox full, a plain 450/552 at RCPT). Counts toward
	// a bounce only when it repeats over days.
	FaultMailboxSoft
	// FaultRelay: the relay or the receiving system refuses for its own
	// reasons (system 4.3/5.3, routing 4.4/5.4, protocol 5.5, content
	// 5.6, policy 4.7/5.7, a plain 554): the operator's problem.
	FaultRelay
	// FaultSender: the exchange failed before any recipient was named
	// with a reply from the server (AUTH, MAIL FROM, EHLO, greeting), an
	// authentication reply (530, 535), or the relay lacks what the
	// settings require (ErrRelayLacks: no STARTTLS, no usable AUTH): every
	// message will fail the same way until the operator fixes the
	// configuration.
	FaultSender
	// FaultMessage: the message could not be composed (ErrInvalidMessage).
	FaultMessage
)

// String returns the lower-case name of f.
func (f Fault) String() string {
	switch f {
	case FaultNone:
		return "none"
	case FaultTransient:
		return "transient"
	case FaultMailbox:
		return "mailbox"
	case FaultMailboxSoft:
		return "mailbox-soft"
	case FaultRelay:
		return "relay"
	case FaultSender:
		return "sender"
	case FaultMessage:
		return "message"
	}
	return "unknown"
}

// Operator reports a fault only the operator can fix (relay, policy,
// credentials, sender).
func (f Fault) Operator() bool { return f == FaultRelay || f == FaultSender }

// FaultOf sorts a delivery error by whose problem it is, from the reply
// code, the enhanced status code (RFC 3463) and the stage; never from the
// server's words.
func FaultOf(err error) Fault {
	if err == nil {
		return FaultNone
	}
	if errors.Is(err, ErrInvalidMessage) {
		return FaultMessage
	}
	if errors.Is(err, ErrRelayLacks) {
		return FaultSender
	}
	var e *Error
	if !errors.As(err, &e) || e.Code == 0 {
		return FaultTransient
	}
	switch e.Code {
	case 530, 534, 535, 538:
		return FaultSender
	}
	if e.senderStage() {
		if e.Code == 421 {
			return FaultTransient // closing the channel says nothing of the sender
		}
		return FaultSender
	}
	class, subject, detail := parseEnhanced(e.Enhanced)
	if class == 0 || subject == 0 && detail == 0 {
		// No enhanced code (or x.0.0): the basic code is all there is.
		switch {
		case e.Code == 550 || e.Code == 551 || e.Code == 553:
			if e.Stage == StageRcpt {
				return FaultMailbox // "user unknown"
			}
			return FaultRelay
		case e.Code == 450 || e.Code == 552:
			if e.Stage == StageRcpt {
				return FaultMailboxSoft
			}
			return FaultRelay
		case e.Permanent():
			return FaultRelay
		default:
			return FaultTransient // 421, 451, 452: try again
		}
	}
	switch subject {
	case 1: // addressing
		switch {
		case detail == 7 || detail == 8:
			return FaultSender // the sender's address or domain
		case e.Permanent():
			return FaultMailbox
		default:
			return FaultTransient
		}
	case 2: // mailbox
		switch {
		case detail == 3:
			return FaultRelay // message longer than the mailbox takes
		case detail == 1 && e.Permanent():
			return FaultMailbox
		default:
			return FaultMailboxSoft // full, or disabled for now
		}
	}
	return FaultRelay
}

// parseEnhanced returns the three numbers of an enhanced status code, or
// zeros.
func parseEnhanced(code string) (class, subject, detail int) {
	parts := strings.Split(code, ".")
	if len(parts) != 3 {
		return 0, 0, 0
	}
	var n [3]int
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil {
			return 0, 0, 0
		}
		n[i] = v
	}
	return n[0], n[1], n[2]
}

// Classify sorts a delivery error for the transport: temporary errors (4xx
// replies, dropped connections, timeouts, refused connections, failures
// while setting up a connection without a permanent reply, except a relay
// lacking what the settings require, ErrRelayLacks) are worth retrying; bounce means the recipient's mailbox was refused permanently
// (FaultMailbox); everything else is a permanent failure. reason is short
// and low-cardinality ("rcpt to 550 5.1.1", "timeout", "connection
// refused") for metrics and logs.
func Classify(err error) (temporary bool, bounce bool, reason string) {
	if err == nil {
		return false, false, ""
	}
	if errors.Is(err, ErrInvalidMessage) {
		return false, false, "invalid message"
	}
	if me := (*MismatchError)(nil); errors.As(err, &me) {
		return false, false, "relay lacks " + me.Lacks
	}
	if errors.Is(err, ErrServerUnavailable) {
		return true, false, "server unavailable"
	}
	if errors.Is(err, context.Canceled) {
		return true, false, "canceled"
	}
	var se *Error
	if errors.As(err, &se) && se.Code != 0 {
		reason = string(se.Stage) + " " + se.Key()
		switch {
		case FaultOf(se) == FaultMailbox:
			return false, true, reason
		case se.Permanent():
			return false, false, reason
		default:
			return true, false, reason
		}
	}
	stage := Stage("")
	if se != nil {
		stage = se.Stage
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
	case connLost(err):
		return true, false, "connection lost"
	case errors.As(err, &certErr), errors.As(err, &uaErr), errors.As(err, &hostErr), errors.As(err, &recErr),
		stage == stageTLS, stage == stageStartTLS:
		return true, false, "tls"
	case stage != "":
		return true, false, string(stage)
	}
	return true, false, "error"
}

// enhancedCode returns code when it is an RFC 3463 status ("5.1.1"), or "".
func enhancedCode(code string) string {
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

// connLost reports an error that means the connection went away.
func connLost(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed)
}
