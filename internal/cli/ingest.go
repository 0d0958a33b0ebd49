package cli

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/papermail/papermail/internal/feeds"
	"github.com/papermail/papermail/internal/ingest"
	"github.com/papermail/papermail/internal/model"
)

func cmdIngest(e *env, args []string) error {
	names := feeds.FormatNames()
	fs := newFlags(e, "ingest", "ingest [--format "+strings.Join(names, "|")+"] SOURCE...")
	format := fs.String("format", feeds.FormatAuto, "source format: "+strings.Join(names, ", "))
	pos, err := flags(fs, args)
	if err != nil {
		return err
	}
	if err := oneOf("--format", *format, names...); err != nil {
		return err
	}
	if len(pos) == 0 {
		return fmt.Errorf("%w: ingest needs at least one SOURCE (a file or an http(s) URL)", errUsage)
	}
	st, err := e.store()
	if err != nil {
		return err
	}
	var m = e.metrics()
	failed := 0
	bar := newProgress(e, "ingest")
	for i, src := range pos {
		ctx := e.ctx
		f, configured := configuredFeed(e.cfg, src)
		if f.AllowPrivate {
			ctx = feeds.AllowPrivate(ctx) // the feed's allow_private holds by hand too
		}
		res, err := ingest.Source(ctx, st, e.abs(src), *format, time.Now(), m)
		bar.update(i+1, len(pos))
		if configured && e.ctx.Err() == nil {
			// A configured feed ingested by hand: its health is news too.
			if _, rerr := recordFetch(st, m, src, res, err); rerr != nil {
				e.log.Error("record feed fetch", "feed", src, "error", rerr)
			}
		}
		if err != nil {
			failed++
			fmt.Fprintf(e.stderr, "papermail: ingest %s: %v\n", src, err)
			continue
		}
		fmt.Fprintf(e.stdout, "%s (%s): %d papers, %d added, %d updated\n", src, res.Format, res.Papers, res.Added, res.Updated)
	}
	bar.finish()
	e.embedAfterIngest(e.ctx, st)
	if e.daemon != nil {
		e.daemon.parts.Runner.Invalidate()
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d sources failed; their papers were not stored", failed, len(pos))
	}
	return nil
}

func cmdExport(e *env, args []string) error {
	fs := newFlags(e, "export", "export [--out FILE] | export --salvage --out DIR")
	out := fs.String("out", "-", "file to write (default standard output); with --salvage a new folder")
	salvage := fs.Bool("salvage", false, "read what is still readable from a damaged store into a new folder (a store to restore, papers.jsonl, subscribers.jsonl)")
	if err := noArgs(fs, args); err != nil {
		return err
	}
	if *salvage {
		if e.daemon != nil {
			return errors.New("export --salvage reads a store no papermail uses; stop 'papermail serve' first")
		}
		if *out == "-" {
			return fmt.Errorf("%w: export --salvage needs --out DIR, a folder that does not exist yet", errUsage)
		}
		return salvageStore(e, e.abs(*out))
	}
	st, err := e.store()
	if err != nil {
		return err
	}
	w := e.stdout
	var f *os.File
	if *out != "-" {
		if f, err = os.Create(e.abs(*out)); err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	n := 0
	if err := st.ForEachPaper(func(p *model.Paper) error { n++; return enc.Encode(p) }); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if f != nil {
		fmt.Fprintf(e.stderr, "exported %d papers to %s\n", n, *out)
		return f.Close()
	}
	return nil
}
