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
