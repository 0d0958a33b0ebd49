package digest

import (
	"time"

	"github.com/papermail/papermail/internal/due"
	"github.com/papermail/papermail/internal/model"
)

// DateLayout is the layout of digest dates (a subscriber's local date).
const DateLayout = due.DateLayout

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
// digest.schedule (see due.Policy).
func (sp Spec) Due(sub *model.Subscriber, defLoc *time.Location, defHour, defMinute int) (string, bool) {
	return sp.due(sub, due.Policy{Loc: defLoc, Hour: defHour, Minute: defMinute})
}

func (sp Spec) due(sub *model.Subscriber, p due.Policy) (string, bool) {
	if sp.Only != 0 && sub.ID != sp.Only || sp.Resume != nil && !sp.Resume[sub.ID] {
		return "", false
	}
	return p.Due(sub, sp.Now, sp.Date)
}
