package feeds

import (
	"testing"

	"github.com/papermail/papermail/internal/model"
)

func TestParseArxivAPI(t *testing.T) {
	got := parseFixture(t, "arxiv-api.xml", FormatArxiv)
	want := []model.Paper{
		{
			ID:    "2401.01234",
			Title: "Grounded Decoding for Faithful Summaries of Long Clinical Notes",
			Abstract: "Abstractive summarizers often add facts that the source note does not support. We introduce grounded " +
				"decoding, which restricts each generated sentence to spans retrieved from the note, and a span-level " +
				"faithfulness score. On 4,000 discharge summaries our method cuts unsupported claims by 38% while keeping " +
				"ROUGE within 0.5 points of the baseline – see \"Limitations\" for failure cases.",
			Authors:         []string{"Leila Haddad", "Pieter van Dijk", "Sun-Hee Park"},
			Affiliations:    []string{"University of Somewhere"},
			Categories:      []string{"cs.CL", "cs.AI"},
			PrimaryCategory: "cs.CL",
			URL:             "https://arxiv.org/abs/2401.01234",
			PDFURL:          "https://arxiv.org/pdf/2401.01234v2",
			Published:       utc(2024, 1, 2, 18, 59, 59, 0),
			Ingested:        testNow,
			Source:          "arxiv",
		},
		{
			ID:              "hep-th/9901001",
			Title:           "On the Spectrum of a Toy String Model",
			Abstract:        "We compute the spectrum of a toy string model with N branes and show that the gap scales as 1/√N.",
			Authors:         []string{"A. Nonymous"},
			Categories:      []string{"hep-th"},
			PrimaryCategory: "hep-th",
			URL:             "https://arxiv.org/abs/hep-th/9901001",
			PDFURL:          "https://arxiv.org/pdf/hep-th/9901001v1",
			Published:       utc(1999, 1, 4, 15, 0, 0, 0),
			Ingested:        testNow,
			Source:          "arxiv",
		},
		{
			ID:        "2312.00077",
			Title:     "Minimal Entry",
			Abstract:  "Only the required fields.",
			URL:       "https://arxiv.org/abs/2312.00077",
			Published: utc(2023, 11, 30, 9, 0, 0, 0),
			Ingested:  testNow,
			Source:    "arxiv",
		},
	}
	checkPapers(t, got, want)
}

func TestParseArxivRSS(t *testing.T) {
	got := parseFixture(t, "arxiv-rss.xml", FormatArxiv)
	jan8 := utc(2024, 1, 8, 5, 0, 0, 0)
	want := []model.Paper{
		{
			ID:         "2401.02345",
			Title:      "Tokenizer-Free Translation for Low-Resource Scripts",
			Abstract:   "Subword tokenizers trained on high-resource languages split rare scripts into single bytes. We train byte-level translation models for twelve low-resource scripts and match subword baselines with 30% fewer parameters.",
			Authors:    []string{"Amara Okafor", "Jonas Weber", "Li Na"},
			Categories: []string{"cs.CL", "cs.LG"},
			URL:        "https://arxiv.org/abs/2401.02345",
			Published:  jan8,
			Ingested:   testNow,
			Source:     "arxiv",
		},
		{
			ID:         "2312.09876",
			Title:      "Why Do Retrieval-Augmented Models Hallucinate? A Causal View",
			Abstract:   "We trace hallucinations of retrieval-augmented models to conflicts between retrieved passages and parametric memory & propose a causal test for them.",
			Authors:    []string{"R. Gupta", "M. Tanaka"},
			Categories: []string{"cs.CL"},
			URL:        "https://arxiv.org/abs/2312.09876",
			Published:  jan8,
			Ingested:   testNow,
			Source:     "arxiv",
		},
		{
			ID:         "2401.02001",
			Title:      "Speech Emotion Recognition Across Languages",
			Abstract:   "We test whether speech emotion recognizers transfer across languages.",
			Authors:    []string{"Yusuf Demir"},
			Categories: []string{"eess.AS", "cs.CL"},
			URL:        "https://arxiv.org/abs/2401.02001",
			Published:  jan8,
			Ingested:   testNow,
			Source:     "arxiv",
		},
	}
	checkPapers(t, got, want)
}

