package cli

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/store"
)

// salvageStore is `export --salvage --out DIR`: what can still be read
// from the store, however damaged, goes into a new folder as a store file
// that `restore` accepts (with the old link secret when it was readable)
// and as papers.jsonl (for ingest) and subscribers.jsonl (every field of
// every subscriber). The damaged store is only read.
func salvageStore(e *env, dir string) (err error) {
	if err := os.Mkdir(dir, 0o700); err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("export --salvage: %s exists; name a new folder", dir)
		}
		return fmt.Errorf("export --salvage: %w", err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(dir) // ours, made above: leave no half salvage
		}
	}()
	src := e.cfg.DBPath()
	dbPath := filepath.Join(dir, "papermail.db")
	rep, err := store.Salvage(src, dbPath)
	if errors.Is(err, store.ErrLocked) {
		return fmt.Errorf("%w: stop 'papermail serve' first", err)
	}
	if err != nil {
		return err
	}
	st, err := store.Open(dbPath, store.Options{MustExist: true})
	if err != nil {
		return err
	}
	defer st.Close()
	if err := writeJSONL(filepath.Join(dir, "papers.jsonl"), func(enc *json.Encoder) error {
		return st.ForEachPaper(func(p *model.Paper) error { return enc.Encode(p) })
	}); err != nil {
		return err
	}
	if err := writeJSONL(filepath.Join(dir, "subscribers.jsonl"), func(enc *json.Encoder) error {
		return st.ForEachSubscriber(1000, func(b []model.Subscriber) error {
			for i := range b {
				if err := enc.Encode(&b[i]); err != nil {
					return err
				}
			}
			return nil
		})
	}); err != nil {
		return err
	}
	state := "the whole store was readable"
	if rep.Damaged > 0 {
		state = fmt.Sprintf("%d damaged stretches were passed over", rep.Damaged)
		if len(rep.Unreadable) > 0 {
			state += " (unreadable: " + strings.Join(rep.Unreadable, ", ") + ")"
		}
	}
	if rep.LoosePapers+rep.LooseSubscribers > 0 {
		state += fmt.Sprintf("; %d papers and %d subscribers were found on pages the store no longer reached (the newest copy of each; check the subscribers' states)",
			rep.LoosePapers, rep.LooseSubscribers)
	}
	fmt.Fprintf(e.stdout, "salvaged %d papers, %d subscribers and %d records in all from %s; %s\n",
		rep.Papers, rep.Subscribers, rep.Records, src, state)
	fmt.Fprintf(e.stdout, "wrote %s (put it in place with: papermail restore --force %s), papers.jsonl and subscribers.jsonl\n", dbPath, dbPath)
	return nil
}

// writeJSONL writes a new file through a buffered JSON encoder.
func writeJSONL(path string, fill func(*json.Encoder) error) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	err = fill(json.NewEncoder(bw))
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
