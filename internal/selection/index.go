package selection

import (
	"maps"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/papermail/papermail/internal/model"
)

// Defaults for Options.
const (
	// DefaultHalfLife is how fast the trending signal of a paper fades.
	DefaultHalfLife = 36 * time.Hour
	// DefaultFloor is the least normalized relevance a paper needs to be
	// picked for an interest.
	DefaultFloor = 0.2
)

// Options tune an Index. The zero value is usable.
type Options struct {
	// Now is the time trending ages are measured from; zero means
	// time.Now().
	Now time.Time
	// HalfLife is the age at which a paper's trending score halves; zero
	// means DefaultHalfLife.
	HalfLife time.Duration
	// Lexicon maps interests to research terms; nil means DefaultLexicon.
	// Use DefaultLexicon().Merge(extra) to add to the built-in one.
	Lexicon *Lexicon
	// Floor is the relevance floor in (0, 1]; zero means DefaultFloor.
	Floor float64

	// Semantic, when set, blends embedding similarity into relevance.
	Semantic *Semantic

	// steps turns off steps of the ranking, for measuring what each adds.
	steps ablation
}

// ablation lists ranking steps turned off (evaluation only).
type ablation struct {
	phraseRuns bool // unknown words stay one phrase, without dictionary expansion
	strictOnly bool // no second pass for interests too few papers match in full
	noFeedback bool // no pseudo-relevance feedback in the second pass
	noFusion   bool // no fusion with plain BM25F over the reader's words
}

// Text fields of a paper, in token order.
const (
	fieldTitle = iota
	fieldKeywords
	fieldAbstract
	numFields
)

// BM25F parameters: field weights, length normalization, saturation.
var fieldWeight = [numFields]float32{3, 1.5, 1}

const (
	bm25B  = 0.75
	bm25K1 = 1.2
)

// breakChars end a phrase: words on either side are not adjacent.
const breakChars = ".,;:!?()[]{}\"|\n"

// posting is one paper in a term's posting list.
type posting struct {
	doc    uint32
	wtf    float32 // field-weighted, length-normalized term frequency
	posOff uint32  // positions in Index.pos
	posN   uint32
}

// span is a token's byte range in its field's text.
type span struct{ start, end int32 }

// docInfo is what the index keeps about one paper's text.
type docInfo struct {
	text   [numFields]string
	tokOff uint32            // first token in Index.toks
	fEnd   [numFields]uint16 // end (exclusive) of each field's tokens, local
	lens   [numFields]float32
	norm   [numFields]float32 // BM25 length normalization per field
}

// tok is one content word of a paper: its term and where it is.
type tok struct {
	term uint32
	span
	brk  bool // punctuation separates it from the previous content word
	list bool // an item of an enumeration in the abstract (see listItems)
}

// weight is how much one occurrence of the token counts.
func (t *tok) weight() float32 {
	if t.list {
		return listWeight
	}
	return 1
}

// Index ranks one set of candidate papers for many subscribers. Build it
// once per digest run with NewIndex; after that it is read-only and safe
// for concurrent use by any number of goroutines.
type Index struct {
	papers []model.Paper
	now    time.Time
	half   time.Duration
	floor  float32
	lex    *Lexicon

	terms map[string]uint32 // stem -> term id
	stems []string          // term id -> stem
	idf   []float32
	post  [][]posting
	pos   []uint16
	docs  []docInfo
	toks  []tok
	trend []float32
	// dup marks papers whose normalized title an earlier paper has: the
	// same paper from two sources, never picked twice.
	dup  []bool
	byID map[string]int32
	// ids are the keys of byID, sorted (IDs).
	ids []string
	// byTitle maps normalized titles to papers.
	byTitle map[string]int32

	// idfSpecific is the idf of a word in a tenth of the papers: rarer
	// words are telling enough to show as a partial match.
	idfSpecific float32

	trendOnce  sync.Once
	trendOrder []uint32 // papers by trending score, built on first use

	// wordLevel splits words the lexicon does not know into a concept
	// each, expanded by the dictionary.
	wordLevel bool
	// noSecondPass turns off the second pass (secondPass).
	noSecondPass bool
	// noFeedback turns off its pseudo-relevance feedback (feedbackPass).
	noFeedback bool
	// noFusion turns off the fusion with plain BM25F (fuse).
	noFusion bool
	// sem holds embedding vectors (nil: lexical ranking only).
	sem *semanticVectors

	cache   interestCache // compiled interests by key
	texts   interestCache // compiled interests by interest text
	scratch sync.Pool
	reader  readerIndex // author and category lookups (reader.go)
}

