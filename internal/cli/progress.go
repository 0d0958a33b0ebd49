package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// progress shows a bar on a terminal and plain lines elsewhere (every 10%).
type progress struct {
	mu       sync.Mutex
	w        io.Writer
	label    string
	tty      bool
	last     time.Time
	lastTen  int
	started  bool
	finished bool
}

func newProgress(e *env, label string) *progress {
	return &progress{w: e.stderr, label: label, tty: e.interactive}
}

func (p *progress) update(done, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if total <= 0 || p.finished {
		return
	}
	done = min(done, total)
	if p.tty {
		if time.Since(p.last) < 100*time.Millisecond && done < total {
			return
		}
		p.last = time.Now()
		const width = 30
		fill := width * done / total
		fmt.Fprintf(p.w, "\r%s [%s%s] %d/%d", p.label, strings.Repeat("#", fill), strings.Repeat(" ", width-fill), done, total)
		p.started = true
		return
	}
	if ten := 10 * done / total; ten > p.lastTen {
		p.lastTen = ten
		fmt.Fprintf(p.w, "%s: %d/%d (%d%%)\n", p.label, done, total, 100*done/total)
	}
}

func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty && p.started {
		fmt.Fprintln(p.w)
	}
	p.finished = true
}
