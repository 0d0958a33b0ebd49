package selection

import (
	_ "embed"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
)

//go:embed lexicon.txt
var builtinLexicon string

// Weights of lexicon expansions relative to the words a reader wrote.
const (
	synonymWeight = 0.9  // "a, b, c": the same thing said differently
	meansWeight   = 0.75 // "a -> b": a is how a reader says b
	relatedWeight = 0.6  // "a => b": b is a way or a kind of a
	weakWeight    = 0.35 // "a ~> b": b is often about a
)

// ErrLexicon is wrapped by every lexicon parse error.
var ErrLexicon = errors.New("lexicon")

// Lexicon maps research terms and plain-language phrases to the terms
// papers use for them. It is read-only once built and safe to share.
//
// The text format has one group per line; '#' starts a comment:
//
//	graph neural network, gnn, graph convolutional network
//	efficient inference => speculative decoding, kv cache
//	decode faster, answer sooner -> efficient inference, speculative decoding
//	explain ~> saliency
//	llm inference, faster llms = llm + efficient inference
//
// Phrases separated by commas are synonyms of each other. Phrases right of
// "->" are the research terms for the plain-language phrases on the left;
// those right of "=>" are related terms (ways, kinds, tools) of those on
// the left, and those right of "~>" are weaker associations; none points
// back. A concept that no candidate paper names by its own words, its
// synonyms or its "->" terms is not among the candidates: its related
// terms alone do not make a match.
//
// A line with "=" and "+" declares phrases that name several concepts at
// once, a subject and an aspect of it: an interest with such a phrase has
// one concept per part, and a paper must cover each, so "llm inference"
// does not match faster video diffusion.
type Lexicon struct {
	entries map[string][]expansion // key: stems joined by ' '
	// phrases lists, per stem, the multi-word lexicon phrases (keys)
	// containing it: other senses a word can have inside a phrase.
	phrases map[string][]string
	// variants lists single-word synonyms of a stem, tried when keys are
	// matched ("photos" for "images").
	variants map[string][]string
	// bags lists, per stem, the multi-word keys containing it, for
	// matching keys whose words an interest has in another order.
	bags map[string][]string
	// parts lists, per key declared with "=", the concepts it names
	// (each as stems), in order.
	parts map[string][][]string
	// idioms are keys whose words are mostly ones interests drop ("look
	// up", "make up"): matched on an interest's raw words (see idiomKeys).
	idioms []idiom
	trie   *trieNode
	maxLen int // longest key in words
	groups int
}

// idiom is a key of words interests drop, by the stems of its words in
// order; key is its entry in Lexicon.entries.
type idiom struct {
	words []string
	key   string
}

// idiomGap is the most words an interest may have between two words of an
// idiom ("look them up").
const idiomGap = 2

// idiomKeys returns the keys of the idioms the raw words of text have, in
// order of first word.
func (l *Lexicon) idiomKeys(text string) []string {
	if l == nil || len(l.idioms) == 0 {
		return nil
	}
	var raw []string
	forEachWord(text, func(lower []byte, _, _ int) { raw = append(raw, stem(string(lower))) })
	var out []string
	for i := range raw {
		for _, id := range l.idioms {
			if raw[i] != id.words[0] || slices.Contains(out, id.key) {
				continue
			}
			at, ok := i, true
			for _, w := range id.words[1:] {
				next := -1
				for j := at + 1; j < len(raw) && j <= at+1+idiomGap; j++ {
					if raw[j] == w {
						next = j
						break
					}
				}
				if next < 0 {
					ok = false
					break
				}
				at = next
			}
			if ok {
				out = append(out, id.key)
			}
		}
	}
	return out
}

// idiomPrefix marks the Lexicon.entries key of an idiom.
const idiomPrefix = "\x00idiom "

// trieNode is a node of the trie of lexicon keys over stems.
type trieNode struct {
	next map[string]*trieNode
	key  string // non-empty when a key ends here
}

// expansion is one term that a lexicon key expands to, and how much it
// counts. The phrases of a line are shared by every key of the line.
type expansion struct {
	*phrase
	weight float32
}

