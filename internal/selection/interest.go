package selection

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Scoring constants of one interest.
const (
	phraseGap     = 1    // content words allowed between the words of a phrase
	nearWindow    = 3    // extra span within which all words count as near
	nearCredit    = 0.7  // all words of a phrase near each other
	apartCredit   = 0.35 // all words of a phrase in the paper, apart
	altShare      = 0.3  // share of non-best alternatives added to a slot
	slotMatched   = 0.25 // slot value that counts a paper as matching it
	coverageMatch = 0.15 // slot value that counts towards coverage
	minHit        = 0.01 // relevance below which a paper is not kept
	foreignCredit = 0.25 // a word found only inside phrases of another meaning
	specificDF    = 5    // percent of papers an expansion may be in at full weight
	minSpecific   = 0.25 // least weight share of a very common expansion
	strongMention = 0.55 // saturated frequency of a prominent mention (title, repeated)
	passingShare  = 0.4  // share of its value a concept keeps when no candidate has it prominently
)

// covExp shapes how a paper's relevance falls with the share of the
// interest's concepts it covers.
var covExp, covExp3 = 0.1, 0.4

var countGeneric = true

// A description of plainMinSlots concepts or more that has a research
// concept some paper names weighs its everyday words at plainShare, and
// only its research concepts count towards coverage: "shrink the numbers
// inside a model" is about model compression, whatever "numbers" and
// "inside" match.
const (
	plainShare    = 0.5
	plainMinSlots = 5
	// plainMinEveryday is the least everyday words (not generic ones)
	// such a description has: one everyday word in a term ("refusal
	// training") is part of the term.
	plainMinEveryday = 2
)

// docVal is a value for one paper.
type docVal struct {
	doc uint32
	v   float32
}

// alt is one way an interest slot can be found in a paper: the words the
// reader wrote or a lexicon expansion.
type alt struct {
	ids     []int32   // term ids, -1 for words no paper has
	idfw    []float32 // per word: idf, scaled down for generic words
	weight  float32
	generic bool     // every word is a generic research word
	full    []docVal // phrases: papers containing it whole, saturated tf
	// sense holds, for single words, the papers where some occurrences
	// are inside phrases of another meaning, with the share that is not.
	sense []docVal
	key   string // stems joined by ' '
	// related marks a lexicon term that is a kind, a way or an
	// association of the concept rather than a name for it.
	related bool
	// compound marks the reader's hyphenated term ("text-to-speech"):
	// its words apart are not it, so it has no partial credit.
	compound bool
	// syn holds, per word of the reader's own phrase, term ids of its
	// dictionary synonyms, which stand in for it in partial matches
	// ("editing" and "images" apart for "editing photos").
	syn [][]int32
}

// slot is one concept of an interest with its alternatives.
type slot struct {
	imp  float32
	alts []alt
	// plain marks an everyday English word the lexicon does not know
	// ("phones", "huge"): how rare it is in papers says little about how
	// much it matters, and when no paper uses it the papers say it in
	// other words.
	plain bool
	// lay marks an everyday word the lexicon renders in the field's
	// terms ("puzzles", "tutor").
	lay bool
	// df is how many papers match the slot (value >= slotMatched).
	df int
}

// absentWord reports whether s is an everyday word that no candidate is
// about: a plain word no paper names, or, in a description of long
// concepts or more, an everyday word (plain or one the lexicon renders)
// no paper matches well. A description may go without it: the papers say
// it in other words.
func (s *slot) absentWord(long bool) bool {
	return s.plain && !s.named() || long && (s.plain || s.lay || s.unknown()) && s.df == 0
}

// unknown reports whether s is a single word of the reader's that neither
// the lexicon nor the dictionary knows and no paper has ("shoebox"): in a
// description, a word the papers say otherwise.
func (s *slot) unknown() bool {
	return len(s.alts) == 1 && len(s.alts[0].ids) == 1 && s.alts[0].ids[0] < 0
}

// generic reports whether s is no research concept: its words are
// generic or everyday ones, and so are all its expansions but weak
// associations.
func (s *slot) generic() bool {
	for i := range s.alts {
		if a := &s.alts[i]; !a.generic && a.weight > weakWeight {
			return false
		}
	}
	return true
}

// named reports whether some candidate paper names the slot's concept:
// has the reader's words, a synonym or a plain-language rendering of it
// whole. Otherwise ("traffic prediction" among papers without "traffic")
// the concept's related terms are not used.
func (s *slot) named() bool {
	for i := range s.alts {
		a := &s.alts[i]
		if !a.related && (len(a.full) > 0 || len(a.ids) == 1 && a.ids[0] >= 0) {
			return true
		}
	}
	return false
}

// interest is a compiled interest: its concepts and the relevance of
// every matching paper.
type interest struct {
	// words are the stems of the reader's own words, for plain BM25F.
	words  []string
	slots  []slot
	whole  *alt     // the whole interest as a phrase, when it spans slots
	vector bool     // a paper's distinctive terms, scored without coverage
	hits   []docVal // relevance 0..1 by doc, sorted by doc
	// count is 1 + the number of papers above the floor, once counted.
	count atomic.Int64
	// ranked is what the interest's readers share in a run, built by the
	// first Select that uses it (see ranking).
	rankOnce sync.Once
	ranked   *ranking
}

// ranking is an interest's ranked list for one run: its papers by
// relevance, best first, and the words it matched in each paper picked
// for one of its readers, found when first picked. It lives as long as
// the compiled interest, so it is bounded with the interest cache: per
// cached interest, one entry per paper picked for its readers (at most
// the candidates).
type ranking struct {
	order []int32 // positions in hits, by relevance (doc order among equals)
	mu    sync.RWMutex
	surf  map[uint32][]surfHit // matched surface forms by paper
}

