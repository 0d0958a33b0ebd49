package cli

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/papermail/papermail/internal/model"
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
}

type statusReport struct {
	Papers      int                 `json:"papers"`
	Subscribers map[model.State]int `json:"subscribers"`
	Outbox      int                 `json:"outbox"`
	Runs        []statusRun         `json:"runs"`
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
	runs, err := st.Runs(10)
	if err != nil {
		return err
	}
	rep.Runs = []statusRun{}
	for _, r := range runs {
		sr := statusRun{Date: r.Date, Started: r.Started.UTC().Format(time.RFC3339), Due: r.Due, Sent: r.Sent, Failed: r.Failed,
			Skipped: r.Skipped, Bounced: r.Bounced, DurationMS: r.DurationMS, Running: r.Finished.IsZero()}
		sr.Pending = max(r.Due-r.Sent-r.Failed-r.Skipped-r.Bounced, 0)
		if !r.Finished.IsZero() {
			sr.Finished = r.Finished.UTC().Format(time.RFC3339)
		} else {
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
	if len(rep.Runs) == 0 {
		fmt.Fprintln(e.stdout, "runs:         none yet")
	}
	for _, r := range rep.Runs {
		state := "finished"
		if r.Running {
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
