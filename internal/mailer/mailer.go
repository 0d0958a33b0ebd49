// Package mailer builds and delivers papermail's mail. A Composer renders a
// Message to signed RFC 5322 bytes (headers and multipart/alternative
// with quoted-printable parts written directly, net/mail and mime for
// addresses and encoded-words, go-msgauth for DKIM); a Transport delivers
// Jobs, either over SMTP (go-mail's smtp client) with a
// pool of long-lived connections, a shared rate limit and retries with
// backoff, or into a Maildir for local use. SMTP failures are *Error
// values (stage, reply code, RFC 3463 enhanced code, the server's text);
// FaultOf says from those fields whose problem a failure is (the
// recipient's mailbox, the relay, our sender), which the digest's bounce
// policy and circuit breaker read.
package mailer

import (
	"context"
	"crypto/tls"
	"errors"
	"time"
)

// Message is one mail to render.
type Message struct {
	// From and ReplyTo are full addresses ("Name <a@b>"); ReplyTo is
	// optional.
	From, ReplyTo string
	// To is the bare recipient address.
	To string
	// ReturnPath is the envelope sender (MAIL FROM), where bounces go;
	// empty means the address of From. Not a header: the receiving system
	// adds Return-Path on delivery.
	ReturnPath string
	Subject    string
	// Text and HTML are the bodies; with both, the message is
	// multipart/alternative with the plain text part first.
	Text, HTML string
	// Date defaults to the time of composition.
	Date time.Time
	// MessageID is the id without angle brackets. Empty means a random id
	// on the From domain; Compose stores the generated id here.
	MessageID string
	// ListUnsubscribe is an https (or, for local use, http) URL. When set,
	// List-Unsubscribe and List-Unsubscribe-Post: List-Unsubscribe=One-Click
	// (RFC 8058) are added.
	ListUnsubscribe string
	// ListID is the List-Id value, e.g. "papermail digest <digest.example.org>".
	ListID string
	// Bulk adds Precedence: bulk (digests).
	Bulk bool
	// AutoSubmitted adds Auto-Submitted: auto-generated (transactional mail).
	AutoSubmitted bool
	// EntityRefID is sent as X-Entity-Ref-ID, unique per message so mail
	// clients do not thread digests together.
	EntityRefID string
}

// Config configures the SMTP transport.
type Config struct {
	Host string
	// Port defaults to config.SMTPPort(TLS).
	Port int
	// TLS is none (plain), starttls (STARTTLS required) or tls (implicit
	// TLS). Empty means starttls.
	TLS                string
	Username, Password string
	// Connections is the number of parallel connections (default 4).
	Connections int
	// MaxAttempts is how often one message is tried (default 5).
	MaxAttempts int
	// MaxPerConnection is how many messages one connection carries before
	// it is closed and re-dialed (default 100).
	MaxPerConnection int
	// RatePerSecond limits messages per second across all connections;
	// 0 means unlimited.
	RatePerSecond float64
	// Timeout bounds dialing and each single SMTP transaction (default 60s).
	Timeout time.Duration
	// HELO is the EHLO name; empty means the domain of the From address.
	HELO string
	// DKIM enables signing when NewSMTP builds its own Composer; nil means
	// no signing.
	DKIM *DKIMConfig
	// TLSConfig overrides the client TLS settings (tests, private CAs).
	TLSConfig *tls.Config
	// RetryBase is the first retry delay (default 1s); it doubles per
	// attempt, with jitter, up to RetryMax (default 30s).
	RetryBase, RetryMax time.Duration
	// UnavailableAfter is how long no connection may succeed before the
	// remaining jobs of a run fail fast as TempFailed with
	// ErrServerUnavailable instead of each waiting through its retries
	// (one worker keeps probing every RetryMax). Default: twice one job's
	// full retry schedule, at least 2·RetryMax.
	UnavailableAfter time.Duration
}

// DKIMConfig names the signing domain, selector and private key file.
type DKIMConfig struct {
	Domain, Selector, PrivateKeyFile string
}

