package feeds

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/papermail/papermail/internal/model"
)

func TestParseJSONL(t *testing.T) {
	got := parseFixture(t, "papers.jsonl", FormatAuto)
	want := []model.Paper{
		{
			ID: "2401.01234", Title: "Grounded Decoding for Faithful Summaries of Long Clinical Notes",
			Abstract: "Abstractive summarizers often add facts.", Authors: []string{"Leila Haddad", "Pieter van Dijk"},
			Categories: []string{"cs.CL"}, URL: "https://arxiv.org/abs/2401.01234", Upvotes: 3,
			Published: utc(2024, 1, 2, 18, 59, 59, 0), Ingested: testNow, Source: "arxiv",
		},
		{ID: TitleID("A Paper Without an arXiv Id"), Title: "A Paper Without an arXiv Id", Abstract: "It came from a scraped page.", Ingested: testNow, Source: "jsonl"},
		{ID: "t:0123456789abcdef", Title: "Kept Title Id", Keywords: []string{"a", "b"}, Ingested: utc(2024, 1, 1, 0, 0, 0, 0), Source: "jsonl"},
		{ID: "hep-th/9901001", Title: "On the Spectrum of a Toy String Model", TrendingAt: utc(2024, 1, 9, 6, 30, 12, 0), Clicks: 5, Ingested: testNow, Source: "jsonl"},
	}
	checkPapers(t, got, want)
}

// TestJSONLRoundTrip writes papers as papermail exports them and reads
// them back unchanged.
func TestJSONLRoundTrip(t *testing.T) {
	in := append(parseFixture(t, "hf-daily.json", FormatHF), parseFixture(t, "arxiv-api.xml", FormatArxiv)...)
	in = append(in, parseFixture(t, "page-listing.txt", FormatPage)...)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for _, p := range in {
		if err := enc.Encode(p); err != nil {
			t.Fatal(err)
		}
	}
	out, err := Parse(&buf, FormatJSONL, "export.jsonl", testNow.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	checkPapers(t, out, in)
}

// jsonlSource builds n jsonl papers with realistic abstracts.
func jsonlSource(n int) string {
	var b strings.Builder
	abstract := strings.Repeat("We study sparse attention for long documents -- and show it matches {\\em dense} attention on 38\\% of tasks. ", 12)
	abstract = strconv.Quote(abstract)
	for i := range n {
		fmt.Fprintf(&b, `{"id":"2401.%05dv1","title":"Paper number %d on sparse attention","abstract":%s,"authors":["A. One","B. Two"],"categories":["cs.CL"],"published":"2024-01-02T18:59:59Z"}`+"\n", i, i, abstract)
	}
	return b.String()
}

// TestParseJSONL100k parses 100k papers (10k under the race detector).
func TestParseJSONL100k(t *testing.T) {
	n := 100000
	if raceEnabled {
		n = 10000 // the race detector makes the full size slow
	}
	papers, err := parseString(jsonlSource(n), FormatJSONL)
	if err != nil {
		t.Fatal(err)
	}
	if len(papers) != n || papers[0].ID != "2401.00000" || papers[n-1].ID != fmt.Sprintf("2401.%05d", n-1) || papers[500].Title != "Paper number 500 on sparse attention" {
		t.Fatalf("got %d papers, first %q, last %q", len(papers), papers[0].ID, papers[len(papers)-1].ID)
	}
	if !strings.Contains(papers[7].Abstract, "long documents – and show it matches dense attention on 38% of tasks.") {
		t.Errorf("abstract not cleaned: %.120q", papers[7].Abstract)
	}
}

func BenchmarkParseJSONL(b *testing.B) {
	var sb strings.Builder
	abstract := strings.Repeat("We study sparse attention for long documents -- and show it matches {\\em dense} attention. ", 15)
	for i := range 1000 {
		fmt.Fprintf(&sb, `{"id":"2401.%05d","title":"Paper %d","abstract":%q}`+"\n", i, i, abstract)
	}
	src := sb.String()
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		if _, err := parseString(src, FormatJSONL); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCleanText(b *testing.B) {
	plain := strings.Repeat("We study sparse attention for long documents and show it matches dense attention. ", 15)
	latex := strings.Repeat("We study {\\em sparse} attention -- for $O(n)$ documents and show it matches 38\\% of ``dense'' attention. ", 15)
	for _, s := range []struct{ name, in string }{{"plain", plain}, {"latex", latex}} {
		b.Run(s.name, func(b *testing.B) {
			b.SetBytes(int64(len(s.in)))
			for b.Loop() {
				CleanText(s.in)
			}
		})
	}
}
