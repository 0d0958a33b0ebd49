package feeds

import (
	"testing"

	"github.com/papermail/papermail/internal/model"
)

func TestParseHF(t *testing.T) {
	got := parseFixture(t, "hf-daily.json", FormatHF)
	want := []model.Paper{
		{
			ID:    "2401.04217",
			Title: "Sparse Router Distillation: Compressing Mixture-of-Experts Without Losing Rare Skills",
			Abstract: "Mixture-of-experts (MoE) language models route each token to a few experts, which keeps inference cheap " +
				"but makes the models large on disk. We study distillation of a 64-expert teacher into a dense student and " +
				"find that naive distillation erases skills that only rarely-routed experts hold. We propose router-aware " +
				"distillation, which up-weights tokens by the entropy of the teacher's routing distribution. On eight " +
				"benchmarks the student keeps 97% of the teacher's accuracy at 1/6 of its size.",
			Authors:     []string{"Mira Castellanos", "Tobias Lindqvist", "Anjali Räo"},
			Keywords:    []string{"mixture-of-experts", "knowledge distillation", "routing entropy", "model compression"},
			AISummary:   "Router-aware distillation keeps rare skills when compressing mixture-of-experts models into dense students.",
			URL:         "https://huggingface.co/papers/2401.04217",
			GitHubRepo:  "https://github.com/example-lab/router-distill",
			ProjectPage: "https://example-lab.github.io/router-distill/",
			Thumbnail:   "https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/2401.04217.png",
			Upvotes:     57,
			Comments:    4,
			Published:   utc(2024, 1, 8, 18, 42, 7, 0),
			TrendingAt:  utc(2024, 1, 9, 2, 11, 45, 310e6),
			Ingested:    testNow,
			Source:      "hf",
		},
		{
			ID:         "2401.03990",
			Title:      "Counting Objects in Aerial Images with Point Supervision",
			Abstract:   "We count cars, trees and buildings in aerial images using only one point per object as supervision.",
			Authors:    []string{"Kwame Mensah"},
			URL:        "https://huggingface.co/papers/2401.03990",
			Upvotes:    12,
			Published:  utc(2024, 1, 8, 11, 5, 0, 0),
			TrendingAt: utc(2024, 1, 9, 6, 30, 12, 4e6),
			Ingested:   testNow,
			Source:     "hf",
		},
		{
			ID:       "2312.11805",
			Title:    "A Benchmark for Tool-Using Agents",
			URL:      "https://huggingface.co/papers/2312.11805",
			Ingested: testNow,
			Source:   "hf",
		},
	}
	checkPapers(t, got, want)
}

func TestParseHFShapes(t *testing.T) {
	tests := []struct {
		name, src string
		want      []model.Paper
	}{
		{"empty array", `[]`, nil},
		{"empty source", ``, nil},
		{"outer fields only", `[{"title":"Outer Title","summary":"Outer summary.","publishedAt":"2024-01-02T03:04:05Z","submittedOnDailyAt":"2024-01-03T00:00:00Z"}]`,
			[]model.Paper{{ID: TitleID("Outer Title"), Title: "Outer Title", Abstract: "Outer summary.", Published: utc(2024, 1, 2, 3, 4, 5, 0), TrendingAt: utc(2024, 1, 3, 0, 0, 0, 0), Ingested: testNow, Source: "hf"}}},
		{"submittedOnDailyAt inside paper", `[{"paper":{"id":"2401.00001","title":"T","submittedOnDailyAt":"2024-01-03T00:00:00.000Z","upvotes":null,"ai_keywords":null}}]`,
			[]model.Paper{{ID: "2401.00001", Title: "T", URL: "https://huggingface.co/papers/2401.00001", TrendingAt: utc(2024, 1, 3, 0, 0, 0, 0), Ingested: testNow, Source: "hf"}}},
		{"non-arXiv id", `[{"paper":{"id":"some paper","title":"T"}}]`,
			[]model.Paper{{ID: TitleID("T"), Title: "T", URL: "https://huggingface.co/papers/some%20paper", Ingested: testNow, Source: "hf"}}},
		{"unknown fields and nesting ignored", `[{"paper":{"id":"2401.00002","title":"T","extra":{"deep":[1,2,{"x":null}]}},"mediaUrls":["a"],"isAuthorParticipating":true}]`,
			[]model.Paper{{ID: "2401.00002", Title: "T", URL: "https://huggingface.co/papers/2401.00002", Ingested: testNow, Source: "hf"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseString(tt.src, FormatHF)
			if err != nil {
				t.Fatal(err)
			}
			checkPapers(t, got, tt.want)
		})
	}
}
