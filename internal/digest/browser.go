package digest

import (
	"errors"
	"fmt"

	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/selection"
)

// BrowserDigest renders the digest sub was sent for date (its papers from
// the ledger, in their order) as the HTML part for a web page, with the
// reasons each paper was picked worked out again from sub's profile. It
// returns the subject too. A date without a sent digest for sub is
// store.ErrNotFound.
func (r *Runner) BrowserDigest(sub *model.Subscriber, date string) (subject, html string, err error) {
	d, err := r.Store.Delivery(date, sub.ID)
	if err != nil {
		return "", "", err
	}
	if d.State != model.DeliverySent || len(d.Papers) == 0 {
		return "", "", fmt.Errorf("digest of %s for subscriber %d was not sent: %w", date, sub.ID, ErrNotSent)
	}
	papers := make([]model.Paper, 0, len(d.Papers))
	for _, id := range d.Papers {
		p, err := r.Store.Paper(id)
		if err != nil {
			continue // pruned since; the rest is still worth showing
		}
		papers = append(papers, p)
	}
	ix := selection.NewIndex(papers, selection.Options{Now: d.At})
	matched := make(map[string]selection.Pick)
	for _, pk := range ix.Select(ix.Compile(profile(sub)), len(papers)) {
		matched[pk.Paper.ID] = pk
	}
	picks := make([]selection.Pick, 0, len(papers))
	for i := range papers {
		pk, ok := matched[papers[i].ID]
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

// ErrNotSent is wrapped by BrowserDigest for a date whose digest was not
// sent to the subscriber.
var ErrNotSent = errors.New("digest not sent")