// ranking returns in's ranked list, building it on first use.
func (in *interest) ranking() *ranking {
	in.rankOnce.Do(func() {
		rk := &ranking{order: make([]int32, len(in.hits)), surf: make(map[uint32][]surfHit)}
		for i := range rk.order {
			rk.order[i] = int32(i)
		}
		slices.SortStableFunc(rk.order, func(a, b int32) int { return cmp.Compare(in.hits[b].v, in.hits[a].v) })
		in.ranked = rk
	})
	return in.ranked
}

// cacheMax is how many compiled interests one generation of an
// interestCache holds: about 5 KiB each with 500 candidates.
const cacheMax = 2048

// interestCache holds compiled interests by key in two generations: when
// the current one is full it becomes the previous one and the one before
// is dropped, so a run that meets any number of distinct interests (free
// text, library entries) keeps at most 2*cacheMax of them, and one found
// in the previous generation moves to the current one, so the interests
// many readers share stay compiled. Safe for concurrent use.
type interestCache struct {
	mu        sync.Mutex
	cur, prev map[string]*interest
}

func (c *interestCache) get(key string) (*interest, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	in, ok := c.cur[key]
	if !ok {
		if in, ok = c.prev[key]; ok {
			c.add(key, in)
		}
	}
	return in, ok
}

// put caches in under key unless the current generation has the key
// already, and returns the interest cached.
func (c *interestCache) put(key string, in *interest) *interest {
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.cur[key]; ok {
		return old
	}
	c.add(key, in)
	return in
}

func (c *interestCache) add(key string, in *interest) {
	if len(c.cur) >= cacheMax {
		c.prev, c.cur = c.cur, nil
	}
	if c.cur == nil {
		c.cur = make(map[string]*interest)
	}
	c.cur[key] = in
}

// interestFor compiles (or fetches from the cache) one interest text.
// Texts seen before are found by their text; others by their stems, so
// wordings that differ only in stop words share one compilation.
func (ix *Index) interestFor(text string) *interest {
	if in, ok := ix.texts.get(text); ok {
		return in
	}
	return ix.texts.put(text, ix.interestForStems(text))
}

func (ix *Index) interestForStems(text string) *interest {
	ws, joined, plainAcr := queryStemsCase(text)
	var idioms []string
	var modal [][2]string
	if ix.wordLevel {
		idioms = ix.lex.idiomKeys(text)
		modal = modalPairs(text)
	}
	if len(ws) == 0 && len(idioms) == 0 {
		return nil
	}
	var kb strings.Builder
	kb.Grow(len(text) + 8)
	for i, w := range ws {
		switch {
		case i == 0:
		case i <= 64 && joined&(1<<(i-1)) != 0:
			kb.WriteByte('-')
		default:
			kb.WriteByte(' ')
		}
		kb.WriteString(w)
	}
	for _, k := range idioms {
		kb.WriteString("|" + k)
	}
	for _, p := range modal {
		kb.WriteString("|" + p[0] + ">" + p[1])
	}
	if plainAcr != 0 {
		kb.WriteString("|lc" + strconv.FormatUint(plainAcr, 16))
	}
	key := kb.String()
	if in, ok := ix.cache.get(key); ok {
		return in
	}
	in := ix.compileInterest(ws, joined, plainAcr, idioms, modal)
	if ix.sem != nil {
		ix.sem.blend(in, text)
	}
	if parts := ix.conjuncts(text); parts != nil {
		in = mergeAlternatives(in, parts)
	}
	return ix.cache.put(key, in)
}

