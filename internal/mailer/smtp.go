package mailer

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wneessen/go-mail/smtp"
	"golang.org/x/time/rate"

	"github.com/papermail/papermail/internal/backoff"
	"github.com/papermail/papermail/internal/config"
)

// Retry delays of a zero Config (not configurable; the other defaults
// are internal/config's).
const (
	DefaultRetryBase = time.Second
	DefaultRetryMax  = 30 * time.Second
)

// SMTP delivers jobs over SMTP: Config.Connections workers, each with its
// own long-lived connection, a token bucket shared by all of them, and a
// delayed-retry queue so a job waiting for its retry never holds back the
// rest of the run.
type SMTP struct {
	cfg     Config
	comp    *Composer
	hooks   Hooks
	addr    string
	tls     *tls.Config
	limiter *rate.Limiter // smtp.rate_per_second, one token at most
	closed  atomic.Bool
}

// NewSMTP checks cfg, fills in defaults and returns the transport. comp ==
// nil builds a Composer from cfg.DKIM.
func NewSMTP(cfg Config, comp *Composer, hooks Hooks) (*SMTP, error) {
	if cfg.Host == "" {
		return nil, errors.New("mailer: SMTP host is empty")
	}
	cfg.TLS = strings.ToLower(strings.TrimSpace(cfg.TLS))
	switch cfg.TLS {
	case "":
		cfg.TLS = config.DefaultSMTPTLS
	case "none", "starttls", "tls":
	default:
		return nil, fmt.Errorf("mailer: SMTP tls mode %q is not none, starttls or tls", cfg.TLS)
	}
	if cfg.Port == 0 {
		cfg.Port = config.SMTPPort(cfg.TLS)
	}
	if cfg.Port < 1 || cfg.Port > 65535 {
		return nil, fmt.Errorf("mailer: SMTP port %d is out of range", cfg.Port)
	}
	for _, f := range []struct {
		name string
		v    *int
		def  int
	}{{"connections", &cfg.Connections, config.DefaultConnections}, {"max_attempts", &cfg.MaxAttempts, config.DefaultMaxAttempts},
		{"max_per_connection", &cfg.MaxPerConnection, config.DefaultMaxPerConnection}} {
		if *f.v < 0 {
			return nil, fmt.Errorf("mailer: SMTP %s is negative (%d)", f.name, *f.v)
		}
		if *f.v == 0 {
			*f.v = f.def
		}
	}
	if cfg.RatePerSecond < 0 {
		return nil, fmt.Errorf("mailer: SMTP rate per second is negative (%v)", cfg.RatePerSecond)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = config.DefaultSMTPTimeout
	}
	if cfg.RetryBase <= 0 {
		cfg.RetryBase = DefaultRetryBase
	}
	if cfg.RetryMax <= 0 {
		cfg.RetryMax = DefaultRetryMax
	}
	cfg.RetryMax = max(cfg.RetryMax, cfg.RetryBase)
	if cfg.UnavailableAfter <= 0 {
		// Twice the longest time one job spends waiting through its retries.
		retry := backoff.Policy{Base: cfg.RetryBase, Max: cfg.RetryMax}
		cfg.UnavailableAfter = 2 * max(retry.Longest(cfg.MaxAttempts-1), cfg.RetryMax)
	}
	if cfg.HELO != "" && !printableASCII(cfg.HELO, " ") {
		return nil, fmt.Errorf("mailer: SMTP helo name %q must be printable ASCII without spaces", cfg.HELO)
	}
	if comp == nil {
		var err error
		if comp, err = NewComposer(cfg.DKIM); err != nil {
			return nil, err
		}
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.TLSConfig != nil {
		tc = cfg.TLSConfig.Clone()
	}
	if tc.ServerName == "" {
		tc.ServerName = cfg.Host
	}
	s := &SMTP{cfg: cfg, comp: comp, hooks: hooks, addr: net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)), tls: tc}
	s.limiter = rate.NewLimiter(rate.Inf, 1)
	if cfg.RatePerSecond > 0 {
		s.limiter = rate.NewLimiter(rate.Limit(cfg.RatePerSecond), 1)
	}
	return s, nil
}

