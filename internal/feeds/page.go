package feeds

import (
	"bytes"
	"cmp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/papermail/papermail/internal/model"
)

// Page format heuristics. A listing page saved as text holds, per paper, a
// title line followed by its abstract on one line; blank lines, page chrome
// ("Subscribe", "Sign in", "Get trending papers in your email inbox!") and
// stray short lines (vote counts, dates) may sit anywhere. A line is
// abstract-like when it has at least pageLongChars characters; titles are
// shorter. So:
//
//   - the title of a paper is the last title-like line before an
//     abstract-like line; earlier unpaired short lines are chrome and dropped;
//   - further abstract-like lines right after an abstract continue it (a
//     second paragraph), unless one of them does not end a sentence and is
//     itself followed by an abstract-like line: then it is a long title;
//   - a short line after a title is a short abstract when it ends with a
//     period, has six words or more, is longer than the title and the line
//     after it is not abstract-like;
//   - a line holding only an arXiv id or URL gives the id of the paper
//     just before it if that has none yet, else of the next one; an id in
//     the title ("[2401.01234] Title", "Title (arXiv:2401.01234)") is
//     used and removed; otherwise the id is TitleID(title);
//   - chrome words glued to the front of a title ("SubscribeA Survey") are
//     removed when an upper-case letter or digit follows with no space.
//
// Abstracts hard-wrapped over several short lines are not supported. A
// title that appears twice yields two papers with the same id, in source
// order; the store keeps the later one.
const pageLongChars = 200

// chromeLines are whole lines of page chrome (lower case, without trailing
// punctuation).
var chromeLines = map[string]bool{
	"subscribe": true, "sign in": true, "sign up": true, "log in": true,
	"log out": true, "login": true, "logout": true, "upvote": true,
	"upvotes": true, "daily papers": true, "trending papers": true,
	"see all": true, "load more": true, "show more": true, "show less": true,
	"previous": true, "next": true, "get trending papers in your email inbox": true,
	"get trending papers in your email inbox once a day": true,
}

// gluedChrome are chrome words that scrapes fuse to the next title.
var gluedChrome = []string{"Subscribe", "Sign up", "Sign in", "Log in", "Upvote"}

// pageLine is one non-blank, non-chrome line of a page.
type pageLine struct {
	text  string
	no    int
	chars int
}

// page parses a listing page saved as text.
func (p *parser) page() error {
	lines, err := p.pageLines()
	if err != nil {
		return err
	}
	type pending struct {
		title string
		line  int
		id    string
	}
	var (
		cand      *pending // title-like line waiting for its abstract
		cur       *pending // last paper, still taking abstract paragraphs
		abs       []string // its abstract paragraphs
		pendingID string   // id line before the next title
		entry     int
	)
	flush := func() error {
		if cur == nil {
			return nil
		}
		entry++
		pp := model.Paper{Title: cur.title, Abstract: strings.Join(abs, " "), ID: cur.id, Source: FormatPage}
		if m := announceRE.FindStringSubmatchIndex(pp.Abstract); m != nil {
			pp.ID = cmp.Or(pp.ID, NormalizeArxivID(pp.Abstract[m[2]:m[3]]))
			pp.Abstract = pp.Abstract[m[1]:]
		}
		if pp.ID != "" {
			pp.URL = "https://arxiv.org/abs/" + pp.ID
		}
		line := cur.line
		cur, abs = nil, abs[:0]
		return p.add(pp, line, entry)
	}
	long := func(i int) bool { return i < len(lines) && lines[i].chars >= pageLongChars }
	titleLike := func(i int) bool {
		l := lines[i]
		return l.chars < pageLongChars || l.chars <= MaxTitleChars && !strings.HasSuffix(l.text, ".") && long(i+1)
	}
	for i, l := range lines {
		if id := idLine(l.text); id != "" {
			switch {
			case cand != nil && cand.id == "":
				cand.id = id
			case cand == nil && cur != nil && cur.id == "":
				cur.id = id
			default:
				pendingID = id
			}
			continue
		}
		switch {
		case cand != nil && (!titleLike(i) || shortAbstract(l, cand.title, long(i+1))):
			if err := flush(); err != nil {
				return err
			}
			cur, cand = cand, nil
			abs = append(abs, l.text)
		case cand == nil && cur != nil && !titleLike(i):
			abs = append(abs, l.text)
		case titleLike(i):
			id, title := titleArxivID(stripGlued(l.text))
			cand = &pending{title: title, line: l.no, id: cmp.Or(id, pendingID)}
			pendingID = ""
		}
		// Otherwise: a long line before any title (page intro), dropped.
	}
	return flush()
}