// phrase is one phrase of the lexicon, parsed.
type phrase struct {
	stems []string // as an interest would be stemmed: for keys
	// doc is the term as paper text is stemmed (query noise such as
	// "thought" in "chain of thought" kept): for matching papers.
	doc  []string
	text string // the phrase as written in the lexicon
	// lossy marks a phrase that is one word once stop words are gone
	// ("over-smoothing", "more context"): too broad to match papers by.
	lossy bool
	// noKey marks a phrase that is no key: once stop words and query
	// noise are gone it is one word or generic words only ("what people
	// see" is "people"), which other interests have for other reasons.
	noKey bool
}

var (
	defaultLexOnce sync.Once
	defaultLex     *Lexicon
)

// DefaultLexicon returns the built-in lexicon (lexicon.txt, embedded).
func DefaultLexicon() *Lexicon {
	defaultLexOnce.Do(func() {
		lx, err := ParseLexicon(builtinLexicon)
		if err != nil {
			// The embedded file is covered by tests; keep serving with
			// whatever parsed rather than failing at run time.
			lx = &Lexicon{entries: map[string][]expansion{}}
		}
		defaultLex = lx
	})
	return defaultLex
}

// Groups returns how many lines (groups) the lexicon was built from.
func (l *Lexicon) Groups() int {
	if l == nil {
		return 0
	}
	return l.groups
}

// ParseLexicon reads a lexicon in the format described at Lexicon. A line
// with an empty phrase or more than one arrow is an error naming the line.
func ParseLexicon(text string) (*Lexicon, error) {
	l := &Lexicon{entries: make(map[string][]expansion), phrases: make(map[string][]string), parts: make(map[string][][]string)}
	for n, line := range strings.Split(text, "\n") {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if err := l.addLine(line); err != nil {
			return nil, fmt.Errorf("%w: line %d %q: %w", ErrLexicon, n+1, line, err)
		}
		l.groups++
	}
	l.finish()
	return l, nil
}

// finish builds the look-up structures once all entries are in.
func (l *Lexicon) finish() {
	l.trie = &trieNode{}
	l.variants = make(map[string][]string)
	l.bags = make(map[string][]string)
	for _, key := range slices.Sorted(maps.Keys(l.entries)) {
		exps := l.entries[key]
		if ws := strings.Fields(key); len(ws) > 1 {
			for _, st := range ws {
				if !slices.Contains(l.bags[st], key) {
					l.bags[st] = append(l.bags[st], key)
				}
			}
		}
		n := l.trie
		for _, st := range strings.Fields(key) {
			if n.next == nil {
				n.next = make(map[string]*trieNode)
			}
			c := n.next[st]
			if c == nil {
				c = &trieNode{}
				n.next[st] = c
			}
			n = c
		}
		n.key = key
		if !strings.Contains(key, " ") {
			for _, e := range exps {
				if len(e.stems) == 1 && e.weight >= synonymWeight {
					l.variants[key] = append(l.variants[key], e.stems[0])
				}
			}
		}
	}
}

// matchBag finds the multi-word key with the most words whose every word
// (or a single-word synonym of it) is among the words of ws not yet used,
// in any order but near each other, and returns it with the positions it
// covers.
func (l *Lexicon) matchBag(ws []string, used []bool) (key string, at []int) {
	if l == nil {
		return "", nil
	}
	find := func(st string, taken []int) int {
		for i, w := range ws {
			if !used[i] && !slices.Contains(taken, i) && (w == st || slices.Contains(l.variants[w], st)) {
				return i
			}
		}
		return -1
	}
	seen := map[string]bool{}
	for i, w := range ws {
		if used[i] {
			continue
		}
		for _, v := range append([]string{w}, l.variants[w]...) {
			for _, k := range l.bags[v] {
				if seen[k] {
					continue
				}
				seen[k] = true
				kw := strings.Fields(k)
				if len(kw) <= len(at) || len(kw) > maxBag {
					continue
				}
				var pos []int
				for _, st := range kw {
					p := find(st, pos)
					if p < 0 {
						pos = nil
						break
					}
					pos = append(pos, p)
				}
				if pos != nil && slices.Max(pos)-slices.Min(pos) < len(kw)+bagSlack {
					key, at = k, pos
				}
			}
		}
	}
	return key, at
}