// Config returns the effective configuration (defaults filled in).
func (s *SMTP) Config() Config { return s.cfg }

// retry is the backoff between redials and before a temporarily refused
// message is tried again (Config.RetryBase, Config.RetryMax).
func (s *SMTP) retry() backoff.Policy {
	return backoff.Policy{Base: s.cfg.RetryBase, Max: s.cfg.RetryMax}
}

// Close makes further Deliver calls fail; connections belong to a Deliver
// call and are closed when it returns.
func (s *SMTP) Close() error {
	s.closed.Store(true)
	return nil
}

// Deliver implements Transport. It returns ErrClosed after Close, the
// context's error when ctx ended before in was closed, and nil otherwise.
func (s *SMTP) Deliver(ctx context.Context, in <-chan *Job, done func(*Job)) error {
	if s.closed.Load() {
		return ErrClosed
	}
	r := newRun(ctx, done, s.cfg)
	go r.feed(in)
	var wg sync.WaitGroup
	for range s.cfg.Connections {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := &worker{s: s, r: r}
			defer w.quit()
			defer w.awaitPrev()
			for {
				select {
				case j := <-r.work:
					w.handle(j)
				case <-r.allDone:
					return
				}
			}
		}()
	}
	wg.Wait()
	if !r.inputComplete.Load() {
		return ctx.Err()
	}
	return nil
}

// run is the bookkeeping of one Deliver call.
type run struct {
	ctx           context.Context
	done          func(*Job)
	work          chan *Job
	allDone       chan struct{}
	inputComplete atomic.Bool // in was closed (not abandoned on cancel)

	mu         sync.Mutex
	pending    int // received and not finished
	inputEnded bool
	canceled   bool
	timers     map[*Job]*time.Timer

	// Server health: while no connection could be set up for longer than
	// giveUpAfter, jobs fail fast instead of each waiting through its own
	// retries; one worker probes the server every probeEvery.
	giveUpAfter, probeEvery time.Duration
	downSince, nextProbe    time.Time
	lastConnErr             error
	// lacks is the first ErrRelayLacks a connection met: the relay will
	// not be usable as configured, so no further connection is tried.
	lacks error
}

func newRun(ctx context.Context, done func(*Job), cfg Config) *run {
	r := &run{ctx: ctx, done: done, work: make(chan *Job), allDone: make(chan struct{}), timers: make(map[*Job]*time.Timer),
		giveUpAfter: cfg.UnavailableAfter, probeEvery: cfg.RetryMax}
	go func() {
		select {
		case <-ctx.Done():
			r.flush()
		case <-r.allDone:
		}
	}()
	return r
}

// feed hands jobs from in to the workers until in is closed or ctx ends.
func (r *run) feed(in <-chan *Job) {
	defer r.endInput()
	for {
		select {
		case <-r.ctx.Done():
			return
		case j, ok := <-in:
			if !ok {
				r.inputComplete.Store(true)
				return
			}
			if j == nil {
				continue
			}
			r.mu.Lock()
			r.pending++
			r.mu.Unlock()
			select {
			case r.work <- j:
			case <-r.ctx.Done():
				r.cancel(j)
				return
			}
		}
	}
}

func (r *run) endInput() {
	r.mu.Lock()
	r.inputEnded = true
	r.checkLocked()
	r.mu.Unlock()
}

func (r *run) checkLocked() {
	if r.inputEnded && r.pending == 0 {
		select {
		case <-r.allDone:
		default:
			close(r.allDone)
		}
	}
}

// finish records the outcome and calls done.
func (r *run) finish(j *Job, res Result, err error) {
	j.Result, j.LastErr = res, err
	r.done(j)
	r.mu.Lock()
	r.pending--
	r.checkLocked()
	r.mu.Unlock()
}

// cancel finishes a job that will not be attempted again because ctx ended.
func (r *run) cancel(j *Job) {
	err := r.ctx.Err()
	if err == nil {
		err = context.Canceled
	}
	if j.LastErr != nil {
		err = fmt.Errorf("%w (last attempt: %w)", err, j.LastErr)
	}
	r.finish(j, TempFailed, err)
}

