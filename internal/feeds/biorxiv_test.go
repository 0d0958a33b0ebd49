package feeds

import (
	"errors"
	"strings"
	"testing"

	"github.com/papermail/papermail/internal/model"
)

func TestParseBiorxiv(t *testing.T) {
	got := parseFixture(t, "biorxiv-details.json", FormatBiorxiv)
	want := []model.Paper{
		{
			ID:              TitleID("Sleep spindles gate the replay of place-cell sequences in the mouse hippocampus"),
			Title:           "Sleep spindles gate the replay of place-cell sequences in the mouse hippocampus",
			Abstract:        "Hippocampal replay during sleep is thought to consolidate memory, but what times it is unclear. Recording CA1 ensembles in 14 mice across 60 sessions, we find that sequences replay preferentially within 300 ms after thalamocortical spindles (p < 0.001), and that optogenetic suppression of spindles halves replay rates without changing ripple counts.",
			Authors:         []string{"C. Okafor", "E. M. Lindqvist", "H. Tanaka"},
			Affiliations:    []string{"Kyoto University"},
			Categories:      []string{"neuroscience"},
			PrimaryCategory: "neuroscience",
			URL:             "https://www.biorxiv.org/content/10.1101/2024.01.05.574321v1",
			PDFURL:          "https://www.biorxiv.org/content/10.1101/2024.01.05.574321v1.full.pdf",
			DOI:             "10.1101/2024.01.05.574321",
			Venue:           "bioRxiv",
			Published:       utc(2024, 1, 8, 0, 0, 0, 0),
			Ingested:        testNow,
			Source:          FormatBiorxiv,
		},
		{
			ID:              TitleID("A protein language model predicts the thermostability of enzyme variants"),
			Title:           "A protein language model predicts the thermostability of enzyme variants",
			Abstract:        "Engineering thermostable enzymes needs many rounds of mutagenesis. We fine-tune a protein language model on 48,000 measured melting temperatures and predict the effect of single and double mutations with a Spearman correlation of 0.71 on held-out families.",
			Authors:         []string{"A. Moreau", "P. Singh"},
			Categories:      []string{"bioinformatics"},
			PrimaryCategory: "bioinformatics",
			URL:             "https://www.biorxiv.org/content/10.1101/2023.12.30.573700v2",
			PDFURL:          "https://www.biorxiv.org/content/10.1101/2023.12.30.573700v2.full.pdf",
			DOI:             "10.1101/2023.12.30.573700",
			Venue:           "bioRxiv",
			Published:       utc(2024, 1, 8, 0, 0, 0, 0),
			Ingested:        testNow,
			Source:          FormatBiorxiv,
		},
		{
			ID:              TitleID("Wearable heart-rate variability as an early marker of influenza infection"),
			Title:           "Wearable heart-rate variability as an early marker of influenza infection",
			Abstract:        "In a cohort of 1,204 adults followed over two winters, a drop in overnight heart-rate variability preceded laboratory-confirmed influenza by a median of 1.8 days.",
			Authors:         []string{"L. Garcia", "T. H. Nguyen", "K. Brown"},
			Affiliations:    []string{"University of Barcelona"},
			Categories:      []string{"infectious diseases"},
			PrimaryCategory: "infectious diseases",
			URL:             "https://www.medrxiv.org/content/10.1101/2024.01.07.24300912v1",
			PDFURL:          "https://www.medrxiv.org/content/10.1101/2024.01.07.24300912v1.full.pdf",
			DOI:             "10.1101/2024.01.07.24300912",
			Venue:           "medRxiv",
			Published:       utc(2024, 1, 9, 0, 0, 0, 0),
			Ingested:        testNow,
			Source:          FormatBiorxiv,
		},
	}
	checkPapers(t, got, want)

	if got := parseFixture(t, "biorxiv-empty.json", FormatAuto); len(got) != 0 {
		t.Errorf("no posts found: got %d papers", len(got))
	}
}

// TestParseBiorxivErrors: hostile or broken answers fail as a whole, by
// source name and place.
func TestParseBiorxivErrors(t *testing.T) {
	good := `{"doi":"10.1101/2024.01.01.000001","title":"A","date":"2024-01-01","version":"1"}`
	tests := []struct {
		name, src string
		want      []string
	}{
		{"not an object", `[{"doi":"10.1/x"}]`, []string{"src: line 1, byte offset 0: want a bioRxiv details API object, found '['"}},
		{"api error", `{"messages":[{"status":"Error: interval not recognised"}],"collection":[]}`, []string{"src: line 1: the bioRxiv API answered with an error: Error: interval not recognised"}},
		{"neither key", `{"papers":[]}`, []string{`found neither`}},
		{"collection not array", `{"messages":[{"status":"ok"}],"collection":{"doi":"x"}}`, []string{`"collection" is an object, want an array`}},
		{"no title", "{\"collection\":[\n" + good + ",\n{\"doi\":\"10.1101/2024.01.01.000002\",\"title\":\"  \"}]}", []string{"src: line 3: entry 2: paper has no title"}},
		{"bad date", "{\"collection\":[\n" + good + ",\n{\"title\":\"B\",\"date\":\"NA\"}]}", []string{"line 3: entry 2: date: cannot read date \"NA\""}},
		{"bad doi", "{\"collection\":[\n{\"title\":\"B\",\"doi\":\"javascript:alert(1)\"}]}", []string{"line 2: entry 1: doi \"javascript:alert(1)\" is not a DOI"}},
		{"wrong type", "{\"collection\":[\n" + good + ",\n{\"title\":[\"B\"]}]}", []string{"line 3: entry 2: field title holds a JSON array, want a string"}},
		{"bad version", "{\"collection\":[\n{\"title\":\"B\",\"version\":{\"a\":1}}]}", []string{"entry 1: version is a JSON map[string]interface {}, want a number or a string"}},
		{"truncated", "{\"collection\":[\n" + good + ",\n{\"title\":\"B\"", []string{"src: line 3", "unexpected end"}},
		{"trailing data", "{\"collection\":[]}\n{}", []string{"line 2", "data after the end of the JSON object"}},
		{"huge title", `{"collection":[{"title":"` + strings.Repeat("x ", 600) + `"}]}`, []string{"entry 1: title has 1199 characters"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			papers, err := parseString(tt.src, FormatBiorxiv)
			if err == nil {
				t.Fatalf("parsed %d papers, want an error", len(papers))
			}
			if papers != nil {
				t.Errorf("error with %d papers", len(papers))
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Errorf("error %T is not a *ParseError", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}
