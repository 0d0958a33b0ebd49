package due

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/papermail/papermail/internal/model"
)

// firstDue finds by brute force, minute by minute, the first instant at or
// after from at which a tick finds sub due (limit: maxDays).
func firstDue(p Policy, sub model.Subscriber, from time.Time) time.Time {
	due := func(t time.Time) bool {
		date, ok := p.Due(&sub, t, "")
		return ok && date > sub.Settled
	}
	t := from
	if r := t.Truncate(time.Minute); !r.Equal(t) {
		if due(t) {
			return t
		}
		t = r.Add(time.Minute)
	}
	pause := sub.PausedUntil
	for end := from.Add(maxDays * 24 * time.Hour); t.Before(end); t = t.Add(time.Minute) {
		// The end of a pause is an instant of its own.
		if pause.After(t.Add(-time.Minute)) && pause.Before(t) {
			if due(pause) {
				return pause
			}
		}
		if due(t) {
			return t
		}
	}
	return time.Time{}
}

// TestNextMatchesTheTick: Next is exactly the first minute a tick would
// find the subscriber due, in zones with daylight saving changes (both
// directions, whole and half hours), at hours inside the changes, daily and
// weekly, after a pause and after a skipped date.
func TestNextMatchesTheTick(t *testing.T) {
	zones := []string{"Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "America/Santiago", "Asia/Kolkata", "UTC", ""}
	policies := []Policy{{Loc: time.UTC, Hour: 7}, {Loc: mustZone(t, "Europe/Berlin"), Hour: 2, Minute: 30}}
	// Days around the 2026 changes of these zones, and ordinary days.
	starts := []time.Time{
		time.Date(2026, 3, 27, 13, 0, 0, 0, time.UTC), time.Date(2026, 10, 23, 22, 10, 0, 0, time.UTC),
		time.Date(2026, 3, 6, 5, 0, 0, 0, time.UTC), time.Date(2026, 10, 31, 23, 59, 30, 0, time.UTC),
		time.Date(2026, 4, 3, 12, 0, 0, 0, time.UTC), time.Date(2026, 9, 4, 12, 0, 0, 0, time.UTC),
		time.Date(2026, 6, 15, 0, 0, 0, 0, time.UTC),
	}
	rng := rand.New(rand.NewPCG(1, 2))
	n := 0
	for _, zone := range zones {
		for _, start := range starts {
			for range 12 {
				p := policies[rng.IntN(len(policies))]
				sub := model.Subscriber{State: model.StateActive, Timezone: zone, Hour: rng.IntN(25) - 1, Frequency: model.FrequencyDaily}
				if rng.IntN(3) == 0 {
					sub.Frequency, sub.Weekday = model.FrequencyWeekly, rng.IntN(7)
				}
				loc := sub.Location(p.Loc)
				switch rng.IntN(4) {
				case 0:
					sub.LastDigest = start.In(loc).AddDate(0, 0, -rng.IntN(9)).Format(DateLayout)
				case 1:
					sub.Settled = start.In(loc).AddDate(0, 0, -rng.IntN(3)).Format(DateLayout)
				case 2:
					sub.State, sub.PausedUntil = model.StatePaused, start.Add(time.Duration(rng.IntN(72))*time.Hour)
				}
				want := firstDue(p, sub, start)
				if got := p.Next(&sub, start); !got.Equal(want) {
					t.Errorf("%s policy %s, %+v from %s: Next %s, the tick first at %s", zone, p, sub,
						start.Format(time.RFC3339), got.Format(time.RFC3339), want.Format(time.RFC3339))
				}
				n++
			}
		}
	}
	t.Logf("%d cases", n)
}

func TestNextNever(t *testing.T) {
	p := Policy{Loc: time.UTC, Hour: 7}
	for _, sub := range []model.Subscriber{
		{State: model.StatePending}, {State: model.StateUnsubscribed}, {State: model.StateBounced},
		{State: model.StatePaused}, // paused until resumed
	} {
		if got := p.Next(&sub, time.Now()); !got.IsZero() {
			t.Errorf("%s: next %s, want never", sub.State, got)
		}
	}
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Skipf("zone database lacks %s", name)
	}
	return loc
}

// TestFirstDigestIsOfTheArrivalDay: a new subscriber's first due instant,
// searched from Arrival, is the delivery time of the local day they
// arrived on: later that day when it has not come yet (never the day
// before's, which a tick would find not due), at once when it has.
func TestFirstDigestIsOfTheArrivalDay(t *testing.T) {
	berlin, tokyo := mustZone(t, "Europe/Berlin"), mustZone(t, "Asia/Tokyo")
	p := Policy{Loc: berlin, Hour: 7, Minute: 30}
	tests := []struct {
		name    string
		sub     model.Subscriber
		want    time.Time
		dueSoon bool // want <= Created: due at once
	}{
		{"before the delivery time", model.Subscriber{Created: time.Date(2026, 3, 10, 5, 0, 0, 0, berlin), Hour: model.HourDefault},
			time.Date(2026, 3, 10, 7, 30, 0, 0, berlin), false},
		{"after the delivery time", model.Subscriber{Created: time.Date(2026, 3, 10, 9, 0, 0, 0, berlin), Hour: model.HourDefault},
			time.Date(2026, 3, 10, 7, 30, 0, 0, berlin), true},
		{"own zone, next day there", model.Subscriber{Created: time.Date(2026, 3, 10, 23, 30, 0, 0, time.UTC), Timezone: "Asia/Tokyo", Hour: 9},
			time.Date(2026, 3, 11, 9, 0, 0, 0, tokyo), false},
		{"midnight delivery", model.Subscriber{Created: time.Date(2026, 3, 10, 12, 0, 0, 0, berlin), Hour: 0},
			time.Date(2026, 3, 10, 0, 0, 0, 0, berlin), true},
		{"the day the clocks go forward", model.Subscriber{Created: time.Date(2026, 3, 29, 1, 0, 0, 0, berlin), Hour: 2},
			time.Date(2026, 3, 29, 3, 0, 0, 0, berlin), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.sub.State = model.StateActive
			got := p.Next(&tc.sub, p.Arrival(&tc.sub))
			if !got.Equal(tc.want) {
				t.Errorf("first due %s, want %s", got, tc.want)
			}
			if soon := !got.After(tc.sub.Created); soon != tc.dueSoon {
				t.Errorf("due at once = %v, want %v", soon, tc.dueSoon)
			}
			if date, ok := p.Due(&tc.sub, got, ""); !ok || date != tc.want.In(tc.sub.Location(berlin)).Format(DateLayout) {
				t.Errorf("a tick at %s: due %v for %q", got, ok, date)
			}
		})
	}
}
