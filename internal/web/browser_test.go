package web_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/papermail/papermail/internal/config"
	"github.com/papermail/papermail/internal/deliverability"
	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/smtptest"
	"github.com/papermail/papermail/internal/testutil"
)

// browser starts a headless chromium (Debian's, which CI installs) with a
// fresh profile and returns a context for one tab. Without chromium the
// test skips, except in CI where it fails.
func browser(t *testing.T) context.Context {
	t.Helper()
	chromiumPath := testutil.Program(t, deliverability.ChromiumPath, "chromium", "chromium")
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.NoSandbox,
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	t.Cleanup(cancelCtx)
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// waitHeading waits until the page's h1 reads want.
func waitHeading(t *testing.T, ctx context.Context, want string) {
	t.Helper()
	waitTrue(t, ctx, `(function(){var h=document.querySelector("main h1");return !!h && h.textContent.trim()===`+jsString(want)+`})()`)
}

// waitTrue waits until a JavaScript expression is true on the current
// page, also across a navigation that is still under way.
func waitTrue(t *testing.T, ctx context.Context, js string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var err error
	for time.Now().Before(deadline) {
		if _, err = chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(2*time.Second))); err == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	page, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`))
	t.Fatalf("waiting for %s: %v\npage:\n%s", js, err, page)
}

// jsString quotes s as a JavaScript string literal (test strings only).
func jsString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// TestBrowser walks the whole life of a subscription in a real browser:
// subscribe, read the confirmation mail at a real SMTP server, confirm,
// edit the preferences, unsubscribe.
func TestBrowser(t *testing.T) {
	ctx := browser(t)
	smtp := smtptest.StartT(t, smtptest.Options{})
	e := newEnv(t, func(c *config.Config) {
		c.SMTP.Host, c.SMTP.Port, c.SMTP.TLS = smtp.Host(), smtp.Port(), "none"
	})
	// The outbox worker delivers the confirmation as papermail serve does.
	octx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.outbox.Run(octx); close(done) }()
	t.Cleanup(func() { stop(); <-done })
	base := e.ts.URL

	// Subscribe.
	if err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.ID("email")),
		chromedp.SendKeys(chromedp.ID("email"), "Browser@Example.org"),
		chromedp.SendKeys(chromedp.ID("interests"), "robot learning from demonstrations"),
	); err != nil {
		t.Fatal(err)
	}
	// The page's inline style and script ran under the CSP nonce: the
	// style set the body margin and the script picked the browser's zone.
	margin, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.body).marginTop`))
	if err != nil || margin != "0px" {
		t.Errorf("inline style not applied: margin %q, %v", margin, err)
	}
	zone, err := chromedp.Run(ctx, chromedp.Value(chromedp.ID("timezone")))
	if err != nil || zone == "" {
		t.Errorf("time zone not pre-filled by the script: %q, %v", zone, err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`button[type=submit]:not([formaction])`))); err != nil {
		t.Fatal(err)
	}
	waitHeading(t, ctx, "Check your inbox")
	sub, err := e.st.SubscriberByEmail("browser@example.org")
	if err != nil || sub.State != model.StatePending || sub.Timezone != zone || sub.Interests[0] != "robot learning from demonstrations" {
		t.Fatalf("after subscribing: %+v, %v", sub, err)
	}

	// Read the confirmation mail.
	if !smtp.WaitFor(1, 20*time.Second) {
		t.Fatal("no confirmation mail reached the SMTP server")
	}
	msg := smtp.Messages()[0]
	m, err := readMail(bytes.NewReader(msg.Data))
	if err != nil {
		t.Fatal(err)
	}
	link := confirmLink.FindString(m.Text)
	if msg.To[0] != "browser@example.org" || link == "" {
		t.Fatalf("confirmation to %v with link %q:\n%s", msg.To, link, m.Text)
	}

	// Confirm.
	if err := chromedp.Do(ctx, chromedp.Navigate(link)); err != nil {
		t.Fatal(err)
	}
	waitHeading(t, ctx, "Confirm your subscription")
	if got := e.sub(sub.ID); got.State != model.StatePending {
		t.Fatalf("opening the link changed the state to %s", got.State)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`main form button[type=submit]`))); err != nil {
		t.Fatal(err)
	}
	waitHeading(t, ctx, "Welcome to papermail")
	if got := e.sub(sub.ID); got.State != model.StateActive {
		t.Fatalf("after confirming: state %s", got.State)
	}

	// Preferences: change the interests and save.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`main a[href^="/preferences/"]`))); err != nil {
		t.Fatal(err)
	}
	waitHeading(t, ctx, "Your preferences")
	if err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.ID("interests"), "speech recognition in noisy rooms\ngraph neural networks"),
		chromedp.Click(chromedp.ID("save")),
	); err != nil {
		t.Fatal(err)
	}
	waitTrue(t, ctx, `!!document.querySelector(".notice") && document.querySelector(".notice").textContent.startsWith("Saved")`)
	if got := e.sub(sub.ID); strings.Join(got.Interests, "|") != "speech recognition in noisy rooms|graph neural networks" {
		t.Fatalf("saved interests %q", got.Interests)
	}

	// Unsubscribe with the link from a mail.
	if err := chromedp.Do(ctx, chromedp.Navigate(e.links.Unsubscribe(sub.ID))); err != nil {
		t.Fatal(err)
	}
	waitHeading(t, ctx, "Unsubscribe")
	if got := e.sub(sub.ID); got.State != model.StateActive {
		t.Fatalf("opening the unsubscribe link changed the state to %s", got.State)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`main form button[type=submit]`))); err != nil {
		t.Fatal(err)
	}
	waitHeading(t, ctx, "You are unsubscribed")
	if got := e.sub(sub.ID); got.State != model.StateUnsubscribed {
		t.Fatalf("after unsubscribing: state %s", got.State)
	}
}
