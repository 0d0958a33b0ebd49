package cli

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/papermail/papermail/internal/config"
	"github.com/papermail/papermail/internal/embeddings"
	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/store"
	"github.com/papermail/papermail/internal/usertext"
)

type statusRun struct {
	Date       string `json:"date"`
	Started    string `json:"started"`
	Finished   string `json:"finished,omitempty"`
	Due        int    `json:"due"`
	Pending    int    `json:"pending"`
	Sent       int    `json:"sent"`
	Failed     int    `json:"failed"`
	Skipped    int    `json:"skipped"`
	Bounced    int    `json:"bounced"`
	DurationMS int64  `json:"duration_ms"`
	Running    bool   `json:"running"`
	// Stopped is the operator-side failure that stopped the run or, with
	// Finished set, made every delivery fail (server unreachable).
	Stopped   string `json:"stopped,omitempty"`
	StoppedAt string `json:"stopped_at,omitempty"`
}

// statusFeed is one configured feed's health.
type statusFeed struct {
	URL      string `json:"url"`
	Schedule string `json:"schedule"`
	// LastFetch is when the last fetch ended; empty when none is recorded.
	LastFetch string `json:"last_fetch,omitempty"`
	// OK is the last fetch's outcome; Error its error when it failed.
	OK          bool   `json:"ok"`
	Error       string `json:"error,omitempty"`
	Failures    int    `json:"failures_in_a_row"`
	LastSuccess string `json:"last_success,omitempty"`
	// Papers, Added and Updated are what the last successful fetch gave.
	Papers  int `json:"papers"`
	Added   int `json:"added"`
	Updated int `json:"updated"`
	// NextFetch is the next scheduled fetch while serve runs; without a
	// running daemon the next fetch is at serve's start.
	NextFetch string `json:"next_fetch,omitempty"`
}

type statusReport struct {
	Papers      int                 `json:"papers"`
	Subscribers map[model.State]int `json:"subscribers"`
	Outbox      int                 `json:"outbox"`
	// Serving is true when the answer comes from a running daemon.
	Serving bool         `json:"serving"`
	Feeds   []statusFeed `json:"feeds"`
	Runs    []statusRun  `json:"runs"`
	// Unmatched counts who got nothing matching their interests in the
	// last run (status_interests.go).
	Unmatched *statusUnmatched `json:"unmatched_last_run,omitempty"`
	// Embeddings is the optional provider's state after the last run (embed.go).
	Embeddings *embeddings.Status `json:"embeddings,omitempty"`
}

