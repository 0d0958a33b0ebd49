package digest_test

import (
	"testing"
	"time"

	"github.com/papermail/papermail/internal/config"
	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/selection"
)

// TestPreviewAppliesWindow stores papers on the same topic inside and
// outside digest.window (but inside the candidate index's reach): a preview
// for interests shows only what a digest would send, the recent ones.
func TestPreviewAppliesWindow(t *testing.T) {
	t.Parallel()
	g := newRig(t, func(c *config.Config) {
		c.Digest.Window = 36 * time.Hour
		c.Digest.Fallback = "none"
	})
	now := time.Now().UTC()
	paper := func(id, title string, age time.Duration) model.Paper {
		return model.Paper{ID: id, Title: title, URL: "https://arxiv.org/abs/" + id, Source: "arxiv",
			Abstract:  "We study semantic segmentation of street scenes with a new decoder for dense prediction.",
			Published: now.Add(-age), Ingested: now.Add(-age)}
	}
	g.putPapers([]model.Paper{
		paper("2501.00001", "Semantic Segmentation of Road Scenes, Recent", 2*time.Hour),
		paper("2501.00002", "Semantic Segmentation with Sparse Decoders, Recent", 30*time.Hour),
		paper("2501.00003", "Semantic Segmentation at Scale, Five Days Old", 5*24*time.Hour),
		paper("2501.00004", "Semantic Segmentation Revisited, Seven Days Old", 7*24*time.Hour),
	}, now)
	picks, err := g.r.Preview(selection.Profile{Interests: []string{"semantic segmentation"}}, 10, now)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, p := range picks {
		got[p.Paper.ID] = true
		if age := now.Sub(p.Paper.Date()); age > g.cfg.Digest.Window {
			t.Errorf("preview shows %s (%q), %v old, beyond digest.window %v", p.Paper.ID, p.Paper.Title, age.Round(time.Hour), g.cfg.Digest.Window)
		}
	}
	if !got["2501.00001"] || !got["2501.00002"] {
		t.Errorf("preview misses the papers within the window: got %v", got)
	}
	// A subscriber with no digest yet gets the same papers.
	sub := g.addSubscribers(1, now, func(_ int, s *model.Subscriber) { s.Interests = []string{"semantic segmentation"} })[0]
	digest, err := g.r.PreviewFor(&sub, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(digest) != len(picks) {
		t.Errorf("digest would send %d papers, preview shows %d", len(digest), len(picks))
	}
}