// retryLater puts j back into the work queue after delay.
func (r *run) retryLater(j *Job, delay time.Duration) {
	r.mu.Lock()
	if r.canceled {
		r.mu.Unlock()
		r.cancel(j)
		return
	}
	r.timers[j] = time.AfterFunc(delay, func() {
		r.mu.Lock()
		delete(r.timers, j)
		r.mu.Unlock()
		select {
		case r.work <- j:
		case <-r.ctx.Done():
			r.cancel(j)
		}
	})
	r.mu.Unlock()
}

// flush finishes every job still waiting for a retry once ctx has ended.
func (r *run) flush() {
	r.mu.Lock()
	r.canceled = true
	var stopped []*Job
	for j, t := range r.timers {
		if t.Stop() {
			stopped = append(stopped, j)
		}
		delete(r.timers, j)
	}
	r.mu.Unlock()
	for _, j := range stopped {
		r.cancel(j)
	}
}

// connResult records whether setting up a connection worked.
func (r *run) connResult(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err == nil {
		r.downSince, r.lastConnErr = time.Time{}, nil
		return
	}
	if errors.Is(err, ErrRelayLacks) {
		if r.lacks == nil {
			r.lacks = err
		}
		return
	}
	if r.downSince.IsZero() {
		r.downSince = time.Now()
	}
	r.lastConnErr = err
}

// unavailable returns an error when the server has been unreachable for
// longer than a job's whole retry schedule and it is not time to probe.
func (r *run) unavailable() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	if r.downSince.IsZero() || now.Sub(r.downSince) < r.giveUpAfter {
		return nil
	}
	if !now.Before(r.nextProbe) {
		r.nextProbe = now.Add(r.probeEvery)
		return nil // this caller probes
	}
	return fmt.Errorf("%w: no connection for %v: %w", ErrServerUnavailable, now.Sub(r.downSince).Round(time.Millisecond), r.lastConnErr)
}

// lacking returns the ErrRelayLacks a connection of this run met, if any.
func (r *run) lacking() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lacks
}

// worker owns one connection.
type worker struct {
	s *SMTP
	r *run
	c *smtp.Client
	n int // transactions started on c
	// pipelining is whether c's server offers PIPELINING; mailParams
	// are MAIL FROM's parameters for it (BODY=8BITMIME, SMTPUTF8 when
	// offered, as go-mail's Client.Mail sends them).
	pipelining bool
	mailParams string
	connFails  int // consecutive failures to set up a connection
	// prev is closed when done has returned for this worker's last sent
	// message; nil when nothing is outstanding.
	prev chan struct{}
	out  []byte // the DATA being sent, kept for the next message
	// from and returnPath are the last From and Return-Path parsed: a
	// run sends every message from the same ones (but VERP's).
	from, returnPath lastAddress
}

// lastAddress remembers the address of the last value parsed.
type lastAddress struct{ in, addr string }

// address returns the bare address of v (as net/mail parses it).
func (l *lastAddress) address(v string) (string, error) {
	if l.in == v && l.addr != "" {
		return l.addr, nil
	}
	a, err := mail.ParseAddress(v)
	if err != nil {
		return "", err
	}
	l.in, l.addr = v, a.Address
	return a.Address, nil
}

// awaitPrev waits until done has returned for the last sent message.
func (w *worker) awaitPrev() {
	if w.prev != nil {
		<-w.prev
		w.prev = nil
	}
}

// finishSent calls done for a sent job in the background; the worker's next
// message waits for it before its final dot (see Transport).
func (w *worker) finishSent(j *Job) {
	w.awaitPrev()
	ch := make(chan struct{})
	w.prev = ch
	go func() {
		defer close(ch)
		w.r.finish(j, Sent, nil)
	}()
}