// compileInterest splits stems into slots, each one concept: first
// multi-word lexicon keys as written, then multi-word keys whose words
// the interest has in another order or apart ("order of words"), then
// single-word keys, and last runs of words the lexicon does not know.
// Bit i of joined reports that ws[i] and ws[i+1] were written as one
// hyphenated term ("text-to-speech"); bit i of plainAcr that ws[i] is an
// acronym written as the everyday word it also is ("a silent clip"), a
// word of its own rather than the lexicon's key.
func (ix *Index) compileInterest(ws []string, joined, plainAcr uint64, idioms []string, modal [][2]string) *interest {
	type found struct {
		at int
		s  slot
	}
	var slots []found
	used := make([]bool, len(ws))
	// compound reports whether ws[i:j] was written as one hyphenated term.
	compound := func(i, j int) bool {
		if j-i < 2 || j-1 > 64 {
			return false
		}
		mask := uint64(1)<<(j-1) - uint64(1)<<i // bits i .. j-2
		return joined&mask == mask
	}
	take := func(at int, s slot, pos ...int) {
		for _, p := range pos {
			used[p] = true
		}
		if len(s.alts) > 0 {
			slots = append(slots, found{at, s})
		}
	}
	// key adds the slot of a lexicon key the words own at positions pos
	// stand for, or, for a key that names a subject and an aspect ("llm
	// inference"), a slot for each.
	key := func(at int, own []string, key string, compound bool, pos ...int) {
		parts := ix.lex.partsOf(key)
		if parts == nil {
			take(at, ix.lexSlot(own, key, compound), pos...)
			return
		}
		for _, p := range parts {
			take(at, ix.lexSlot(p, strings.Join(p, " "), false), pos...)
		}
	}
	for i := 0; i < len(ws); {
		if k, l := ix.lex.match(ws, i); l >= 2 {
			key(i, ws[i:i+l], k, compound(i, i+l), seq(i, i+l)...)
			i += l
			continue
		}
		i++
	}
	// An interest that turns one medium into another has its media as
	// words of their own: "pictures from a written description" is not
	// about describing pictures.
	for len(modal) == 0 {
		k, at := ix.lex.matchBag(ws, used)
		if k == "" {
			break
		}
		key(slices.Min(at), strings.Fields(k), k, false, at...)
	}
	for i := range ws {
		if used[i] || i < 64 && plainAcr&(1<<i) != 0 {
			continue
		}
		if k, l := ix.lex.match(ws[i:i+1], 0); l == 1 {
			key(i, ws[i:i+1], k, false, i)
		}
	}
	for i := 0; i < len(ws); {
		if used[i] {
			i++
			continue
		}
		j := i
		for j < len(ws) && !used[j] {
			j++
		}
		if run, _ := dropKeyOnly(ws[i:j]); len(run) > 0 {
			if compound(i, j) || !ix.wordLevel {
				a := ix.newAlt(run, 1)
				a.compound = compound(i, j)
				take(i, slot{alts: []alt{a}})
			} else {
				// Words the lexicon does not know are a concept each,
				// found by the word, its dictionary synonyms and forms,
				// or, more weakly, a broader term.
				for k, w := range run {
					take(i+k, ix.wordSlot(w))
				}
			}
		}
		i = j
	}
	for _, k := range idioms {
		take(len(ws), ix.idiomSlot(k))
	}
	for _, p := range modal {
		take(len(ws), ix.modalSlot(p))
	}
	slices.SortStableFunc(slots, func(a, b found) int { return a.at - b.at })
	in := &interest{}
	in.words, _ = dropKeyOnly(ws)
	for _, f := range slots {
		in.slots = append(in.slots, f.s)
	}
	if all, _ := dropKeyOnly(ws); len(in.slots) > 1 && len(all) > 1 && len(all) <= 6 {
		w := ix.newAlt(all, 1)
		in.whole = &w
	}
	ix.scoreInterest(in)
	if ix.wordLevel && slices.Contains(ws, "why") {
		ix.preferExplanations(in)
	}
	return in
}

// whyStems are words of papers that explain something: what a reader who
// asks "why ..." wants.
var whyStems = stemSet(`explain explains explained explanation explanations interpret interpretation
interpretability understand understanding analysis analyze analyse insight insights theory theoretical
cause causes why mechanism mechanisms`)

// whyOther is the share of its relevance a paper that explains nothing
// keeps for a "why" interest.
const whyOther = 0.4

// preferExplanations lowers the papers of a "why ..." interest that
// neither explain, analyze nor theorize, when at least whyMin papers above
// the floor do: otherwise the papers that study what the reader asks
// about are the answer.
func (ix *Index) preferExplanations(in *interest) {
	var ids []int32
	for st := range whyStems {
		if id := ix.termID(st); id >= 0 {
			ids = append(ids, id)
		}
	}
	explains := make([]bool, len(in.hits))
	above := 0
	for i, h := range in.hits {
		// A paper explains when it says so in its title or more than once.
		mentions := 0
		for _, id := range ids {
			if p := ix.find(id, h.doc); p != nil {
				for _, q := range ix.positions(p) {
					mentions++
					if ix.docs[h.doc].field(q) == fieldTitle {
						mentions += 2
					}
				}
			}
		}
		explains[i] = mentions >= 2
		if explains[i] && h.v >= ix.floor {
			above++
		}
	}
	if above < whyMin {
		// The papers study what the reader asks about without explaining
		// it: they are still the answer.
		return
	}
	for i := range in.hits {
		if !explains[i] {
			in.hits[i].v *= whyOther
		}
	}
}

// whyMin is the least papers above the floor that explain for a "why ..."
// interest to prefer them.
const whyMin = 2

// Weights of a word's dictionary expansions relative to the word.
const (
	synonymDF       = 100 // percent of papers above which a word's own use suffices
	wordSynWeight   = 0.5
	wordBroadWeight = 0.25
)

// wordSlot is the concept of one word the lexicon does not know: the word,
// its WordNet synonyms and related forms that some paper has, and its
// broader terms as related ones.
func (ix *Index) wordSlot(w string) slot {
	s := slot{alts: []alt{ix.newAlt([]string{w}, 1)}}
	if !inWordnet(w) {
		return s
	}
	s.plain = true
	if genericWords[w] {
		return s
	}
	if id := ix.termID(w); id >= 0 && len(ix.post[id]) > max(2, len(ix.papers)*synonymDF/100) {
		// Papers use the reader's word itself: its synonyms in other
		// senses would only add noise.
		return s
	}
	add := func(list []string, weight float32, related bool) {
		for _, x := range list {
			if ix.termID(x) < 0 || stopWords[x] {
				continue
			}
			a := ix.newAlt([]string{x}, weight)
			if a.generic {
				continue
			}
			a.related = related
			s.alts = append(s.alts, a)
		}
	}
	e := wordnet(w)
	add(e.syn, wordSynWeight, false)
	add(e.broader, wordBroadWeight, true)
	add(ix.associates(w), assocWeight, true)
	ix.senses(&s)
	return s
}

// Associations of an everyday word learned from the candidates.
const (
	assocWeight   = 0.25 // weight of an associated term, as a related one
	assocMaxDF    = 5    // percent of papers at most that use the word
	assocK        = 2    // associated terms kept
	assocMinShare = 0.5  // least share of the word's papers a term is in
)

