package selection

import (
	"slices"
	"strings"
	"unicode"
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
	phrases []hlPhrase
	// prefixes holds the first bytes of every phrase's first word: a
	// word can only start a match if it starts with one of them, so only
	// such words are stemmed.
	prefixes [][prefixLen]byte
}

// hlPhrase is one matched word or phrase: per word its key (see
// wordKey) and the lower-cased form it was given in, which the text
// usually repeats and which then needs no stemming.
type hlPhrase struct {
	keys, lower []string
}

// prefixLen is how many leading bytes of a word Highlight compares before
// stemming it. Stemming keeps them for all but a few irregular words.
const prefixLen = 3

// NewHighlighter prepares matched (as in Pick.Matched) for Segments.
func NewHighlighter(matched []string) *Highlighter {
	n := 0
	for _, m := range matched {
		n += strings.Count(m, " ") + 1
	}
	h := &Highlighter{phrases: make([]hlPhrase, 0, len(matched))}
	keys, lowers := make([]string, 0, n), make([]string, 0, n)
	for _, m := range matched {
		from := len(keys)
		content := false
		sc := wordScanner{s: m}
		for {
			lower, start, end, ok := sc.next()
			if !ok {
				break
			}
			w := m[start:end]
			if w != string(lower) {
				w = string(lower)
			}
			content = content || !stopWords[w]
			keys, lowers = append(keys, wordKey(w)), append(lowers, w)
		}
		if len(keys) == from || !content {
			keys, lowers = keys[:from], lowers[:from]
			continue
		}
		p := hlPhrase{keys: keys[from:len(keys):len(keys)], lower: lowers[from:len(lowers):len(lowers)]}
		h.phrases = append(h.phrases, p)
		if pre := keyPrefix(p.keys[0]); !h.starts(pre) {
			h.prefixes = append(h.prefixes, pre)
		}
	}
	return h
}

// hlWord is a word of a text being highlighted.
type hlWord struct {
	start, end int32
	pre        [prefixLen]byte // its lower-cased first bytes, zero-padded
}

// hlKeys caches the keys of a text's words while it is highlighted.
const hlKeys = 256

// Segments splits text as Highlight does.
func (h *Highlighter) Segments(text string) []Segment {
	if text == "" {
		return nil
	}
	if len(h.phrases) == 0 {
		return []Segment{{Text: text}}
	}
	var arr [hlKeys]hlWord
	ws := arr[:0]
	sc := wordScanner{s: text}
	cands := 0
	for {
		lower, start, end, ok := sc.next()
		if !ok {
			break
		}
		w := hlWord{start: int32(start), end: int32(end)}
		copy(w.pre[:], lower)
		if h.starts(w.pre) {
			cands++
		}
		ws = append(ws, w)
	}
	if cands == 0 {
		return []Segment{{Text: text}}
	}
	var keys [hlKeys]string
	// matches reports whether word i is the phrase word with the given
	// key and lower-cased form.
	matches := func(i int, key, lw string) bool {
		w := &ws[i]
		if w.pre != keyPrefix(lw) && w.pre != keyPrefix(key) {
			return false // neither the same word nor, mostly, the same stem
		}
		if i < hlKeys && keys[i] != "" {
			return keys[i] == key
		}
		span := text[w.start:w.end]
		if equalLower(span, lw) {
			return true
		}
		var buf [64]byte
		k := wordKey(string(lowerWord(buf[:0], span)))
		if i < hlKeys {
			keys[i] = k
		}
		return k == key
	}
	var out []Segment
	last := 0
	for i := 0; i < len(ws); {
		best := 0
		if h.starts(ws[i].pre) {
			for _, p := range h.phrases {
				if len(p.keys) <= best || i+len(p.keys) > len(ws) {
					continue
				}
				ok := true
				for k := range p.keys {
					if !matches(i+k, p.keys[k], p.lower[k]) {
						ok = false
						break
					}
				}
				if ok {
					best = len(p.keys)
				}
			}
		}
		if best == 0 {
			i++
			continue
		}
		start, end := int(ws[i].start), int(ws[i+best-1].end)
		if out == nil {
			out = make([]Segment, 0, 2*cands+1)
		}
		if start > last {
			out = append(out, Segment{Text: text[last:start]})
		}
		out = append(out, Segment{Text: text[start:end], Match: true})
		last = end
		i += best
	}
	if out == nil {
		return []Segment{{Text: text}}
	}
	if last < len(text) {
		out = append(out, Segment{Text: text[last:]})
	}
	return out
}

// equalLower reports whether the word span, lower-cased and without
// joining hyphens, is lw.
func equalLower(span, lw string) bool {
	j := 0
	for i := 0; i < len(span); i++ {
		c := span[i]
		if c >= utf8.RuneSelf {
			var buf [64]byte
			return string(lowerWord(buf[:0], span)) == lw
		}
		if c == '-' {
			continue
		}
		if j >= len(lw) || asciiLower[c] != lw[j] {
			return false
		}
		j++
	}
	return j == len(lw)
}

// lowerWord appends the lower-cased form of the word w (a word span of
// forEachWord, which may hold a joining hyphen) to b.
func lowerWord(b []byte, w string) []byte {
	if acronymPlural(w) {
		w = w[:len(w)-1]
	}
	for i := 0; i < len(w); {
		c := w[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != '-' {
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(w[i:])
		b = utf8.AppendRune(b, unicode.ToLower(r))
		i += size
	}
	return b
}

// starts reports whether a word with the lower-cased prefix pre can
// start a match: the first word of some phrase has that prefix.
func (h *Highlighter) starts(pre [prefixLen]byte) bool { return slices.Contains(h.prefixes, pre) }

// keyPrefix is the first prefixLen bytes of a key, zero-padded.
func keyPrefix(k string) (p [prefixLen]byte) {
	copy(p[:], k)
	return p
}

// wordKey is what a word is compared by when highlighting: its stem, or
// the word itself for stop words.
func wordKey(lower string) string {
	if stopWords[lower] {
		return lower
	}
	return stem(lower)
}
