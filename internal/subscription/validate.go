package subscription

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/papermail/papermail/internal/address"
	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/selection"
	"github.com/papermail/papermail/internal/usertext"
)

// ErrInvalid wraps every Problem: subscriber data that breaks a rule.
var ErrInvalid = errors.New("invalid subscriber data")

// Field names the part of a subscriber a rule checks, in words a reader
// understands ("time zone"); pages capitalize it, the CLI maps it to its
// flag.
type Field string

// Fields with rules.
const (
	FieldEmail     Field = "email"
	FieldInterests Field = "interests"
	FieldTimezone  Field = "time zone"
	FieldHour      Field = "delivery hour"
	FieldFrequency Field = "frequency"
	FieldWeekday   Field = "weekday"
	FieldExamples  Field = "example papers"
	FieldPause     Field = "pause until"
)

// Problem is one rule broken: which field and what is allowed.
type Problem struct {
	Field   Field
	Message string
}

func (p *Problem) Error() string { return string(p.Field) + ": " + p.Message }

// Unwrap makes every Problem an ErrInvalid.
func (p *Problem) Unwrap() error { return ErrInvalid }

// Problems are every rule one request breaks, so a form shows them all at
// once.
type Problems []*Problem

func (ps Problems) Error() string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.Error()
	}
	return strings.Join(s, "; ")
}

// Unwrap returns the problems, so errors.Is(err, ErrInvalid) and errors.As
// to *Problem work on the list.
func (ps Problems) Unwrap() []error {
	out := make([]error, len(ps))
	for i, p := range ps {
		out[i] = p
	}
	return out
}

// ProblemsOf returns the problems err carries, a Problems or a single
// Problem, wrapped or not; false for any other error.
func ProblemsOf(err error) (Problems, bool) {
	if ps, ok := errors.AsType[Problems](err); ok {
		return ps, true
	}
	if one, ok := errors.AsType[*Problem](err); ok {
		return Problems{one}, true
	}
	return nil, false
}

// err returns ps as an error, or nil when there is none.
func (ps Problems) err() error {
	if len(ps) == 0 {
		return nil
	}
	return ps
}

// add appends the problems err holds (a Problem or Problems).
func (ps *Problems) add(err error) {
	if list, ok := ProblemsOf(err); ok {
		*ps = append(*ps, list...)
	} else if err != nil {
		*ps = append(*ps, &Problem{Message: err.Error()})
	}
}

// Limits of what a reader may store.
const (
	MaxExamples   = 20
	MaxExampleLen = 300
	// MaxPause is how far ahead a pause may reach.
	MaxPause = 366 * 24 * time.Hour
	// MaxFeedback is how many feedback entries a subscriber keeps (the
	// newest).
	MaxFeedback = 200
	// MaxZoneLen bounds a time zone name.
	MaxZoneLen = 64
)

// DateLayout is the layout of dates readers type (pause until).
const DateLayout = "2006-01-02"

// Email checks an address and returns its normalized form, the key of the
// subscriber.
func Email(raw string) (string, error) {
	email, err := address.Normalize(raw)
	if err != nil {
		return "", &Problem{FieldEmail, strings.TrimPrefix(err.Error(), address.ErrInvalid.Error()+": ") +
			" (give one address, like name@example.org)"}
	}
	return email, nil
}

// Interests splits and checks the interests a reader typed (separated by
// semicolons or lines); at least one is required. What is not text
// (control characters, bidi overrides; see usertext) is dropped first,
// whether the interests came from the web, the command line or an
// imported file.
func Interests(text string) ([]string, error) {
	interests, err := selection.ValidateInterests(usertext.Clean(text))
	var ps Problems
	if err != nil {
		for line := range strings.SplitSeq(err.Error(), "\n") {
			ps = append(ps, &Problem{FieldInterests, line})
		}
	} else if len(interests) == 0 {
		ps = append(ps, &Problem{FieldInterests, "name at least one topic, for example “speech recognition”"})
	}
	return interests, ps.err()
}

// Zone checks an IANA time zone name: letters, digits and _ + - / only,
// at most MaxZoneLen characters, known to this machine's zone database.
// "" (the default zone, digest.timezone) is valid; "Local" is not.
func Zone(name string) error {
	bad := &Problem{FieldTimezone, "not a known time zone name such as Europe/Berlin"}
	if name == "" {
		return nil
	}
	if len(name) > MaxZoneLen || name == "Local" || name[0] == '/' {
		return bad
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '+' || r == '-' || r == '/') {
			return bad
		}
	}
	if _, err := model.LoadZone(name); err != nil {
		return bad
	}
	return nil
}

// Hour parses a delivery hour: "" or "default" is model.HourDefault,
// else one or two digits 0-23.
func Hour(s string) (int, error) {
	switch s {
	case "", "default":
		return model.HourDefault, nil
	}
	if n, ok := smallInt(s, 23); ok {
		return n, nil
	}
	return model.HourDefault, &Problem{FieldHour, "choose an hour from 00 to 23, or the default"}
}

// Frequency parses daily or weekly ("" is daily).
func Frequency(s string) (string, error) {
	switch s {
	case model.FrequencyDaily, "":
		return model.FrequencyDaily, nil
	case model.FrequencyWeekly:
		return model.FrequencyWeekly, nil
	}
	return model.FrequencyDaily, &Problem{FieldFrequency, "choose daily or weekly"}
}

// Weekday parses a day of the week, 0 (Sunday) to 6.
func Weekday(s string) (int, error) {
	if d, ok := smallInt(s, 6); ok {
		return d, nil
	}
	return 0, &Problem{FieldWeekday, "choose a day of the week"}
}

// Examples splits example papers (one per line: an arXiv id or a title),
// dropping blanks and repeats, and checks their number and length.
func Examples(text string) ([]string, error) {
	var out []string
	var ps Problems
	seen := map[string]bool{}
	for line := range strings.Lines(text) {
		e := strings.Join(strings.Fields(line), " ")
		if e == "" || seen[strings.ToLower(e)] {
			continue
		}
		seen[strings.ToLower(e)] = true
		if n := utf8.RuneCountInString(e); n > MaxExampleLen {
			ps = append(ps, &Problem{FieldExamples, fmt.Sprintf("example %d has %d characters, at most %d are allowed", len(out)+1, n, MaxExampleLen)})
		}
		out = append(out, e)
	}
	if len(out) > MaxExamples {
		ps = append(ps, &Problem{FieldExamples, fmt.Sprintf("%d given, at most %d are allowed", len(out), MaxExamples)})
	}
	return out, ps.err()
}

// PauseUntil parses the date a pause ends (YYYY-MM-DD, the start of that
// day in loc): after now and at most MaxPause ahead.
func PauseUntil(s string, loc *time.Location, now time.Time) (time.Time, error) {
	d, err := time.ParseInLocation(DateLayout, s, loc)
	switch {
	case err != nil || d.Format(DateLayout) != s: // exactly YYYY-MM-DD
		return time.Time{}, &Problem{FieldPause, "give a date as YYYY-MM-DD, like " + now.AddDate(0, 0, 14).Format(DateLayout)}
	case !d.After(now):
		return time.Time{}, &Problem{FieldPause, "the date must be in the future"}
	case d.Sub(now) > MaxPause:
		return time.Time{}, &Problem{FieldPause, "pause for at most a year"}
	}
	return d, nil
}

// smallInt parses one or two decimal digits as a number 0..max.
func smallInt(s string, max int) (int, bool) {
	if len(s) == 0 || len(s) > 2 {
		return 0, false
	}
	n := 0
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, n <= max
}