// NewIndex indexes papers for ranking. The papers are copied; Pick.Paper
// points at the copies.
func NewIndex(papers []model.Paper, opts Options) *Index {
	ix := &Index{
		papers:       append([]model.Paper(nil), papers...),
		now:          opts.Now,
		half:         opts.HalfLife,
		floor:        float32(opts.Floor),
		lex:          opts.Lexicon,
		wordLevel:    !opts.steps.phraseRuns,
		noSecondPass: opts.steps.strictOnly,
		noFeedback:   opts.steps.noFeedback,
		noFusion:     opts.steps.noFusion,
		terms:        make(map[string]uint32, 4096),
		byID:         make(map[string]int32, len(papers)),
		byTitle:      make(map[string]int32, len(papers)),
	}
	if ix.now.IsZero() {
		ix.now = time.Now()
	}
	if ix.half <= 0 {
		ix.half = DefaultHalfLife
	}
	if ix.floor <= 0 || ix.floor > 1 {
		ix.floor = DefaultFloor
	}
	if ix.lex == nil {
		ix.lex = DefaultLexicon()
	}
	n := len(ix.papers)
	ix.docs = make([]docInfo, n)
	ix.trend = make([]float32, n)
	ix.dup = make([]bool, n)

	type acc struct {
		tf  [numFields]float32
		pos []uint16
	}
	var (
		local    = make(map[uint32]int, 256) // term -> index in accs
		accs     []acc
		order    []uint32
		termByte = make(map[string]uint32, 8192) // lower-case word -> term
		sums     [numFields]float64
		counts   [numFields]int
		docTerms = make([][]uint32, n) // distinct terms per doc, in order
		docAccs  = make([][]acc, n)
	)
	for d := range ix.papers {
		p := &ix.papers[d]
		if p.ID != "" {
			if _, dup := ix.byID[p.ID]; !dup {
				ix.byID[p.ID] = int32(d)
			}
		}
		if t := normTitle(p.Title); t != "" {
			if _, dup := ix.byTitle[t]; dup {
				ix.dup[d] = true
			} else {
				ix.byTitle[t] = int32(d)
			}
		}
		ix.trend[d] = float32(TrendingScore(p, ix.now, ix.half))

		di := &ix.docs[d]
		di.text[fieldTitle] = p.Title
		di.text[fieldKeywords] = strings.Join(p.Keywords, ", ")
		di.text[fieldAbstract] = p.Abstract
		if strings.TrimSpace(p.Abstract) == "" {
			di.text[fieldAbstract] = p.AISummary
		}
		di.tokOff = uint32(len(ix.toks))
		clear(local)
		accs, order = accs[:0], order[:0]
		for f := range numFields {
			text, prevEnd := di.text[f], -1
			var skip, lists []span
			if f == fieldAbstract {
				skip = boilerplate(text)
				lists = listItems(text)
			}
			forEachWord(text, func(lower []byte, start, end int) {
				if len(lower) < 2 || stopWords[string(lower)] || inSpans(skip, start) {
					return
				}
				brk := prevEnd < 0 || strings.ContainsAny(text[prevEnd:start], breakChars)
				prevEnd = end
				ntok := len(ix.toks) - int(di.tokOff)
				if ntok >= math.MaxUint16 {
					return
				}
				id, ok := termByte[string(lower)]
				if !ok {
					st := stem(string(lower))
					if id, ok = ix.terms[st]; !ok {
						id = uint32(len(ix.terms))
						ix.terms[st] = id
					}
					termByte[string(lower)] = id
				}
				t := tok{term: id, span: span{int32(start), int32(end)}, brk: brk, list: inSpans(lists, start)}
				ix.toks = append(ix.toks, t)
				k, seen := local[id]
				if !seen {
					k = len(accs)
					local[id] = k
					accs = append(accs, acc{})
					order = append(order, id)
				}
				a := &accs[k]
				a.tf[f] += t.weight()
				a.pos = append(a.pos, uint16(ntok))
			})
			di.fEnd[f] = uint16(len(ix.toks) - int(di.tokOff))
			prev := uint16(0)
			if f > 0 {
				prev = di.fEnd[f-1]
			}
			di.lens[f] = float32(di.fEnd[f] - prev)
			if di.lens[f] > 0 {
				sums[f] += float64(di.lens[f])
				counts[f]++
			}
		}
		docTerms[d] = append([]uint32(nil), order...)
		docAccs[d] = append([]acc(nil), accs...)
	}

	var avg [numFields]float32
	for f := range numFields {
		avg[f] = 1
		if counts[f] > 0 {
			avg[f] = float32(sums[f] / float64(counts[f]))
		}
	}
	ix.post = make([][]posting, len(ix.terms))
	df := make([]int32, len(ix.terms))
	for d := range ix.docs {
		for _, id := range docTerms[d] {
			df[id]++
		}
	}
	for id := range ix.post {
		ix.post[id] = make([]posting, 0, df[id])
	}
	for d := range ix.docs {
		di := &ix.docs[d]
		for f := range numFields {
			di.norm[f] = 1 - bm25B + bm25B*di.lens[f]/avg[f]
		}
		for k, id := range docTerms[d] {
			a := &docAccs[d][k]
			ix.post[id] = append(ix.post[id], posting{
				doc:    uint32(d),
				wtf:    di.weighted(a.tf),
				posOff: uint32(len(ix.pos)),
				posN:   uint32(len(a.pos)),
			})
			ix.pos = append(ix.pos, a.pos...)
		}
	}
	ix.stems = make([]string, len(ix.terms))
	for s, id := range ix.terms {
		ix.stems[id] = s
	}
	ix.idf = make([]float32, len(ix.terms))
	for id := range ix.idf {
		ix.idf[id] = idf(int(df[id]), n)
	}
	ix.idfSpecific = idf(max(1, n/10), n)
	ix.ids = slices.Sorted(maps.Keys(ix.byID))
	ix.scratch.New = func() any { return newScratch(n) }
	ix.sem = newSemanticVectors(opts.Semantic, ix)
	return ix
}

