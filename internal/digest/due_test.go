package digest_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/papermail/papermail/internal/digest"
	"github.com/papermail/papermail/internal/model"
)

func mustZone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("time zone %s: %v", name, err)
	}
	return loc
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// TestDue checks who is due when: delivery hours in several zones, weekly
// digests, pauses, states that never get mail, the operator's fixed date
// and subscribers already served.
func TestDue(t *testing.T) {
	t.Parallel()
	// 2026-07-01 is a Wednesday.
	if wd := utc("2026-07-01T12:00:00Z").Weekday(); wd != time.Wednesday {
		t.Fatalf("2026-07-01 is a %v", wd)
	}
	active := func(edit func(*model.Subscriber)) model.Subscriber {
		s := model.Subscriber{ID: 7, Email: "a@example.org", State: model.StateActive, Hour: model.HourDefault, Frequency: model.FrequencyDaily}
		if edit != nil {
			edit(&s)
		}
		return s
	}
	zone := func(tz string, hour int) func(*model.Subscriber) {
		return func(s *model.Subscriber) { s.Timezone, s.Hour = tz, hour }
	}
	weekly := func(last string) func(*model.Subscriber) {
		return func(s *model.Subscriber) {
			s.Frequency, s.Weekday, s.LastDigest = model.FrequencyWeekly, int(time.Wednesday), last
		}
	}
	cases := []struct {
		name        string
		now         string
		spec        digest.Spec // Now is set from now
		sub         model.Subscriber
		defHour     int
		defMin      int
		wantDate    string
		wantDue     bool
		defaultZone string // "" means UTC
	}{
		{name: "default hour, before", now: "2026-07-01T06:59:00Z", sub: active(nil), defHour: 7},
		{name: "default hour, on it", now: "2026-07-01T07:00:00Z", sub: active(nil), defHour: 7, wantDue: true, wantDate: "2026-07-01"},
		{name: "default hour and minute, before", now: "2026-07-01T06:29:00Z", sub: active(nil), defHour: 6, defMin: 30},
		{name: "default hour and minute, on it", now: "2026-07-01T06:30:00Z", sub: active(nil), defHour: 6, defMin: 30, wantDue: true, wantDate: "2026-07-01"},
		{name: "hour out of range means default", now: "2026-07-01T06:00:00Z", sub: active(func(s *model.Subscriber) { s.Hour = 24 }), defHour: 7},
		{name: "default zone of the config", now: "2026-07-01T05:00:00Z", sub: active(nil), defHour: 7, defaultZone: "Europe/Berlin",
			wantDue: true, wantDate: "2026-07-01"},
		{name: "unknown subscriber zone falls back", now: "2026-07-01T05:00:00Z", sub: active(zone("Mars/Olympus", -1)), defHour: 7,
			defaultZone: "Europe/Berlin", wantDue: true, wantDate: "2026-07-01"},
		{name: "New York 7:00 EDT, before", now: "2026-07-01T10:59:00Z", sub: active(zone("America/New_York", 7)), defHour: 3},
		{name: "New York 7:00 EDT", now: "2026-07-01T11:00:00Z", sub: active(zone("America/New_York", 7)), defHour: 3,
			wantDue: true, wantDate: "2026-07-01"},
		{name: "New York 7:00 EST, before", now: "2026-01-15T11:59:00Z", sub: active(zone("America/New_York", 7)), defHour: 3},
		{name: "New York 7:00 EST", now: "2026-01-15T12:00:00Z", sub: active(zone("America/New_York", 7)), defHour: 3,
			wantDue: true, wantDate: "2026-01-15"},
		{name: "New York evening is the local date", now: "2026-07-02T01:30:00Z", sub: active(zone("America/New_York", 21)),
			wantDue: true, wantDate: "2026-07-01"},
		{name: "Kolkata +5:30, before", now: "2026-07-01T01:29:00Z", sub: active(zone("Asia/Kolkata", 7))},
		{name: "Kolkata +5:30", now: "2026-07-01T01:30:00Z", sub: active(zone("Asia/Kolkata", 7)), wantDue: true, wantDate: "2026-07-01"},
		{name: "Kolkata midnight is tomorrow in UTC", now: "2026-06-30T18:30:00Z", sub: active(zone("Asia/Kolkata", 0)),
			wantDue: true, wantDate: "2026-07-01"},
		{name: "weekly on its weekday", now: "2026-07-01T09:00:00Z", sub: active(weekly("2026-06-24")), defHour: 7,
			wantDue: true, wantDate: "2026-07-01"},
		{name: "weekly, first digest on its weekday", now: "2026-07-01T09:00:00Z", sub: active(weekly("")), defHour: 7,
			wantDue: true, wantDate: "2026-07-01"},
		{name: "weekly on another weekday", now: "2026-06-30T09:00:00Z", sub: active(weekly("2026-06-17")), defHour: 7},
		{name: "weekly on its weekday before the hour", now: "2026-07-01T06:00:00Z", sub: active(weekly("2026-06-24")), defHour: 7},
		{name: "weekly with a digest two days ago", now: "2026-07-01T09:00:00Z", sub: active(weekly("2026-06-29")), defHour: 7},
		{name: "weekly, operator date ignores the weekday", now: "2026-07-02T03:00:00Z", spec: digest.Spec{Date: "2026-07-02"},
			sub: active(weekly("2026-06-24")), defHour: 7, wantDue: true, wantDate: "2026-07-02"},
		{name: "weekly, operator date within the week", now: "2026-07-02T03:00:00Z", spec: digest.Spec{Date: "2026-07-02"},
			sub: active(weekly("2026-06-30")), defHour: 7},
		{name: "paused until tomorrow", now: "2026-07-04T08:00:00Z", defHour: 7,
			sub: active(func(s *model.Subscriber) { s.State, s.PausedUntil = model.StatePaused, utc("2026-07-05T00:00:00Z") })},
		{name: "pause over", now: "2026-07-05T08:00:00Z", defHour: 7, wantDue: true, wantDate: "2026-07-05",
			sub: active(func(s *model.Subscriber) { s.State, s.PausedUntil = model.StatePaused, utc("2026-07-05T00:00:00Z") })},
		{name: "paused without end", now: "2026-07-05T08:00:00Z", defHour: 7, spec: digest.Spec{Date: "2026-07-05"},
			sub: active(func(s *model.Subscriber) { s.State = model.StatePaused })},
		{name: "active with a pause ahead", now: "2026-07-04T08:00:00Z", defHour: 7, spec: digest.Spec{Date: "2026-07-04"},
			sub: active(func(s *model.Subscriber) { s.PausedUntil = utc("2026-07-10T00:00:00Z") })},
		{name: "pending", now: "2026-07-01T09:00:00Z", spec: digest.Spec{Date: "2026-07-01"},
			sub: active(func(s *model.Subscriber) { s.State = model.StatePending })},
		{name: "unsubscribed", now: "2026-07-01T09:00:00Z", spec: digest.Spec{Date: "2026-07-01"},
			sub: active(func(s *model.Subscriber) { s.State = model.StateUnsubscribed })},
		{name: "bounced", now: "2026-07-01T09:00:00Z", spec: digest.Spec{Date: "2026-07-01"},
			sub: active(func(s *model.Subscriber) { s.State = model.StateBounced })},
		{name: "operator date ignores the hour", now: "2026-07-01T03:00:00Z", spec: digest.Spec{Date: "2026-07-01"},
			sub: active(zone("America/New_York", 9)), defHour: 7, wantDue: true, wantDate: "2026-07-01"},
		{name: "operator date already sent", now: "2026-07-01T09:00:00Z", spec: digest.Spec{Date: "2026-07-01"},
			sub: active(func(s *model.Subscriber) { s.LastDigest = "2026-07-01" })},
		{name: "operator date older than the last digest", now: "2026-07-01T09:00:00Z", spec: digest.Spec{Date: "2026-06-30"},
			sub: active(func(s *model.Subscriber) { s.LastDigest = "2026-07-01" })},
		{name: "already sent today", now: "2026-07-01T09:00:00Z", defHour: 7,
			sub: active(func(s *model.Subscriber) { s.LastDigest = "2026-07-01" })},
		{name: "sent yesterday", now: "2026-07-01T09:00:00Z", defHour: 7, wantDue: true, wantDate: "2026-07-01",
			sub: active(func(s *model.Subscriber) { s.LastDigest = "2026-06-30" })},
		{name: "only another subscriber", now: "2026-07-01T09:00:00Z", spec: digest.Spec{Only: 8}, defHour: 7, sub: active(nil)},
		{name: "only this subscriber", now: "2026-07-01T09:00:00Z", spec: digest.Spec{Only: 7}, defHour: 7, sub: active(nil),
			wantDue: true, wantDate: "2026-07-01"},
		{name: "resume without this subscriber", now: "2026-07-01T09:00:00Z", spec: digest.Spec{Resume: map[uint64]bool{8: true}},
			defHour: 7, sub: active(nil)},
		{name: "resume with this subscriber", now: "2026-07-01T09:00:00Z", spec: digest.Spec{Resume: map[uint64]bool{7: true}},
			defHour: 7, sub: active(nil), wantDue: true, wantDate: "2026-07-01"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			def := time.UTC
			if tc.defaultZone != "" {
				def = mustZone(t, tc.defaultZone)
			}
			sp := tc.spec
			sp.Now = utc(tc.now)
			date, due := sp.Due(&tc.sub, def, tc.defHour, tc.defMin)
			if due != tc.wantDue || date != tc.wantDate {
				t.Errorf("Due at %s = (%q, %v), want (%q, %v)", tc.now, date, due, tc.wantDate, tc.wantDue)
			}
		})
	}
}