// discourseStems are the stems of words that link an abstract's sentences
// ("additionally", "moreover"): any two abstracts share them by chance.
var discourseStems = stemSet(`additionally addition moreover furthermore specifically notably finally
overall respectively particularly importantly consequently similarly instead hence thereby therefore
namely typically generally largely simply directly mainly often usually widely recently currently
further besides meanwhile ultimately essentially`)

// associates returns the stems that papers using the everyday word w use
// far more than the other papers do: the terms the window writes for
// what a reader says with w (pointwise mutual information over the
// candidates). Only for a word a few papers use, in at least two of
// them.
func (ix *Index) associates(w string) []string {
	id := ix.termID(w)
	if id < 0 {
		return nil
	}
	n := len(ix.papers)
	docs := ix.post[id]
	if len(docs) < 2 || len(docs) > max(2, n*assocMaxDF/100) {
		return nil
	}
	count := map[uint32]int{}
	for _, p := range docs {
		di := &ix.docs[p.doc]
		seen := map[uint32]bool{}
		for _, t := range ix.toks[di.tokOff : di.tokOff+uint32(di.fEnd[numFields-1])] {
			if t.term != uint32(id) && !seen[t.term] {
				seen[t.term] = true
				count[t.term]++
			}
		}
	}
	type sc struct {
		t   uint32
		pmi float64
	}
	var cands []sc
	for t, c := range count {
		st := ix.stems[t]
		if c < 2 || float64(c) < assocMinShare*float64(len(docs)) || genericWords[st] || noiseStems[st] || stopWords[st] || discourseStems[st] {
			continue
		}
		df := len(ix.post[t])
		pmi := math.Log(float64(c) * float64(n) / (float64(len(docs)) * float64(df)))
		if pmi > math.Log(3) {
			cands = append(cands, sc{t, pmi})
		}
	}
	slices.SortFunc(cands, func(a, b sc) int {
		return cmp.Or(cmp.Compare(b.pmi, a.pmi), int(a.t)-int(b.t))
	})
	var out []string
	for _, c := range cands[:min(len(cands), assocK)] {
		out = append(out, ix.stems[c.t])
	}
	return out
}

// addWordSynonyms gives each word of the reader's phrase a its dictionary
// synonyms that some paper has, unless the word is generic or common in
// the papers itself.
func (ix *Index) addWordSynonyms(a *alt) {
	if !ix.wordLevel || len(a.ids) < 2 {
		return
	}
	words := strings.Fields(a.key)
	if len(words) != len(a.ids) {
		return
	}
	a.syn = make([][]int32, len(words))
	for i, w := range words {
		if genericWords[w] {
			continue
		}
		if id := a.ids[i]; id >= 0 && len(ix.post[id]) > max(2, len(ix.papers)*synonymDF/100) {
			continue
		}
		for _, x := range wordnet(w).syn {
			if id := ix.termID(x); id >= 0 && !genericWords[x] {
				a.syn[i] = append(a.syn[i], id)
			}
		}
		for _, x := range ix.lex.variants[w] {
			if id := ix.termID(x); id >= 0 && !slices.Contains(a.syn[i], id) {
				a.syn[i] = append(a.syn[i], id)
			}
		}
	}
}

// seq returns the integers from a up to b (exclusive).
func seq(a, b int) []int {
	out := make([]int, 0, b-a)
	for i := a; i < b; i++ {
		out = append(out, i)
	}
	return out
}

// lexSlot builds the slot of a lexicon key matched by the words own: the
// reader's words, unless a negation or the like changes their meaning
// ("without labels", then only the lexicon's reading is used), and the
// key's expansions. A compound own term ("text-to-speech") matches
// only whole.
func (ix *Index) lexSlot(own []string, key string, compound bool) slot {
	var s slot
	if o, dropped := dropKeyOnly(own); !dropped {
		a := ix.newAlt(o, 1)
		a.compound = compound
		ix.addWordSynonyms(&a)
		s.alts = append(s.alts, a)
	}
	kw := strings.Fields(key)
	if strings.Join(own, " ") != key {
		if k, dropped := dropKeyOnly(kw); !dropped {
			s.alts = append(s.alts, ix.newAlt(k, synonymWeight))
		}
	}
	for _, e := range ix.lex.lookup(key) {
		if e.weight >= synonymWeight && (truncates(e.stems, kw) || truncates(e.stems, own)) {
			// "causality" is "causal" to the stemmer: a synonym that is a
			// part of "causal inference" and matches causal language
			// models too.
			continue
		}
		if _, dropped := dropKeyOnly(e.stems); !dropped {
			w := e.weight
			if e.lossy {
				// "over-smoothing" is "smoothing" once "over" is gone.
				w = min(w, weakWeight)
			}
			// An expansion made of generic words only ("networking" is
			// "network" to the stemmer) would match everything.
			if a := ix.newAlt(e.doc, w); !a.generic || len(a.ids) > 1 {
				a.related = w < meansWeight
				s.alts = append(s.alts, a)
			}
		}
	}
	if len(s.alts) > 0 {
		ix.senses(&s)
	}
	s.plain = ix.wordLevel && plainGroup(kw, ix.lex.lookup(key))
	s.lay = ix.wordLevel && !s.plain && layKey(kw, ix.lex.lookup(key))
	return s
}

// plainGroup reports whether the lexicon key kw with its expansions is an
// everyday word with only synonyms ("describe, description", "computer,
// machine"): a reader's plain word, which papers may well say otherwise.
func plainGroup(kw []string, exps []expansion) bool {
	return len(kw) == 1 && inWordnet(kw[0]) && !slices.ContainsFunc(exps, func(e expansion) bool { return e.weight < synonymWeight })
}

