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

// FeedDays is how far back the personal Atom feed lists the papers a
// reader was sent; the sent-papers history is kept at least that long.
const FeedDays = 30

// sentMarginDays is how many days the sent-papers history is kept beyond
// the longest span it is read for: local dates run up to a day either
// side of UTC, and a clock set back a few days must not lose the history
// that keeps a paper from being sent twice.
const sentMarginDays = 7

// SentHistoryDays is how many days an entry of the sent-papers history
// is kept after both its date and its paper's date: the longest of the
// span a paper stays a candidate (candidateSpan: digest.window or eight
// days), the personal feed's FeedDays, plus sentMarginDays.
func (r *Runner) SentHistoryDays() int {
	span := int((r.candidateSpan() + 24*time.Hour - 1) / (24 * time.Hour))
	return max(span, FeedDays) + sentMarginDays
}

// pruneSent deletes sent-papers history entries that nothing can need
// any more (see SentHistoryDays and store.PruneSent) after a run: "never
// send a paper twice" needs an entry only while its paper can be a
// candidate, the feed only for FeedDays, the browser view of a past digest
// and the export read what is left. Like pruneLedgers, a failure is
// logged and the next run tries again; a prune that runs out of budget
// resumes where it stopped.
func (r *Runner) pruneSent(now time.Time) {
	days := r.SentHistoryDays()
	cutoff := now.UTC().AddDate(0, 0, -days)
	before := cutoff.Format(DateLayout)
	res, err := r.Store.PruneSent(before, cutoff, pruneBudget)
	if err != nil {
		r.Log.Error("pruning the sent-papers history failed (it keeps growing until a prune succeeds)", "error", err, "before", before)
		return
	}
	if res.Deleted > 0 || res.More {
		r.Log.Info("pruned the sent-papers history", "deleted", res.Deleted, "scanned", res.Scanned,
			"chunks", res.Chunks, "before", before, "days", days, "more", res.More)
	}
}