// TestDueAcrossDST ticks every five minutes through three days around
// Europe/Berlin's spring-forward (2026-03-29, 02:00 -> 03:00) and
// fall-back (2026-10-25, 03:00 -> 02:00) changes, sending whenever a
// subscriber is due: each local day gets exactly one digest, at the first
// tick on or after the delivery time, or right after the gap when that
// time does not exist that day.
func TestDueAcrossDST(t *testing.T) {
	t.Parallel()
	berlin := mustZone(t, "Europe/Berlin")
	cases := []struct {
		name      string
		start     time.Time // local midnight of the first day
		hour      int       // the subscriber's hour; -1 uses the default below
		defH      int
		defM      int
		wantSends []string // UTC instants of the sends
	}{
		{name: "spring forward, hour 2", start: time.Date(2026, 3, 28, 0, 0, 0, 0, berlin), hour: 2,
			wantSends: []string{"2026-03-28T01:00:00Z", "2026-03-29T01:00:00Z", "2026-03-30T00:00:00Z"}},
		{name: "spring forward, default 2:30", start: time.Date(2026, 3, 28, 0, 0, 0, 0, berlin), hour: -1, defH: 2, defM: 30,
			wantSends: []string{"2026-03-28T01:30:00Z", "2026-03-29T01:00:00Z", "2026-03-30T00:30:00Z"}},
		{name: "spring forward, hour 7", start: time.Date(2026, 3, 28, 0, 0, 0, 0, berlin), hour: 7,
			wantSends: []string{"2026-03-28T06:00:00Z", "2026-03-29T05:00:00Z", "2026-03-30T05:00:00Z"}},
		{name: "fall back, hour 2", start: time.Date(2026, 10, 24, 0, 0, 0, 0, berlin), hour: 2,
			wantSends: []string{"2026-10-24T00:00:00Z", "2026-10-25T00:00:00Z", "2026-10-26T01:00:00Z"}},
		{name: "fall back, default 2:30", start: time.Date(2026, 10, 24, 0, 0, 0, 0, berlin), hour: -1, defH: 2, defM: 30,
			wantSends: []string{"2026-10-24T00:30:00Z", "2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"}},
		{name: "fall back, hour 7", start: time.Date(2026, 10, 24, 0, 0, 0, 0, berlin), hour: 7,
			wantSends: []string{"2026-10-24T05:00:00Z", "2026-10-25T06:00:00Z", "2026-10-26T06:00:00Z"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sub := model.Subscriber{ID: 1, State: model.StateActive, Hour: tc.hour, Frequency: model.FrequencyDaily}
			def := time.UTC
			if tc.hour >= 0 {
				sub.Timezone = "Europe/Berlin"
			} else {
				def = berlin // the config's zone and schedule
			}
			perDate := map[string]int{}
			var sends []string
			end := tc.start.Add(72 * time.Hour)
			for now := tc.start; now.Before(end); now = now.Add(5 * time.Minute) {
				date, due := digest.Spec{Now: now}.Due(&sub, def, tc.defH, tc.defM)
				if !due {
					continue
				}
				if want := now.In(berlin).Format(digest.DateLayout); date != want {
					t.Errorf("at %s due for %s, want the local date %s", now.UTC().Format(time.RFC3339), date, want)
				}
				perDate[date]++
				sends = append(sends, now.UTC().Format(time.RFC3339))
				sub.LastDigest = date // the digest went out
			}
			if fmt.Sprint(sends) != fmt.Sprint(tc.wantSends) {
				t.Errorf("sent at %v, want %v", sends, tc.wantSends)
			}
			for d, n := range perDate {
				if n != 1 {
					t.Errorf("%s got %d digests", d, n)
				}
			}
			if len(perDate) != 3 {
				t.Errorf("digests on %d local days, want 3: %v", len(perDate), perDate)
			}
		})
	}
}

