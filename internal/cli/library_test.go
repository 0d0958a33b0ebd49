package cli

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/papermail/papermail/internal/deliverability"
	"github.com/papermail/papermail/internal/store"
	"github.com/papermail/papermail/internal/testutil"
)

// paperStart matches the numbered title line of a paper in the text part.
var paperStart = regexp.MustCompile(`\n\n ?\d+\. `)

// TestLibraryPullsTopicIntoDigest: a reader added with a 20-entry BibTeX
// library on speech recognition and no free-text interest gets a digest
// of speech papers from the real listing page, each saying which library
// paper it is like; a malformed library is refused by entry number and
// nothing is stored.
func TestLibraryPullsTopicIntoDigest(t *testing.T) {
	page := testutil.SharedData(t, "papers-page.txt")
	dir := installEnv(t)
	lib := filepath.Join("..", "library", "testdata")
	if code, _, errOut := runMain(t, "ingest", page); code != 0 {
		t.Fatalf("ingest: %s", errOut)
	}
	code, _, errOut := runMain(t, "subscribers", "add", "broken@example.org", "--library", filepath.Join(lib, "malformed.bib"), "--confirmed")
	if code == 0 || !strings.Contains(errOut, "entry 3 (broken3), line 12") || !strings.Contains(errOut, "nothing was stored") {
		t.Errorf("malformed library: exit %d, %q", code, errOut)
	}
	st := openStore(t, dir)
	if _, err := st.SubscriberByEmail("broken@example.org"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a refused library stored the subscriber: %v", err)
	}
	st.Close()

	code, out, errOut := runMain(t, "subscribers", "add", "reader@example.org", "--library", filepath.Join(lib, "speech-20.bib"), "--confirmed")
	if code != 0 || !strings.Contains(out, "library: 20 papers") {
		t.Fatalf("add: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, out, errOut := runMain(t, "digest"); code != 0 {
		t.Fatalf("digest: exit %d\n%s\n%s", code, out, errOut)
	}
	files, err := filepath.Glob(filepath.Join(dir, "Maildir", "new", "*"))
	if err != nil || len(files) != 1 {
		t.Fatalf("%d mails in the Maildir, want the digest (%v)", len(files), err)
	}
	raw, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	b, err := deliverability.ReadBodies(raw)
	if err != nil {
		t.Fatal(err)
	}
	papers := strings.Count(b.Text, "\n    More like this:\n")
	likes := strings.Count(b.Text, "Why: like your")
	if papers == 0 || likes != papers {
		t.Fatalf("%d papers, %d saying which library paper they are like:\n%s", papers, likes, b.Text)
	}
	if !strings.Contains(b.HTML, "Like your <i>") {
		t.Errorf("HTML part does not say which library paper a paper is like")
	}
	// Every paper picked is about speech (title or abstract).
	blocks := paperStart.Split(strings.SplitN(b.Text, "\n-- \n", 2)[0], -1)[1:]
	for _, block := range blocks {
		low := strings.ToLower(block)
		if !strings.Contains(low, "speech") && !strings.Contains(low, "audio") && !strings.Contains(low, "spoken") && !strings.Contains(low, "voice") {
			t.Errorf("a paper off the library's topic:\n%s", block)
		}
	}
	if len(blocks) != papers {
		t.Errorf("split %d papers, counted %d", len(blocks), papers)
	}
	t.Logf("%d papers from a speech library with no interests", papers)
}
