// Package smtptest runs a real SMTP server (github.com/emersion/go-smtp) on
// 127.0.0.1 that records every accepted message and can inject the faults a
// mail client must survive: temporary failures at the end of DATA or on
// RCPT, permanent recipient rejections, connections cut in the middle of
// DATA, a server that comes up late, per-connection message limits and
// authentication. Tests across the repository and the benchmark harness use
// it; it is a normal package so that non-test code can start it too.
package smtptest

import (
	"bytes"
	"cmp"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"maps"
	"math"
	"math/rand/v2"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Options configures a Server. The zero value is a plain, fault-free server
// that keeps every message.
type Options struct {
	// TempFailRate is the share (0..1) of DATA transactions answered with
	// 451 after the whole message was received. With Seed == 0 the failures
	// are spread evenly and deterministically (exactly ⌊n·rate⌋ of the first
	// n transactions fail); otherwise a PRNG seeded with Seed decides.
	TempFailRate float64
	// Seed selects random instead of evenly spread temporary failures.
	Seed int64
	// RejectRcpt, when it returns non-nil for a recipient, answers RCPT with
	// that error (for example 550 5.1.1).
	RejectRcpt func(rcpt string) *smtp.SMTPError
	// RcptReply, when it returns non-nil, answers RCPT with that reply,
	// temporary or permanent; attempt counts as for TempFailRcpt. It is
	// asked before RejectRcpt and may change its answers during a test (a
	// relay that is fixed).
	RcptReply func(rcpt string, attempt int) *smtp.SMTPError
	// RejectMail, when it returns non-nil for a sender, answers MAIL FROM
	// with that reply (a relay refusing the sender).
	RejectMail func(from string) *smtp.SMTPError
	// TempFailRcpt answers RCPT with 451 when it returns true. attempt is
	// 1 for the first RCPT for that recipient seen by the server, 2 for the
	// second and so on.
	TempFailRcpt func(rcpt string, attempt int) bool
	// CutMidData closes the connection in the middle of DATA of the n-th
	// DATA transaction overall (n starts at 1) when it returns true.
	CutMidData func(n int) bool
	// StartDelay makes the server late: until the delay has passed since
	// the first connection attempt, every connection is answered "421" and
	// closed. The delay runs from the client's first dial rather than from
	// Start, so a slow setup between Start and the first dial cannot use it
	// up: the first connection always meets the fault.
	StartDelay time.Duration
	// MaxMessagesPerConn, when > 0, is enforced like a relay does: a MAIL
	// beyond this many accepted messages on one connection gets 421 and is
	// counted by LimitViolations.
	MaxMessagesPerConn int
	// Discard is benchmark mode: messages are counted (and their bytes) but
	// no bodies are kept.
	Discard bool
	// AuthUser and AuthPass, when AuthUser is set, require authentication
	// before MAIL. Insecure authentication is allowed (loopback only).
	AuthUser, AuthPass string
	// AuthMechanisms lists the offered SASL mechanisms (PLAIN and/or
	// LOGIN); empty means PLAIN only.
	AuthMechanisms []string
	// TLS is "" (plain), "starttls" (offer STARTTLS) or "tls" (implicit
	// TLS). A self-signed certificate for 127.0.0.1 is generated; clients
	// get a matching config from Server.ClientTLSConfig.
	TLS string
	// RequireTLS refuses MAIL on connections that are not encrypted.
	RequireTLS bool
	// DataDelay makes the server wait this long after reading a message
	// before it answers DATA (a slow relay; gives tests time to act mid-run).
	DataDelay time.Duration
}

// Message is one message the server accepted.
type Message struct {
	From string
	To   []string
	// Data is the message as received (CRLF line endings); nil in Discard
	// mode.
	Data []byte
	// Size is len of the received message, also in Discard mode.
	Size int
	// Conn is the serial of the connection that carried the message,
	// starting at 0 in the order connections were accepted.
	Conn int
	// Helo is the EHLO/HELO name the client gave.
	Helo string
	At   time.Time
}

// Server is a running test SMTP server.
type Server struct {
	opts      Options
	srv       *smtp.Server
	ln        net.Listener
	addr      *net.TCPAddr
	readyAt   time.Time // zero until the first accept; only the accept loop touches it
	clientTLS *tls.Config
	served    chan struct{}

	seq atomic.Int64 // orders accepts and reads for the concurrency sweep

	mu         sync.Mutex
	msgs       []Message
	byRcpt     map[string]int
	rcptTries  map[string]int
	conns      []*trackedConn
	perConn    []int
	dataCount  int
	bytes      int64
	violations int
	rng        *rand.Rand
	changed    chan struct{} // closed and replaced on every message or closed connection
	closed     bool
}

// Start starts a server on 127.0.0.1 with a free port.
func Start(opts Options) (*Server, error) {
	if opts.TempFailRate < 0 || opts.TempFailRate > 1 || math.IsNaN(opts.TempFailRate) {
		return nil, fmt.Errorf("smtptest: TempFailRate %v is outside 0..1", opts.TempFailRate)
	}
	s := &Server{
		opts:      opts,
		byRcpt:    make(map[string]int),
		rcptTries: make(map[string]int),
		changed:   make(chan struct{}),
		served:    make(chan struct{}),
	}
	if opts.Seed != 0 {
		s.rng = rand.New(rand.NewPCG(uint64(opts.Seed), uint64(opts.Seed)^0x9e3779b97f4a7c15))
	}
	srv := smtp.NewServer(smtp.BackendFunc(s.newSession))
	srv.Domain = "smtptest.local"
	srv.AllowInsecureAuth = true
	srv.MaxMessageBytes = 64 << 20
	srv.ReadTimeout = time.Minute
	srv.WriteTimeout = time.Minute
	srv.ErrorLog = log.New(io.Discard, "", 0)

	var serverTLS *tls.Config
	switch opts.TLS {
	case "":
	case "starttls", "tls":
		var err error
		serverTLS, s.clientTLS, err = selfSigned()
		if err != nil {
			return nil, err
		}
		if opts.TLS == "starttls" {
			srv.TLSConfig = serverTLS
		}
	default:
		return nil, fmt.Errorf("smtptest: unknown TLS mode %q (want \"\", starttls or tls)", opts.TLS)
	}
	s.srv = srv

	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("smtptest: listen on 127.0.0.1: %w", err)
	}
	s.addr = raw.Addr().(*net.TCPAddr)
	var ln net.Listener = &trackingListener{Listener: raw, s: s, implicitTLS: opts.TLS == "tls"}
	if opts.TLS == "tls" {
		ln = tls.NewListener(ln, serverTLS)
	}
	s.ln = ln
	go func() {
		defer close(s.served)
		_ = srv.Serve(ln)
	}()
	return s, nil
}