// layKey reports whether the lexicon key kw is an everyday word that the
// lexicon renders in the field's terms ("puzzles -> reasoning").
func layKey(kw []string, exps []expansion) bool {
	return len(kw) == 1 && inWordnet(kw[0]) && slices.ContainsFunc(exps, func(e expansion) bool { return e.weight == meansWeight })
}

// idiomSlot is the concept of an idiom of the lexicon ("look up"): its
// expansions only, the reader's words being ones papers use for anything.
func (ix *Index) idiomSlot(key string) slot {
	var s slot
	for _, e := range ix.lex.lookup(key) {
		if e.noKey {
			continue
		}
		if a := ix.newAlt(e.doc, e.weight); !a.generic || len(a.ids) > 1 {
			a.related = e.weight < meansWeight
			s.alts = append(s.alts, a)
		}
	}
	if len(s.alts) > 0 {
		ix.senses(&s)
	}
	return s
}

// truncates reports whether the one-word expansion e is a word of the
// phrase key other than its head, the last word, where that is not a
// generic word: "causal" for "causal inference" (the stemmer makes
// "causality" that) names something else, while "inpainting" for "image
// inpainting" or "recommendation" for "recommender systems" names the
// same thing.
func truncates(e, key []string) bool {
	if len(e) != 1 || len(key) < 2 || !slices.Contains(key, e[0]) {
		return false
	}
	for i := len(key) - 1; i >= 0; i-- {
		if h := key[i]; !keyOnly[h] {
			return h != e[0] && !genericWords[h]
		}
	}
	return false
}

// newAlt resolves a stem sequence against the index; phrases get the
// list of papers that contain them whole.
func (ix *Index) newAlt(st []string, weight float32) alt {
	a := alt{ids: make([]int32, len(st)), idfw: make([]float32, len(st)), weight: weight, key: strings.Join(st, " ")}
	n := len(ix.papers)
	a.generic = true
	for i, s := range st {
		a.ids[i] = ix.termID(s)
		if a.ids[i] >= 0 {
			a.idfw[i] = ix.idf[a.ids[i]]
		} else {
			a.idfw[i] = idf(0, n)
		}
		if genericWords[s] {
			a.idfw[i] *= genericWeight
		} else {
			a.generic = false
		}
	}
	if len(st) > 1 && !slices.Contains(a.ids, -1) {
		rare := a.ids[0]
		for _, id := range a.ids[1:] {
			if len(ix.post[id]) < len(ix.post[rare]) {
				rare = id
			}
		}
		for _, p := range ix.post[rare] {
			if wtf := ix.phraseWTF(p.doc, a.ids); wtf > 0 {
				a.full = append(a.full, docVal{doc: p.doc, v: sat(wtf)})
			}
		}
	}
	if weight < synonymWeight {
		// A related term that half the papers contain says little about
		// the interest: scale it by how specific it is. (A synonym is the
		// concept itself; how common it is shows in the slot's weight.)
		df := len(a.full)
		if len(st) == 1 && a.ids[0] >= 0 {
			df = len(ix.post[a.ids[0]])
		}
		ref := idf(max(2, n*specificDF/100), n)
		a.weight *= min(1, max(minSpecific, idf(df, n)/ref))
	}
	return a
}

// phraseWTF is the field-weighted frequency of the phrase ids in paper d.
func (ix *Index) phraseWTF(d uint32, ids []int32) float32 {
	var tf [numFields]float32
	found := false
	ix.phraseOcc(d, ids, func(first, _ uint16) bool {
		tf[ix.docs[d].field(first)] += ix.toks[ix.docs[d].tokOff+uint32(first)].weight()
		found = true
		return true
	})
	if !found {
		return 0
	}
	return ix.docs[d].weighted(tf)
}

// phraseOcc calls fn with the first and last token position of each
// occurrence of the phrase ids in paper d: the words in order, in one
// field, with at most phraseGap other content words between neighbours.
// fn returns false to stop.
func (ix *Index) phraseOcc(d uint32, ids []int32, fn func(first, last uint16) bool) {
	var lists [8][]uint16
	if len(ids) > len(lists) {
		return
	}
	for i, id := range ids {
		p := ix.find(id, d)
		if p == nil {
			return
		}
		lists[i] = ix.positions(p)
	}
	di := &ix.docs[d]
	toks := ix.toks[di.tokOff:]
	for _, start := range lists[0] {
		f := di.field(start)
		cur, ok := start, true
		for k := 1; k < len(ids) && ok; k++ {
			ok = false
			for _, q := range lists[k] {
				if q > cur && q <= cur+1+phraseGap {
					if di.field(q) == f && !breakBetween(toks, cur, q) {
						cur, ok = q, true
					}
					break
				}
			}
		}
		if ok && !fn(start, cur) {
			return
		}
	}
}

// breakBetween reports whether punctuation separates token positions a < b.
func breakBetween(toks []tok, a, b uint16) bool {
	for p := a + 1; p <= b; p++ {
		if toks[p].brk {
			return true
		}
	}
	return false
}

// near reports whether all words ids occur in paper d within one field
// and a window of len(ids)+nearWindow tokens.
func (ix *Index) near(d uint32, ids []int32) bool {
	var lists [8][]uint16
	if len(ids) > len(lists) {
		return false
	}
	for i, id := range ids {
		p := ix.find(id, d)
		if p == nil {
			return false
		}
		lists[i] = ix.positions(p)
	}
	win := uint16(len(ids) + nearWindow)
	di := &ix.docs[d]
	for _, start := range lists[0] {
		f := di.field(start)
		all := true
		for k := 1; k < len(ids) && all; k++ {
			all = false
			for _, q := range lists[k] {
				if di.field(q) == f && (q+win > start && q < start+win) {
					all = true
					break
				}
			}
		}
		if all {
			return true
		}
	}
	return false
}

