package digest

import (
	"io"
	"time"

	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/selection"
)

// Preview ranks the current candidates for a profile without sending
// anything: what a first digest for these interests would hold now, by
// the digest's own selection step, so only papers within digest.window
// (the candidate index reaches further back, for weekly digests) and the
// trending fallback when configured. Papers prof.Exclude reports are left
// out.
func (r *Runner) Preview(prof selection.Profile, limit int, now time.Time) ([]selection.Pick, error) {
	ix, err := r.index(now, false)
	if err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = r.Config.Digest.MaxPapers
	}
	picks, _ := r.choose(ix, prof, now.Add(-r.Config.Digest.Window), nil, limit)
	return picks, nil
}

// InterestReport says, for each interest of prof, how many papers within
// digest.window it matches now and, for one that matches none, up to five
// nearby terms recent papers use, to rephrase it with.
func (r *Runner) InterestReport(prof selection.Profile, now time.Time) ([]selection.InterestMatch, error) {
	ix, err := r.index(now, false)
	if err != nil {
		return nil, err
	}
	prof.Exclude = windowExclude(ix, now.Add(-r.Config.Digest.Window), nil, prof.Exclude)
	return ix.Matches(ix.Compile(prof)), nil
}

// PreviewFor returns what sub's digest would hold now (history excluded).
func (r *Runner) PreviewFor(sub *model.Subscriber, now time.Time) ([]selection.Pick, error) {
	ix, err := r.index(now, false)
	if err != nil {
		return nil, err
	}
	sent, err := r.Store.SentSets([]uint64{sub.ID}, ix.IDs())
	if err != nil {
		return nil, err
	}
	return r.pick(ix, sub, now, sent[sub.ID]), nil
}

// WriteDigestEML writes the digest sub would get now as a message file. It
// reports false when nothing would be sent.
func (r *Runner) WriteDigestEML(w io.Writer, sub *model.Subscriber, now time.Time) (bool, error) {
	picks, err := r.PreviewFor(sub, now)
	if err != nil || len(picks) == 0 {
		return false, err
	}
	msg, err := r.message(sub, now.In(sub.Location(r.defLoc)).Format(DateLayout), picks)
	if err != nil {
		return false, err
	}
	return true, r.Composer.WriteEML(w, msg)
}