func TestParseArxivAtomDaily(t *testing.T) {
	got := parseFixture(t, "arxiv-atom-daily.xml", FormatArxiv)
	jan8 := utc(2024, 1, 8, 5, 0, 0, 0)
	want := []model.Paper{
		{
			ID:         "2401.01234",
			Title:      "Grounded Decoding for Faithful Summaries of Long Clinical Notes",
			Abstract:   "Abstractive summarizers often add facts that the source note does not support. We introduce grounded decoding.",
			Authors:    []string{"Leila Haddad", "Pieter van Dijk", "Sun-Hee Park"},
			Categories: []string{"cs.CL", "cs.AI"},
			URL:        "https://arxiv.org/abs/2401.01234",
			Published:  jan8,
			Ingested:   testNow,
			Source:     "arxiv",
		},
		{
			ID:         "2401.03333",
			Title:      "Curriculum Sampling for Instruction Tuning",
			Abstract:   "Ordering instruction data from easy to hard speeds up tuning.",
			Authors:    []string{"Chen Wei"},
			Categories: []string{"cs.CL"},
			URL:        "https://arxiv.org/abs/2401.03333",
			Published:  jan8,
			Ingested:   testNow,
			Source:     "arxiv",
		},
	}
	checkPapers(t, got, want)
	// The API entry and the daily entry of one paper share an id.
	api := parseFixture(t, "arxiv-api.xml", FormatArxiv)
	if api[0].ID != got[0].ID {
		t.Errorf("API id %q and daily id %q differ", api[0].ID, got[0].ID)
	}
}

func TestParseArxivShapes(t *testing.T) {
	tests := []struct {
		name, src string
		want      []model.Paper
	}{
		{"empty feed", `<feed xmlns="http://www.w3.org/2005/Atom"><title>x</title></feed>`, nil},
		{"RSS 1.0 with old title tail and HTML creators", `<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="http://arxiv.org/"><title>cs.CL updates</title><items><rdf:Seq><rdf:li rdf:resource="http://arxiv.org/abs/1301.00001"/></rdf:Seq></items></channel>
<item rdf:about="http://arxiv.org/abs/1301.00001">
<title>Old Style Title. (arXiv:1301.00001v1 [cs.CL])</title>
<link>http://arxiv.org/abs/1301.00001</link>
<description>&lt;p&gt;An abstract.&lt;/p&gt;</description>
<dc:creator>&lt;a href="http://arxiv.org/find/cs/1/au:+One_A/0/1/0/all/0/1"&gt;A. One&lt;/a&gt;, &lt;a href="x"&gt;B. Two&lt;/a&gt;</dc:creator>
</item></rdf:RDF>`,
			[]model.Paper{{ID: "1301.00001", Title: "Old Style Title.", Abstract: "An abstract.", Authors: []string{"A. One", "B. Two"}, URL: "https://arxiv.org/abs/1301.00001", Ingested: testNow, Source: "arxiv"}}},
		{"HTML entity and no id", `<rss version="2.0"><channel><item><title>Caf&eacute; Talk</title><description>Text&nbsp;here.</description><pubDate>Tue, 9 Jan 2024 10:00:00 GMT</pubDate></item></channel></rss>`,
			[]model.Paper{{ID: TitleID("Café Talk"), Title: "Café Talk", Abstract: "Text here.", Published: utc(2024, 1, 9, 10, 0, 0, 0), Ingested: testNow, Source: "arxiv"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseString(tt.src, FormatArxiv)
			if err != nil {
				t.Fatal(err)
			}
			checkPapers(t, got, tt.want)
		})
	}
}
