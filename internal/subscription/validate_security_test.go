package subscription

import (
	"slices"
	"testing"
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