func (w *worker) handle(j *Job) {
	s, r := w.s, w.r
	if r.ctx.Err() != nil {
		r.cancel(j)
		return
	}
	if j.Msg == nil {
		s.hooks.attempt("failed", "invalid message", 0)
		r.finish(j, Failed, fmt.Errorf("%w: job %d has no message", ErrInvalidMessage, j.Ref))
		return
	}
	if j.Raw == nil {
		raw, err := s.comp.Compose(j.Msg)
		if err != nil {
			s.hooks.attempt("failed", "invalid message", 0)
			r.finish(j, Failed, err)
			return
		}
		j.Raw = raw
	}
	fromAddr, err1 := w.from.address(j.Msg.From)
	to, err2 := mail.ParseAddress(j.Msg.To)
	var err3 error
	sender := fromAddr
	if j.Msg.ReturnPath != "" {
		sender, err3 = w.returnPath.address(j.Msg.ReturnPath)
	}
	if err := errors.Join(err1, err2, err3); err != nil {
		s.hooks.attempt("failed", "invalid message", 0)
		r.finish(j, Failed, fmt.Errorf("%w: envelope of job %d: %w", ErrInvalidMessage, j.Ref, err))
		return
	}

	if w.c == nil {
		if err := r.lacking(); err != nil {
			// Another connection found the relay lacks what the settings
			// require: dialing again would meet the same.
			_, _, reason := Classify(err)
			s.hooks.attempt("failed", reason, 0)
			r.finish(j, Failed, err)
			return
		}
		if err := r.unavailable(); err != nil {
			s.hooks.attempt("failed", "server unavailable", 0)
			r.finish(j, TempFailed, err)
			return
		}
		if w.connFails > 0 && !sleep(r.ctx, s.retry().Delay(w.connFails)) {
			r.cancel(j)
			return
		}
		start := time.Now()
		err := w.connect(fromAddr)
		if err != nil && r.ctx.Err() != nil {
			r.cancel(j)
			return
		}
		r.connResult(err)
		if err != nil {
			w.connFails++
			j.Attempts++
			w.outcome(j, err, time.Since(start))
			return
		}
		w.connFails = 0
	}
	if err := s.limiter.Wait(r.ctx); err != nil {
		r.cancel(j)
		return
	}
	start := time.Now()
	j.Attempts++
	reused := w.n > 0
	err := w.transact(sender, to.Address, j.Raw)
	if err != nil && reused && w.c == nil && staleConn(err) {
		// The server had dropped the idle connection before we started:
		// not the message's fault. Re-dial once and try again.
		cerr := w.connect(fromAddr)
		r.connResult(cerr)
		if cerr != nil {
			err = cerr
		} else {
			err = w.transact(sender, to.Address, j.Raw)
		}
	}
	w.outcome(j, err, time.Since(start))
	if w.c != nil && w.n >= s.cfg.MaxPerConnection {
		w.quit()
	}
}

// outcome reports an attempt and finishes or re-queues the job.
func (w *worker) outcome(j *Job, err error, d time.Duration) {
	s, r := w.s, w.r
	if err == nil {
		s.hooks.attempt("sent", "", d)
		w.finishSent(j)
		return
	}
	temp, bounce, reason := Classify(err)
	switch {
	case bounce:
		s.hooks.attempt("bounced", reason, d)
		r.finish(j, Bounced, err)
	case !temp:
		s.hooks.attempt("failed", reason, d)
		r.finish(j, Failed, err)
	case j.Attempts >= s.cfg.MaxAttempts:
		s.hooks.attempt("failed", reason, d)
		r.finish(j, TempFailed, fmt.Errorf("gave up after %d attempts: %w", j.Attempts, err))
	default:
		s.hooks.attempt("retry", reason, d)
		j.LastErr = err
		r.retryLater(j, s.retry().Delay(j.Attempts))
	}
}

// staleConn reports whether err at MAIL FROM means the connection was
// already gone (closed by the server while idle).
func staleConn(err error) bool {
	var se *Error
	if !errors.As(err, &se) || se.Stage != stageMail {
		return false
	}
	if se.Code != 0 {
		return se.Code == 421
	}
	return connLost(err)
}

