package digest_test

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/papermail/papermail/internal/app"
	"github.com/papermail/papermail/internal/config"
	"github.com/papermail/papermail/internal/digest"
	"github.com/papermail/papermail/internal/feeds"
	"github.com/papermail/papermail/internal/mailer"
	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/smtptest"
	"github.com/papermail/papermail/internal/store"
	"github.com/papermail/papermail/internal/testutil"
)

// topics are interests with several papers each on the shared listing page.
var topics = []string{
	"semantic segmentation",
	"neural machine translation",
	"graph neural networks",
	"language models",
	"reinforcement learning",
}

// rig is one papermail instance wired the way internal/cli wires the
// daemon: a real bbolt file, the embedded templates, signed links, the
// composer and an SMTP transport to a test server on 127.0.0.1.
type rig struct {
	t    testing.TB
	cfg  config.Config
	path string
	st   *store.Store
	comp *mailer.Composer
	r    *digest.Runner
	log  *slog.Logger
}

// newRig opens a store in a temporary folder and builds a runner with
// config.Default() changed by tweak (may be nil). The runner has no sender
// until useServer or useSender is called.
func newRig(t testing.TB, tweak func(*config.Config)) *rig {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.BaseURL = "https://papers.example.org"
	cfg.Mail.From = "Papermail <digest@papers.example.org>"
	cfg.Digest.Timezone = "UTC"
	cfg.SMTP.Host = "127.0.0.1"
	cfg.SMTP.TLS = "none"
	cfg.SMTP.Timeout = 10 * time.Second
	if tweak != nil {
		tweak(&cfg)
	}
	g := &rig{t: t, cfg: cfg, path: cfg.DBPath(), log: slog.New(slog.DiscardHandler)}
	var err error
	if g.comp, err = mailer.NewComposer(nil); err != nil {
		t.Fatalf("composer: %v", err)
	}
	g.open()
	t.Cleanup(func() { g.st.Close() })
	return g
}

// open (re)opens the store file and builds a fresh runner on it, keeping
// the sender of the previous runner.
func (g *rig) open() {
	g.t.Helper()
	st, err := app.OpenStore(g.cfg, store.Options{Timeout: 5 * time.Second})
	if err != nil {
		g.t.Fatalf("open store: %v", err)
	}
	// Until a test points it at a server (useServer), the runner's
	// sender is one that finds nobody listening.
	var sender digest.Sender
	if g.r != nil {
		sender = g.r.Sender
	} else {
		sender = g.transport(closedPort(g.t), nil)
	}
	g.st = st
	p, err := app.Build(g.cfg, st, app.Options{Log: g.log, Sender: sender})
	if err != nil {
		g.t.Fatal(err)
	}
	g.r = p.Runner
}

// reopen closes the store and opens it again, as a restarted process would.
func (g *rig) reopen() {
	g.t.Helper()
	if err := g.st.Close(); err != nil {
		g.t.Fatalf("close store: %v", err)
	}
	g.open()
}

// transport returns an SMTP transport to port configured from the rig's
// smtp settings (as internal/cli does) with short retry delays, changed by
// tweak (may be nil).
func (g *rig) transport(port int, tweak func(*mailer.Config)) *mailer.SMTP {
	g.t.Helper()
	mc := app.SMTPConfig(g.cfg)
	mc.Port, mc.RetryBase, mc.RetryMax = port, 20*time.Millisecond, 200*time.Millisecond
	if tweak != nil {
		tweak(&mc)
	}
	tr, err := mailer.NewSMTP(mc, g.comp, mailer.Hooks{})
	if err != nil {
		g.t.Fatalf("SMTP transport: %v", err)
	}
	return tr
}

// useServer points the runner at srv.
func (g *rig) useServer(srv *smtptest.Server, tweak func(*mailer.Config)) *mailer.SMTP {
	g.t.Helper()
	tr := g.transport(srv.Port(), tweak)
	g.r.Sender = tr
	return tr
}