// StartT starts a server for a test and closes it when the test ends.
func StartT(t testing.TB, opts Options) *Server {
	t.Helper()
	s, err := Start(opts)
	if err != nil {
		t.Fatalf("start test SMTP server: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// Addr is the server's "127.0.0.1:port".
func (s *Server) Addr() string { return s.addr.String() }

// Host is "127.0.0.1".
func (s *Server) Host() string { return s.addr.IP.String() }

// Port is the listening port.
func (s *Server) Port() int { return s.addr.Port }

// ClientTLSConfig returns a client TLS config that trusts the server's
// self-signed certificate, or nil when the server does not use TLS.
func (s *Server) ClientTLSConfig() *tls.Config {
	if s.clientTLS == nil {
		return nil
	}
	return s.clientTLS.Clone()
}

// Close stops the server and closes all connections.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	err := s.srv.Close()
	// Closed before Serve took the listener, the server would not know
	// it: Serve would then wait in Accept for ever.
	_ = s.ln.Close()
	<-s.served
	if errors.Is(err, smtp.ErrServerClosed) {
		err = nil
	}
	return err
}

// Messages returns a copy of the accepted messages in acceptance order.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.msgs)
}

// CountByRecipient returns how many accepted messages each recipient got.
func (s *Server) CountByRecipient() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.byRcpt)
}

// Count is the number of accepted messages.
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.msgs)
}

// Bytes is the total size of the accepted messages.
func (s *Server) Bytes() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bytes
}

// RcptAttempts is how many RCPT commands the server saw for rcpt,
// including rejected ones.
func (s *Server) RcptAttempts(rcpt string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rcptTries[rcpt]
}

// LimitViolations counts MAIL commands refused because a connection had
// already carried Options.MaxMessagesPerConn messages.
func (s *Server) LimitViolations() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.violations
}

// WaitFor waits until at least n messages were accepted and reports
// whether that happened within timeout.
func (s *Server) WaitFor(n int, timeout time.Duration) bool {
	return s.waitUntil(timeout, func() bool { return len(s.msgs) >= n })
}

// WaitIdle waits until every accepted connection has been closed and
// reports whether that happened within timeout.
func (s *Server) WaitIdle(timeout time.Duration) bool {
	return s.waitUntil(timeout, func() bool {
		return !slices.ContainsFunc(s.conns, func(c *trackedConn) bool { return !c.closed.Load() })
	})
}