// value is how well alt a matches paper d, in [0, 1): the saturated
// frequency of a whole match, or partial credit for some of its words
// scaled by the share of the phrase's information they carry.
func (ix *Index) value(a *alt, d uint32) (v float32, whole bool) {
	if len(a.ids) == 1 {
		p := ix.find(a.ids[0], d)
		if p == nil {
			return 0, false
		}
		if i, ok := slices.BinarySearchFunc(a.sense, d, cmpDoc); ok {
			if share := a.sense[i].v; share > 0 {
				return sat(p.wtf * share), true
			}
			return foreignCredit * sat(p.wtf), false
		}
		return sat(p.wtf), true
	}
	if i, ok := slices.BinarySearchFunc(a.full, d, cmpDoc); ok {
		return a.full[i].v, true
	}
	if a.weight < 1 || a.compound {
		// Lexicon expansions and hyphenated terms are exact concepts:
		// only whole matches count.
		return 0, false
	}
	var have, total, acc float32
	exact := true
	for i, id := range a.ids {
		total += a.idfw[i]
		if p := ix.find(id, d); p != nil {
			have += a.idfw[i]
			acc += a.idfw[i] * sat(p.wtf)
			continue
		}
		if i < len(a.syn) {
			for _, sid := range a.syn[i] {
				if p := ix.find(sid, d); p != nil {
					have += a.idfw[i] * wordSynWeight
					acc += a.idfw[i] * wordSynWeight * sat(p.wtf)
					exact = false
					break
				}
			}
		}
	}
	if have == 0 || total == 0 {
		return 0, false
	}
	avg := acc / have
	if have >= total {
		if exact && ix.near(d, a.ids) {
			return nearCredit * avg, false
		}
		return apartCredit * avg, false
	}
	cov := have / total
	return apartCredit * cov * cov * avg, false
}

func cmpDoc(x docVal, d uint32) int { return int(x.doc) - int(d) }

// senses finds, for the single-word alternatives of s, occurrences that
// belong to lexicon phrases of another meaning ("circuits" in
// "probabilistic circuits" for an interest in interpretability circuits)
// and records per paper the share of occurrences that do not.
func (ix *Index) senses(s *slot) {
	own := make(map[string]bool, len(s.alts))
	for _, a := range s.alts {
		own[a.key] = true
	}
	for ai := range s.alts {
		a := &s.alts[ai]
		if len(a.ids) != 1 || a.ids[0] < 0 || a.generic {
			continue
		}
		t := a.ids[0]
		covered := map[uint32]map[uint16]bool{}
		for _, p := range ix.lex.foreign(a.key, own) {
			ids := make([]int32, 0, 4)
			for _, st := range strings.Fields(p) {
				ids = append(ids, ix.termID(st))
			}
			if slices.Contains(ids, -1) {
				continue
			}
			rare := ids[0]
			for _, id := range ids[1:] {
				if len(ix.post[id]) < len(ix.post[rare]) {
					rare = id
				}
			}
			for _, pp := range ix.post[rare] {
				d := pp.doc
				ix.phraseOcc(d, ids, func(first, last uint16) bool {
					for _, q := range ix.positions(ix.find(t, d)) {
						if q >= first && q <= last {
							if covered[d] == nil {
								covered[d] = map[uint16]bool{}
							}
							covered[d][q] = true
						}
					}
					return true
				})
			}
		}
		for d, c := range covered {
			n := len(ix.positions(ix.find(t, d)))
			a.sense = append(a.sense, docVal{doc: d, v: float32(n-len(c)) / float32(n)})
		}
		slices.SortFunc(a.sense, func(x, y docVal) int { return int(x.doc) - int(y.doc) })
	}
}

// candidates appends the papers alt a can match at all.
func (ix *Index) candidates(a *alt, mark []uint32, stamp uint32, out []uint32) []uint32 {
	for _, id := range a.ids {
		if id < 0 {
			continue
		}
		for _, p := range ix.post[id] {
			if mark[p.doc] != stamp {
				mark[p.doc] = stamp
				out = append(out, p.doc)
			}
		}
	}
	return out
}

