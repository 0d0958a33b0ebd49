package digest

import (
	"time"

	"github.com/papermail/papermail/internal/config"
)

// pruneBudget is how long one run's prune may go on starting chunks.
// Deleting a day's ledger of a million subscribers takes about 0.7 s
// (BenchmarkPruneLedger: ~690 ns a line, fsync per chunk), so only a
// store upgraded with months of ledgers needs more than one run.
const pruneBudget = 30 * time.Second

// pruneLedgers deletes the delivery ledgers of run dates older than the
// newest digest.ledger_days (never an unfinished run's; see
// store.PruneLedgers) after a run, when the day's work is done. A prune
// that fails costs the run nothing: it is logged, and the next run tries
// again.
func (r *Runner) pruneLedgers() {
	keep := r.Config.Digest.LedgerDays
	if keep <= 0 {
		keep = config.DefaultLedgerDays // a Config not built by config.Default
	}
	res, err := r.Store.PruneLedgers(keep, pruneBudget)
	if err != nil {
		r.Log.Error("pruning old digest ledgers failed (the store keeps growing until a prune succeeds)", "error", err, "ledger_days", keep)
		return
	}
	if len(res.Dates) > 0 || res.Lines > 0 {
		attrs := []any{"dates", len(res.Dates), "lines", res.Lines, "kept", res.Kept, "ledger_days", keep, "more", res.More}
		if len(res.Dates) > 0 {
			attrs = append(attrs, "oldest", res.Dates[0], "newest", res.Dates[len(res.Dates)-1])
		}
		r.Log.Info("pruned old digest ledgers", attrs...)
	}
}