func cmdStatus(e *env, args []string) error {
	fs := newFlags(e, "status", "status [--format text|json]")
	format := fs.String("format", "text", "text or json")
	if _, err := flags(fs, args); err != nil {
		return err
	}
	if *format != "text" && *format != "json" {
		return fmt.Errorf("%w: --format must be text or json", errUsage)
	}
	st, err := e.store()
	if err != nil {
		return err
	}
	var rep statusReport
	if rep.Papers, err = st.CountPapers(); err != nil {
		return err
	}
	if rep.Subscribers, err = st.CountSubscribers(); err != nil {
		return err
	}
	if rep.Outbox, err = st.OutboxLen(); err != nil {
		return err
	}
	rep.Serving = e.daemon != nil
	if rep.Feeds, err = feedStatus(e, st, time.Now()); err != nil {
		return err
	}
	runs, err := st.Runs(10)
	if err != nil {
		return err
	}
	if rep.Unmatched, err = unmatchedLastRun(st, runs); err != nil {
		return err
	}
	if rep.Embeddings, err = embeddingsStatus(st, e.cfg.Ranking.Embeddings.Model); err != nil {
		return err
	}
	rep.Runs = []statusRun{}
	for _, r := range runs {
		sr := statusRun{Date: r.Date, Started: stamp(r.Started), Finished: stamp(r.Finished), Due: r.Due, Sent: r.Sent, Failed: r.Failed,
			Skipped: r.Skipped, Bounced: r.Bounced, DurationMS: r.DurationMS, Running: r.Finished.IsZero()}
		sr.Pending = max(r.Due-r.Sent-r.Failed-r.Skipped-r.Bounced, 0)
		if r.Stopped != "" {
			sr.Stopped, sr.StoppedAt = r.Stopped, stamp(r.StoppedAt)
		}
		if sr.Running {
			sr.DurationMS = time.Since(r.Started).Milliseconds()
		}
		rep.Runs = append(rep.Runs, sr)
	}
	if *format == "json" {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	fmt.Fprintf(e.stdout, "papers:       %d\n", rep.Papers)
	fmt.Fprint(e.stdout, "subscribers: ")
	for _, s := range model.States {
		fmt.Fprintf(e.stdout, " %s %d", s, rep.Subscribers[s])
	}
	fmt.Fprintf(e.stdout, "\noutbox:       %d waiting\n", rep.Outbox)
	printFeeds(e, rep)
	if len(rep.Runs) == 0 {
		fmt.Fprintln(e.stdout, "runs:         none yet")
	}
	if em := rep.Embeddings; em != nil {
		fmt.Fprintf(e.stdout, "embeddings:   %s\n", em)
	}
	if u := rep.Unmatched; u != nil {
		fmt.Fprintf(e.stdout, "unmatched:    %d subscribers got nothing matching their interests in run %s (%d skipped, %d sent trending papers only)\n",
			u.Skipped+u.Fallback, u.Date, u.Skipped, u.Fallback)
	}
	for _, r := range rep.Runs {
		state := "finished"
		switch {
		case r.Stopped != "" && r.Finished != "":
			state = "finished, FAILED at " + r.StoppedAt + ": " + r.Stopped
		case r.Stopped != "":
			state = "STOPPED at " + r.StoppedAt + ": " + r.Stopped
		case r.Running:
			state = "in progress or interrupted"
			if e.daemon == nil {
				state = "interrupted (resumes at the next serve or digest)"
			}
		}
		fmt.Fprintf(e.stdout, "run %s: %s; due %d, sent %d, skipped %d, failed %d, bounced %d, pending %d (%s)\n",
			r.Date, state, r.Due, r.Sent, r.Skipped, r.Failed, r.Bounced, r.Pending, time.Duration(r.DurationMS)*time.Millisecond)
	}
	return nil
}

// feedStatus joins the configured feeds with their recorded health.
func feedStatus(e *env, st *store.Store, now time.Time) ([]statusFeed, error) {
	out := []statusFeed{}
	for _, f := range e.cfg.Feeds {
		sf := statusFeed{URL: f.URL, Schedule: cmp.Or(f.Schedule, config.DefaultFeedSchedule)}
		if e.daemon != nil {
			if next, ok := nextFetch(e.cfg, f, now); ok {
				sf.NextFetch = stamp(next)
			}
		}
		h, err := st.FeedHealth(f.URL)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return nil, err
		default:
			sf.LastFetch, sf.LastSuccess = stamp(h.LastAttempt), stamp(h.LastSuccess)
			sf.OK, sf.Error, sf.Failures = h.OK(), h.Error, h.Failures
			sf.Papers, sf.Added, sf.Updated = h.Papers, h.Added, h.Updated
		}
		out = append(out, sf)
	}
	return out, nil
}

// stamp is t as status shows it: RFC 3339 in UTC, "" for the zero time.
func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func printFeeds(e *env, rep statusReport) {
	if len(rep.Feeds) == 0 {
		fmt.Fprintln(e.stdout, "feeds:        none configured")
		return
	}
	fmt.Fprintln(e.stdout, "feeds:")
	for _, f := range rep.Feeds {
		var last string
		switch {
		case f.LastFetch == "":
			last = "never fetched"
		case f.OK:
			last = fmt.Sprintf("last fetch %s ok: %d papers, %d added, %d updated", f.LastFetch, f.Papers, f.Added, f.Updated)
		default:
			last = fmt.Sprintf("last fetch %s FAILED (%d in a row; last success %s): %s", f.LastFetch, f.Failures, cmp.Or(f.LastSuccess, "never"), f.Error)
		}
		next := "next fetch at the start of 'papermail serve'"
		if f.NextFetch != "" {
			next = "next fetch " + f.NextFetch
		}
		// A failing feed's error quotes what its server said.
		fmt.Fprintf(e.stdout, "  %s (%s): %s; %s\n", usertext.Printable(f.URL), f.Schedule, usertext.Printable(last), next)
	}
}