// Limits of matching keys out of order: at most maxBag words, spread over
// at most their number plus bagSlack positions.
const (
	maxBag   = 4
	bagSlack = 3
)

// match returns the longest lexicon key that the stems ws[i:] start with,
// where each word may also stand for one of its single-word synonyms, and
// how many words it spans.
func (l *Lexicon) match(ws []string, i int) (key string, n int) {
	if l == nil || l.trie == nil {
		return "", 0
	}
	var walk func(node *trieNode, j int)
	walk = func(node *trieNode, j int) {
		if j >= len(ws) || j-i >= l.maxLen {
			return
		}
		try := func(st string) {
			c := node.next[st]
			if c == nil {
				return
			}
			if c.key != "" && j+1-i > n {
				key, n = c.key, j+1-i
			}
			walk(c, j+1)
		}
		try(ws[j])
		for _, v := range l.variants[ws[j]] {
			try(v)
		}
	}
	walk(l.trie, i)
	return key, n
}

// Merge returns a new lexicon with the entries of l and of more; where
// both expand a phrase to the same term, the higher weight is kept.
func (l *Lexicon) Merge(more *Lexicon) *Lexicon {
	out := &Lexicon{entries: make(map[string][]expansion), phrases: make(map[string][]string), parts: make(map[string][][]string)}
	for _, src := range []*Lexicon{l, more} {
		if src == nil {
			continue
		}
		for k, ps := range src.parts {
			out.parts[k] = ps
			if _, ok := out.entries[k]; !ok {
				out.entries[k] = nil
			}
		}
		for st, keys := range src.phrases {
			for _, k := range keys {
				out.addPhrase(st, k)
			}
		}
		out.groups += src.groups
		out.maxLen = max(out.maxLen, src.maxLen)
		for _, id := range src.idioms {
			if !slices.ContainsFunc(out.idioms, func(o idiom) bool { return o.key == id.key }) {
				out.idioms = append(out.idioms, id)
			}
		}
		for k, exps := range src.entries {
			for _, e := range exps {
				out.add(k, e)
			}
		}
	}
	out.finish()
	return out
}

func (l *Lexicon) addLine(line string) error {
	if i := strings.IndexByte(line, '='); i >= 0 && !strings.HasPrefix(line[i:], "=>") {
		return l.addParts(line[:i], line[i+1:])
	}
	arrow, weight := "", float32(0)
	for _, a := range []struct {
		s string
		w float32
	}{{"=>", relatedWeight}, {"~>", weakWeight}, {"->", meansWeight}} {
		if c := strings.Count(line, a.s); c > 0 {
			if arrow != "" || c > 1 {
				return errors.New("more than one arrow")
			}
			arrow, weight = a.s, a.w
		}
	}
	left, right := line, ""
	if arrow != "" {
		left, right, _ = strings.Cut(line, arrow)
	}
	lhs, err := lexPhrases(left)
	if err != nil {
		return err
	}
	var rhs []expansion
	if arrow != "" {
		if rhs, err = lexPhrases(right); err != nil {
			return err
		}
	}
	for _, e := range append(lhs[:len(lhs):len(lhs)], rhs...) {
		if len(e.stems) > 1 {
			key := strings.Join(e.stems, " ")
			for _, st := range e.stems {
				l.addPhrase(st, key)
			}
		}
	}
	for _, a := range lhs {
		key := strings.Join(a.stems, " ")
		if a.noKey {
			var raw []string
			forEachWord(a.text, func(lower []byte, _, _ int) { raw = append(raw, stem(string(lower))) })
			if len(raw) < 2 {
				continue
			}
			key = idiomPrefix + strings.Join(raw, " ")
			if !slices.ContainsFunc(l.idioms, func(id idiom) bool { return id.key == key }) {
				l.idioms = append(l.idioms, idiom{words: raw, key: key})
			}
		} else {
			l.maxLen = max(l.maxLen, len(a.stems))
		}
		for _, b := range lhs {
			if strings.Join(b.stems, " ") != key && !(a.noKey && b.noKey) {
				b.weight = synonymWeight
				l.add(key, b)
			}
		}
		for _, b := range rhs {
			if strings.Join(b.stems, " ") != key {
				b.weight = weight
				l.add(key, b)
			}
		}
	}
	return nil
}