// waitUntil waits until done, called with s.mu held, is true on a
// message or a closed connection, and reports whether that happened
// within timeout.
func (s *Server) waitUntil(timeout time.Duration, done func() bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		ok, ch := done(), s.changed
		s.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-ch:
		case <-deadline.C:
			return false
		}
	}
}

// Conns is the number of connections the server accepted (those turned
// away while it was late not counted).
func (s *Server) Conns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// MessagesPerConn returns the number of accepted messages per connection,
// indexed by connection serial.
func (s *Server) MessagesPerConn() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.perConn)
}

// MaxConcurrentConns is the peak number of simultaneous connections. A
// connection counts from its accept until the last command the server read
// on it, so a client that sends QUIT and then dials again is not counted
// twice even if the server closes the old socket a moment later.
func (s *Server) MaxConcurrentConns() int {
	s.mu.Lock()
	type ev struct {
		at    int64
		delta int
	}
	evs := make([]ev, 0, 2*len(s.conns))
	for _, c := range s.conns {
		evs = append(evs, ev{c.start, 1})
		if c.closed.Load() {
			evs = append(evs, ev{max(c.lastRead.Load(), c.start), -1})
		}
	}
	s.mu.Unlock()
	// Starts sort before an end with the same sequence (a connection whose
	// only event is its accept still counts once).
	slices.SortFunc(evs, func(a, b ev) int { return cmp.Or(cmp.Compare(a.at, b.at), b.delta-a.delta) })
	cur, peak := 0, 0
	for _, e := range evs {
		cur += e.delta
		peak = max(peak, cur)
	}
	return peak
}

func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// trackingListener gives every accepted connection a serial and records its
// lifetime; while the server is "late" it turns connections away.
type trackingListener struct {
	net.Listener
	s           *Server
	implicitTLS bool
}

// Accept returns the next connection the server is ready for.
func (l *trackingListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.s.readyAt.IsZero() {
			l.s.readyAt = time.Now().Add(l.s.opts.StartDelay)
		}
		if time.Now().Before(l.s.readyAt) {
			if !l.implicitTLS {
				_ = c.SetWriteDeadline(time.Now().Add(time.Second))
				_, _ = io.WriteString(c, "421 4.3.2 smtptest: service not available yet\r\n")
			}
			_ = c.Close()
			continue
		}
		tc := &trackedConn{Conn: c, s: l.s, start: l.s.seq.Add(1)}
		l.s.mu.Lock()
		tc.serial = len(l.s.conns)
		l.s.conns = append(l.s.conns, tc)
		l.s.perConn = append(l.s.perConn, 0)
		l.s.mu.Unlock()
		return tc, nil
	}
}

type trackedConn struct {
	net.Conn
	s        *Server
	serial   int
	start    int64
	lastRead atomic.Int64
	closed   atomic.Bool
}

// Read records when the client last sent something.
func (c *trackedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.lastRead.Store(c.s.seq.Add(1))
	}
	return n, err
}

// Close closes the connection and wakes WaitIdle.
func (c *trackedConn) Close() error {
	err := c.Conn.Close()
	if !c.closed.Swap(true) {
		c.s.mu.Lock()
		c.s.notifyLocked()
		c.s.mu.Unlock()
	}
	return err
}

// tracked finds our connection under a TLS layer.
func tracked(nc net.Conn) *trackedConn {
	for {
		switch x := nc.(type) {
		case *trackedConn:
			return x
		case *tls.Conn:
			nc = x.NetConn()
		default:
			return nil
		}
	}
}

type session struct {
	s      *Server
	conn   *smtp.Conn
	tc     *trackedConn
	authed bool
	from   string
	to     []string
}

func (s *Server) newSession(c *smtp.Conn) (smtp.Session, error) {
	tc := tracked(c.Conn())
	if tc == nil {
		return nil, errors.New("smtptest: untracked connection")
	}
	return &session{s: s, conn: c, tc: tc}, nil
}

// AuthMechanisms implements smtp.AuthSession.
func (ss *session) AuthMechanisms() []string {
	if ss.s.opts.AuthUser == "" {
		return nil
	}
	if len(ss.s.opts.AuthMechanisms) == 0 {
		return []string{sasl.Plain}
	}
	return ss.s.opts.AuthMechanisms
}