// scoreInterest computes every paper's relevance to in: per slot the best
// alternative plus a share of the others; slots weighed by how rare their
// concept is; times the share of the interest's weight the paper covers.
func (ix *Index) scoreInterest(in *interest) {
	n := len(ix.papers)
	m := make([][]float32, len(in.slots))
	mark := make([]uint32, n)
	var stamp uint32
	var cands []uint32
	var wholeV []float32
	if in.whole != nil {
		wholeV = make([]float32, n)
		for _, h := range in.whole.full {
			wholeV[h.doc] = h.v
		}
	}
	// first holds per paper the first alternative of a slot it has
	// whole (+1): a second one without a word in common is more evidence
	// ("speculative decoding" and "draft model", not "time series" and
	// "time series data").
	first := make([]int16, n)
	for si := range in.slots {
		s := &in.slots[si]
		best := make([]float32, n)
		sum := make([]float32, n)
		clear(first)
		present := false
		named := s.named()
		for ai := range s.alts {
			a := &s.alts[ai]
			if a.related && !named {
				// No candidate names the concept ("traffic prediction"):
				// what is related to it ("graphs") is not it.
				continue
			}
			stamp++
			cands = ix.candidates(a, mark, stamp, cands[:0])
			for _, d := range cands {
				v, whole := ix.value(a, d)
				if whole && !present {
					if f := first[d]; f == 0 {
						first[d] = int16(ai + 1)
						present = v >= strongMention
					} else {
						present = !sharesWord(&s.alts[f-1], a)
					}
				}
				v *= a.weight
				if whole {
					sum[d] += v
				}
				best[d] = max(best[d], v)
			}
		}
		if wholeV != nil && !present {
			present = slices.ContainsFunc(in.whole.full, func(h docVal) bool { return h.v >= strongMention })
		}
		df := 0
		for d := range best {
			best[d] = soften(best[d], max(0, sum[d]-best[d]), altShare)
			if wholeV != nil {
				best[d] = max(best[d], wholeV[d])
			}
			if !present && !in.vector {
				// No candidate is about the concept: passing mentions
				// ("news recommendation" in a list of benchmarks) alone
				// do not make a match.
				best[d] *= passingShare
			}
			if best[d] >= slotMatched {
				df++
			}
		}
		m[si] = best
		s.df = df
		if !in.vector {
			s.imp = idf(df, n)
			if s.generic() {
				// How rare an everyday word is in papers says nothing
				// about the topic.
				s.imp = genericWeight * min(s.imp, ix.idfSpecific)
			}
		}
	}
	// Everyday words weigh at most as a word in a tenth of the papers. In
	// a longer description, up to a third of its concepts may be everyday
	// words no paper uses: the papers say them in other words.
	research, absent, everyday := 0, 0, 0
	concept := false // some slot is a research concept, not an everyday word
	for si := range in.slots {
		s := &in.slots[si]
		if s.plain {
			s.imp = min(s.imp, ix.idfSpecific)
		}
		if !s.generic() {
			research++
			concept = concept || (!s.plain && s.named())
			if s.plain {
				everyday++
			}
		}
	}
	concept = concept && everyday >= plainMinEveryday
	if concept && !in.vector && len(in.slots) >= plainMinSlots {
		for si := range in.slots {
			if s := &in.slots[si]; s.plain {
				s.imp *= plainShare
			}
		}
	}
	drop := make([]bool, len(in.slots))
	if !in.vector && research >= 3 {
		// The words that weigh most (the rarest) go first.
		var cands []int
		for si := range in.slots {
			if in.slots[si].absentWord(len(in.slots) >= plainMinSlots) {
				cands = append(cands, si)
			}
		}
		slices.SortStableFunc(cands, func(a, b int) int { return cmp.Compare(in.slots[b].imp, in.slots[a].imp) })
		for _, si := range cands {
			if (absent+1)*3 > research {
				break
			}
			drop[si] = true
			absent++
		}
	}
	// Coverage counts the slots that name research concepts; everyday
	// words count only when an interest has nothing else.
	var total, covTotal float32
	anySpecific := false
	for si, s := range in.slots {
		if drop[si] {
			continue
		}
		total += s.imp
		anySpecific = anySpecific || !s.generic()
	}
	skipPlain := concept && !in.vector && len(in.slots) >= plainMinSlots
	covers := func(si int) bool {
		s := &in.slots[si]
		return !drop[si] && (!anySpecific || !s.generic()) && !(skipPlain && s.plain)
	}
	for si, s := range in.slots {
		if covers(si) {
			covTotal += s.imp
		}
	}
	if total == 0 || covTotal == 0 {
		return
	}
	// A short interest needs all its concepts; a longer description (three
	// research concepts or more) is matched by most of them.
	exp := 1.0
	words := research
	if countGeneric {
		words = len(in.slots)
	}
	switch {
	case words >= 4 && research >= 2:
		exp = covExp
	case words == 3 && research >= 2:
		exp = covExp3
	}
	rels := make([]float32, n)
	shares := make([]float32, n)
	above := 0
	for d := range n {
		var acc, cov float32
		for si, s := range in.slots {
			if drop[si] {
				continue
			}
			v := m[si][d]
			acc += s.imp * v
			if v >= coverageMatch && covers(si) {
				cov += s.imp
			}
		}
		rel := acc / total
		shares[d] = cov / covTotal
		if !in.vector {
			rel *= float32(math.Pow(float64(cov/covTotal), exp))
		}
		rels[d] = rel
		if rel >= ix.floor {
			above++
		}
	}
	if !in.vector && ix.wordLevel && !ix.noSecondPass && above < fillK {
		if in.description() {
			ix.secondPass(in, m, rels)
		}
		if !ix.noFeedback {
			ix.feedbackPass(rels)
		}
	}
	if !in.vector && ix.wordLevel && !ix.noFusion {
		ix.fuse(in.words, rels, shares)
	}
	for d, rel := range rels {
		if rel >= minHit {
			in.hits = append(in.hits, docVal{doc: uint32(d), v: rel})
		}
	}
}

// The second pass of an interest that too few papers match in full.
const (
	fillK     = 10   // papers above the floor below which the second pass runs
	fillSlots = 3    // least concepts of a description the second pass is for
	fillCov   = 0.6  // least share of the research concepts' weight a paper must have
	fillMin   = 0.06 // least relevance, on the evidence there is, of a second-pass paper
	fillBand  = 0.15 // relevance range above the floor second-pass papers get
)

// description reports whether in is a description in everyday words
// rather than a term: fillSlots concepts or more, one an everyday word.
// Only a description has a second pass; for a term the strict pass is all
// the evidence there is.
func (in *interest) description() bool {
	if len(in.slots) < fillSlots {
		return false
	}
	for i := range in.slots {
		if in.slots[i].plain {
			return true
		}
	}
	return false
}