// pagePapers parses the shared real listing page, ingested at now. These
// tests need a day of papers, not those ones: without shared data they get
// testutil.Corpus, so they run on a plain clone too.
func pagePapers(t testing.TB, now time.Time) []model.Paper {
	t.Helper()
	if _, ok := testutil.SharedDataDir(); !ok {
		return testutil.Corpus(250)
	}
	path := testutil.SharedData(t, "papers-page.txt")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	papers, err := feeds.Parse(f, feeds.FormatPage, filepath.Base(path), now)
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	if len(papers) < 200 {
		t.Fatalf("%s gave only %d papers", path, len(papers))
	}
	return papers
}

// ingestPage stores the listing page's papers, ingested at now.
func (g *rig) ingestPage(now time.Time) []model.Paper {
	g.t.Helper()
	papers := pagePapers(g.t, now)
	g.putPapers(papers, now)
	return papers
}

func (g *rig) putPapers(papers []model.Paper, now time.Time) {
	g.t.Helper()
	if _, err := g.st.PutPapers(papers, now); err != nil {
		g.t.Fatalf("store papers: %v", err)
	}
	g.r.Invalidate()
}

// addSubscribers stores n active subscribers reader000@example.org... with
// the topics in turn; edit (may be nil) changes each before it is stored.
func (g *rig) addSubscribers(n int, now time.Time, edit func(i int, s *model.Subscriber)) []model.Subscriber {
	g.t.Helper()
	subs := make([]model.Subscriber, n)
	for i := range subs {
		subs[i] = model.Subscriber{
			Email: addr(i), Interests: []string{topics[i%len(topics)]}, State: model.StateActive,
			Created: now.UTC(), Updated: now.UTC(), ConfirmedAt: now.UTC(), Source: "test", Hour: model.HourDefault,
			Frequency: model.FrequencyDaily,
		}
		if edit != nil {
			edit(i, &subs[i])
		}
	}
	if existing, err := g.st.AddSubscribers(subs); err != nil || len(existing) > 0 {
		g.t.Fatalf("add subscribers: %v (already there: %v)", err, existing)
	}
	return subs
}

func addr(i int) string { return fmt.Sprintf("reader%03d@example.org", i) }

func (g *rig) sub(id uint64) model.Subscriber {
	g.t.Helper()
	s, err := g.st.Subscriber(id)
	if err != nil {
		g.t.Fatalf("subscriber %d: %v", id, err)
	}
	return s
}

func (g *rig) ledger(date string) map[uint64]model.Delivery {
	g.t.Helper()
	l, err := g.st.Ledger(date)
	if err != nil {
		g.t.Fatalf("ledger %s: %v", date, err)
	}
	return l
}

func (g *rig) run(date string) model.Run {
	g.t.Helper()
	r, err := g.st.Run(date)
	if err != nil {
		g.t.Fatalf("run %s: %v", date, err)
	}
	return r
}

// states counts ledger lines by state.
func states(l map[uint64]model.Delivery) map[string]int {
	out := map[string]int{}
	for _, d := range l {
		out[d.State]++
	}
	return out
}

// subject returns the decoded Subject of a raw message.
func subject(t testing.TB, raw []byte) string {
	t.Helper()
	m, err := mail.ReadMessage(strings.NewReader(string(raw)))
	if err != nil {
		t.Fatalf("received message does not parse: %v", err)
	}
	s, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		t.Fatalf("subject %q: %v", m.Header.Get("Subject"), err)
	}
	return s
}

// textPart returns the decoded text/plain part of a raw digest.
func textPart(t testing.TB, raw []byte) string {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("received message does not parse: %v", err)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || !strings.HasPrefix(mt, "multipart/") {
		t.Fatalf("Content-Type %q: %v", m.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := mr.NextPart() // decodes quoted-printable
		if err != nil {
			t.Fatalf("no text/plain part: %v", err)
		}
		if strings.HasPrefix(p.Header.Get("Content-Type"), "text/plain") {
			b, err := io.ReadAll(p)
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}
	}
}

// closedPort returns a loopback port nothing listens on.
func closedPort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

// today is the digest date of now in UTC.
func today(now time.Time) string { return now.UTC().Format(digest.DateLayout) }