// Semantic reports whether embedding similarity is blended in: vectors
// were given for at least three candidate papers.
func (ix *Index) Semantic() bool { return ix.sem != nil }

// weighted combines per-field frequencies into one BM25F frequency.
func (di *docInfo) weighted(tf [numFields]float32) float32 {
	var w float32
	for f := range numFields {
		if tf[f] > 0 {
			w += fieldWeight[f] * tf[f] / di.norm[f]
		}
	}
	return w
}

// field returns the field of the doc-local token position p.
func (di *docInfo) field(p uint16) int {
	for f := range numFields {
		if p < di.fEnd[f] {
			return f
		}
	}
	return fieldAbstract
}

// idf is the BM25 inverse document frequency of a term in df of n papers.
func idf(df, n int) float32 {
	return float32(math.Log(1 + (float64(n)-float64(df)+0.5)/(float64(df)+0.5)))
}

// sat saturates a BM25F term frequency into [0, 1).
func sat(wtf float32) float32 {
	return wtf / (bm25K1 + wtf)
}

// Len returns the number of indexed papers.
func (ix *Index) Len() int { return len(ix.papers) }

// Paper returns the indexed paper with the given id, or nil.
func (ix *Index) Paper(id string) *model.Paper {
	if d, ok := ix.byID[id]; ok {
		return &ix.papers[d]
	}
	return nil
}

// IDs returns the ids of the indexed papers, sorted: the candidates a
// digest chooses from, so all of the sent history it needs to see. The
// slice is the index's own, sorted once in NewIndex (a preview reads it
// per subscriber); callers must not modify it.
func (ix *Index) IDs() []string { return ix.ids }

// termID returns the id of a stem, or -1 when no paper has it.
func (ix *Index) termID(stem string) int32 {
	if id, ok := ix.terms[stem]; ok {
		return int32(id)
	}
	return -1
}

// find returns the posting of term id in doc d, or nil.
func (ix *Index) find(id int32, d uint32) *posting {
	if id < 0 {
		return nil
	}
	ps := ix.post[id]
	lo, hi := 0, len(ps)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if ps[m].doc < d {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(ps) && ps[lo].doc == d {
		return &ps[lo]
	}
	return nil
}

// positions returns the doc-local token positions of a posting.
func (ix *Index) positions(p *posting) []uint16 {
	return ix.pos[p.posOff : p.posOff+p.posN]
}

// normTitle folds a title for matching: lower-case words joined by spaces.
func normTitle(s string) string {
	var b strings.Builder
	forEachWord(s, func(lower []byte, _, _ int) {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.Write(lower)
	})
	return b.String()
}

// boilerplate returns the sentences of an abstract that only say where
// code or data can be found ("Code is available at https://..."): they
// are not indexed, so "code" there does not match an interest in code.
func boilerplate(text string) []span {
	lower := strings.ToLower(text)
	if !strings.Contains(lower, "http") && !strings.Contains(lower, "www.") && !strings.Contains(lower, "github") &&
		!strings.Contains(lower, "available") && !strings.Contains(lower, "code") {
		return nil
	}
	var out []span
	start := 0
	for start < len(text) {
		end := len(text)
		if i := strings.Index(text[start:], ". "); i >= 0 {
			end = start + i + 1
		}
		sent := strings.ToLower(text[start:end])
		if len(lower) == len(text) {
			sent = lower[start:end] // no allocation when lower-casing kept the byte offsets
		}
		if strings.Contains(sent, "http") || strings.Contains(sent, "github") || strings.Contains(sent, "www.") ||
			strings.Contains(sent, "available at") ||
			(strings.Contains(sent, "code") && (strings.Contains(sent, "available") || strings.Contains(sent, "released") || strings.Contains(sent, "open-source") || strings.Contains(sent, "open source"))) {
			out = append(out, span{int32(start), int32(end)})
		}
		start = end + 1
	}
	return out
}

func inSpans(spans []span, at int) bool {
	return slices.ContainsFunc(spans, func(s span) bool { return int32(at) >= s.start && int32(at) < s.end })
}
