package subscription

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/papermail/papermail/internal/model"
)

func TestZone(t *testing.T) {
	for _, z := range []string{"", "UTC", "Europe/Berlin", "America/Argentina/Buenos_Aires", "Etc/GMT+5"} {
		if err := Zone(z); err != nil {
			t.Errorf("%q: %v", z, err)
		}
	}
	for _, z := range []string{"Local", "/etc/localtime", "../zoneinfo/UTC", "Europe/Berlin\x00", "Mars/Base",
		"Europe/Berlin ", strings.Repeat("A", 65), "Europe\\Berlin"} {
		if Zone(z) == nil {
			t.Errorf("%q accepted", z)
		}
	}
}

func TestPauseUntilDateForm(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	d, err := PauseUntil("2026-04-01", time.UTC, now)
	if err != nil || !d.Equal(time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("%v %v", d, err)
	}
	for _, s := range []string{"2026-4-01", "2026-04-31", "2026-04-01T00:00", " 2026-04-01", "+026-04-01", "2026/04/01"} {
		if _, err := PauseUntil(s, time.UTC, now); err == nil || !strings.Contains(err.Error(), "YYYY-MM-DD") {
			t.Errorf("%q: %v, want the date form refused", s, err)
		}
	}
}

func TestHour(t *testing.T) {
	tests := []struct {
		in   string
		want int
		ok   bool
	}{
		{"", model.HourDefault, true}, {"default", model.HourDefault, true}, {"0", 0, true}, {"07", 7, true},
		{"23", 23, true}, {"24", 0, false}, {"-1", 0, false}, {"1e1", 0, false}, {"007", 0, false},
	}
	for _, tc := range tests {
		got, err := Hour(tc.in)
		if tc.ok && (err != nil || got != tc.want) || !tc.ok && err == nil {
			t.Errorf("Hour(%q) = %d, %v", tc.in, got, err)
		}
	}
}

// TestParseRequestReportsEveryProblem: one error per broken field, each
// naming its field and unwrapping to ErrInvalid.
func TestParseRequestReportsEveryProblem(t *testing.T) {
	_, err := ParseRequest("Eve <eve@example.org>", " ; ", "Mars/Base", "web")
	var ps Problems
	if !errors.As(err, &ps) || !errors.Is(err, ErrInvalid) {
		t.Fatalf("err = %v", err)
	}
	var fields []string
	for _, p := range ps {
		fields = append(fields, string(p.Field))
	}
	if got := strings.Join(fields, ","); got != "email,interests,time zone" {
		t.Errorf("fields %s", got)
	}
	r, err := ParseRequest(" A@Example.org ", "graph neural networks; speech", " Europe/Berlin ", "cli")
	if err != nil || r.Email != "a@example.org" || len(r.Interests) != 2 || r.Timezone != "Europe/Berlin" || r.Source != "cli" {
		t.Errorf("valid request: %+v %v", r, err)
	}
}

func TestProblemsOf(t *testing.T) {
	one := &Problem{Field: "email", Message: "not an address"}
	two := Problems{one, {Field: "timezone", Message: "not a known time zone"}}
	tests := []struct {
		name string
		err  error
		want Problems
		ok   bool
	}{
		{"problems", two, two, true},
		{"wrapped problems", fmt.Errorf("subscribe: %w", two), two, true},
		{"one problem", fmt.Errorf("add: %w", one), Problems{one}, true},
		{"another error", errors.New("disk full"), nil, false},
		{"nil", nil, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ProblemsOf(tt.err)
			if ok != tt.ok || !slices.Equal(got, tt.want) {
				t.Errorf("ProblemsOf(%v) = %v, %v; want %v, %v", tt.err, got, ok, tt.want, tt.ok)
			}
		})
	}
}
