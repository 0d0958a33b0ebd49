package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/papermail/papermail/internal/deliverability"
	"github.com/papermail/papermail/internal/model"
)

// TestDigestShowsWhatAReaderActsOn ingests an arXiv API Atom entry (with
// affiliations, a PDF link and categories) and Hugging Face entries (with
// githubRepo, projectPage and ai_summary), adds a reader who follows Yann
// LeCun, runs the digest and checks both parts: every field shown, the
// followed author's off-topic paper marked, another LeCun's paper absent.
func TestDigestShowsWhatAReaderActsOn(t *testing.T) {
	dir := installEnv(t)
	now := time.Now().UTC().Add(-2 * time.Hour).Format(time.RFC3339)
	atom := `<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:arxiv="http://arxiv.org/schemas/atom">
  <entry>
    <id>http://arxiv.org/abs/2612.04001v1</id>
    <published>` + now + `</published>
    <title>Streaming Speech Recognition with Sparse Attention</title>
    <summary>We make streaming speech recognition cheaper with sparse attention over audio frames.</summary>
    <author><name>Amara Okafor</name><arxiv:affiliation>University of Lagos</arxiv:affiliation></author>
    <author><name>Jonas Weber</name><arxiv:affiliation>ETH Zurich</arxiv:affiliation></author>
    <link href="http://arxiv.org/abs/2612.04001v1" rel="alternate" type="text/html"/>
    <link title="pdf" href="http://arxiv.org/pdf/2612.04001v1" rel="related" type="application/pdf"/>
    <arxiv:primary_category term="eess.AS"/>
    <category term="eess.AS"/><category term="cs.CL"/>
  </entry>
</feed>`
	hf := `[{"paper":{"id":"2612.04002","title":"Speech Recognition for Code-Switched Conversations","summary":"A speech recognition model for conversations that switch languages.",
"authors":[{"name":"Li Na"}],"publishedAt":"` + now + `","ai_summary":"One model transcribes bilingual talk without a language switch detector.",
"githubRepo":"https://github.com/example/codeswitch-asr","projectPage":"https://example.org/codeswitch/","upvotes":40},"numComments":3},
{"paper":{"id":"2612.04003","title":"Glacier Retreat Measured from Historical Photographs","summary":"Historical photographs of alpine glaciers are aligned with satellite images.",
"authors":[{"name":"Ana Ruiz"},{"name":"Y. LeCun"}],"publishedAt":"` + now + `"}},
{"paper":{"id":"2612.04004","title":"Soil Microbes and Nitrogen Uptake in Wheat","summary":"Soil microbes relate to nitrogen uptake by wheat.",
"authors":[{"name":"Xavier LeCun"}],"publishedAt":"` + now + `"}}]`
	for name, body := range map[string]string{"arxiv.xml": atom, "hf.json": hf} {
		path := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if code, out, errOut := runMain(t, "ingest", path); code != 0 {
			t.Fatalf("ingest %s: %s %s", name, out, errOut)
		}
	}
	if code, out, errOut := runMain(t, "subscribers", "add", "reader@example.org", "--interests", "speech recognition", "--authors", "LeCun, Yann", "--confirmed"); code != 0 {
		t.Fatalf("add: %s %s", out, errOut)
	}
	if code, out, errOut := runMain(t, "digest"); code != 0 {
		t.Fatalf("digest: %s %s", out, errOut)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "Maildir", "new", "*"))
	if len(files) != 1 {
		t.Fatalf("%d mails, want the digest", len(files))
	}
	raw, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	b, err := deliverability.ReadBodies(raw)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(strings.Fields(b.Text), " ") // wrapped lines joined
	for _, part := range []struct{ name, body string }{{"text", text}, {"html", b.HTML}} {
		for _, want := range []string{
			"arXiv:2612.04001", "https://arxiv.org/abs/2612.04001", "https://arxiv.org/pdf/2612.04001v1", "University of Lagos, ETH Zurich", "eess.AS",
			"arXiv:2612.04002", "https://github.com/example/codeswitch-asr", "https://example.org/codeswitch/",
			"One model transcribes bilingual talk without a language switch detector.", "TL;DR",
			"Glacier Retreat Measured from Historical Photographs", "whom you follow",
			"/cite/2612.04001.bib",
		} {
			if !strings.Contains(part.body, want) {
				t.Errorf("%s part lacks %q", part.name, want)
			}
		}
		if strings.Contains(part.body, "Soil Microbes") {
			t.Errorf("%s part holds the paper of another LeCun", part.name)
		}
	}
	if !strings.Contains(text, "By Yann LeCun, whom you follow.") || !strings.Contains(b.HTML, "By <b>Yann LeCun</b>, whom you follow") {
		t.Errorf("the followed author's paper is not marked")
	}
	// The TL;DR stands above the abstract excerpt.
	if i, j := strings.Index(text, "TL;DR: One model"), strings.Index(text, "A speech recognition model for conversations"); i < 0 || j < i {
		t.Errorf("TL;DR at %d, abstract at %d: want the TL;DR first", i, j)
	}
}