// Result is the outcome of a Job.
type Result int

// Job results.
const (
	// Pending means the job has not been finished yet.
	Pending Result = iota
	// Sent means the server accepted the message.
	Sent
	// TempFailed means every attempt failed temporarily (or the context
	// ended first); the message may be tried again later.
	TempFailed
	// Bounced means the recipient was rejected permanently (5xx on RCPT).
	Bounced
	// Failed means another permanent error (5xx, invalid message).
	Failed
)

// String returns the lower-case name of r.
func (r Result) String() string {
	switch r {
	case Pending:
		return "pending"
	case Sent:
		return "sent"
	case TempFailed:
		return "tempfailed"
	case Bounced:
		return "bounced"
	case Failed:
		return "failed"
	}
	return "unknown"
}

// Job is one message to deliver. Ref is opaque to the mailer (the caller's
// subscriber id).
type Job struct {
	Ref uint64
	// Meta is opaque caller data, carried through unchanged.
	Meta any
	Msg  *Message
	// Raw is the composed message; when nil the transport composes Msg on
	// the first attempt and keeps the bytes here, so retries send the same
	// Message-ID.
	Raw []byte
	// Attempts counts delivery attempts, LastErr is the last error and
	// Result the outcome; the transport sets them before calling done.
	Attempts int
	LastErr  error
	Result   Result
}

// Transport delivers jobs.
//
// Deliver reads jobs from in until in is closed or ctx is done, delivers
// them with the configured concurrency and calls done exactly once per job
// received. For a sent message, done runs while the connection already
// transmits its next message, but that next message is not completed (the
// final "." of DATA is held back) until done has returned: so when done
// records the message durably, at most one accepted message per connection
// is ever unrecorded, and recording overlaps sending. done must be safe for
// concurrent calls. Deliver returns when every received job has had done called. When
// ctx is cancelled it stops starting new messages (jobs not attempted yet
// end as TempFailed with the context error) and lets in-flight
// transactions finish within the timeout. A producer must stop sending on
// in when ctx is done; Deliver no longer reads then.
type Transport interface {
	Deliver(ctx context.Context, in <-chan *Job, done func(*Job)) error
	Close() error
}

// Hooks observes delivery, e.g. for Prometheus metrics.
type Hooks struct {
	// OnAttempt is called after every attempt with result sent, retry
	// (temporary failure, will be tried again), bounced or failed
	// (permanent failure, or temporary with no attempts left), a short
	// low-cardinality reason (see Classify) and the attempt's duration.
	// May be nil; must be safe for concurrent calls.
	OnAttempt func(result, reason string, latency time.Duration)
}

func (h Hooks) attempt(result, reason string, d time.Duration) {
	if h.OnAttempt != nil {
		h.OnAttempt(result, reason, d)
	}
}

// ErrInvalidMessage marks a message that cannot be composed (missing or
// malformed field, header injection). It is a permanent failure.
var ErrInvalidMessage = errors.New("invalid message")

// ErrServerUnavailable marks jobs that were not attempted because no
// connection to the SMTP server could be set up for Config.UnavailableAfter
// (the server is down or misconfigured). Such jobs
// end as TempFailed; the recipient is not at fault.
var ErrServerUnavailable = errors.New("mailer: SMTP server unavailable")

// ErrClosed is returned by Deliver after Close.
var ErrClosed = errors.New("mailer: transport closed")

// DeliverOne delivers a single job through t and returns it finished; the
// error is the job's LastErr unless it was Sent.
func DeliverOne(ctx context.Context, t Transport, j *Job) error {
	in := make(chan *Job, 1)
	in <- j
	close(in)
	if err := t.Deliver(ctx, in, func(*Job) {}); err != nil && j.Result == Pending {
		return err
	}
	if j.Result == Sent {
		return nil
	}
	if j.LastErr == nil {
		return errors.New("mailer: delivery ended as " + j.Result.String())
	}
	return j.LastErr
}
