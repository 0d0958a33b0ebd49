package selection

import (
	"strings"
	"unicode/utf8"
)

// Segment is a piece of text; Match marks a matched term.
type Segment struct {
	Text  string
	Match bool
}

// Highlight splits text into segments, marking whole-word occurrences of
// the matched words and phrases (as in Pick.Matched). Matching ignores
// case and word endings ("Segmentations" matches "segmentation") and the
// punctuation between a phrase's words ("Mixture-of-Experts" matches
// "mixture of experts"). Concatenating the segments gives text back.
// To mark several texts with the same words, NewHighlighter is cheaper.
func Highlight(text string, matched []string) []Segment {
	return NewHighlighter(matched).Segments(text)
}

// Highlighter marks the words and phrases it was made with in texts. It
// is read-only and safe for concurrent use.
type Highlighter struct {
	phrases [][]string // keys of each phrase's words
	// prefixes holds the first bytes of every phrase's first key: a word
	// can only start a match if it starts with one of them, so only such
	// words are stemmed.
	prefixes map[string]bool
}

// NewHighlighter prepares matched (as in Pick.Matched) for Segments.
func NewHighlighter(matched []string) *Highlighter {
	h := &Highlighter{prefixes: make(map[string]bool, len(matched))}
	for _, m := range matched {
		var p []string
		content := false
		forEachWord(m, func(lower []byte, _, _ int) {
			w := string(lower)
			content = content || !stopWords[w]
			p = append(p, wordKey(w))
		})
		if len(p) > 0 && content {
			h.phrases = append(h.phrases, p)
			h.prefixes[keyPrefix(p[0])] = true
		}
	}
	return h
}

// Segments splits text as Highlight does.
func (h *Highlighter) Segments(text string) []Segment {
	if text == "" {
		return nil
	}
	if len(h.phrases) == 0 {
		return []Segment{{Text: text}}
	}
	type word struct {
		start, end int
		key        string // "" until needed
	}
	ws := make([]word, 0, len(text)/6+1)
	forEachWord(text, func(_ []byte, start, end int) {
		ws = append(ws, word{start: start, end: end})
	})
	key := func(i int) string {
		if ws[i].key == "" {
			ws[i].key = wordKey(strings.ToLower(text[ws[i].start:ws[i].end]))
		}
		return ws[i].key
	}
	var out []Segment
	last := 0
	for i := 0; i < len(ws); {
		best := 0
		if startsMatch(h.prefixes, text[ws[i].start:ws[i].end]) {
			for _, p := range h.phrases {
				if len(p) <= best || i+len(p) > len(ws) {
					continue
				}
				ok := true
				for k := range p {
					if key(i+k) != p[k] {
						ok = false
						break
					}
				}
				if ok {
					best = len(p)
				}
			}
		}
		if best == 0 {
			i++
			continue
		}
		start, end := ws[i].start, ws[i+best-1].end
		if start > last {
			out = append(out, Segment{Text: text[last:start]})
		}
		out = append(out, Segment{Text: text[start:end], Match: true})
		last = end
		i += best
	}
	if last < len(text) {
		out = append(out, Segment{Text: text[last:]})
	}
	return out
}

// prefixLen is how many leading bytes of a word Highlight compares before
// stemming it. Stemming keeps them for all but a few irregular words.
const prefixLen = 3

// startsMatch reports whether the lower-cased word w begins with one of
// the prefixes, without allocating for ASCII words.
func startsMatch(prefixes map[string]bool, w string) bool {
	var buf [prefixLen]byte
	n := min(len(w), prefixLen)
	for i := range n {
		c := w[i]
		if c >= utf8.RuneSelf {
			return prefixes[keyPrefix(strings.ToLower(w))]
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return prefixes[string(buf[:n])]
}

func keyPrefix(k string) string {
	return k[:min(len(k), prefixLen)]
}

// wordKey is what a word is compared by when highlighting: its stem, or
// the word itself for stop words.
func wordKey(lower string) string {
	if stopWords[lower] {
		return lower
	}
	return stem(lower)
}