// Pseudo-relevance feedback of the second pass.
const (
	prfSeeds = 3    // best papers whose likeness is used
	prfSeed  = 0.3  // least relevance of a paper used as a seed
	prfMin   = 0.15 // least likeness to the second closest seed
	prfBand  = 0.1  // relevance range above the floor feedback papers get
)

// feedbackPass adds, to an interest that still has fewer than fillK
// papers above the floor, the papers most like its best matches
// (pseudo-relevance feedback): up to prfSeeds papers with at least
// prfSeed relevance each lend their distinctive terms (paperVector), and
// papers like two of them rank in a band just above the floor. An
// interest fewer than two papers match well gets nothing from it.
func (ix *Index) feedbackPass(rels []float32) {
	var seeds []docVal
	above := 0
	for d, r := range rels {
		if r >= ix.floor {
			above++
		}
		if r >= prfSeed {
			seeds = append(seeds, docVal{doc: uint32(d), v: r})
		}
	}
	if len(seeds) == 0 || above >= fillK {
		return
	}
	slices.SortStableFunc(seeds, func(a, b docVal) int {
		return cmp.Compare(b.v, a.v)
	})
	seeds = seeds[:min(len(seeds), prfSeeds)]
	if len(seeds) < 2 {
		return
	}
	// A paper's likeness is to its second closest seed: it must be like
	// two of the best matches, not one.
	var first, second map[uint32]float32 = map[uint32]float32{}, map[uint32]float32{}
	for _, sd := range seeds {
		for _, h := range ix.paperVector(int(sd.doc)).hits {
			switch f := first[h.doc]; {
			case h.v > f:
				second[h.doc], first[h.doc] = f, h.v
			case h.v > second[h.doc]:
				second[h.doc] = h.v
			}
		}
	}
	for d, v := range second {
		if rels[d] < ix.floor && v >= prfMin {
			rels[d] = max(rels[d], ix.floor+prfBand*v)
		}
	}
}

// secondPass gives papers that the strict pass left below the floor a
// relevance just above it when they have enough of the interest's
// research concepts: its everyday words are left out (a reader's lay
// words, which papers say in other words), and a paper must have at
// least fillCov of the remaining concepts' weight, each weighed by how
// rare it is, so an interest in one concept no paper has still gets
// nothing. rels are the strict relevances by doc, m the slot values by
// slot and doc. Second-pass papers rank in a band just above the floor,
// by that evidence.
func (ix *Index) secondPass(in *interest, m [][]float32, rels []float32) {
	var total, covTotal float32
	for i := range in.slots {
		s := &in.slots[i]
		if s.plain && !s.named() {
			continue
		}
		total += s.imp
		if !s.generic() {
			covTotal += s.imp
		}
	}
	if total == 0 || covTotal == 0 {
		// Only everyday words: nothing to go on without them.
		return
	}
	for d := range rels {
		if rels[d] >= ix.floor {
			continue
		}
		var acc, cov float32
		for si := range in.slots {
			s := &in.slots[si]
			if s.plain && !s.named() {
				continue
			}
			v := m[si][d]
			acc += s.imp * v
			if v >= coverageMatch && !s.generic() {
				cov += s.imp
			}
		}
		share := cov / covTotal
		if share < fillCov {
			continue
		}
		r := acc / total * share
		if r >= fillMin {
			rels[d] = ix.floor + fillBand*min(1, r)
		}
	}
}

// paperVector compiles paper d's most distinctive terms into a
// "more like this" interest, scored relative to the paper itself.
func (ix *Index) paperVector(d int) *interest {
	key := "\x00doc:" + strconv.Itoa(d)
	if in, ok := ix.cache.get(key); ok {
		return in
	}
	di := &ix.docs[d]
	toks := ix.toks[di.tokOff : di.tokOff+uint32(di.fEnd[numFields-1])]
	type ts struct {
		id int32
		w  float32
	}
	var cand []ts
	for i, t := range toks {
		id := int32(t.term)
		dup := slices.ContainsFunc(toks[:i], func(u tok) bool { return u.term == t.term })
		// Words no other paper has cannot find similar papers.
		if dup || len(ix.post[id]) < 2 {
			continue
		}
		if noiseStems[ix.stems[id]] {
			continue
		}
		w := sat(ix.find(id, uint32(d)).wtf) * ix.idf[id]
		if genericWords[ix.stems[id]] {
			w *= genericWeight
		}
		cand = append(cand, ts{id, w})
	}
	slices.SortStableFunc(cand, func(a, b ts) int {
		return cmp.Compare(b.w, a.w)
	})
	in := &interest{vector: true}
	for _, c := range cand[:min(len(cand), vectorTerms)] {
		a := ix.newAlt([]string{ix.stems[c.id]}, 1)
		in.slots = append(in.slots, slot{imp: c.w, alts: []alt{a}})
	}
	ix.scoreInterest(in)
	var self float32
	for _, h := range in.hits {
		if h.doc == uint32(d) {
			self = h.v
		}
	}
	if self > 0 {
		for i := range in.hits {
			in.hits[i].v = min(1, in.hits[i].v/self)
		}
	}
	return ix.cache.put(key, in)
}

// sharesWord reports whether alternatives a and b have a word in common.
func sharesWord(a, b *alt) bool {
	return slices.ContainsFunc(a.ids, func(id int32) bool { return id >= 0 && slices.Contains(b.ids, id) })
}

// soften adds more evidence to best without ever reaching 1: each unit
// of more closes the share of the remaining gap given by rate.
func soften(best, more, rate float32) float32 {
	if more <= 0 {
		return best
	}
	return 1 - (1-best)*float32(math.Exp(float64(-rate*more)))
}
