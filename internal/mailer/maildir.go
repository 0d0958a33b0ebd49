package mailer

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"
)

// Maildir delivers jobs as files into a Maildir (for local use and
// previews): each message is written to tmp/, fsynced, renamed into new/
// and the directory is fsynced before done is called.
type Maildir struct {
	dir    string
	comp   *Composer
	hooks  Hooks
	host   string
	pid    int
	seq    atomic.Uint64
	closed atomic.Bool
}

// NewMaildir creates dir with tmp, new and cur if needed. comp == nil
// composes without DKIM.
func NewMaildir(dir string, comp *Composer, hooks Hooks) (*Maildir, error) {
	if dir == "" {
		return nil, fmt.Errorf("mailer: maildir path is empty")
	}
	for _, sub := range []string{"tmp", "new", "cur"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return nil, fmt.Errorf("mailer: create maildir: %w", err)
		}
	}
	if comp == nil {
		comp = &Composer{}
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	// The Maildir spec reserves / and : in the host part.
	host = strings.NewReplacer("/", `\057`, ":", `\072`).Replace(host)
	return &Maildir{dir: dir, comp: comp, hooks: hooks, host: host, pid: os.Getpid()}, nil
}

// Close makes further Deliver calls fail.
func (m *Maildir) Close() error {
	m.closed.Store(true)
	return nil
}

// Deliver implements Transport, one message at a time. A write error is
// TempFailed (the disk may recover), an invalid message Failed.
func (m *Maildir) Deliver(ctx context.Context, in <-chan *Job, done func(*Job)) error {
	if m.closed.Load() {
		return ErrClosed
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case j, ok := <-in:
			if !ok {
				return nil
			}
			if j == nil {
				continue
			}
			if err := ctx.Err(); err != nil {
				j.Result, j.LastErr = TempFailed, err
				done(j)
				return err
			}
			start := time.Now()
			j.Attempts++
			j.Result, j.LastErr = m.deliver(j)
			if j.Result == Sent {
				m.hooks.attempt("sent", "", time.Since(start))
			} else {
				_, _, reason := Classify(j.LastErr)
				m.hooks.attempt("failed", reason, time.Since(start))
			}
			done(j)
		}
	}
}

func (m *Maildir) deliver(j *Job) (Result, error) {
	if j.Raw == nil {
		if j.Msg == nil {
			return Failed, fmt.Errorf("%w: job %d has no message", ErrInvalidMessage, j.Ref)
		}
		raw, err := m.comp.Compose(j.Msg)
		if err != nil {
			return Failed, err
		}
		j.Raw = raw
	}
	now := time.Now()
	name := fmt.Sprintf("%d.M%dP%dQ%d.%s", now.Unix(), now.Nanosecond()/1000, m.pid, m.seq.Add(1), m.host)
	tmp := filepath.Join(m.dir, "tmp", name)
	if err := writeSynced(tmp, j.Raw); err != nil {
		_ = os.Remove(tmp)
		return TempFailed, err
	}
	newDir := filepath.Join(m.dir, "new")
	if err := os.Rename(tmp, filepath.Join(newDir, name)); err != nil {
		_ = os.Remove(tmp)
		return TempFailed, fmt.Errorf("mailer: maildir: %w", err)
	}
	if err := syncDir(newDir); err != nil {
		return TempFailed, err
	}
	return Sent, nil
}

func writeSynced(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("mailer: maildir: %w", err)
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("mailer: maildir write %s: %w", path, err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("mailer: maildir: %w", err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("mailer: maildir sync %s: %w", dir, err)
	}
	return nil
}
