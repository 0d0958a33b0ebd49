package selection

import (
	"slices"
	"testing"
)

// TestIdiomKeys checks idioms made of words interests drop ("look up"):
// found in an interest's raw words in order, with at most two words
// between them.
func TestIdiomKeys(t *testing.T) {
	lx, err := ParseLexicon(`look up, looks up -> retrieval, search engine
speed up -> acceleration`)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		text string
		want []string
	}{
		{"models that look facts up first", []string{idiomPrefix + "look up"}},
		{"a system that looks it up", []string{idiomPrefix + "look up"}},
		{"speed up and look up", []string{idiomPrefix + "speed up", idiomPrefix + "look up"}},
		{"look at the long list of answers that came up", nil},
		{"up and look", nil},
	}
	for _, tt := range tests {
		if got := lx.idiomKeys(tt.text); !slices.Equal(got, tt.want) {
			t.Errorf("idiomKeys(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
	if got := lx.lookup(idiomPrefix + "look up"); len(got) != 2 {
		t.Errorf("the idiom expands to %d terms, want its 2 research terms only", len(got))
	}
}

// TestIdiomInterest checks that an interest whose research concept is an
// idiom finds the papers on it.
func TestIdiomInterest(t *testing.T) {
	ix := NewIndex(loadFixture(t), Options{Now: fixtureNow})
	in := ix.interestFor("a chatbot that looks things up")
	if in == nil {
		t.Fatal("interest did not compile")
	}
	found := false
	for _, s := range in.slots {
		for _, a := range s.alts {
			found = found || a.key == "retriev"
		}
	}
	if !found {
		t.Error(`"looks things up" did not become a concept found by "retrieval"`)
	}
	if ix.interestFor("looks it up") == nil {
		t.Error("an interest of an idiom only did not compile")
	}
}