// TestCategoriesNotSeenWarn: `subscribers add --categories` names the
// categories no stored paper is in (a typo, most often) on stderr, keeps
// the subscriber with them, and says nothing about known ones.
func TestCategoriesNotSeenWarn(t *testing.T) {
	installEnv(t)
	now := time.Now().UTC().Add(-time.Hour).Format(time.RFC3339)
	atom := `<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:arxiv="http://arxiv.org/schemas/atom">
  <entry><id>http://arxiv.org/abs/2612.05001v1</id><published>` + now + `</published>
    <title>Graph Pooling Revisited</title><summary>Pooling in graph neural networks.</summary>
    <author><name>Ada Byron</name></author><arxiv:primary_category term="cs.LG"/><category term="cs.LG"/><category term="cs.SI"/></entry>
</feed>`
	path := filepath.Join(t.TempDir(), "a.xml")
	if err := os.WriteFile(path, []byte(atom), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := runMain(t, "ingest", path); code != 0 {
		t.Fatalf("ingest: %s %s", out, errOut)
	}
	for _, tt := range []struct {
		email, cats string
		warn        []string // names the warning must give; none: no warning
	}{
		{"known@example.org", "cs.LG, CS.SI", nil},
		{"typo@example.org", "cs.LG, cs.LGG, q-bio.XX", []string{"cs.LGG, q-bio.XX", "such as cs.LG"}},
	} {
		t.Run(tt.email, func(t *testing.T) {
			code, out, errOut := runMain(t, "subscribers", "add", tt.email, "--categories", tt.cats, "--confirmed")
			if code != 0 || !strings.Contains(out, "added "+tt.email) {
				t.Fatalf("add: exit %d: %s %s", code, out, errOut)
			}
			if len(tt.warn) == 0 && strings.Contains(errOut, "warning") {
				t.Errorf("warning for known categories: %s", errOut)
			}
			for _, w := range tt.warn {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr %q lacks %q", errOut, w)
				}
			}
			if strings.Contains(errOut, "in cs.LG,") {
				t.Errorf("known category named unknown: %s", errOut)
			}
		})
	}
}