// Auth implements smtp.AuthSession.
func (ss *session) Auth(mech string) (sasl.Server, error) {
	if !slices.Contains(ss.AuthMechanisms(), mech) {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	check := func(user, pass string) error {
		if user != ss.s.opts.AuthUser || pass != ss.s.opts.AuthPass {
			return smtp.ErrAuthFailed
		}
		ss.authed = true
		return nil
	}
	if mech == sasl.Login {
		return &loginServer{check: check}, nil
	}
	return sasl.NewPlainServer(func(identity, user, pass string) error {
		if identity != "" && identity != user {
			return smtp.ErrAuthFailed
		}
		return check(user, pass)
	}), nil
}

// Mail implements smtp.Session: authentication, TLS and per-connection limits.
func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	o := &ss.s.opts
	if o.AuthUser != "" && !ss.authed {
		return smtp.ErrAuthRequired
	}
	if o.RequireTLS {
		if _, ok := ss.conn.TLSConnectionState(); !ok {
			return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Must issue a STARTTLS command first"}
		}
	}
	if o.MaxMessagesPerConn > 0 {
		s := ss.s
		s.mu.Lock()
		over := s.perConn[ss.tc.serial] >= o.MaxMessagesPerConn
		if over {
			s.violations++
		}
		s.mu.Unlock()
		if over {
			return &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 7, 0}, Message: "Too many messages on this connection"}
		}
	}
	if o.RejectMail != nil {
		if err := o.RejectMail(from); err != nil {
			return err
		}
	}
	ss.from = from
	ss.to = ss.to[:0]
	return nil
}

// Rcpt implements smtp.Session with the recipient faults.
func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s := ss.s
	s.mu.Lock()
	s.rcptTries[to]++
	attempt := s.rcptTries[to]
	s.mu.Unlock()
	if f := s.opts.RcptReply; f != nil {
		if err := f(to, attempt); err != nil {
			return err
		}
	}
	if f := s.opts.TempFailRcpt; f != nil && f(to, attempt) {
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try again later (smtptest)"}
	}
	if f := s.opts.RejectRcpt; f != nil {
		if err := f(to); err != nil {
			return err
		}
	}
	ss.to = append(ss.to, to)
	return nil
}

// Data implements smtp.Session: cut, temporary failure or record.
func (ss *session) Data(r io.Reader) error {
	s := ss.s
	s.mu.Lock()
	s.dataCount++
	n := s.dataCount
	s.mu.Unlock()

	if f := s.opts.CutMidData; f != nil && f(n) {
		_, _ = io.CopyN(io.Discard, r, 256)
		_ = ss.conn.Conn().Close()
		return errors.New("smtptest: connection cut mid-DATA")
	}

	var data []byte
	var size int64
	var err error
	if s.opts.Discard {
		size, err = io.Copy(io.Discard, r)
	} else {
		var buf bytes.Buffer
		size, err = buf.ReadFrom(r)
		data = buf.Bytes()
	}
	if err != nil {
		return err
	}
	if s.opts.DataDelay > 0 {
		time.Sleep(s.opts.DataDelay)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tempFailLocked(n) {
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Temporary failure, try again (smtptest)"}
	}
	m := Message{From: ss.from, To: append([]string(nil), ss.to...), Data: data, Size: int(size), Conn: ss.tc.serial, Helo: ss.conn.Hostname(), At: time.Now()}
	s.msgs = append(s.msgs, m)
	for _, rc := range m.To {
		s.byRcpt[rc]++
	}
	s.perConn[ss.tc.serial]++
	s.bytes += size
	s.notifyLocked()
	return nil
}

// tempFailLocked decides whether the n-th DATA transaction fails.
func (s *Server) tempFailLocked(n int) bool {
	rate := s.opts.TempFailRate
	if rate <= 0 {
		return false
	}
	if s.rng != nil {
		return s.rng.Float64() < rate
	}
	return math.Floor(float64(n)*rate) > math.Floor(float64(n-1)*rate)
}

// Reset implements smtp.Session.
func (ss *session) Reset() {
	ss.from = ""
	ss.to = ss.to[:0]
}

// Logout implements smtp.Session.
func (ss *session) Logout() error { return nil }

// loginServer is the server side of the LOGIN SASL mechanism.
type loginServer struct {
	check func(user, pass string) error
	user  string
	step  int
}

// Next implements sasl.Server.
func (l *loginServer) Next(resp []byte) ([]byte, bool, error) {
	switch l.step {
	case 0:
		l.step++
		if len(resp) > 0 { // initial response carries the user name
			l.user = string(resp)
			l.step++
			return []byte("Password:"), false, nil
		}
		return []byte("Username:"), false, nil
	case 1:
		l.user = string(resp)
		l.step++
		return []byte("Password:"), false, nil
	case 2:
		l.step++
		return nil, true, l.check(l.user, string(resp))
	default:
		return nil, false, errors.New("smtptest: unexpected LOGIN response " + strconv.Quote(string(resp)))
	}
}
