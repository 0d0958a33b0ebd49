package bounce

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/papermail/papermail/internal/maildir"
)

// MaxMessage is the largest message read; a report quoting a bigger
// original is cut there (the parts that matter come first).
const MaxMessage = 32 << 20

// Message is one message read from a source.
type Message struct {
	// Name says where it came from: the file, "mbox:N" or "stdin".
	Name string
	Raw  []byte
	// unseen is set for a message in a Maildir's new/, which MarkSeen
	// moves to cur/.
	unseen bool
}

// Read returns the messages of path: a Maildir's unseen messages (new/;
// with seen also those in cur/), an mbox file (starting with "From "), a
// single message file, or "-" for stdin (a single message or an mbox).
func Read(path string, stdin io.Reader, seen bool) ([]Message, error) {
	if path == "-" {
		b, err := io.ReadAll(io.LimitReader(stdin, 4*MaxMessage))
		if err != nil {
			return nil, fmt.Errorf("read stdin: %w", err)
		}
		return split("stdin", b), nil
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return readMaildir(path, seen)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 1<<30))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return split(path, b), nil
}

// readMaildir reads the messages in dir/new (and with seen dir/cur), in
// name order.
func readMaildir(dir string, seen bool) ([]Message, error) {
	entries, err := maildir.List(dir, seen)
	if errors.Is(err, maildir.ErrNotMaildir) {
		return nil, fmt.Errorf("%s is a directory but not a Maildir (no new/ or cur/)", dir)
	}
	if err != nil {
		return nil, err
	}
	out := make([]Message, 0, len(entries))
	for _, e := range entries {
		b, err := readLimited(e.Path)
		if err != nil {
			return nil, err
		}
		out = append(out, Message{Name: e.Path, Raw: b, unseen: e.New})
	}
	return out, nil
}

// MarkSeen moves the Maildir messages among msgs from new/ to cur/ with
// the Seen flag, so the next Read of the folder skips them (Maildir's own
// way of saying a message was read).
func MarkSeen(msgs []Message) error {
	var errs []error
	for _, m := range msgs {
		if !m.unseen {
			continue
		}
		dir, name := filepath.Split(m.Name)
		cur := filepath.Join(filepath.Dir(filepath.Clean(dir)), "cur", name)
		if !strings.Contains(name, ":2,") {
			cur += ":2,S"
		}
		if err := os.Rename(m.Name, cur); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, MaxMessage))
}

var fromLine = []byte("From ")

// split returns the messages of an mbox, or b as one message when it is
// not one. Lines "From " after a blank line (or at the start) begin a
// message; ">From " lines quoted by mboxrd writers are unquoted.
func split(name string, b []byte) []Message {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	if !bytes.HasPrefix(b, fromLine) {
		return []Message{{Name: name, Raw: b}}
	}
	var out []Message
	var cur []byte
	started := false
	prevBlank := true
	flush := func() {
		if started {
			out = append(out, Message{Name: fmt.Sprintf("%s:%d", name, len(out)+1), Raw: cur})
		}
		cur = nil
	}
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i+1], b[i+1:]
		} else {
			b = nil
		}
		if prevBlank && bytes.HasPrefix(line, fromLine) {
			flush()
			started = true
			prevBlank = false
			continue
		}
		prevBlank = len(bytes.TrimRight(line, "\r\n")) == 0
		if q := bytes.TrimLeft(line, ">"); len(q) < len(line) && bytes.HasPrefix(q, fromLine) {
			line = line[1:]
		}
		if len(cur)+len(line) <= MaxMessage {
			cur = append(cur, line...)
		}
	}
	flush()
	return out
}
