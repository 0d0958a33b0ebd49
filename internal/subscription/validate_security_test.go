package subscription

import (
	"slices"
	"strings"
	"testing"

	"github.com/papermail/papermail/internal/usertext"
)

// TestInterestsDropControls: interests from any source (a CSV import, the
// command line) lose control characters and bidi overrides before they
// are checked and stored.
func TestInterestsDropControls(t *testing.T) {
	got, err := Interests("graph \x1b[31mneural\x07 networks; \u202espeech\u202c recognition")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"graph neural networks", "speech recognition"}; !slices.Equal(got, want) {
		t.Errorf("Interests = %q, want %q", got, want)
	}
}

// TestAuthorsAndCategoriesDropControls: followed authors and categories
// from the command line or an imported file lose control characters,
// terminal escapes and bidi overrides too (the web form cleans every
// field already; `subscribers add` echoes them to the terminal).
func TestAuthorsAndCategoriesDropControls(t *testing.T) {
	names, err := Authors("Eve\x1b[31m Hacker\x07; Bob \u202eSmith\u202c; Ann\u0090 Lee")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"Eve Hacker", "Bob Smith", "Ann Lee"}; !slices.Equal(names, want) {
		t.Errorf("Authors = %q, want %q", names, want)
	}
	cats, err := Categories("cs.CL\u202e, cs.\u009bCV")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"cs.CL", "cs.CV"}; !slices.Equal(cats, want) {
		t.Errorf("Categories = %q, want %q", cats, want)
	}
	for _, raw := range []string{"Eve \x1b[31m<eve@example.org>", "eve\u202e@example.org", "eve@exa\x07mple.org"} {
		if got, err := Email(raw); err == nil && strings.ContainsFunc(got, usertext.NotText) {
			t.Errorf("Email(%q) = %q keeps what is not text", raw, got)
		}
	}
}
