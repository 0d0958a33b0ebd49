package selection

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseInterests(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"semantic segmentation; scene parsing", []string{"semantic segmentation", "scene parsing"}},
		{"graph neural networks, GNN,  graph   transformers", []string{"graph neural networks", "GNN", "graph transformers"}},
		{"a, b; c", []string{"a, b", "c"}},
		{"one\ntwo\r\nthree", []string{"one", "two", "three"}},
		{"LLMs; llms ;LLMS; ; ;", []string{"LLMs"}},
		{"   ", nil},
		{"", nil},
	}
	for _, tt := range tests {
		if got := ParseInterests(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("ParseInterests(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestInterestLimits(t *testing.T) {
	many := make([]string, 25)
	for i := range many {
		many[i] = "topic " + strings.Repeat("x", i+1)
	}
	got := ParseInterests(strings.Join(many, "; "))
	if len(got) != MaxInterests || got[0] != many[0] {
		t.Errorf("ParseInterests kept %d of 25", len(got))
	}
	if _, err := ValidateInterests(strings.Join(many, "; ")); !errors.Is(err, ErrTooManyInterests) {
		t.Errorf("25 interests: error %v", err)
	}
	long := strings.Repeat("speculative decoding ", 15) // 300 characters
	got = ParseInterests(long)
	if n := utf8.RuneCountInString(got[0]); n > MaxInterestLen || n < MaxInterestLen/2 || strings.HasSuffix(got[0], " ") {
		t.Errorf("long interest cut to %d characters: %q", n, got[0])
	}
	all, err := ValidateInterests("fine; " + long)
	if !errors.Is(err, ErrInterestTooLong) || !strings.Contains(err.Error(), "interest 2") || len(all) != 2 {
		t.Errorf("long interest: %v (%d parsed)", err, len(all))
	}
	if _, err := ValidateInterests("ok; ---"); !errors.Is(err, ErrInterestNoWords) {
		t.Errorf("punctuation interest: error %v", err)
	}
	if all, err := ValidateInterests("dense retrieval; GNN"); err != nil || len(all) != 2 {
		t.Errorf("valid interests: %q, %v", all, err)
	}
	// Multi-byte characters count as one each.
	umlaut := strings.Repeat("ü", MaxInterestLen)
	if _, err := ValidateInterests(umlaut); err != nil {
		t.Errorf("%d umlauts: %v", MaxInterestLen, err)
	}
}

func FuzzParseInterests(f *testing.F) {
	for _, s := range []string{"a; b", "x, y\nz", strings.Repeat("ab ", 100), ";;", "ü,ü;Ü"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := ParseInterests(s)
		if len(got) > MaxInterests {
			t.Fatalf("%d interests", len(got))
		}
		seen := map[string]bool{}
		for _, in := range got {
			if in == "" || in != strings.TrimSpace(in) || utf8.RuneCountInString(in) > MaxInterestLen {
				t.Fatalf("bad interest %q", in)
			}
			if k := strings.ToLower(in); seen[k] {
				t.Fatalf("duplicate %q", in)
			} else {
				seen[k] = true
			}
		}
		all, err := ValidateInterests(s)
		if err == nil && len(all) > MaxInterests {
			t.Fatalf("no error for %d interests", len(all))
		}
	})
}
