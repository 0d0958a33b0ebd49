package feeds

import (
	"strings"
	"testing"
)

// TestFeedLinksOnlyWeb: links a hostile feed puts in a paper (javascript:,
// data:, vbscript:, file:, relative, with credentials) are left out, so
// no mail or page shows them (html/template would turn them into
// "#ZgotmplZ" links); web links stay.
func TestFeedLinksOnlyWeb(t *testing.T) {
	hostile := []string{"javascript:alert(document.cookie)", "JavaScript:alert(1)", " javascript:alert(1)",
		"data:text/html,<script>alert(1)</script>", "vbscript:msgbox(1)", "file:///etc/passwd", "/relative/path",
		"//cdn.example.org/x", "https://user:pw@evil.example/", "java\tscript:alert(1)", "https://exa mple.org/"}
	for _, link := range hostile {
		if got := WebURL(link); got != "" {
			t.Errorf("WebURL(%q) = %q, want it left out", link, got)
		}
	}
	for _, link := range []string{"https://github.com/example-lab/repo", "http://example.org/p?a=1#x", " https://arxiv.org/abs/2401.1 "} {
		if got := WebURL(link); got != strings.TrimSpace(link) {
			t.Errorf("WebURL(%q) = %q", link, got)
		}
	}
	hf := `[{"paper":{"id":"2401.00001","title":"A paper with hostile links","summary":"An abstract.",
	  "githubRepo":"javascript:alert(1)","projectPage":"data:text/html,<b>x</b>","authors":[]},
	  "thumbnail":"vbscript:msgbox(1)","publishedAt":"2024-01-08T18:42:07.000Z"}]`
	papers, err := Parse(strings.NewReader(hf), FormatHF, "hostile.json", testNow)
	if err != nil {
		t.Fatal(err)
	}
	if len(papers) != 1 {
		t.Fatalf("%d papers", len(papers))
	}
	p := papers[0]
	if p.GitHubRepo != "" || p.ProjectPage != "" || p.Thumbnail != "" || !strings.HasPrefix(p.URL, "https://") {
		t.Errorf("hostile links kept: code %q, project %q, thumbnail %q, url %q", p.GitHubRepo, p.ProjectPage, p.Thumbnail, p.URL)
	}
	jsonl := `{"id":"2401.00002","title":"Another","abstract":"x","url":"javascript:alert(1)","github_repo":"data:,x"}` + "\n"
	papers, err = Parse(strings.NewReader(jsonl), FormatJSONL, "hostile.jsonl", testNow)
	if err != nil || len(papers) != 1 || papers[0].URL != "" || papers[0].GitHubRepo != "" {
		t.Errorf("jsonl hostile links: %+v, %v", papers, err)
	}
}

// TestCleanTextDropsBidiControls: a feed title cannot carry a bidi
// override or isolate into a mail, a page or the terminal.
func TestCleanTextDropsBidiControls(t *testing.T) {
	for in, want := range map[string]string{
		"Safe \u202etxt.exe\u202c title":    "Safe txt.exe title",
		"\u2066isolated\u2069 words \u200f": "isolated words",
		"escape \x1b[31mred":                "escape [31mred",
	} {
		if got := CleanText(in); got != want {
			t.Errorf("CleanText(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestRelativeLinksResolved: a journal feed's relative item links are
// resolved against the channel's (RSS) or feed's (Atom) own link when the
// feed comes from a file, and against the feed's URL when it was fetched;
// a javascript: link stays out either way.
func TestRelativeLinksResolved(t *testing.T) {
	rss := `<?xml version="1.0"?><rss version="2.0"><channel><title>Letters</title><link>https://letters.example.org/toc/</link>
<item><title>Relative to the site</title><link>/articles/101</link><description>x</description></item>
<item><title>Relative to the page</title><link>a/102?v=1</link><description>x</description></item>
<item><title>Script link</title><link>javascript:alert(1)</link><description>x</description></item>
<item><title>Absolute</title><link>https://other.example.net/103</link><description>x</description></item></channel></rss>`
	atom := `<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Atom TOC</title><id>urn:x</id>
<link rel="self" href="https://self.example.org/feed.atom"/><link rel="alternate" href="https://atoc.example.org/current/"/>
<entry><title>Atom relative</title><id>urn:e1</id><link href="../issue/7/201"/><summary>x</summary>
<author><name>A. One</name></author><author><name>B. Two</name></author></entry></feed>`
	tests := []struct {
		name, src, source string
		want              []string
	}{
		{"rss file", rss, "toc.xml", []string{"https://letters.example.org/articles/101", "https://letters.example.org/toc/a/102?v=1", "", "https://other.example.net/103"}},
		{"rss fetched", rss, "https://feeds.example.com/j/rss.xml", []string{"https://feeds.example.com/articles/101", "https://feeds.example.com/j/a/102?v=1", "", "https://other.example.net/103"}},
		{"atom file", atom, "toc.atom", []string{"https://atoc.example.org/issue/7/201"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			papers, _, err := parseBytes([]byte(tt.src), FormatRSS, tt.source, testNow)
			if err != nil {
				t.Fatal(err)
			}
			if len(papers) != len(tt.want) {
				t.Fatalf("%d papers, want %d", len(papers), len(tt.want))
			}
			for i, p := range papers {
				if p.URL != tt.want[i] {
					t.Errorf("%q: URL %q, want %q", p.Title, p.URL, tt.want[i])
				}
			}
		})
	}
}

// TestFeedDOIIsADOI: a DOI from a JSONL feed goes into "https://doi.org/"
// links and citations: it is the DOI found in the field, without controls,
// bidi overrides or quotes, and nothing when the field holds no DOI.
func TestFeedDOIIsADOI(t *testing.T) {
	jsonl := `{"id":"2401.00003","title":"One","doi":"10.1234/x\u202e\u001b[31m\" onclick=alert(1)"}` + "\n" +
		`{"id":"2401.00004","title":"Two","doi":"javascript:alert(1)"}` + "\n" +
		`{"id":"2401.00005","title":"Three","doi":"https://doi.org/10.1101/2024.01.02.123456"}` + "\n"
	papers, err := Parse(strings.NewReader(jsonl), FormatJSONL, "hostile.jsonl", testNow)
	if err != nil || len(papers) != 3 {
		t.Fatalf("%d papers, %v", len(papers), err)
	}
	for i, want := range []string{"10.1234/x", "", "10.1101/2024.01.02.123456"} {
		if papers[i].DOI != want {
			t.Errorf("paper %d: DOI %q, want %q", i, papers[i].DOI, want)
		}
	}
}
