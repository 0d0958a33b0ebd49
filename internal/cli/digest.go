package cli

import (
	"fmt"
	"time"

	"github.com/papermail/papermail/internal/digest"
)

func cmdDigest(e *env, args []string) error {
	TuneGC() // long allocation-heavy runs; ingest keeps Go's defaults
	fs := newFlags(e, "digest", "digest [--date YYYY-MM-DD]")
	date := fs.String("date", "", "digest date (default: today in digest.timezone)")
	pos, err := flags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("%w: digest takes no arguments (got %q)", errUsage, pos[0])
	}
	now := time.Now()
	if *date == "" {
		*date = now.In(e.cfg.Location()).Format(digest.DateLayout)
	} else if _, err := time.Parse(digest.DateLayout, *date); err != nil {
		return fmt.Errorf("%w: --date must be YYYY-MM-DD, got %q", errUsage, *date)
	}
	p, err := e.parts()
	if err != nil {
		return err
	}
	bar := newProgress(e, "digest "+*date)
	p.runner.Progress = bar.update
	defer func() { p.runner.Progress = nil }()
	sum, err := p.runner.Run(e.ctx, digest.Spec{Now: now, Date: *date})
	bar.finish()
	if err != nil {
		return fmt.Errorf("digest %s: %w", *date, err)
	}
	fmt.Fprintf(e.stdout, "digest %s: %d due, %d sent, %d skipped, %d failed, %d bounced in %s\n",
		*date, sum.Due, sum.Sent, sum.Skipped, sum.Failed, sum.Bounced, sum.Duration.Round(time.Millisecond))
	if e.cfg.UsesMaildir() && sum.Sent > 0 {
		fmt.Fprintf(e.stdout, "mail delivered into the Maildir %s (new/)\n", e.cfg.MaildirPath())
	}
	return nil
}
