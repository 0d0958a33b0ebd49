package subscription

import (
	"errors"
	"testing"
	"time"

	"github.com/papermail/papermail/internal/address"
	"github.com/papermail/papermail/internal/selection"
)

func FuzzParseRequest(f *testing.F) {
	f.Add("reader@example.org", "speech; robots", "Europe/Berlin")
	f.Add("<a@b.c>", "\n\n", "../x")
	f.Fuzz(func(t *testing.T, email, interests, zone string) {
		in, err := ParseRequest(email, interests, zone, "web")
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v is not ErrInvalid", err)
			}
			return
		}
		if again, err := address.Normalize(in.Email); err != nil || again != in.Email {
			t.Errorf("accepted address %q normalizes to %q, %v", in.Email, again, err)
		}
		if len(in.Interests) == 0 || len(in.Interests) > selection.MaxInterests {
			t.Errorf("accepted %d interests", len(in.Interests))
		}
		if _, err := time.LoadLocation(in.Timezone); err != nil || in.Timezone == "Local" {
			t.Errorf("accepted zone %q", in.Timezone)
		}
	})
}
