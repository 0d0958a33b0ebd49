package cli

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/papermail/papermail/internal/digest"
	"github.com/papermail/papermail/internal/ingest"
	"github.com/papermail/papermail/internal/localnet"
	"github.com/papermail/papermail/internal/store"
	"github.com/papermail/papermail/internal/subscription"
)

// demoReader is the subscriber the demo creates.
const demoReader = "reader@example.org"

func cmdDemo(e *env, args []string) error {
	fs := newFlags(e, "demo", "demo [--no-serve]")
	noServe := fs.Bool("no-serve", false, "deliver the sample digest and exit instead of serving the pages")
	if _, err := flags(fs, args); err != nil {
		return err
	}
	// The demo is the local mode: it serves the mailbox, but only where
	// nobody else can reach it.
	mailbox := localnet.LoopbackURL(e.cfg.BaseURL) && localnet.LoopbackListen(e.cfg.HTTP.Listen) && e.cfg.UsesMaildir()
	e.cfg.HTTP.Mailbox = mailbox
	st, err := e.store()
	if errors.Is(err, store.ErrLocked) {
		return fmt.Errorf("%w: stop the running papermail first, or use it directly", err)
	}
	if err != nil {
		return err
	}
	now := time.Now()
	papers, err := ingest.SamplePapers(now)
	if err != nil {
		return err
	}
	res, err := st.PutPapers(papers, now)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "loaded %d sample papers (%d new) into %s\n", len(papers), res.Added, st.Path())
	p, err := buildParts(e, st)
	if err != nil {
		return err
	}
	if _, err := st.SubscriberByEmail(demoReader); errors.Is(err, store.ErrNotFound) {
		sub, err := p.Subscriptions.Add(subscription.Request{Email: demoReader, Source: "demo",
			Interests: []string{"making LLM inference faster", "retrieval-augmented generation", "graph neural networks"}})
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "added the subscriber %s (interests: %v)\n", demoReader, sub.Interests)
	}
	date := now.In(e.cfg.Location()).Format(digest.DateLayout)
	sum, err := p.Runner.Run(e.ctx, digest.Spec{Now: now, Date: date})
	if err != nil {
		return err
	}
	maildir, _ := filepath.Abs(e.cfg.MaildirPath())
	if sum.Due == 0 {
		fmt.Fprintf(e.stdout, "digest %s: everyone already had today's digest (run the demo again tomorrow, or use a new data_dir)\n", date)
	} else {
		fmt.Fprintf(e.stdout, "digest %s: %d sent, %d skipped (nothing relevant)\n", date, sum.Sent, sum.Skipped)
	}
	fmt.Fprintf(e.stdout, "mail is in the Maildir %s/new (one file per message; open it with any mail client)\n", maildir)
	if *noServe {
		return nil
	}
	if mailbox {
		fmt.Fprintf(e.stdout, "\nNow open %s/ in a browser: subscribe with any address, then read the mail papermail wrote at %s/mailbox,\n"+
			"confirm, change your preferences and ask for a digest now. Stop with Ctrl-C.\n\n", e.cfg.BaseURL, e.cfg.BaseURL)
	} else {
		fmt.Fprintf(e.stdout, "\nServing %s/. The mailbox page is off: base_url and http.listen are not loopback addresses,\n"+
			"or mail goes to an SMTP server. Stop with Ctrl-C.\n\n", e.cfg.BaseURL)
	}
	return serveWith(e, p)
}
