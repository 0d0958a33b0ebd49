package cli

import (
	"errors"

	"github.com/papermail/papermail/internal/digest"
	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/store"
)

// statusUnmatched is how many subscribers due in the last run got nothing
// that matched their interests: skipped, or sent trending papers only.
type statusUnmatched struct {
	Date     string `json:"date"`
	Skipped  int    `json:"skipped"`
	Fallback int    `json:"fallback"`
}

// unmatchedLastRun counts, in the newest of runs, the subscribers whose
// interests matched no paper. It returns nil when there is no run.
func unmatchedLastRun(st *store.Store, runs []model.Run) (*statusUnmatched, error) {
	if len(runs) == 0 {
		return nil, nil
	}
	date := runs[0].Date
	ledger, err := st.Ledger(date)
	if errors.Is(err, store.ErrNotFound) {
		return &statusUnmatched{Date: date}, nil
	}
	if err != nil {
		return nil, err
	}
	u := &statusUnmatched{Date: date}
	for _, d := range ledger {
		switch {
		case d.State == model.DeliverySkipped && d.Reason == digest.ReasonNothingRelevant:
			u.Skipped++
		case d.State == model.DeliverySent && d.Reason == digest.ReasonFallback:
			u.Fallback++
		}
	}
	return u, nil
}
