package cli

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/papermail/papermail/internal/bounce"
	"github.com/papermail/papermail/internal/digest"
	"github.com/papermail/papermail/internal/store"
	"github.com/papermail/papermail/internal/usertext"
)

const bouncesUsage = "bounces [--seen] FILE|MAILDIR|MBOX|-"

// cmdBounces reads bounce reports and applies the delivery policy to the
// subscribers they name (see digest.Runner.ApplyReports).
func cmdBounces(e *env, args []string) error {
	fs := newFlags(e, "bounces", bouncesUsage)
	quiet := fs.Bool("quiet", false, "print only the summary line")
	seen := fs.Bool("seen", false, "in a Maildir, also read the messages already seen (cur/), not only the new ones")
	src, err := oneArg(fs, args, "one FILE, Maildir, mbox or - for stdin")
	if err != nil {
		return err
	}
	var msgs []bounce.Message
	if src == "-" {
		if e.stdinData == nil && e.stdin != nil {
			if e.stdinData, err = io.ReadAll(io.LimitReader(e.stdin, maxRequest/2)); err != nil {
				return fmt.Errorf("read stdin: %w", err)
			}
		}
		msgs, err = bounce.Read("-", bytes.NewReader(e.stdinData), false)
	} else {
		msgs, err = bounce.Read(e.abs(src), nil, *seen)
	}
	if err != nil {
		return fmt.Errorf("bounces: %w", err)
	}
	if len(msgs) == 0 && src != "-" && !*seen {
		if st, err := os.Stat(e.abs(src)); err == nil && st.IsDir() {
			// A Maildir whose reports were all applied before: nothing
			// to do is not a failure (a timer runs this).
			fmt.Fprintf(e.stdout, "bounces: no new messages in %s\n", src)
			return nil
		}
	}
	if len(msgs) == 0 {
		return fmt.Errorf("bounces: %s holds no messages (in a Maildir only new/ is read; --seen reads cur/ too)", src)
	}
	p, err := e.parts()
	if errors.Is(err, store.ErrLocked) {
		return err // handed to the daemon
	}
	if err != nil {
		return fmt.Errorf("%w: bounces: %w", errTempFail, err)
	}
	results, err := p.Runner.ApplyReports(msgs)
	printErr := printReports(e, results, *quiet)
	if printErr != nil {
		printErr = fmt.Errorf("bounces: could not print the results: %w", printErr)
	}
	if err != nil {
		// Applying twice changes nothing more: the whole input may be
		// given again.
		return errors.Join(fmt.Errorf("%w: bounces: %w (the reports before it were applied)", errTempFail, err), printErr)
	}
	// Applied: a Maildir's new messages become seen, so the next run
	// (a timer, say) does not apply them again, after a reactivation too.
	if err := bounce.MarkSeen(msgs); err != nil {
		return errors.Join(fmt.Errorf("bounces: applied, but could not mark the messages seen: %w", err), printErr)
	}
	if printErr != nil {
		return printErr
	}
	if slices.ContainsFunc(results, func(r digest.ReportResult) bool { return r.Action != digest.ReportNotReport }) {
		return nil
	}
	return errors.New("bounces: none of the messages is a delivery status notification or complaint report")
}

// printReports prints a line for each result (unless quiet) and the
// summary; the error is the table's (a closed stdout, say).
func printReports(e *env, results []digest.ReportResult, quiet bool) error {
	counts := map[string]int{}
	for _, r := range results {
		counts[r.Action]++
	}
	if !quiet {
		tw := tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
		for _, r := range results {
			// The recipient and detail come from a report anyone may mail.
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Action, usertext.Printable(cmp.Or(r.Email, r.Recipient, "-")), cmp.Or(r.MatchedBy, "-"),
				usertext.Printable(r.Source), oneLine(r.Detail))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	parts := make([]string, 0, len(counts))
	for _, a := range slices.Sorted(maps.Keys(counts)) {
		parts = append(parts, fmt.Sprintf("%d %s", counts[a], a))
	}
	_, err := fmt.Fprintf(e.stdout, "bounces: %d results: %s\n", len(results), strings.Join(parts, ", "))
	return err
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = strings.ToValidUTF8(s[:200], "") + "…"
	}
	return usertext.Printable(s)
}
