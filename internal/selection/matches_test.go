package selection

import (
	"slices"
	"testing"
)

// TestMatchesSaysWhichInterestFindsNothing checks the per-interest report
// of previews: counts per interest as written, the profile's exclusions
// applied, and for an interest that matches nothing, nearby terms the
// papers use, never its own words.
func TestMatchesSaysWhichInterestFindsNothing(t *testing.T) {
	ix := fixtureIndex(t)
	tests := []struct {
		interest   string
		matches    bool
		nearby     string // must be among the nearby terms ("" for none required)
		emptyClose bool   // nothing in the papers is close
	}{
		{interest: "semantic segmentation", matches: true},
		{interest: "semantic segmantation", nearby: "segmentation"},
		// A British spelling is the American one's stem: it matches.
		{interest: "quantisation", matches: true},
		{interest: "weather forecasting", emptyClose: true},
	}
	var interests []string
	for _, tt := range tests {
		interests = append(interests, tt.interest)
	}
	got := ix.Matches(ix.Compile(Profile{Interests: interests}))
	if len(got) != len(tests) {
		t.Fatalf("%d reports for %d interests: %+v", len(got), len(tests), got)
	}
	for i, tt := range tests {
		m := got[i]
		if m.Interest != tt.interest {
			t.Errorf("report %d is for %q, want %q", i, m.Interest, tt.interest)
		}
		if (m.Papers > 0) != tt.matches {
			t.Errorf("%q matches %d papers, want matches=%v", tt.interest, m.Papers, tt.matches)
		}
		if tt.matches && len(m.Nearby) > 0 {
			t.Errorf("%q matches papers but offers nearby terms %q", tt.interest, m.Nearby)
		}
		if len(m.Nearby) > maxNearby {
			t.Errorf("%q offers %d nearby terms, want at most %d", tt.interest, len(m.Nearby), maxNearby)
		}
		if tt.nearby != "" && !slices.Contains(m.Nearby, tt.nearby) {
			t.Errorf("%q: nearby %q, want it to include %q", tt.interest, m.Nearby, tt.nearby)
		}
		if tt.emptyClose && len(m.Nearby) > 0 {
			t.Errorf("%q: nearby %q, want none (nothing in the papers is close)", tt.interest, m.Nearby)
		}
		for _, n := range m.Nearby {
			if n == tt.interest {
				t.Errorf("%q offers itself as a nearby term", tt.interest)
			}
		}
	}
	// Exclusions count: with the only segmentation papers excluded, the
	// interest matches nothing and gets nearby terms.
	all := ix.Matches(ix.Compile(Profile{Interests: []string{"medical image segmentation"}}))
	if all[0].Papers == 0 {
		t.Fatalf("medical image segmentation matches nothing in the fixture")
	}
	none := ix.Matches(ix.Compile(Profile{Interests: []string{"medical image segmentation"},
		Exclude: func(id string) bool { return true }}))
	if none[0].Papers != 0 {
		t.Errorf("with every paper excluded, %d papers still counted", none[0].Papers)
	}
	// MatchCounts, for logs, counts without exclusions and is cached.
	q := ix.Compile(Profile{Interests: []string{"semantic segmentation", "weather forecasting"}})
	counts := q.MatchCounts()
	if len(counts) != 2 || counts[0] == 0 || counts[1] != 0 {
		t.Errorf("MatchCounts = %v, want [>0 0]", counts)
	}
	if again := q.MatchCounts(); !slices.Equal(again, counts) {
		t.Errorf("MatchCounts changed from %v to %v", counts, again)
	}
}