// FuzzDue feeds Due arbitrary subscribers and times: it never panics,
// and a due subscriber always gets a date later than their last digest —
// the operator's date when one is given, else their local date at Now.
func FuzzDue(f *testing.F) {
	f.Add(int64(1782896400), "Europe/Berlin", 7, false, 3, "2026-06-30", "", "active", int64(0))
	f.Add(int64(1782896400), "Asia/Kolkata", -1, true, 3, "", "2026-07-01", "paused", int64(1782800000))
	f.Add(int64(0), "Not/AZone", 99, true, 9, "garbage", "2026-13-45", "bounced", int64(-1))
	f.Add(int64(1774746000), "", 2, false, 0, "2026-03-28", "", "active", int64(0))
	f.Fuzz(func(t *testing.T, now int64, tz string, hour int, weekly bool, weekday int, last, date, state string, pausedUntil int64) {
		sub := model.Subscriber{ID: 1, State: model.State(state), Timezone: tz, Hour: hour, Weekday: weekday, LastDigest: last}
		if weekly {
			sub.Frequency = model.FrequencyWeekly
		}
		if pausedUntil != 0 {
			sub.PausedUntil = time.Unix(pausedUntil, 0)
		}
		sp := digest.Spec{Now: time.Unix(now, 0), Date: date}
		got, due := sp.Due(&sub, time.UTC, 7, 0)
		if !due {
			if got != "" {
				t.Errorf("not due but date %q", got)
			}
			return
		}
		if sub.State != model.StateActive && sub.State != model.StatePaused {
			t.Errorf("state %q is due", sub.State)
		}
		if got <= last {
			t.Errorf("due for %q, not after the last digest %q", got, last)
		}
		want := date
		if want == "" {
			want = sp.Now.In(sub.Location(time.UTC)).Format(digest.DateLayout)
		}
		if got != want {
			t.Errorf("due for %q, want %q", got, want)
		}
	})
}
