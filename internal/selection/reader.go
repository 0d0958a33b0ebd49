package selection

import (
	"cmp"
	"slices"
	"strings"
	"sync"

	"github.com/papermail/papermail/internal/authors"
)

// This file holds the parts of a profile beyond interests and feedback
// (issue 13): followed authors, categories and the reader's library. Each
// adds to Compile (compileReader) and to Select (readerSeed, readerRel),
// through these few functions only.

// LibraryEntry is one paper of the reader's own library used as an
// example: papers like it rank up, and the pick names it.
type LibraryEntry struct {
	// Label names the entry to the reader (its title).
	Label string
	// Text is what the likeness is measured on: title and abstract.
	Text string
	// ID is an arXiv id or title the entry may be found by among the
	// indexed papers; empty when unknown.
	ID string
}

// Tuning of the reader-side profile parts.
const (
	// followRel is the least relevance of a paper by a followed author,
	// whatever its topic: above the floor, beside well-matched papers.
	followRel = 0.7
	// categoryBoost is added to the relevance of a paper in one of the
	// reader's categories that is relevant already (boost mode).
	categoryBoost = 0.12
	// categoryOnlyRel is the relevance of a paper in a filtered category
	// when the profile names nothing else to match.
	categoryOnlyRel = 0.5
	// libraryWeight is a library entry's weight, relative to an interest.
	libraryWeight = exampleWeight
	// maxLibraryParts bounds the library entries compiled per reader (an
	// even sample of a larger library): each costs about a millisecond
	// per run over a few hundred candidates (BenchmarkCompileLibraryCold).
	maxLibraryParts = 200
	// libraryRef is the raw likeness (weighted share of an entry's
	// distinctive terms, saturated) a paper on the entry's topic
	// reaches; hits are divided by it. It is fixed, not the best hit of
	// the day, so an entry unlike every paper of the window finds nothing
	// above the floor (dev check over the shared page: title-only
	// libraries on five present topics and two absent ones).
	libraryRef = 0.45
)

// Part kinds: what a compiled part of a query stands for.
const (
	kindText    = iota // an interest or example title typed by the reader
	kindLibrary        // an entry of the reader's library
)

// readerIndex is the per-index lookup the reader-side parts need, built
// on first use.
type readerIndex struct {
	once     sync.Once
	byAuthor map[string][]uint32 // author name key -> papers
	byCat    map[string][]uint32 // lowercase category -> papers
}

func (ix *Index) readerLookups() *readerIndex {
	r := &ix.reader
	r.once.Do(func() {
		r.byAuthor = make(map[string][]uint32)
		r.byCat = make(map[string][]uint32)
		for d := range ix.papers {
			p := &ix.papers[d]
			for _, a := range p.Authors {
				for _, k := range authors.Parse(a).Keys() {
					if l := r.byAuthor[k]; len(l) == 0 || l[len(l)-1] != uint32(d) {
						r.byAuthor[k] = append(l, uint32(d))
					}
				}
			}
			for _, c := range p.Categories {
				k := strings.ToLower(c)
				if l := r.byCat[k]; len(l) == 0 || l[len(l)-1] != uint32(d) {
					r.byCat[k] = append(l, uint32(d))
				}
			}
		}
	})
	return r
}

// readerQuery is the compiled reader-side part of a Query.
type readerQuery struct {
	follow    []docName // papers by followed authors, sorted by doc
	cats      map[string]bool
	catFilter bool
	catOnly   []uint32 // filtered categories' papers when nothing else matches
}

type docName struct {
	doc  uint32
	name string
}

// compileReader adds p's followed authors, categories and library to q.
func (ix *Index) compileReader(q *Query, p Profile) {
	if len(p.Authors) > 0 {
		set := authors.NewSet(p.Authors)
		lk := ix.readerLookups()
		seen := make(map[uint32]bool)
		for _, n := range set.Names() {
			for _, k := range n.Keys() {
				for _, d := range lk.byAuthor[k] {
					if seen[d] {
						continue
					}
					if name, ok := set.Match(ix.papers[d].Authors); ok {
						seen[d] = true
						q.rd.follow = append(q.rd.follow, docName{d, name})
					}
				}
			}
		}
		slices.SortFunc(q.rd.follow, func(a, b docName) int { return int(a.doc) - int(b.doc) })
	}
	if len(p.Categories) > 0 {
		q.rd.cats = make(map[string]bool, len(p.Categories))
		for _, c := range p.Categories {
			q.rd.cats[strings.ToLower(strings.TrimSpace(c))] = true
		}
		q.rd.catFilter = p.CategoryFilter
	}
	lib := p.Library
	if len(lib) > maxLibraryParts {
		// An even sample keeps every topic of a large library.
		sample := make([]LibraryEntry, maxLibraryParts)
		for i := range sample {
			sample[i] = lib[i*len(lib)/maxLibraryParts]
		}
		lib = sample
	}
	seen := make(map[string]bool)
	for _, e := range lib {
		var in *interest
		if e.ID != "" {
			if d, ok := ix.resolve(e.ID); ok {
				q.skip = append(q.skip, uint32(d)) // the reader has it already
				in = ix.paperVector(d)
			}
		}
		if in == nil {
			in = ix.textVector(e.Text)
		}
		key := strings.ToLower(e.Label)
		if in == nil || len(in.hits) == 0 || seen[key] {
			continue
		}
		seen[key] = true
		q.parts = append(q.parts, part{label: e.Label, weight: libraryWeight, in: in, kind: kindLibrary})
	}
	if len(q.parts) == 0 && q.rd.catFilter {
		lk := ix.readerLookups()
		for c := range q.rd.cats {
			q.rd.catOnly = append(q.rd.catOnly, lk.byCat[c]...)
		}
		slices.Sort(q.rd.catOnly)
		q.rd.catOnly = slices.Compact(q.rd.catOnly)
	}
	slices.Sort(q.skip)
	q.skip = slices.Compact(q.skip)
}

