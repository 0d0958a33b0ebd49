package cli

import (
	"errors"
	"fmt"
	"time"

	"github.com/papermail/papermail/internal/digest"
)

func cmdDigest(e *env, args []string) error {
	fs := newFlags(e, "digest", "digest [--date YYYY-MM-DD]")
	date := fs.String("date", "", "digest date (default: today in digest.timezone)")
	if err := noArgs(fs, args); err != nil {
		return err
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
	p.Runner.Progress = bar.update
	defer func() { p.Runner.Progress = nil }()
	sum, err := p.Runner.Run(e.ctx, digest.Spec{Now: now, Date: *date})
	bar.finish()
	if len(sum.Runs) > 0 || err == nil {
		fmt.Fprintf(e.stdout, "digest %s: %d due, %d sent, %d skipped, %d failed, %d bounced, %d pending in %s\n",
			*date, sum.Due, sum.Sent, sum.Skipped, sum.Failed, sum.Bounced, sum.Pending, sum.Duration.Round(time.Millisecond))
	}
	if e.cfg.UsesMaildir() && sum.Sent > 0 {
		fmt.Fprintf(e.stdout, "mail delivered into the Maildir %s (new/)\n", e.cfg.MaildirPath())
	}
	return digestFailure(*date, sum, err)
}

// digestFailure is the command's error for a run whose work is not all
// done: stopped on an operator-side failure, interrupted, or with failed
// deliveries left. The ledger keeps what was done either way, and the next
// run delivers the rest.
func digestFailure(date string, sum digest.Summary, err error) error {
	var stop *digest.StopError
	switch {
	case errors.As(err, &stop):
		return fmt.Errorf("digest %s: %w; fix the relay or the smtp settings, then run 'papermail digest --date %s' again: the %d pending and %d failed get their digest, nobody was marked bounced",
			date, err, date, sum.Pending, sum.Failed)
	case err != nil:
		return fmt.Errorf("digest %s: %w", date, err)
	case sum.Failed > 0:
		return fmt.Errorf("digest %s: %d of %d digests failed (see 'papermail status' and the log); the next run tries them again", date, sum.Failed, sum.Due)
	case sum.Pending > 0:
		return fmt.Errorf("digest %s: %d of %d digests are still pending; the next run sends them", date, sum.Pending, sum.Due)
	}
	return nil
}
