package cli

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"strings"
	"sync"
)

// The control socket lets commands run inside `papermail serve`, which
// holds the bbolt file lock. A client sends one JSON request line; the
// daemon answers with frames: a kind byte ('o' stdout, 'e' stderr, 'x'
// exit), a 4-byte big-endian length and the payload.

type controlRequest struct {
	Args []string `json:"args"`
	Cwd  string   `json:"cwd"`
	// Stdin is what the command read from stdin before it found the store
	// held by the daemon (papermail bounces -).
	Stdin []byte `json:"stdin,omitempty"`
}

// maxRequest bounds a request, stdin included.
const maxRequest = 64 << 20

const maxFrame = 1 << 20

// errNoDaemon marks a store held by a process that does not answer on the
// control socket (a digest or ingest running, not serve).
var errNoDaemon = errors.New("no daemon")

// forward runs args inside the daemon through its control socket.
func (e *env) forward(args []string) error {
	sock := e.cfg.SocketPath()
	if err := checkSocket(sock, e.cfg.DBPath()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("the store %s is in use by another process; not forwarding the command: %w", e.cfg.DBPath(), err)
	}
	conn, err := net.Dial("unix", sock)
	if err != nil {
		return fmt.Errorf("%w: the store %s is in use by another process, and its control socket %s does not answer (%v); stop that process or run this command through it",
			errNoDaemon, e.cfg.DBPath(), e.cfg.SocketPath(), err)
	}
	defer conn.Close()
	if err := checkPeer(conn, e.cfg.DBPath()); err != nil {
		return fmt.Errorf("control socket %s: %w", sock, err)
	}
	return e.exchange(conn, args)
}

// exchange sends one command over a control connection and relays the
// daemon's answer.
func (e *env) exchange(conn net.Conn, args []string) error {
	if err := json.NewEncoder(conn).Encode(controlRequest{Args: args, Cwd: e.cwd, Stdin: e.stdinData}); err != nil {
		return fmt.Errorf("control socket: %w", err)
	}
	r := bufio.NewReader(conn)
	var hdr [5]byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return fmt.Errorf("control socket: the daemon closed the connection before the command finished: %w", err)
		}
		n := binary.BigEndian.Uint32(hdr[1:])
		if n > maxFrame {
			return errors.New("control socket: oversized frame")
		}
		buf := make([]byte, n)
		if _, err := io.ReadFull(r, buf); err != nil {
			return fmt.Errorf("control socket: %w", err)
		}
		switch hdr[0] {
		case 'o':
			e.stdout.Write(buf)
		case 'e':
			e.stderr.Write(buf)
		case 'x':
			if len(buf) == 0 {
				return nil
			}
			msg := string(buf)
			if after, ok := strings.CutPrefix(msg, "usage: "); ok {
				return fmt.Errorf("%w: %s", errUsage, after)
			}
			return errors.New(msg)
		}
	}
}

type frameWriter struct {
	mu   *sync.Mutex
	w    io.Writer
	kind byte
}

func (f frameWriter) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for off := 0; off < len(p) || off == 0; off += maxFrame {
		chunk := p[off:min(off+maxFrame, len(p))]
		var hdr [5]byte
		hdr[0] = f.kind
		binary.BigEndian.PutUint32(hdr[1:], uint32(len(chunk)))
		if _, err := f.w.Write(hdr[:]); err != nil {
			return 0, err
		}
		if _, err := f.w.Write(chunk); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// serveControl accepts commands on the control socket until ln is closed.
func (d *daemon) serveControl(ln net.Listener) {
	for {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		go d.handleControl(conn)
	}
}

func (d *daemon) handleControl(conn net.Conn) {
	defer conn.Close()
	// The socket's mode already keeps other users out; where the system
	// names the peer, check it too.
	if uid, ok := peerUID(conn); ok && uid != os.Getuid() && uid != 0 {
		d.log.Warn("control socket: refused a connection from another user", "uid", uid)
		return
	}
	defer func() {
		if r := recover(); r != nil {
			d.log.Error("control command panicked", "panic", r)
		}
	}()
	var req controlRequest
	dec := json.NewDecoder(io.LimitReader(conn, maxRequest))
	if err := dec.Decode(&req); err != nil {
		return
	}
	mu := &sync.Mutex{}
	out := frameWriter{mu: mu, w: conn, kind: 'o'}
	errw := frameWriter{mu: mu, w: conn, kind: 'e'}
	e := &env{ctx: d.ctx, stdin: bytes.NewReader(req.Stdin), stdout: out, stderr: errw, cwd: req.Cwd, cfg: d.cfg, log: d.log, daemon: d}
	if e.cwd == "" {
		e.cwd, _ = os.Getwd()
	}
	err := e.run(req.Args)
	msg := ""
	if err != nil {
		msg = err.Error()
		if errors.Is(err, errUsage) {
			msg = "usage: " + strings.TrimPrefix(msg, "usage: ")
		}
	}
	frameWriter{mu: mu, w: conn, kind: 'x'}.Write([]byte(msg))
}
