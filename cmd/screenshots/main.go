// Command screenshots photographs papermail for the documentation: a
// digest and each web page (subscribe, confirm, preferences, unsubscribe)
// at desktop (1280 px) and phone (390 px) width, with headless Chromium.
//
// Regenerate every image from the repository root with
//
//	go run ./cmd/screenshots
//
// It starts papermail in a temporary folder, wired as `papermail serve`
// wires it: the sample papers, one reader, Maildir delivery and the web
// pages on 127.0.0.1 at a free port (configured as a public installation
// at https://papers.example.org, so the pages show no local mailbox). It runs that reader's digest, takes
// the HTML part of the mail from the Maildir and writes
// docs/screenshots/<name>-<desktop|phone>.png, full page, at device scale
// 1, with a palette of 256 colours to keep the files small. Flags: -out
// (the folder), -chromium (the browser) and -templates (a templates_dir).
package main

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/papermail/papermail/internal/deliverability"
)

func main() {
	out := flag.String("out", filepath.Join("docs", "screenshots"), "folder for the PNG files")
	chromium := flag.String("chromium", deliverability.ChromiumPath, "chromium executable")
	templates := flag.String("templates", "", "templates_dir: photograph your own templates instead of the embedded ones")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := run(ctx, *out, *chromium, *templates); err != nil {
		fmt.Fprintln(os.Stderr, "screenshots:", err)
		os.Exit(1)
	}
}

// clock is the moment the screenshots show; it must lie in the past, as
// the outbox sends only mail that is due.
var clock = time.Date(2026, 3, 2, 7, 0, 0, 0, time.UTC)

// shot is one thing to photograph.
type shot struct{ name, url string }

func run(ctx context.Context, out, chromium, templates string) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "papermail-screenshots-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer ln.Close()
	addr := ln.Addr().String()
	_, port, _ := net.SplitHostPort(addr)
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	// base_url and http.listen are set as a public installation sets
	// them, so the pages show what subscribers see (no local mailbox, no
	// port that changes from run to run); the browser goes to the local
	// address instead of base_url.
	in, err := deliverability.Start(deliverability.Options{
		Dir: filepath.Join(tmp, "data"), BaseURL: deliverability.DefaultBaseURL, Listen: ":" + port, Log: log,
		// A fixed secret and clock keep the images the same from run to
		// run (the feed address, the dates shown).
		Secret: "papermail-screenshots-only-secret", Now: clock, TemplatesDir: templates,
	})
	if err != nil {
		return err
	}
	defer in.Close()
	hs := in.Web.HTTPServer(addr)
	go hs.Serve(ln)
	defer hs.Close()

	reader, err := in.AddReader("reader@example.org",
		[]string{"making LLM inference faster", "retrieval-augmented generation", "graph neural networks"})
	if err != nil {
		return err
	}
	raw, err := in.Digest(ctx, reader)
	if err != nil {
		return err
	}
	mail, err := deliverability.ReadBodies(raw)
	if err != nil {
		return err
	}
	digestFile := filepath.Join(tmp, "digest.html")
	if err := os.WriteFile(digestFile, []byte(mail.HTML), 0o644); err != nil {
		return err
	}
	pending, _, err := in.Confirmation(ctx, "new.reader@example.org", []string{"speech recognition", "robot learning from demonstrations"})
	if err != nil {
		return err
	}
	local := func(u string) string { return "http://" + addr + strings.TrimPrefix(u, in.Links.Base) }
	shots := []shot{
		{"digest", "file://" + digestFile},
		{"subscribe", local(in.Links.Base + "/")},
		{"confirm", local(in.ConfirmURL(pending))},
		{"preferences", local(in.Links.Preferences(reader.ID))},
		{"unsubscribe", local(in.Links.Unsubscribe(reader.ID))},
	}
	for _, s := range shots[1:] {
		if err := get(ctx, s.url); err != nil {
			return fmt.Errorf("%s page: %w", s.name, err)
		}
	}

	bctx, stop, err := deliverability.NewBrowser(ctx, chromium, filepath.Join(tmp, "chromium"))
	if err != nil {
		return err
	}
	defer stop()
	for _, s := range shots {
		for _, vp := range deliverability.Viewports {
			shot, err := deliverability.Screenshot(bctx, s.url, vp)
			if err != nil {
				return err
			}
			small, err := shrink(shot)
			if err != nil {
				return fmt.Errorf("%s at %s width: %w", s.name, vp.Name, err)
			}
			path := filepath.Join(out, s.name+"-"+vp.Name+".png")
			if err := os.WriteFile(path, small, 0o644); err != nil {
				return err
			}
			fmt.Printf("%s (%d KiB)\n", path, len(small)>>10)
		}
	}
	return nil
}

// get checks that a page answers 200 OK.
func get(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return errors.New(url + " answered " + resp.Status)
	}
	return nil
}

// shrink re-encodes a screenshot with a palette of its 256 most frequent
// colours, each pixel taking the nearest: pages are flat colours and
// anti-aliased text, so the image looks the same at a third of the size.
func shrink(data []byte) ([]byte, error) {
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("decode screenshot: %w", err)
	}
	b := img.Bounds()
	count := map[color.RGBA]int{}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			count[color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)]++
		}
	}
	colors := slices.Collect(maps.Keys(count))
	rgb := func(c color.RGBA) int { return int(c.R)<<16 | int(c.G)<<8 | int(c.B) }
	// Most frequent first; ties by value, so the output is the same each run.
	slices.SortFunc(colors, func(a, b color.RGBA) int { return cmp.Or(count[b]-count[a], rgb(a)-rgb(b)) })
	pal := make(color.Palette, min(len(colors), 256))
	for i := range pal {
		pal[i] = colors[i]
	}
	out := image.NewPaletted(b, pal)
	index := map[color.RGBA]uint8{}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
			i, ok := index[c]
			if !ok {
				i = uint8(pal.Index(c))
				index[c] = i
			}
			out.SetColorIndex(x, y, i)
		}
	}
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&buf, out); err != nil {
		return nil, fmt.Errorf("encode screenshot: %w", err)
	}
	return buf.Bytes(), nil
}