// connect dials and sets up a connection: TLS, EHLO, STARTTLS, AUTH.
func (w *worker) connect(fromAddr string) error {
	s := w.s
	ctx, cancel := context.WithTimeout(w.r.ctx, s.cfg.Timeout)
	defer cancel()
	d := net.Dialer{Timeout: s.cfg.Timeout}
	conn, err := d.DialContext(ctx, "tcp", s.addr)
	if err != nil {
		return staged(stageDial, err)
	}
	_ = conn.SetDeadline(time.Now().Add(s.cfg.Timeout))
	if s.cfg.TLS == "tls" {
		tc := tls.Client(conn, s.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			_ = conn.Close()
			return staged(stageTLS, err)
		}
		conn = tc
	}
	c, err := smtp.NewClient(conn, s.cfg.Host)
	if err != nil {
		_ = conn.Close()
		return staged(stageGreeting, err)
	}
	fail := func(stage Stage, err error) error {
		_ = c.Close()
		return staged(stage, err)
	}
	helo := s.cfg.HELO
	if helo == "" {
		if helo = domainOf(fromAddr); helo == "" {
			helo = "localhost"
		}
	}
	if err := c.Hello(helo); err != nil {
		return fail(stageEHLO, err)
	}
	if err := c.Noop(); err != nil { // sends EHLO and surfaces its error
		return fail(stageEHLO, err)
	}
	if s.cfg.TLS == "starttls" {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return fail(stageStartTLS, &MismatchError{Relay: s.addr, Lacks: "STARTTLS", Setting: "smtp.tls is starttls",
				Fix: "use a relay port that offers it, smtp.tls: tls for implicit TLS, or smtp.tls: none to send unencrypted"})
		}
		if err := c.StartTLS(s.tls); err != nil {
			return fail(stageStartTLS, err)
		}
	}
	if s.cfg.Username != "" {
		ok, mechs := c.Extension("AUTH")
		if !ok {
			return fail(stageAuth, &MismatchError{Relay: s.addr, Lacks: "AUTH", Setting: "smtp.username is set",
				Fix: "unset smtp.username and smtp.password if the relay needs no login, or use its submission port"})
		}
		var a smtp.Auth
		switch fields := " " + strings.ToUpper(mechs) + " "; {
		case strings.Contains(fields, " PLAIN "):
			a = smtp.PlainAuth("", s.cfg.Username, s.cfg.Password, s.cfg.Host, false)
		case strings.Contains(fields, " LOGIN "):
			a = smtp.LoginAuth(s.cfg.Username, s.cfg.Password, s.cfg.Host, false)
		default:
			return fail(stageAuth, &MismatchError{Relay: s.addr, Lacks: "AUTH PLAIN or LOGIN", Offered: "AUTH " + strings.TrimSpace(mechs),
				Setting: "smtp.username is set", Fix: "papermail logs in with PLAIN or LOGIN only"})
		}
		if err := c.Auth(a); err != nil {
			return fail(stageAuth, err)
		}
	}
	w.c, w.n = c, 0
	w.pipelining, _ = c.Extension("PIPELINING")
	w.mailParams = ""
	if ok, _ := c.Extension("8BITMIME"); ok {
		w.mailParams += " BODY=8BITMIME"
	}
	if ok, _ := c.Extension("SMTPUTF8"); ok {
		w.mailParams += " SMTPUTF8"
	}
	return nil
}

// transact sends one message on the open connection. After a failure the
// connection is reset (reply errors) or discarded (anything else).
func (w *worker) transact(from, to string, raw []byte) (err error) {
	c := w.c
	if c == nil {
		return staged(stageMail, errors.New("no connection"))
	}
	if strings.ContainsAny(from+to, "\r\n") {
		return staged(stageMail, fmt.Errorf("%w: a line break in the envelope", ErrInvalidMessage))
	}
	if err := c.UpdateDeadline(w.s.cfg.Timeout); err != nil {
		w.discard()
		return staged(stageMail, err)
	}
	w.n++
	defer func() {
		if err == nil {
			return
		}
		var te *textproto.Error
		if errors.As(err, &te) && te.Code != 421 && c.Reset() == nil {
			return
		}
		w.discard()
	}()
	if err := w.envelope(from, to); err != nil {
		return err
	}
	return staged(stageData, w.data(raw))
}