// pageLines splits the page into content lines, dropping blank and chrome
// lines and enforcing MaxLineBytes.
func (p *parser) pageLines() ([]pageLine, error) {
	var lines []pageLine
	data := p.data
	for no := 1; len(data) > 0; no++ {
		raw := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			raw, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		if len(raw) > MaxLineBytes {
			return nil, p.errAt(no, 0, "line is longer than %d bytes: %w", MaxLineBytes, ErrTooLarge)
		}
		t := strings.TrimSpace(string(raw))
		if t == "" || isChrome(t) {
			continue
		}
		lines = append(lines, pageLine{text: t, no: no, chars: utf8.RuneCountInString(t)})
	}
	return lines, nil
}

// isChrome reports whether a whole line is page chrome or a bare count.
func isChrome(t string) bool {
	if len(t) > 60 {
		return false
	}
	k := strings.ToLower(strings.TrimRight(t, "!.: "))
	if chromeLines[k] {
		return true
	}
	return !strings.ContainsFunc(t, unicode.IsLetter) && idLine(t) == "" // digits and punctuation only: vote counts, bullets
}

// stripGlued removes chrome words fused to the front of a title.
func stripGlued(t string) string {
	for again := true; again; {
		again = false
		for _, w := range gluedChrome {
			if len(t) > len(w) && strings.HasPrefix(t, w) {
				r, _ := utf8.DecodeRuneInString(t[len(w):])
				if unicode.IsUpper(r) || unicode.IsDigit(r) {
					t, again = t[len(w):], true
				}
			}
		}
	}
	return t
}

// idLine returns the arXiv id when the line holds nothing else.
func idLine(t string) string {
	if len(t) > 100 || strings.ContainsAny(t, " \t") && !strings.HasPrefix(strings.ToLower(t), "arxiv: ") {
		return ""
	}
	return NormalizeArxivID(strings.Replace(t, ": ", ":", 1))
}

// titleArxivID splits an arXiv id off a title: "[2401.01234] Title",
// "arXiv:2401.01234 Title" or "Title (arXiv:2401.01234)".
func titleArxivID(t string) (id, title string) {
	if m := titleTailRE.FindStringSubmatchIndex(t); m != nil {
		if id = NormalizeArxivID(t[m[2]:m[3]]); id != "" {
			return id, t[:m[0]]
		}
	}
	head, rest, ok := strings.Cut(t, " ")
	if !ok {
		return "", t
	}
	if len(head) > 2 && head[0] == '[' && head[len(head)-1] == ']' {
		head = head[1 : len(head)-1]
	} else if len(head) < 6 || !strings.EqualFold(head[:6], "arxiv:") {
		return "", t
	}
	if id = NormalizeArxivID(head); id == "" {
		return "", t
	}
	return id, strings.TrimSpace(rest)
}

// shortAbstract reports whether a short line after a title is that
// title's abstract rather than the next title.
func shortAbstract(l pageLine, title string, nextLong bool) bool {
	return !nextLong && strings.HasSuffix(l.text, ".") && l.chars > utf8.RuneCountInString(title) && strings.Count(l.text, " ") >= 5
}
