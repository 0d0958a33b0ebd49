package digest

import (
	"time"

	"github.com/papermail/papermail/internal/model"
)

// DateLayout is the layout of digest dates (a subscriber's local date).
const DateLayout = "2006-01-02"

// Spec says which subscribers a run is for.
type Spec struct {
	// Now is the instant of the run.
	Now time.Time
	// Date, when set, is the one digest date for everyone (the operator's
	// `papermail digest --date`): every active subscriber who has not had
	// it is due, whatever their delivery hour. When empty, each subscriber's
	// date is their local date at Now, and they are due once their local
	// delivery hour has come (the scheduler's tick).
	Date string
	// Only, when not zero, restricts the run to one subscriber.
	Only uint64
	// Resume, when not nil, restricts the run to these subscribers (the
	// pending and failed lines of an interrupted run's ledger).
	Resume map[uint64]bool
}

// Due reports whether sub gets a digest in this run and for which date.
// defLoc and defHour/defMinute come from digest.timezone and
// digest.schedule.
func (sp Spec) Due(sub *model.Subscriber, defLoc *time.Location, defHour, defMinute int) (string, bool) {
	if sp.Only != 0 && sub.ID != sp.Only || sp.Resume != nil && !sp.Resume[sub.ID] {
		return "", false
	}
	switch sub.State {
	case model.StateActive:
	case model.StatePaused:
		if sub.PausedUntil.IsZero() {
			return "", false
		}
	default:
		return "", false
	}
	if !sub.PausedUntil.IsZero() && sp.Now.Before(sub.PausedUntil) {
		return "", false
	}
	loc := sub.Location(defLoc)
	local := sp.Now.In(loc)
	date := sp.Date
	if date == "" {
		date = local.Format(DateLayout)
		hour, minute := sub.Hour, 0
		if hour < 0 || hour > 23 {
			hour, minute = defHour, defMinute
		}
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
		if sp.Date == "" && int(d.Weekday()) != sub.Weekday {
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
