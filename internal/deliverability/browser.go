package deliverability

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/chromedp/chromedp"
)

// ChromiumPath is where Debian installs chromium.
const ChromiumPath = "/usr/bin/chromium"

// Viewport is a browser window: its CSS width and height at device scale
// 1; Mobile makes the page honour its viewport meta tag as a phone does.
type Viewport struct {
	Name          string
	Width, Height int64
	Mobile        bool
}

// The viewports papermail is checked and photographed at.
var (
	Desktop = Viewport{Name: "desktop", Width: 1280, Height: 800}
	Phone   = Viewport{Name: "phone", Width: 390, Height: 844, Mobile: true}
)

// Viewports lists Desktop and Phone.
var Viewports = []Viewport{Desktop, Phone}

// NewBrowser starts a headless chromium from execPath with a fresh profile
// in profileDir, without sandbox, GPU or background traffic, and returns a
// context for one tab. cancel closes the browser.
func NewBrowser(parent context.Context, execPath, profileDir string) (ctx context.Context, cancel context.CancelFunc, err error) {
	alloc, cancelAlloc := chromedp.NewExecAllocator(parent,
		chromedp.ExecPath(execPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(profileDir),
	)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	cancel = func() { cancelCtx(); cancelAlloc() }
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		return nil, nil, fmt.Errorf("deliverability: start %s: %w", execPath, err)
	}
	return ctx, cancel, nil
}

// Open sizes the tab to vp and loads url, waiting for its load event.
func Open(ctx context.Context, url string, vp Viewport) error {
	var opts []chromedp.EmulateViewportOption
	if vp.Mobile {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(vp.Width, vp.Height, opts...), chromedp.Navigate(url)); err != nil {
		return fmt.Errorf("deliverability: open %s at %s width: %w", url, vp.Name, err)
	}
	return nil
}

// Screenshot loads url at vp and returns a PNG of the whole page, vp.Width
// pixels wide.
func Screenshot(ctx context.Context, url string, vp Viewport) ([]byte, error) {
	if err := Open(ctx, url, vp); err != nil {
		return nil, err
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return nil, fmt.Errorf("deliverability: screenshot of %s at %s width: %w", url, vp.Name, err)
	}
	return png, nil
}

// Layout is how a page lays out in a viewport, in CSS pixels.
type Layout struct {
	// ClientWidth is the width of the layout viewport (the window less
	// any scroll bar; on a phone, the width the viewport meta tag gives).
	ClientWidth int `json:"client"`
	// ScrollWidth is the width of the whole document: wider than the
	// viewport means the reader has to scroll sideways.
	ScrollWidth int `json:"scroll"`
	// CardWidth is the width of the table that holds the page's first
	// heading (a mail's content card); -1 when there is none.
	CardWidth float64 `json:"card"`
}

// layoutJS measures a Layout.
const layoutJS = `(() => {
	const d = document.documentElement;
	const h = document.querySelector("h1");
	const t = h && h.closest("table");
	return JSON.stringify({client: d.clientWidth, scroll: Math.max(d.scrollWidth, document.body ? document.body.scrollWidth : 0),
		card: t ? t.getBoundingClientRect().width : -1});
})()`

// MeasureLayout loads url at vp and measures its layout.
func MeasureLayout(ctx context.Context, url string, vp Viewport) (Layout, error) {
	var l Layout
	if err := Open(ctx, url, vp); err != nil {
		return l, err
	}
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](layoutJS))
	if err != nil {
		return l, fmt.Errorf("deliverability: measure %s at %s width: %w", url, vp.Name, err)
	}
	if err := json.Unmarshal([]byte(s), &l); err != nil {
		return l, fmt.Errorf("deliverability: measure %s at %s width: %w", url, vp.Name, err)
	}
	return l, nil
}