// hasReader reports whether q can pick papers without a matched part.
func (q *Query) hasReader() bool { return len(q.rd.follow) > 0 || len(q.rd.catOnly) > 0 }

// readerSeed lists the papers Select must consider although no part
// matched them: followed authors' papers and, for a profile of categories
// alone, the categories' papers.
func (q *Query) readerSeed(fn func(d uint32)) {
	for _, f := range q.rd.follow {
		fn(f.doc)
	}
	for _, d := range q.rd.catOnly {
		fn(d)
	}
}

// followed returns the followed name paper d is by, or "".
func (q *Query) followed(d uint32) string {
	if i, ok := slices.BinarySearchFunc(q.rd.follow, d, func(x docName, d uint32) int { return int(x.doc) - int(d) }); ok {
		return q.rd.follow[i].name
	}
	return ""
}

// readerRel adjusts paper d's relevance for the reader-side parts: a
// followed author's paper is relevant whatever its topic; a paper in a
// picked category ranks up (boost) or a paper outside every picked one is
// dropped (filter; ok false); a paper whose source gives no category is
// judged by its text alone.
func (ix *Index) readerRel(q *Query, d uint32, rel float32) (float32, bool) {
	if q.followed(d) != "" {
		return max(rel, followRel), true
	}
	if len(q.rd.cats) == 0 {
		return rel, true
	}
	cats := ix.papers[d].Categories
	if len(cats) == 0 {
		return rel, true
	}
	in := slices.ContainsFunc(cats, func(c string) bool { return q.rd.cats[strings.ToLower(c)] })
	switch {
	case q.rd.catFilter && !in:
		return 0, false
	case len(q.rd.catOnly) > 0:
		return max(rel, categoryOnlyRel), true
	case in && rel >= ix.floor:
		// A boost reorders matched papers; it never makes one match.
		return min(1, rel+categoryBoost), true
	}
	return rel, true
}

// textVector compiles a text that is not an indexed paper (a library
// entry's title and abstract) into a "more like this" interest of its most
// distinctive terms, title words counting double.
func (ix *Index) textVector(text string) *interest {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil
	}
	key := "\x00text:" + text
	if in, ok := ix.cache.get(key); ok {
		return in
	}
	title, _, _ := strings.Cut(text, "\n")
	// Terms no candidate paper has count too: an entry whose telling
	// words are absent from the day's papers is not like them, however
	// well its everyday words match.
	tf := make(map[string]float32)
	var order []string
	addWords := func(s string, w float32) {
		for _, st := range stems(s, false) {
			if noiseStems[st] {
				continue
			}
			if _, ok := tf[st]; !ok {
				order = append(order, st)
			}
			tf[st] += w
		}
	}
	addWords(title, 2)
	addWords(text, 1)
	type ts struct {
		stem string
		id   int32
		w    float32
	}
	n := len(ix.papers)
	cand := make([]ts, 0, len(order))
	for _, st := range order {
		id := ix.termID(st)
		w := sat(tf[st])
		if id >= 0 {
			w *= ix.idf[id]
		} else {
			w *= idf(0, n)
		}
		if genericWords[st] {
			w *= genericWeight
		}
		cand = append(cand, ts{st, id, w})
	}
	slices.SortStableFunc(cand, func(a, b ts) int {
		return cmp.Compare(b.w, a.w)
	})
	in := &interest{vector: true}
	var known, absent float32
	for _, c := range cand[:min(len(cand), vectorTerms)] {
		if c.id < 0 {
			absent += c.w
			continue
		}
		known += c.w
		a := ix.newAlt([]string{c.stem}, 1)
		in.slots = append(in.slots, slot{imp: c.w, alts: []alt{a}})
	}
	if len(in.slots) > 0 {
		ix.scoreInterest(in)
	}
	scale := float32(0)
	if known > 0 {
		scale = known / (known + absent) / libraryRef
	}
	for i := range in.hits {
		in.hits[i].v = min(1, in.hits[i].v*scale)
	}
	return ix.cache.put(key, in)
}
