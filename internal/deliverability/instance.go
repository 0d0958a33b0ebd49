package deliverability

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/papermail/papermail/internal/app"
	"github.com/papermail/papermail/internal/config"
	"github.com/papermail/papermail/internal/digest"
	"github.com/papermail/papermail/internal/feeds"
	"github.com/papermail/papermail/internal/ingest"
	"github.com/papermail/papermail/internal/maildir"
	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/store"
	"github.com/papermail/papermail/internal/subscription"
)

// Defaults of a realistic installation. They differ from config's on
// purpose: config.DefaultBaseURL and config.DefaultFrom are for the demo on
// one machine (http on 127.0.0.1, a .localhost domain), and a message with
// those links and that sender is what receivers and SpamAssassin score as
// untrustworthy. The checks judge mail as a production installation sends
// it: an https base URL and a sender at a public domain, the domain the
// tests' DKIM key signs for (papers.example.org) and the golden headers
// (golden_test.go) expect.
const (
	DefaultBaseURL = "https://papers.example.org"
	DefaultFrom    = "Papermail <digest@papers.example.org>"
)

// Options configure an Instance.
type Options struct {
	// Dir is the data directory (store and Maildir); required.
	Dir string
	// BaseURL defaults to DefaultBaseURL.
	BaseURL string
	// Listen is http.listen, the address the caller serves the pages on
	// (see cmd/screenshots); empty keeps the default.
	Listen string
	// From defaults to DefaultFrom.
	From string
	// Secret signs the links; empty means the store's own random secret.
	// A fixed secret makes every token but the confirmation's repeatable.
	Secret string
	// TemplatesDir overrides the embedded templates file by file (config
	// templates_dir); empty uses them as they are.
	TemplatesDir string
	// DKIM signs the mail when its domain is set.
	DKIM config.DKIM
	// Papers are stored at start; nil means the sample papers, trending in
	// the hours before Now.
	Papers []model.Paper
	// Now is the clock of the instance; zero means time.Now(). For
	// Confirmation it must not lie ahead of the real clock: the outbox
	// sends only mail that is due.
	Now time.Time
	// Log receives the instance's logs; nil discards them.
	Log *slog.Logger
}

// Instance is a papermail wired by app.Build as the daemon is, with
// Maildir delivery; its Web serves the pages and its Subscriptions carry
// out subscriber changes, both at the instance's Now. Its methods are for
// one goroutine at a time.
type Instance struct {
	*app.Parts
	// Now is the instance's clock, fixed at start.
	Now time.Time

	maildirPath string
	seen        map[string]bool
}

