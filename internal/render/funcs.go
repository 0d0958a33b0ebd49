package render

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// funcs are the helpers every template (and every override) may call:
//
//	wrap WIDTH INDENT TEXT       lay TEXT out on lines of WIDTH columns
//	hang WIDTH FIRST REST TEXT   the same with another first-line prefix
//	after WIDTH COL REST TEXT    hang for a first line that already holds
//	                             COL columns printed before it
//	short N TEXT                 cut TEXT to N characters at a word ("…")
//	parts N PARTS TEXT           highlighted PARTS (else TEXT) cut to N
//	shortparts N PARTS, plain PARTS
//	join SEP LIST, why INTEREST WORDS, others INTEREST WORDS
//	link URL                     an http(s)/mailto URL safe on its own line
//	budget TOTAL N LO HI         TOTAL/N clamped to [LO, HI]
//	plural N ONE MANY, add A B, sub A B
//	shortdate LABEL              "Friday, 27 November 2026" -> "Fri 27 Nov"
//	oneline TEXT, clean VALUE    one clean line; a value without controls
var funcs = map[string]any{
	"clean":      cleanValue,
	"wrap":       func(width int, indent, s string) textBlock { return hang(width, indent, indent, s) },
	"hang":       hang,
	"after":      after,
	"join":       func(sep string, list []string) string { return strings.Join(list, sep) },
	"short":      func(n int, s string) string { return Shorten(s, n) },
	"shortparts": func(n int, parts []Segment) []Segment { return ShortenParts(parts, n) },
	"oneline":    func(s string) string { return oneLine(s, maxSubject) },
	"budget":     budget,
	"plural":     plural,
	"add":        func(a, b int) int { return a + b },
	"sub":        func(a, b int) int { return a - b },
	"shortdate":  shortDate,
	"plain":      plain,
	"why":        why,
	"link":       link,
	"others":     others,
	"parts":      parts,
}

// after lays s out like hang with a first-line prefix of col columns that
// is not part of the result: the text that follows something already
// printed on the line, such as a paper's number.
func after(width, col int, rest, s string) textBlock {
	col = max(col, 0)
	b := appendHang(nil, width, strings.Repeat(" ", col), rest, s)
	if len(b) < col {
		return ""
	}
	return textBlock(b[col:])
}

// parts returns highlighted parts cut to limit runes, or, when there are
// none, text cut to limit as a single part.
func parts(limit int, segs []Segment, text string) []Segment {
	if len(segs) > 0 {
		return ShortenParts(segs, limit)
	}
	if text == "" {
		return nil
	}
	return []Segment{{Text: Shorten(text, limit)}}
}

// plain joins the text of highlighted parts.
func plain(parts []Segment) string {
	var b strings.Builder
	for _, p := range parts {
		b.WriteString(p.Text)
	}
	return b.String()
}

// others returns the matched words that differ from the interest itself
// (ignoring case), so "speech recognition (speech recognition)" is not
// said twice.
func others(interest string, matched []string) []string {
	if !slices.ContainsFunc(matched, func(w string) bool { return strings.EqualFold(w, interest) }) {
		return matched
	}
	return slices.DeleteFunc(slices.Clone(matched), func(w string) bool { return strings.EqualFold(w, interest) })
}

// why says what a paper matched: "diffusion models (diffusion, noise)".
func why(interest string, matched []string) string {
	matched = others(interest, matched)
	switch {
	case len(matched) == 0:
		return interest
	case interest == "":
		return strings.Join(matched, ", ")
	}
	return interest + " (" + strings.Join(matched, ", ") + ")"
}

// link makes a URL safe to stand alone on a plain-text line: controls are
// dropped and spaces percent-encoded, so the URL stays one word. Only
// http, https and mailto links are kept; others give "". The result
// needs no further cleaning.
func link(u string) textBlock {
	for i := 0; i < len(u); i++ {
		if c := u[i]; c <= ' ' || c >= 0x7f {
			return linkSlow(u)
		}
	}
	if !hasPrefixFold(u, "https://") && !hasPrefixFold(u, "http://") && !hasPrefixFold(u, "mailto:") {
		return ""
	}
	return textBlock(u)
}

// linkSlow is link for URLs with spaces, controls or non-ASCII.
func linkSlow(u string) textBlock {
	u = strings.TrimSpace(cleanLine(u))
	if !hasPrefixFold(u, "https://") && !hasPrefixFold(u, "http://") && !hasPrefixFold(u, "mailto:") {
		return ""
	}
	if !hasBreak(u) {
		return textBlock(u)
	}
	return textBlock(strings.Map(func(r rune) rune {
		if isBreak(r) {
			return -1
		}
		return r
	}, strings.ReplaceAll(u, " ", "%20")))
}

// hasPrefixFold is strings.HasPrefix ignoring ASCII case.
func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// budget shares total characters among n items: total/n, but at least lo
// and at most hi. Templates use it to cut abstracts of long digests so the
// HTML part stays under Gmail's clipping size.
func budget(total, n, lo, hi int) int {
	return min(max(total/max(n, 1), lo), hi)
}

// plural returns "1 paper" or "8 papers".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// shortDate turns a date label "Friday, 27 November 2026" into
// "Fri 27 Nov"; other labels are returned as they are.
func shortDate(label string) string {
	t, err := time.Parse("Monday, 2 January 2006", label)
	if err != nil {
		return label
	}
	return t.Format("Mon 2 Jan")
}
