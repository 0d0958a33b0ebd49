package e2e

import (
	"encoding/json"
	"math"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/papermail/papermail/internal/testutil"
)

// TestPreviewRelevanceDev measures ranking the way the issue states it:
// `papermail preview --interests ... --limit 10` on the ingested page, for
// every dev profile, against the graded judgments. (internal/selection's
// TestRelevanceDev prints the per-profile table; this checks the command.)
func TestPreviewRelevanceDev(t *testing.T) {
	in := newInstance(t, nil)
	in.ok("ingest", "--format", "page", testutil.SharedData(t, "papers-page.txt"))
	raw, err := os.ReadFile(testutil.SharedData(t, "relevance-dev.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dev struct {
		Profiles []struct {
			ID       string
			Kind     string
			Keywords []string
			Relevant map[string]int
		}
	}
	if err := json.Unmarshal(raw, &dev); err != nil {
		t.Fatal(err)
	}
	sums, counts := map[string]float64{}, map[string]int{}
	for _, p := range dev.Profiles {
		var got []struct{ Title string }
		out := in.ok("preview", "--interests", strings.Join(p.Keywords, "; "), "--limit", "10", "--format", "json")
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("%s: %v\n%s", p.ID, err, out)
		}
		if p.Kind == "nomatch" {
			sums["nomatch"] += float64(len(got))
			counts["nomatch"]++
			t.Logf("%s nomatch: %d papers returned", p.ID, len(got))
			continue
		}
		var dcg float64
		for i, g := range got {
			dcg += (math.Pow(2, float64(p.Relevant[g.Title])) - 1) / math.Log2(float64(i+2))
		}
		var grades []int
		for _, g := range p.Relevant {
			grades = append(grades, g)
		}
		sort.Sort(sort.Reverse(sort.IntSlice(grades)))
		var ideal float64
		for i := 0; i < len(grades) && i < 10; i++ {
			ideal += (math.Pow(2, float64(grades[i])) - 1) / math.Log2(float64(i+2))
		}
		ndcg := dcg / ideal
		t.Logf("%s %-10s nDCG@10 %.3f (%d returned)", p.ID, p.Kind, ndcg, len(got))
		for _, k := range []string{"overall", p.Kind} {
			sums[k] += ndcg
			counts[k]++
		}
	}
	avg := func(k string) float64 { return sums[k] / float64(counts[k]) }
	t.Logf("overall %.3f literal %.3f paraphrase %.3f nomatch %.2f papers", avg("overall"), avg("literal"), avg("paraphrase"), avg("nomatch"))
	if avg("overall") < 0.85 || avg("literal") < 0.90 || avg("paraphrase") < 0.60 || avg("nomatch") > 1 {
		t.Fatalf("below the targets (overall >= 0.85, literal >= 0.90, paraphrase >= 0.60, no-match <= 1)")
	}
}