// TestPreviewReaderProfile: preview takes followed authors and a library
// as a digest would (interests may be empty): a followed author's
// off-topic paper is listed as followed, a paper like a library entry
// names it, and another person with the same surname is not followed.
func TestPreviewReaderProfile(t *testing.T) {
	dir := installEnv(t)
	now := time.Now().UTC().Add(-time.Hour).Format(time.RFC3339)
	entry := func(id, title, summary, author string) string {
		return `<entry><id>http://arxiv.org/abs/` + id + `v1</id><published>` + now + `</published><title>` + title + `</title><summary>` + summary +
			`</summary><author><name>` + author + `</name></author><category term="cs.LG"/></entry>`
	}
	atom := `<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom">` +
		entry("2612.06001", "Oversmoothing in Deep Graph Neural Networks", "Deep graph neural networks oversmooth node features; residual message passing avoids it.", "Ana Lima") +
		entry("2612.06002", "Tidal Heating of Rocky Exoplanets", "Tidal heating in close binary orbits.", "G. E. Hinton") +
		entry("2612.06003", "Sediment Transport in Braided Rivers", "Field measurements of sediment transport.", "Graham Hinton") +
		`</feed>`
	bib := `@article{kipf2017, title = {Semi-Supervised Classification with Graph Convolutional Networks},
  abstract = {Graph convolutional networks for semi-supervised node classification on graphs.}}
@inproceedings{xu2019, title = {How Powerful are Graph Neural Networks?}}`
	files := map[string]string{"a.xml": atom, "lib.bib": bib}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if code, out, errOut := runMain(t, "ingest", filepath.Join(dir, "a.xml")); code != 0 {
		t.Fatalf("ingest: %s %s", out, errOut)
	}
	code, out, errOut := runMain(t, "preview", "--authors", "Hinton, Geoffrey E.", "--library", filepath.Join(dir, "lib.bib"), "--format", "json")
	if code != 0 {
		t.Fatalf("preview: exit %d: %s %s", code, out, errOut)
	}
	var items []previewItem
	if err := json.Unmarshal([]byte(out), &items); err != nil {
		t.Fatalf("preview json: %v\n%s", err, out)
	}
	got := map[string]previewItem{}
	for _, it := range items {
		got[it.ID] = it
	}
	if it := got["2612.06002"]; it.Followed != "Geoffrey E. Hinton" {
		t.Errorf("followed author's paper: %+v", it)
	}
	if it := got["2612.06001"]; !strings.Contains(it.Like, "Graph") {
		t.Errorf("library paper: %+v", it)
	}
	if it, ok := got["2612.06003"]; ok && it.Followed != "" {
		t.Errorf("another Hinton followed: %+v", it)
	}
	code, out, _ = runMain(t, "preview", "--authors", "Geoffrey Hinton")
	if code != 0 || !strings.Contains(out, "by Geoffrey Hinton, whom you follow") {
		t.Errorf("text preview with --authors: exit %d:\n%s", code, out)
	}
}

// TestAddShowsFollowedGivenFirst: `subscribers add` echoes followed
// authors given name first, as the mails name them.
func TestAddShowsFollowedGivenFirst(t *testing.T) {
	installEnv(t)
	code, out, errOut := runMain(t, "subscribers", "add", "f@example.org", "--authors", "Hinton, Geoffrey E.; José Hernández-Orallo", "--confirmed")
	if code != 0 || !strings.Contains(out, "following: Geoffrey E. Hinton, José Hernández-Orallo") {
		t.Errorf("exit %d: %s %s", code, out, errOut)
	}
}

// TestPreviewEscapesStoredText: a paper title a store written by an older
// version kept with a terminal escape and a bidi override is escaped when
// preview prints it.
func TestPreviewEscapesStoredText(t *testing.T) {
	dir := installEnv(t)
	st := openStore(t, dir)
	now := time.Now().UTC()
	p := model.Paper{ID: "2612.07001", Title: "Graph neural networks \x1b]0;pwned\x07\u202eexe.gpj", Abstract: "Graph neural networks.",
		TrendingAt: now.Add(-time.Hour), Source: "hf"}
	if _, err := st.PutPapers([]model.Paper{p}, now); err != nil {
		t.Fatal(err)
	}
	st.Close()
	code, out, errOut := runMain(t, "preview", "--interests", "graph neural networks")
	if code != 0 || !strings.Contains(out, "Graph neural networks") {
		t.Fatalf("preview: exit %d: %s %s", code, out, errOut)
	}
	if strings.ContainsAny(out, "\x1b\x07\u202e") {
		t.Errorf("preview prints stored text raw: %q", out)
	}
}
