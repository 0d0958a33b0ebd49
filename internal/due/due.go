// Package due decides when a subscriber gets a digest: on which local date
// and from which instant, in their time zone and at their hour (or the
// default delivery time of digest.timezone and digest.schedule), daily or
// weekly, after a pause, never twice for one date. The digest's tick asks
// Due; the store keeps Next of every subscriber in its due index, so a tick
// reads only who is due.
package due

import (
	"fmt"
	"time"

	"github.com/papermail/papermail/internal/model"
)

// DateLayout is the layout of digest dates (a subscriber's local date).
const DateLayout = "2006-01-02"

// Policy is the default delivery time: subscribers without a zone or
// hour of their own get Loc and Hour:Minute.
type Policy struct {
	Loc          *time.Location
	Hour, Minute int
}

// String identifies the policy; the store rebuilds its index when it
// changes.
func (p Policy) String() string {
	return fmt.Sprintf("%s %02d:%02d", p.location(), p.Hour, p.Minute)
}

func (p Policy) location() *time.Location {
	if p.Loc == nil {
		return time.UTC
	}
	return p.Loc
}

// Due reports whether sub gets a digest at now and for which date. With
// date empty (the scheduler's tick) the date is sub's local date at now
// and sub is due once their local delivery time has come; with a date (the
// operator's `papermail digest --date`) every subscriber who has not had it
// is due, whatever the time.
func (p Policy) Due(sub *model.Subscriber, now time.Time, date string) (string, bool) {
	switch sub.State {
	case model.StateActive:
	case model.StatePaused:
		if sub.PausedUntil.IsZero() {
			return "", false
		}
	default:
		return "", false
	}
	if !sub.PausedUntil.IsZero() && now.Before(sub.PausedUntil) {
		return "", false
	}
	loc := sub.Location(p.location())
	local := now.In(loc)
	scheduled := date == ""
	if scheduled {
		date = local.Format(DateLayout)
		hour, minute := p.hourOf(sub)
		if local.Hour() < hour || local.Hour() == hour && local.Minute() < minute {
			return "", false
		}
	}
	if sub.LastDigest >= date {
		return "", false
	}
	if sub.Frequency == model.FrequencyWeekly {
		d, err := time.ParseInLocation(DateLayout, date, loc)
		if err != nil {
			return "", false
		}
		if scheduled && int(d.Weekday()) != sub.Weekday {
			return "", false
		}
		if sub.LastDigest != "" {
			last, err := time.ParseInLocation(DateLayout, sub.LastDigest, loc)
			if err == nil && d.Sub(last) < 6*24*time.Hour+12*time.Hour {
				return "", false
			}
		}
	}
	return date, true
}

// hourOf is sub's delivery time of day.
func (p Policy) hourOf(sub *model.Subscriber) (int, int) {
	if h, ok := sub.OwnHour(); ok {
		return h, 0
	}
	return p.Hour, p.Minute
}

// maxDays bounds the search of Next: a weekly subscriber is due within a
// week of any date, plus the days around a zone change.
const maxDays = 16

// Arrival is where the search for a new subscriber's first digest starts:
// the beginning of the local day they arrived on, in their zone. They get
// that day's digest, at once when its delivery time has passed, else at
// that time. (A floor a day earlier, as before, found the day before's
// delivery time whenever today's had not come yet: a key already due that
// the next tick read and put back, once for every subscriber of an
// import — 1M subscribers imported before the day's delivery time made
// serve's first tick walk and rewrite 1M keys.)
func (p Policy) Arrival(sub *model.Subscriber) time.Time {
	loc := sub.Location(p.location())
	c := sub.Created.In(loc)
	return time.Date(c.Year(), c.Month(), c.Day(), 0, 0, 0, 0, loc)
}

// Next is the first instant at or after from at which a scheduled tick
// finds sub due, taking the dates already settled (LastDigest, Settled)
// as done and waiting out a pause; zero when sub gets no digests (not
// active, or paused without an end). A digest date counts as settled once
// its digest was sent or skipped, so Next moves to the next date.
func (p Policy) Next(sub *model.Subscriber, from time.Time) time.Time {
	if sub.State != model.StateActive && (sub.State != model.StatePaused || sub.PausedUntil.IsZero()) {
		return time.Time{}
	}
	s := *sub
	done := max(s.LastDigest, s.Settled)
	loc := s.Location(p.location())
	floor := from
	if done != "" {
		if d, err := time.ParseInLocation(DateLayout, done, loc); err == nil {
			if next := time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, 0, loc); next.After(floor) {
				floor = next
			}
		}
	}
	if s.PausedUntil.After(floor) {
		floor = s.PausedUntil
	}
	hour, minute := p.hourOf(&s)
	start := floor.In(loc)
	for i := range maxDays {
		t := time.Date(start.Year(), start.Month(), start.Day()+i, hour, minute, 0, 0, loc)
		// time.Date picks the later of two instants for a local time that
		// happens twice (the clock was set back) and one after the gap for
		// one that never happens (set forward): the first instant the clock
		// shows the delivery time may be up to an hour before t, or the end
		// of the gap.
		cands := []time.Time{t.Add(-time.Hour), t.Add(-30 * time.Minute)}
		if zs, _ := t.ZoneBounds(); zs.After(cands[1]) && zs.Before(t) {
			cands = append(cands, zs)
		}
		for _, c := range append(cands, t) {
			if c.Before(floor) {
				c = floor
			}
			if _, ok := p.Due(&s, c, ""); ok {
				return c
			}
		}
	}
	return time.Time{}
}