// addParts records the phrases of left as keys that name the concepts of
// right, separated by '+'.
func (l *Lexicon) addParts(left, right string) error {
	if strings.Contains(right, "=") || strings.Contains(right, "->") || strings.Contains(right, "~>") {
		return errors.New("more than one arrow")
	}
	var parts [][]string
	for p := range strings.SplitSeq(right, "+") {
		e, err := lexPhrases(p)
		if err != nil {
			return err
		}
		if len(e) != 1 {
			return fmt.Errorf("part %q is not one phrase", strings.TrimSpace(p))
		}
		parts = append(parts, e[0].stems)
	}
	if len(parts) < 2 {
		return errors.New(`"=" needs at least two parts joined by "+"`)
	}
	lhs, err := lexPhrases(left)
	if err != nil {
		return err
	}
	for _, a := range lhs {
		if a.noKey {
			continue
		}
		key := strings.Join(a.stems, " ")
		l.parts[key] = parts
		l.maxLen = max(l.maxLen, len(a.stems))
		if _, ok := l.entries[key]; !ok {
			l.entries[key] = nil
		}
	}
	return nil
}

// partsOf returns the concepts a key names when declared with "=", or nil.
func (l *Lexicon) partsOf(key string) [][]string {
	if l == nil {
		return nil
	}
	return l.parts[key]
}

// add records e as an expansion of key, keeping the higher weight when the
// same phrase is already there.
func (l *Lexicon) add(key string, e expansion) {
	list := l.entries[key]
	for i := range list {
		if slices.Equal(list[i].stems, e.stems) {
			list[i].weight = max(list[i].weight, e.weight)
			return
		}
	}
	l.entries[key] = append(list, e)
}

// addPhrase records that the multi-word phrase key contains stem st.
func (l *Lexicon) addPhrase(st, key string) {
	if !slices.Contains(l.phrases[st], key) {
		l.phrases[st] = append(l.phrases[st], key)
	}
}

// foreign returns the lexicon phrases containing stem st that are other
// concepts than the ones in own (keys of a slot's alternatives): phrases
// that are not among own and do not expand to st or any of own.
func (l *Lexicon) foreign(st string, own map[string]bool) []string {
	var out []string
	for _, p := range l.phrases[st] {
		if own[p] {
			continue
		}
		related := slices.ContainsFunc(l.entries[p], func(e expansion) bool {
			k := strings.Join(e.stems, " ")
			return k == st || own[k]
		})
		if !related {
			out = append(out, p)
		}
	}
	return out
}

// lexPhrases splits a comma-separated list of phrases and stems each.
func lexPhrases(s string) ([]expansion, error) {
	var out []expansion
	for p := range strings.SplitSeq(s, ",") {
		p = strings.Join(strings.Fields(p), " ")
		if p == "" {
			return nil, errors.New("empty phrase")
		}
		st := stems(p, true)
		if len(st) == 0 {
			st = stems(p, false)
		}
		if len(st) == 0 {
			return nil, fmt.Errorf("phrase %q has only stop words", p)
		}
		doc := stems(p, false)
		if len(doc) == 0 || slices.Equal(doc, st) {
			doc = st
		}
		n := len(words(p))
		out = append(out, expansion{phrase: &phrase{stems: st, doc: doc, text: p, lossy: len(doc) == 1 && n > 1, noKey: noKey(st, n)}})
	}
	return out, nil
}

// noKey reports whether a phrase of n words that stems to st is no key
// (see expansion.noKey).
func noKey(st []string, n int) bool {
	if len(st) >= n {
		return false
	}
	for _, w := range st {
		if len(st) > 1 && !genericWords[w] && !keyOnly[w] {
			return false
		}
	}
	return true
}

// lookup returns the expansions of a stem sequence key.
func (l *Lexicon) lookup(key string) []expansion {
	if l == nil {
		return nil
	}
	return l.entries[key]
}
