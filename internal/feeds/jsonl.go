package feeds

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/papermail/papermail/internal/model"
)

// jsonlChunk is the smallest share of a jsonl source parsed on its own
// goroutine (a variable so tests can exercise the split on small input).
var jsonlChunk = 4 << 20

// jsonl parses one model.Paper JSON object per line. Blank lines are
// skipped; unknown fields are ignored. An id must be an arXiv id (folded
// to its canonical form) or a title id ("t:" and 16 hex digits); an empty
// id becomes TitleID(title). A non-empty source field is kept, so an
// export read back keeps where each paper came from. Large sources are
// split at line boundaries and parsed in parallel; the papers keep source
// order and the error reported is the first one in the source.
func (p *parser) jsonl() error {
	n := min(runtime.GOMAXPROCS(0), len(p.data)/jsonlChunk+1)
	if n <= 1 {
		return p.jsonlLines(p.data, 1)
	}
	parts := make([]parser, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	data, line := p.data, 1
	for i := range n {
		chunk := data
		if i < n-1 {
			cut := len(data) / (n - i)
			if k := bytes.IndexByte(data[cut:], '\n'); k >= 0 {
				chunk, data = data[:cut+k+1], data[cut+k+1:]
			} else {
				data = nil
			}
		}
		parts[i] = parser{name: p.name, now: p.now, format: p.format}
		wg.Add(1)
		go func(i, line int, chunk []byte) {
			defer wg.Done()
			errs[i] = parts[i].jsonlLines(chunk, line)
		}(i, line, chunk)
		line += bytes.Count(chunk, []byte{'\n'})
	}
	wg.Wait()
	total := 0
	for i := range parts {
		if errs[i] != nil {
			return errs[i]
		}
		total += len(parts[i].papers)
	}
	p.papers = make([]model.Paper, 0, total)
	for i := range parts {
		p.papers = append(p.papers, parts[i].papers...)
	}
	return nil
}

// jsonlLines parses the lines in data, the first being line number first.
func (p *parser) jsonlLines(data []byte, first int) error {
	for no := first; len(data) > 0; no++ {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		if len(line) > MaxLineBytes {
			return p.errAt(no, 0, "line is longer than %d bytes: %w", MaxLineBytes, ErrTooLarge)
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		var pp model.Paper
		if err := json.Unmarshal(line, &pp); err != nil {
			return p.errAt(no, 0, "%w", jsonLineError(err))
		}
		if pp.ID != "" {
			if id := NormalizeArxivID(pp.ID); id != "" {
				pp.ID = id
			} else if !isTitleID(pp.ID) {
				return p.errAt(no, 0, "id %q is neither an arXiv id nor a title id (t:<16 hex digits>)", pp.ID)
			}
		}
		if pp.Upvotes < 0 || pp.Comments < 0 || pp.Clicks < 0 {
			return p.errAt(no, 0, "negative upvotes, comments or clicks")
		}
		if err := p.add(pp, no, 0); err != nil {
			return err
		}
	}
	return nil
}

// jsonLineError rewords a JSON error for one line, with the column.
func jsonLineError(err error) error {
	if se, ok := errors.AsType[*json.SyntaxError](err); ok {
		return fmt.Errorf("invalid JSON at column %d: %w", se.Offset, se)
	}
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		if te.Field == "" {
			return fmt.Errorf("line is a JSON %s, want an object", te.Value)
		}
		return fmt.Errorf("field %s holds a JSON %s, want %s", te.Field, te.Value, goKindJSON(te.Type))
	}
	return fmt.Errorf("invalid JSON: %w", err)
}
