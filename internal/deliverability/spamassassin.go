package deliverability

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/textproto"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
)

// SpamAssassinPath is where Debian installs spamassassin.
const SpamAssassinPath = "/usr/bin/spamassassin"

// SpamReport is SpamAssassin's verdict on one message.
type SpamReport struct {
	// Spam is SpamAssassin's yes/no verdict at its required score.
	Spam bool
	// Score and Required are the message's score and the spam threshold.
	Score, Required float64
	// Tests names every rule that hit, scored or not (X-Spam-Status).
	Tests []string
	// Rules are the rows of the report's table: the rules that hit with
	// their points, in SpamAssassin's order.
	Rules []Rule
}

// Rule is one row of SpamAssassin's report table.
type Rule struct {
	Name        string
	Points      float64
	Description string
}

// String lists the rules as "NAME=points" separated by spaces.
func (r *SpamReport) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "score %.1f (required %.1f):", r.Score, r.Required)
	for _, x := range r.Rules {
		fmt.Fprintf(&b, " %s=%.1f", x.Name, x.Points)
	}
	return b.String()
}

// SpamAssassin scores msg with `spamassassin -L -t`: local tests only (no
// DNS or network), test mode (the report is added to the output), with
// HOME set to home so the user's preferences and Bayes data stay out of
// it. bin is the spamassassin executable.
func SpamAssassin(ctx context.Context, bin, home string, msg []byte) (*SpamReport, error) {
	cmd := exec.CommandContext(ctx, bin, "-L", "-t")
	cmd.Env = append(os.Environ(), "HOME="+home)
	cmd.Stdin = bytes.NewReader(msg)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("deliverability: %s -L -t: %w: %s", bin, err, lastLines(stderr.String(), 5))
	}
	rep, err := ParseSpamReport(stdout.Bytes())
	if err != nil {
		return nil, fmt.Errorf("%w (stderr: %s)", err, lastLines(stderr.String(), 5))
	}
	return rep, nil
}

var (
	statusRe = regexp.MustCompile(`^(Yes|No), score=(-?\d+(?:\.\d+)?) required=(-?\d+(?:\.\d+)?)`)
	ruleRe   = regexp.MustCompile(`^\s*(-?\d+(?:\.\d+)?)\s+([A-Za-z0-9_]+)\s+(.*)$`)
)

// ParseSpamReport reads the output of `spamassassin -t`: the score from
// the X-Spam-Status header and the rules from the report's "pts rule name"
// table. It fails when either is missing.
func ParseSpamReport(out []byte) (*SpamReport, error) {
	// The header block, unfolded; a malformed line ends it.
	head, _ := textproto.NewReader(bufio.NewReader(bytes.NewReader(out))).ReadMIMEHeader()
	status := strings.Join(strings.Fields(head.Get("X-Spam-Status")), " ")
	if status == "" {
		return nil, errors.New("deliverability: spamassassin output has no X-Spam-Status header")
	}
	m := statusRe.FindStringSubmatch(status)
	if m == nil {
		return nil, fmt.Errorf("deliverability: X-Spam-Status %q does not parse", status)
	}
	rep := &SpamReport{Spam: m[1] == "Yes"}
	rep.Score, _ = strconv.ParseFloat(m[2], 64) // the pattern admits only numbers
	rep.Required, _ = strconv.ParseFloat(m[3], 64)
	if _, tests, ok := strings.Cut(status, " tests="); ok {
		// The list is folded after commas: it ends at the next tag.
		for _, tag := range []string{" autolearn=", " version="} {
			tests, _, _ = strings.Cut(tests, tag)
		}
		if tests = strings.ReplaceAll(tests, " ", ""); tests != "" && tests != "none" {
			rep.Tests = strings.Split(tests, ",")
		}
	}

	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	state := 0 // 0: before the table, 1: at its rule line, 2: in it
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		switch state {
		case 0:
			if f := strings.Fields(line); len(f) == 4 && f[0] == "pts" && f[1] == "rule" && f[2] == "name" && f[3] == "description" {
				state = 1
			}
		case 1:
			if !strings.HasPrefix(line, "----") {
				return nil, fmt.Errorf("deliverability: spamassassin report table has no rule under its heading, got %q", line)
			}
			state = 2
		case 2:
			if strings.TrimSpace(line) == "" {
				return rep, nil
			}
			if r := ruleRe.FindStringSubmatch(line); r != nil {
				p, _ := strconv.ParseFloat(r[1], 64)
				rep.Rules = append(rep.Rules, Rule{Name: r[2], Points: p, Description: strings.TrimSpace(r[3])})
			} else if n := len(rep.Rules); n > 0 && strings.HasPrefix(line, "    ") {
				rep.Rules[n-1].Description += " " + strings.TrimSpace(line)
			} else {
				return nil, fmt.Errorf("deliverability: spamassassin report table line %q does not parse", line)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("deliverability: read spamassassin output: %w", err)
	}
	if state == 0 {
		return nil, errors.New("deliverability: spamassassin output has no report table (was -t given?)")
	}
	return rep, nil
}

// lastLines returns the last n lines of s, for error messages.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
