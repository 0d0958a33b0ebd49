package web

import (
	"net/url"
	"strings"

	"github.com/papermail/papermail/internal/selection"
)

// unmatchedView is an interest of a preview that matches no recent paper,
// with nearby terms to rephrase it in one click.
type unmatchedView struct {
	Interest string
	Nearby   []rephraseView
}

// rephraseView is one nearby term and the preview with the interest
// replaced by it.
type rephraseView struct {
	Term, URL string
}

// unmatched reports the interests of prof that match no paper of the
// window, each nearby term linked to link(interests), where interests is
// the form's interests text with that interest replaced by the term.
func (s *Server) unmatched(prof selection.Profile, interests string, link func(interests string) string) ([]unmatchedView, error) {
	if s.Runner == nil || len(prof.Interests) == 0 {
		return nil, nil
	}
	report, err := s.Runner.InterestReport(prof, s.Now())
	if err != nil {
		return nil, err
	}
	var out []unmatchedView
	for _, m := range report {
		if m.Papers > 0 {
			continue
		}
		v := unmatchedView{Interest: m.Interest}
		for _, term := range m.Nearby {
			v.Nearby = append(v.Nearby, rephraseView{Term: term, URL: link(replaceInterest(interests, m.Interest, term))})
		}
		out = append(out, v)
	}
	return out, nil
}

// replaceInterest returns the interests text with the interest old (as
// ParseInterests reads it) replaced by term, one interest a line.
func replaceInterest(interests, old, term string) string {
	list := selection.ParseInterests(interests)
	for i, in := range list {
		if strings.EqualFold(strings.Join(strings.Fields(in), " "), old) {
			list[i] = term
		}
	}
	return strings.Join(list, "\n")
}

// withValues is path with the query values.
func withValues(path string, v url.Values) string {
	return path + "?" + v.Encode()
}

// selectedValue is the value of the selected option, or "".
func selectedValue(opts []option) string {
	for _, o := range opts {
		if o.Selected {
			return o.Value
		}
	}
	return ""
}
