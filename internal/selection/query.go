package selection

import (
	"slices"
	"strings"
)

// Profile is what a subscriber wants.
type Profile struct {
	// Interests are phrases as the reader wrote them ("semantic
	// segmentation", "speech enhancement"); see ParseInterests.
	Interests []string
	// Liked and Disliked are ids of papers the reader marked "more like
	// this" and "less like this". Their distinctive terms raise or lower
	// similar papers a little; disliked papers are never picked.
	Liked, Disliked []string
	// Examples are arXiv ids, arXiv URLs or titles of papers the reader
	// likes. Ones found among the indexed papers act as "more like this"
	// interests; unknown titles are used as extra interest text.
	Examples []string
	// Exclude reports papers that must not be picked (already sent). It
	// may be nil. It is called only for papers that would make the cut.
	Exclude func(paperID string) bool
	// Authors are followed authors' names: their papers are picked
	// whatever their topic (Pick.Followed names the author).
	Authors []string
	// Categories are subject categories ("cs.CL") that filter the papers
	// (CategoryFilter) or rank papers in them up. Papers whose source
	// names no category are judged by their text alone.
	Categories     []string
	CategoryFilter bool
	// Library are the reader's own papers: papers like one rank up, and
	// Pick.Like names it.
	Library []LibraryEntry
}

// Tuning of how parts of a profile weigh.
const (
	exampleWeight = 0.8  // an example paper or title, relative to an interest
	likeWeight    = 0.15 // most a liked paper's likeness adds to relevance
	dislikeWeight = 0.25 // most a disliked paper's likeness takes away
	maxFeedback   = 32   // most recent liked/disliked papers considered
	vectorTerms   = 12   // distinctive terms kept per paper
	otherShare    = 0.25 // share of non-best interests added to relevance
)

// Query is a compiled Profile for one Index. Compile it once per
// subscriber; it is read-only and may be used concurrently.
type Query struct {
	ix      *Index
	profile Profile
	parts   []part
	adj     []docVal // feedback adjustments by doc
	skip    []uint32 // papers never picked (disliked, examples), sorted
	rd      readerQuery
}

// part is one scored facet of a query: an interest, an example paper or
// an example title.
type part struct {
	label  string
	weight float32
	in     *interest
	kind   int // kindText or kindLibrary
}

// Interests returns the labels of the query's parts: the interests as
// written, then examples.
func (q *Query) Interests() []string {
	out := make([]string, len(q.parts))
	for i, p := range q.parts {
		out[i] = p.label
	}
	return out
}

// Compile parses p against the index: tokenizes, stems and expands each
// interest with the lexicon, resolves examples and feedback papers and
// scores the candidate papers per interest. Compiled interests are cached
// in the index, so subscribers who share an interest share the work.
func (ix *Index) Compile(p Profile) *Query {
	q := &Query{ix: ix, profile: p}
	seen := make(map[string]bool)
	addText := func(label string, w float32) {
		label = strings.Join(strings.Fields(label), " ")
		key := strings.ToLower(label)
		if label == "" || seen[key] {
			return
		}
		seen[key] = true
		if in := ix.interestFor(label); in != nil {
			q.parts = append(q.parts, part{label: label, weight: w, in: in})
		}
	}
	for _, s := range p.Interests {
		addText(s, 1)
	}
	for _, e := range p.Examples {
		if d, ok := ix.resolve(e); ok {
			q.skip = append(q.skip, uint32(d))
			if in := ix.paperVector(d); in != nil && !seen["\x00"+ix.papers[d].ID] {
				seen["\x00"+ix.papers[d].ID] = true
				q.parts = append(q.parts, part{label: ix.papers[d].Title, weight: exampleWeight, in: in})
			}
			continue
		}
		if !looksLikeID(e) {
			addText(e, exampleWeight)
		}
	}
	q.adj = ix.feedback(p.Liked, p.Disliked)
	for _, id := range p.Disliked {
		if d, ok := ix.byID[id]; ok {
			q.skip = append(q.skip, uint32(d))
		}
	}
	ix.compileReader(q, p)
	return q
}

// feedback computes per-paper relevance adjustments from liked and
// disliked papers: the likeness to the closest liked paper adds up to
// likeWeight, to the closest disliked one takes up to dislikeWeight.
func (ix *Index) feedback(liked, disliked []string) []docVal {
	if len(liked) == 0 && len(disliked) == 0 {
		return nil
	}
	acc := make(map[uint32]float32)
	apply := func(ids []string, w float32) {
		if len(ids) > maxFeedback {
			ids = ids[len(ids)-maxFeedback:]
		}
		best := make(map[uint32]float32)
		for _, id := range ids {
			d, ok := ix.byID[id]
			if !ok {
				continue
			}
			in := ix.paperVector(int(d))
			if in == nil {
				continue
			}
			for _, h := range in.hits {
				best[h.doc] = max(best[h.doc], h.v)
			}
		}
		for d, v := range best {
			acc[d] += w * v
		}
	}
	apply(liked, likeWeight)
	apply(disliked, -dislikeWeight)
	out := make([]docVal, 0, len(acc))
	for d, v := range acc {
		if v != 0 {
			out = append(out, docVal{doc: d, v: v})
		}
	}
	slices.SortFunc(out, func(a, b docVal) int { return int(a.doc) - int(b.doc) })
	return out
}

// resolve finds an example among the indexed papers by arXiv id, arXiv
// URL or title.
func (ix *Index) resolve(e string) (int, bool) {
	e = strings.TrimSpace(e)
	if e == "" {
		return 0, false
	}
	if id := arxivID(e); id != "" {
		if d, ok := ix.byID[id]; ok {
			return int(d), true
		}
	}
	if d, ok := ix.byID[e]; ok {
		return int(d), true
	}
	if d, ok := ix.byTitle[normTitle(e)]; ok {
		return int(d), true
	}
	return 0, false
}

// arxivID extracts a versionless arXiv id from an id or arXiv URL
// ("arXiv:2401.01234v2", "https://arxiv.org/abs/2401.01234"), or "".
func arxivID(s string) string {
	s = strings.TrimSpace(s)
	for _, pre := range []string{"https://", "http://", "www.", "arxiv.org/abs/", "arxiv.org/pdf/", "huggingface.co/papers/", "arxiv:", "arXiv:"} {
		s = strings.TrimPrefix(s, pre)
	}
	s = strings.TrimSuffix(s, ".pdf")
	if i := strings.LastIndexByte(s, 'v'); i > 0 && isDigits(s[i+1:]) {
		s = s[:i]
	}
	if i := strings.IndexByte(s, '.'); i == 4 && isDigits(s[:4]) && len(s) >= 9 && len(s) <= 10 && isDigits(s[5:]) {
		return s
	}
	return ""
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// looksLikeID reports whether an example is an identifier or URL rather
// than a title, so it is not used as interest text when unknown.
func looksLikeID(e string) bool {
	e = strings.TrimSpace(e)
	return arxivID(e) != "" || strings.Contains(e, "://") || (!strings.ContainsRune(e, ' ') && strings.ContainsAny(e, "0123456789./:"))
}
