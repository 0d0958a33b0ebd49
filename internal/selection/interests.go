package selection

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Limits of a subscriber's interests.
const (
	MaxInterests   = 20
	MaxInterestLen = 200 // characters (runes) per interest
)

// Errors of ValidateInterests, wrapped with details.
var (
	ErrTooManyInterests = errors.New("too many interests")
	ErrInterestTooLong  = errors.New("interest too long")
	ErrInterestNoWords  = errors.New("interest has no words")
)

// ParseInterests splits a reader's free text into interests: on ';' and
// line breaks, and on ',' when the text has no ';'. Each is trimmed with
// inner white space collapsed; empty ones and case-insensitive duplicates
// are dropped. At most MaxInterests are kept, each cut to MaxInterestLen
// characters at a word boundary where possible.
func ParseInterests(s string) []string {
	all := splitInterests(s)
	if len(all) > MaxInterests {
		all = all[:MaxInterests]
	}
	for i, in := range all {
		all[i] = truncate(in, MaxInterestLen)
	}
	return all
}

// ValidateInterests is ParseInterests that reports what is wrong instead
// of cutting: more than MaxInterests interests, one longer than
// MaxInterestLen characters, or one without any letter or digit. The
// parsed interests are returned either way.
func ValidateInterests(s string) ([]string, error) {
	all := splitInterests(s)
	var errs []error
	if len(all) > MaxInterests {
		errs = append(errs, fmt.Errorf("%w: %d given, at most %d allowed", ErrTooManyInterests, len(all), MaxInterests))
	}
	for i, in := range all {
		if n := utf8.RuneCountInString(in); n > MaxInterestLen {
			errs = append(errs, fmt.Errorf("%w: interest %d (%q…) has %d characters, at most %d allowed",
				ErrInterestTooLong, i+1, truncate(in, 30), n, MaxInterestLen))
		}
		if strings.IndexFunc(in, isWordRune) < 0 {
			errs = append(errs, fmt.Errorf("%w: interest %d %q", ErrInterestNoWords, i+1, in))
		}
	}
	return all, errors.Join(errs...)
}

func splitInterests(s string) []string {
	seps := ";\n\r"
	if !strings.Contains(s, ";") {
		seps += ","
	}
	var out []string
	seen := make(map[string]bool)
	for f := range strings.FieldsFuncSeq(s, func(r rune) bool { return strings.ContainsRune(seps, r) }) {
		f = strings.Join(strings.Fields(f), " ")
		k := strings.ToLower(f)
		if f == "" || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, f)
	}
	return out
}

// truncate cuts s to at most n runes, at the last space when there is one
// in the second half.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i, count := 0, 0
	for i = range s {
		if count == n {
			break
		}
		count++
	}
	cut := s[:i]
	if sp := strings.LastIndexByte(cut, ' '); sp > len(cut)/2 {
		cut = cut[:sp]
	}
	return strings.TrimSpace(cut)
}