// Start opens a store in opts.Dir, stores the papers and wires the parts.
// Close releases everything.
func Start(opts Options) (*Instance, error) {
	if opts.Dir == "" {
		return nil, errors.New("deliverability: Options.Dir is empty")
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg := config.Default()
	cfg.DataDir = opts.Dir
	cfg.Digest.Timezone = "UTC"
	cfg.Secret = opts.Secret
	cfg.DKIM = opts.DKIM
	cfg.TemplatesDir = opts.TemplatesDir
	cfg.Mail.From = cmp.Or(opts.From, DefaultFrom)
	cfg.BaseURL = cmp.Or(opts.BaseURL, DefaultBaseURL)
	cfg.HTTP.Listen = cmp.Or(opts.Listen, cfg.HTTP.Listen)

	st, err := app.OpenStore(cfg, store.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("deliverability: %w", err)
	}
	inst, err := wire(cfg, st, opts.Papers, now, log)
	if err != nil {
		st.Close()
		return nil, err
	}
	return inst, nil
}

// wire builds the parts on an open store and stores the papers.
func wire(cfg config.Config, st *store.Store, papers []model.Paper, now time.Time, log *slog.Logger) (*Instance, error) {
	cfg.SMTP.Host = "" // the Maildir, always
	p, err := app.Build(cfg, st, app.Options{Log: log, Now: func() time.Time { return now }})
	if err != nil {
		return nil, fmt.Errorf("deliverability: %w", err)
	}
	if papers == nil {
		if papers, err = ingest.SamplePapers(now); err != nil {
			return nil, fmt.Errorf("deliverability: %w", err)
		}
	}
	if _, err := st.PutPapers(papers, now); err != nil {
		return nil, fmt.Errorf("deliverability: store papers: %w", err)
	}
	return &Instance{Parts: p, Now: now,
		maildirPath: cfg.MaildirPath(), seen: map[string]bool{},
	}, nil
}

// Close closes the store.
func (in *Instance) Close() error { return in.Store.Close() }

// AddReader stores an active, confirmed subscriber with a daily digest at
// the default hour.
func (in *Instance) AddReader(email string, interests []string) (model.Subscriber, error) {
	sub, err := in.Subscriptions.Add(subscription.Request{Email: email, Interests: interests, Source: "test"})
	if err != nil {
		return sub, fmt.Errorf("deliverability: add %s: %w", email, err)
	}
	return sub, nil
}

// Digest runs the digest of the instance's date (Now, in UTC) for sub
// alone through the runner and returns the message it delivered into the
// Maildir.
func (in *Instance) Digest(ctx context.Context, sub model.Subscriber) ([]byte, error) {
	date := in.Now.In(in.Config.Location()).Format(digest.DateLayout)
	if _, err := in.Runner.Run(ctx, digest.Spec{Now: in.Now, Date: date, Only: sub.ID}); err != nil {
		return nil, fmt.Errorf("deliverability: digest run for %s: %w", sub.Email, err)
	}
	ledger, err := in.Store.Ledger(date)
	if err != nil {
		return nil, fmt.Errorf("deliverability: ledger of %s: %w", date, err)
	}
	if d := ledger[sub.ID]; d.State != model.DeliverySent {
		return nil, fmt.Errorf("deliverability: the digest of %s for %s ended %q (%s), want sent", date, sub.Email, d.State, d.Reason)
	}
	return in.next()
}

// Confirmation subscribes email as the subscribe form does (a pending
// subscriber with a confirmation mail in the outbox), delivers the outbox
// and returns the subscriber and the confirmation mail.
func (in *Instance) Confirmation(ctx context.Context, email string, interests []string) (model.Subscriber, []byte, error) {
	queued, err := in.Subscriptions.Subscribe(subscription.Request{Email: email, Interests: interests, Source: "web"})
	if err != nil {
		return model.Subscriber{}, nil, fmt.Errorf("deliverability: queue confirmation for %s: %w", email, err)
	}
	if !queued {
		return model.Subscriber{}, nil, fmt.Errorf("deliverability: confirmation for %s was not queued", email)
	}
	sub, err := in.Store.SubscriberByEmail(email)
	if err != nil {
		return sub, nil, fmt.Errorf("deliverability: %w", err)
	}
	n, err := in.Outbox.Flush(ctx)
	if err != nil {
		return sub, nil, fmt.Errorf("deliverability: deliver the outbox: %w", err)
	}
	if n != 1 {
		return sub, nil, fmt.Errorf("deliverability: the outbox delivered %d mails, want 1 (is Options.Now ahead of the real clock?)", n)
	}
	raw, err := in.next()
	return sub, raw, err
}

// Welcome confirms a pending subscriber (as its confirmation link does),
// delivers the outbox and returns the welcome mail it queued.
func (in *Instance) Welcome(ctx context.Context, sub model.Subscriber) ([]byte, error) {
	c, err := in.Store.Confirmation(sub.ID)
	if err != nil {
		return nil, fmt.Errorf("deliverability: %w", err)
	}
	if _, err := in.Subscriptions.Confirm(sub.ID, c.Nonce); err != nil {
		return nil, fmt.Errorf("deliverability: confirm %s: %w", sub.Email, err)
	}
	if n, err := in.Outbox.Flush(ctx); err != nil || n != 1 {
		return nil, fmt.Errorf("deliverability: the outbox delivered %d mails (%v), want the welcome", n, err)
	}
	return in.next()
}

// ConfirmURL is the confirmation link of a pending subscriber, as its
// confirmation mail (made at the instance's Now) carries it.
func (in *Instance) ConfirmURL(sub model.Subscriber) string {
	c, err := in.Store.Confirmation(sub.ID)
	if err != nil {
		return ""
	}
	u, _ := in.Links.Confirm(sub.ID, c.Nonce, in.Now)
	return u
}

// next returns the one message that arrived in the Maildir since the last
// call.
func (in *Instance) next() ([]byte, error) {
	entries, err := maildir.List(in.maildirPath, false)
	if err != nil {
		return nil, fmt.Errorf("deliverability: read the Maildir: %w", err)
	}
	var fresh []string
	for _, e := range entries {
		if !in.seen[e.Name] {
			in.seen[e.Name] = true
			fresh = append(fresh, e.Path)
		}
	}
	if len(fresh) != 1 {
		return nil, fmt.Errorf("deliverability: %d new messages in %s, want 1", len(fresh), filepath.Join(in.maildirPath, "new"))
	}
	b, err := os.ReadFile(fresh[0])
	if err != nil {
		return nil, fmt.Errorf("deliverability: read the delivered message: %w", err)
	}
	return b, nil
}

// PagePapers parses a listing page saved as text (feeds format "page")
// and dates its papers as trending in the hours before now, in page order,
// as a daily fetch of that page would.
func PagePapers(path string, now time.Time) ([]model.Paper, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("deliverability: %w", err)
	}
	defer f.Close()
	papers, err := feeds.Parse(f, feeds.FormatPage, filepath.Base(path), now)
	if err != nil {
		return nil, fmt.Errorf("deliverability: parse %s: %w", path, err)
	}
	for i := range papers {
		if papers[i].TrendingAt.IsZero() {
			papers[i].TrendingAt = now.Add(-time.Duration(i) * time.Minute).UTC()
		}
	}
	return papers, nil
}
