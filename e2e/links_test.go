package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestFeedLinksInDigest ingests a feed whose papers carry javascript: and
// data: links (code, project page, thumbnail, the paper itself), sends the
// digest into the Maildir and reads the mail: none of those links, and no
// "#ZgotmplZ" placeholder html/template would put in their place, is in it.
func TestFeedLinksInDigest(t *testing.T) {
	in := newInstance(t, nil)
	var b strings.Builder
	enc := json.NewEncoder(&b)
	now := time.Now().UTC()
	for i, title := range []string{"Graph neural networks for molecule property prediction", "Message passing graph neural networks at scale"} {
		enc.Encode(map[string]any{"id": "2611.9900" + string(rune('1'+i)), "title": title,
			"abstract":    "We study graph neural networks and message passing on molecules and large graphs.",
			"url":         "javascript:alert(document.cookie)",
			"github_repo": "javascript:alert(1)", "project_page": "data:text/html,<script>alert(1)</script>",
			"thumbnail": "vbscript:msgbox(1)", "trending_at": now.Add(-time.Hour).Format(time.RFC3339), "upvotes": 40})
	}
	feed := filepath.Join(in.dir, "hostile.jsonl")
	if err := os.WriteFile(feed, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	in.ok("ingest", feed)
	in.ok("subscribers", "add", "reader@example.org", "--interests", "graph neural networks", "--confirmed")
	in.ok("digest")
	mails, _ := filepath.Glob(filepath.Join(in.dir, "data", "Maildir", "new", "*"))
	if len(mails) == 0 {
		t.Fatal("no digest in the Maildir")
	}
	for _, m := range mails {
		raw, err := os.ReadFile(m)
		if err != nil {
			t.Fatal(err)
		}
		// Undo quoted-printable soft line breaks, which may split a link.
		text := strings.ToLower(strings.ReplaceAll(string(raw), "=\r\n", ""))
		if !strings.Contains(text, "graph neural networks") {
			continue
		}
		for _, bad := range []string{"javascript:", "data:text", "vbscript:", "zgotmplz"} {
			if strings.Contains(text, bad) {
				t.Errorf("%s holds %q", filepath.Base(m), bad)
			}
		}
		return
	}
	t.Fatal("no digest mail names the ingested papers")
}