// envelope sends MAIL, RCPT and DATA and reads their replies: all three
// in one write when the server offers PIPELINING (RFC 2920), else one at
// a time. The error is the first refusal, with its stage.
func (w *worker) envelope(from, to string) error {
	t := w.c.Text
	cmds := [...]struct {
		stage Stage
		line  string
		code  int // 25 takes 250 and 251
	}{{stageMail, "MAIL FROM:<" + from + ">" + w.mailParams + "\r\n", 250}, {stageRcpt, "RCPT TO:<" + to + ">\r\n", 25}, {stageData, "DATA\r\n", 354}}
	if w.pipelining {
		for _, cmd := range cmds {
			t.W.WriteString(cmd.line)
		}
		if err := t.W.Flush(); err != nil {
			return staged(stageMail, err)
		}
	}
	var refused error
	for _, cmd := range cmds {
		if !w.pipelining {
			t.W.WriteString(cmd.line)
			if err := t.W.Flush(); err != nil {
				return staged(cmd.stage, err)
			}
		}
		code, _, err := t.ReadResponse(cmd.code)
		var te *textproto.Error
		switch {
		case err != nil && !errors.As(err, &te):
			if refused != nil {
				return refused // a 421 closes the connection after it
			}
			return staged(cmd.stage, err) // the connection failed
		case err != nil && refused == nil:
			refused = staged(cmd.stage, err)
			if !w.pipelining {
				return refused
			}
		case refused != nil && code == 354:
			// The server took DATA though MAIL or RCPT failed: the empty
			// message ends, its reply says nothing more.
			t.W.WriteString(".\r\n")
			if err := t.W.Flush(); err != nil {
				return staged(stageData, err)
			}
			if _, _, err := t.ReadResponse(250); err != nil && !errors.As(err, &te) {
				return staged(stageData, err)
			}
		}
	}
	return refused
}

// data sends the message, its lines dot-stuffed, and the final dot in
// one write (the composed message has CRLF line ends already;
// textproto's dot writer would copy it byte by byte, and bufio would
// write the body and the dot apart). The previous message must be
// recorded before this one can be accepted, so the write waits for it:
// at most one accepted, unrecorded message per connection.
func (w *worker) data(raw []byte) error {
	w.out = append(appendDotStuffed(w.out[:0], raw), ".\r\n"...)
	w.awaitPrev()
	t := w.c.Text
	if _, err := t.W.Write(w.out); err != nil {
		return err
	}
	if err := t.W.Flush(); err != nil {
		return err
	}
	_, _, err := t.ReadResponse(250)
	return err
}

// appendDotStuffed appends raw doubling every dot that starts a line (RFC
// 5321 section 4.5.2) and ends it with CRLF. It copies the runs between
// such dots whole (a digest has few or none).
func appendDotStuffed(b, raw []byte) []byte {
	if len(raw) == 0 {
		return b
	}
	if raw[0] == '.' {
		b = append(b, '.')
	}
	for {
		i := bytes.Index(raw, []byte("\n."))
		if i < 0 {
			break
		}
		b = append(append(b, raw[:i+1]...), '.')
		raw = raw[i+1:]
	}
	b = append(b, raw...)
	if raw[len(raw)-1] != '\n' {
		b = append(b, "\r\n"...)
	}
	return b
}

// quit ends the connection politely.
func (w *worker) quit() {
	if w.c == nil {
		return
	}
	_ = w.c.UpdateDeadline(min(w.s.cfg.Timeout, 10*time.Second))
	if err := w.c.Quit(); err != nil {
		_ = w.c.Close()
	}
	w.c, w.n = nil, 0
}

func (w *worker) discard() {
	if w.c != nil {
		_ = w.c.Close()
	}
	w.c, w.n = nil, 0
}

// sleep waits d or until ctx ends; it reports whether the full time passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
