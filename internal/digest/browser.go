package digest

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/selection"
	"github.com/papermail/papermail/internal/store"
)

// BrowserDigest renders the digest sub was sent for date (its papers from
// the ledger, in their order) as the HTML part for a web page, with the
// reasons each paper was picked worked out again from sub's profile. A
// date whose ledger was pruned (digest.ledger_days) is rebuilt from the
// sent-papers history: the same papers, in the order the profile ranks
// them now. It returns the subject too. A date without a sent digest for
// sub is store.ErrNotFound.
func (r *Runner) BrowserDigest(sub *model.Subscriber, date string) (subject, html string, err error) {
	ids, at, ranked, err := r.sentOn(sub, date)
	if err != nil {
		return "", "", err
	}
	papers := make([]model.Paper, 0, len(ids))
	for _, id := range ids {
		p, err := r.Store.Paper(id)
		if err != nil {
			continue // pruned since; the rest is still worth showing
		}
		papers = append(papers, p)
	}
	ix := selection.NewIndex(papers, selection.Options{Now: at})
	matched := make(map[string]selection.Pick)
	picks := make([]selection.Pick, 0, len(papers))
	for _, pk := range ix.Select(ix.Compile(profile(sub)), len(papers)) {
		matched[pk.Paper.ID] = pk
		if ranked {
			picks = append(picks, pk)
		}
	}
	for i := range papers {
		pk, ok := matched[papers[i].ID]
		if ranked && ok {
			continue // placed by its rank above
		}
		if !ok {
			pk = selection.Pick{Paper: &papers[i], Fallback: true}
		}
		picks = append(picks, pk)
	}
	v := r.view(sub, date, picks)
	v.BrowserURL = ""
	subject, _, html, err = r.Engine.Digest(v)
	return subject, html, err
}

// sentOn returns the ids of the papers sub was sent for date and when: the
// ledger's line in the order it was sent, else (the ledger of that date
// pruned) the sent-papers history's papers of that date, sorted, with
// ranked true: the caller orders them by rank.
func (r *Runner) sentOn(sub *model.Subscriber, date string) (ids []string, at time.Time, ranked bool, err error) {
	d, err := r.Store.Delivery(date, sub.ID)
	switch {
	case err == nil:
		if d.State != model.DeliverySent || len(d.Papers) == 0 {
			return nil, time.Time{}, false, fmt.Errorf("digest of %s for subscriber %d was not sent: %w", date, sub.ID, ErrNotSent)
		}
		return d.Papers, d.At, false, nil
	case !errors.Is(err, store.ErrNotFound):
		return nil, time.Time{}, false, err
	}
	day, perr := time.ParseInLocation(DateLayout, date, sub.Location(r.defLoc))
	if perr != nil {
		return nil, time.Time{}, false, err
	}
	hist, herr := r.Store.SentHistory(sub.ID)
	if herr != nil {
		return nil, time.Time{}, false, herr
	}
	for id, sent := range hist {
		if sent == date {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil, time.Time{}, false, err
	}
	slices.Sort(ids)
	// Sent some time that day: the end of it ranks the papers as the
	// digest saw them, or nearly.
	return ids, day.AddDate(0, 0, 1), true, nil
}

// ErrNotSent is wrapped by BrowserDigest for a date whose digest was not
// sent to the subscriber.
var ErrNotSent = errors.New("digest not sent")
