package deliverability

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/testutil"
)

// maxCardWidth is the widest a mail's content may be on a desktop screen.
const maxCardWidth = 600

// browser starts headless chromium for one test; without chromium the
// test skips, except in CI where it fails.
func browser(t *testing.T) context.Context {
	t.Helper()
	bin := testutil.Program(t, ChromiumPath, "chromium", "chromium")
	ctx, cancel, err := NewBrowser(context.Background(), bin, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cancel)
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(cancelTimeout)
	return ctx
}

// TestMailLayout renders the HTML parts of a digest and of a confirmation
// mail in headless chromium at phone and desktop width: nothing may make
// the reader scroll sideways, the viewport meta tag must give a phone its
// own width, and the content card may be at most 600 px wide. The digest
// is a typical one of the real listing page, with one paper more whose
// abstract ends in a link to its code (a long unbreakable word). A page with a fixed 700 px table shows that
// the check catches sideways scrolling.
func TestMailLayout(t *testing.T) {
	ctx := browser(t)
	now := time.Now()
	all, err := PagePapers(testutil.SharedData(t, "papers-page.txt"), now)
	if err != nil {
		t.Fatal(err)
	}
	// Abstracts often end with a link to the code: a long unbreakable word.
	const url = "https://github.com/example_lab/curvature_guided_rewiring_with_flows"
	all = append(all, model.Paper{
		ID: "2611.09999", Title: "Curvature-Guided Rewiring for Graph Neural Networks",
		Abstract: "Message passing in graph neural networks suffers from over-squashing. We rewire graphs " +
			"along discrete curvature flows and keep the edge count fixed. Code: " + url,
		Authors: []string{"A. Author", "B. Author"}, Upvotes: 120, TrendingAt: now.UTC(),
	})
	interests := []string{"graph neural networks", "semantic segmentation", "language models"}
	in, _ := signedInstance(t, "ed25519", Options{Papers: all, Now: now})
	sub, err := in.AddReader("reader@example.org", interests)
	if err != nil {
		t.Fatal(err)
	}
	digestMail, err := in.Digest(ctx, sub)
	if err != nil {
		t.Fatal(err)
	}
	_, confirmMail, err := in.Confirmation(ctx, "new.reader@example.org", []string{"speech recognition"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	digestHTML, err := ReadBodies(digestMail)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(digestHTML.HTML, url) {
		t.Fatalf("the abstract URL %s is not in the digest:\n%s", url, digestHTML.HTML)
	}
	confirmHTML, err := ReadBodies(confirmMail)
	if err != nil {
		t.Fatal(err)
	}
	pages := map[string]string{
		"digest":       writePage(t, dir, "digest", digestHTML.HTML),
		"confirmation": writePage(t, dir, "confirmation", confirmHTML.HTML),
	}

	for _, name := range []string{"digest", "confirmation"} {
		for _, vp := range Viewports {
			l, err := MeasureLayout(ctx, "file://"+pages[name], vp)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s at %s (%d px): %+v", name, vp.Name, vp.Width, l)
			if l.ClientWidth != int(vp.Width) {
				t.Errorf("%s at %s: the layout viewport is %d px wide, want %d (viewport meta tag)", name, vp.Name, l.ClientWidth, vp.Width)
			}
			if l.ScrollWidth > int(vp.Width) {
				t.Errorf("%s at %s: the document is %d px wide in a %d px viewport: the reader must scroll sideways", name, vp.Name, l.ScrollWidth, vp.Width)
			}
			switch {
			case l.CardWidth <= 0:
				t.Errorf("%s at %s: no content table around the h1", name, vp.Name)
			case l.CardWidth > maxCardWidth:
				t.Errorf("%s at %s: the content table is %.0f px wide, want at most %d", name, vp.Name, l.CardWidth, maxCardWidth)
			}
		}
	}

	// The control: a table wider than a phone must be caught.
	wide := writePage(t, dir, "wide", `<!DOCTYPE html><html><head><meta name="viewport" content="width=device-width, initial-scale=1"></head>`+
		`<body><table width="700" style="width:700px"><tr><td><h1>Wide</h1></td></tr></table></body></html>`)
	l, err := MeasureLayout(ctx, "file://"+wide, Phone)
	if err != nil {
		t.Fatal(err)
	}
	if l.ScrollWidth <= int(Phone.Width) || l.CardWidth != 700 {
		t.Errorf("a 700 px table at phone width measured %+v, want a scroll width above %d and a card of 700", l, Phone.Width)
	}
}

func writePage(t *testing.T, dir, name, html string) string {
	t.Helper()
	p := filepath.Join(dir, name+".html")
	if err := os.WriteFile(p, []byte(html), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
