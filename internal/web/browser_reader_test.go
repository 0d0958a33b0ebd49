package web_test

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/papermail/papermail/internal/config"
	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/smtptest"
)

var prefsLink = regexp.MustCompile(`https?://[^\s"<>]+/preferences/[A-Za-z0-9_-]+`)

// TestBrowserLostLinkAndLibrary: in a real browser a reader who lost
// their link asks for it from the start page, gets it by mail at a real
// SMTP server, opens their preferences with it, and imports a BibTeX
// library through the file input.
func TestBrowserLostLinkAndLibrary(t *testing.T) {
	ctx := browser(t)
	smtp := smtptest.StartT(t, smtptest.Options{})
	e := newEnv(t, func(c *config.Config) {
		c.SMTP.Host, c.SMTP.Port, c.SMTP.TLS = smtp.Host(), smtp.Port(), "none"
	})
	octx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.outbox.Run(octx); close(done) }()
	t.Cleanup(func() { stop(); <-done })
	sub := e.addSubscriber("reader@example.org", model.StateActive, "speech recognition")

	if err := chromedp.Do(ctx,
		chromedp.Navigate(e.ts.URL+"/"),
		chromedp.WaitVisible(chromedp.ID("email")),
		chromedp.Click(chromedp.CSS(`a[href="/link"]`)),
	); err != nil {
		t.Fatal(err)
	}
	waitHeading(t, ctx, "Get your preferences link")
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("email"), "Reader@Example.org"),
		chromedp.Click(chromedp.ID("send")),
	); err != nil {
		t.Fatal(err)
	}
	waitHeading(t, ctx, "Check your inbox")
	if !smtp.WaitFor(1, 20*time.Second) {
		t.Fatal("no links mail reached the SMTP server")
	}
	m, err := readMail(bytes.NewReader(smtp.Messages()[0].Data))
	if err != nil {
		t.Fatal(err)
	}
	link := prefsLink.FindString(m.Text)
	if link != e.links.Preferences(sub.ID) {
		t.Fatalf("links mail carries %q, want the preferences link", link)
	}

	if err := chromedp.Do(ctx, chromedp.Navigate(link)); err != nil {
		t.Fatal(err)
	}
	waitHeading(t, ctx, "Your preferences")
	bib, err := filepath.Abs(filepath.Join("..", "library", "testdata", "speech-20.bib"))
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx,
		chromedp.SetUploadFiles(chromedp.ID("library-file"), []string{bib}),
		chromedp.Click(chromedp.ID("library-import")),
	); err != nil {
		t.Fatal(err)
	}
	waitTrue(t, ctx, `(function(){var n=document.querySelector(".notice");return !!n && n.textContent.indexOf("Library imported: 20 papers")>=0})()`)
	if got := e.sub(sub.ID); len(got.Library) != 20 {
		t.Errorf("stored library: %d entries", len(got.Library))
	}
	text, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("library-title").parentElement.textContent`))
	if err != nil || !strings.Contains(text, "20 papers") {
		t.Errorf("library section: %q, %v", text, err)
	}
}
