package feeds

import (
	"os"
	"path/filepath"
	"testing"
)

func TestDetect(t *testing.T) {
	tests := []struct{ head, name, want string }{
		{`[{"paper":{}}]`, "x", FormatHF},
		{"\xef\xbb\xbf \n [\n  {", "daily.json", FormatHF},
		{"[]", "", FormatHF},
		{"[", "", FormatHF},
		{`<?xml version="1.0"?><feed>`, "", FormatArxiv},
		{"<rss version=\"2.0\">", "", FormatArxiv},
		{`{"id":"2401.00001","title":"x"}` + "\n", "", FormatJSONL},
		{`{"messages":[{"status":"ok"}],"collection":[`, "", FormatBiorxiv},
		{"{ \"collection\": []}", "", FormatBiorxiv},
		{"Get trending papers in your email inbox!\n", "papers.txt", FormatPage},
		{"[2401.01234] A Title\nAbstract", "", FormatPage},
		{"", "feed.json", FormatHF},
		{"  \n", "feed.JSONL", FormatJSONL},
		{"", "papers.ndjson", FormatJSONL},
		{"", "https://rss.arxiv.org/atom/cs.CL.xml?x=1", FormatArxiv},
		{"", "page.txt", FormatPage},
		{"", "", FormatPage},
	}
	for _, tt := range tests {
		if got := Detect([]byte(tt.head), tt.name); got != tt.want {
			t.Errorf("Detect(%q, %q) = %q, want %q", tt.head, tt.name, got, tt.want)
		}
	}
}

// TestDetectFixtures: every fixture is recognized from its first bytes
// alone, and the real page is a page.
func TestDetectFixtures(t *testing.T) {
	for name, want := range map[string]string{
		"testdata/hf-daily.json":        FormatHF,
		"testdata/arxiv-api.xml":        FormatArxiv,
		"testdata/arxiv-rss.xml":        FormatArxiv,
		"testdata/arxiv-atom-daily.xml": FormatArxiv,
		"testdata/page-listing.txt":     FormatPage,
		"testdata/papers.jsonl":         FormatJSONL,
		"testdata/biorxiv-details.json": FormatBiorxiv,
		samplePage(t):                   FormatPage,
	} {
		data, err := os.ReadFile(filepath.FromSlash(name))
		if err != nil {
			t.Fatal(err)
		}
		if got := Detect(data[:min(len(data), 64)], ""); got != want {
			t.Errorf("Detect(%s) = %q, want %q", name, got, want)
		}
	}
}
