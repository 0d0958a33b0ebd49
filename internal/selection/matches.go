package selection

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"unicode"
)

// maxNearby is the most nearby terms an interest that matches nothing is
// offered.
const maxNearby = 5

// InterestMatch is how one interest of a profile fares among the indexed
// papers.
type InterestMatch struct {
	// Interest is the interest as the reader wrote it.
	Interest string
	// Papers is how many indexed papers it matches above the relevance
	// floor, leaving out those the profile's Exclude reports.
	Papers int
	// Nearby holds, when Papers is zero, up to five terms that occur in
	// the indexed papers and are close to the interest's words: what the
	// papers call the concept, dictionary synonyms, spellings one or two
	// letters away and words the papers use with it. Empty when nothing
	// is close.
	Nearby []string
}

// Matches reports, for each interest of q's profile in order, how many
// indexed papers it matches (the profile's Exclude applied, as Select
// does) and, for an interest that matches none, nearby terms to rephrase
// it with. It is meant for previews and pages, not for every subscriber
// of a run: see MatchCounts.
func (ix *Index) Matches(q *Query) []InterestMatch {
	if q == nil {
		return nil
	}
	if q.ix != ix {
		q = ix.Compile(q.profile)
	}
	out := make([]InterestMatch, 0, len(q.profile.Interests))
	seen := map[string]bool{}
	for _, text := range q.profile.Interests {
		label := strings.Join(strings.Fields(text), " ")
		if label == "" || seen[strings.ToLower(label)] {
			continue
		}
		seen[strings.ToLower(label)] = true
		m := InterestMatch{Interest: label}
		if in := ix.interestFor(label); in != nil {
			for _, h := range in.hits {
				if h.v >= ix.floor && !ix.dup[h.doc] && (q.profile.Exclude == nil || !q.profile.Exclude(ix.papers[h.doc].ID)) {
					m.Papers++
				}
			}
		}
		if m.Papers == 0 {
			m.Nearby = ix.Nearby(label, maxNearby)
		}
		out = append(out, m)
	}
	return out
}

// MatchCounts returns, for each interest of q's profile that compiled (in
// the order of Interests, before examples), how many indexed papers it
// matches above the floor, exclusions not applied. Counts are kept with
// the compiled interest, so a run pays for each distinct interest once.
func (q *Query) MatchCounts() []int {
	out := make([]int, 0, len(q.parts))
	for _, p := range q.parts {
		if p.kind != kindText || p.weight != 1 {
			continue
		}
		out = append(out, q.ix.count(p.in))
	}
	return out
}

// count is how many papers in matches above the floor, cached.
func (ix *Index) count(in *interest) int {
	if c := in.count.Load(); c > 0 {
		return int(c - 1)
	}
	n := 0
	for _, h := range in.hits {
		if h.v >= ix.floor && !ix.dup[h.doc] {
			n++
		}
	}
	in.count.Store(int64(n + 1))
	return n
}

// nearbyCand is one candidate nearby term.
type nearbyCand struct {
	text  string
	stem  string
	score float64
}

// Nearby returns up to n terms of the indexed papers, as the papers write
// them, that are close to the words of interest: the lexicon's names for
// its concepts and related terms, dictionary synonyms of words no paper
// uses, and terms one or two letters from such a word (a typo). Closer
// and more used terms come first; none repeats a word of the interest.
func (ix *Index) Nearby(interest string, n int) []string {
	in := ix.interestFor(interest)
	ws, _ := queryStems(interest)
	if in == nil || n <= 0 {
		return nil
	}
	own := map[string]bool{}
	for _, w := range ws {
		own[w] = true
	}
	var cands []nearbyCand
	add := func(ids []int32, weight float64) {
		if len(ids) == 0 || slices.Contains(ids, -1) {
			return
		}
		allOwn, allGeneric := true, true
		for _, id := range ids {
			st := ix.stems[id]
			allOwn = allOwn && own[st]
			allGeneric = allGeneric && (genericWords[st] || noiseStems[st])
		}
		if allOwn || allGeneric {
			return
		}
		d, df, ok := ix.someDoc(ids)
		if !ok {
			return
		}
		text := cleanTerm(ix.surface(d, ids))
		if text == "" {
			return
		}
		cands = append(cands, nearbyCand{text: text, stem: stemsKey(ids, ix), score: weight * math.Log1p(float64(df))})
	}
	for _, s := range in.slots {
		// The reader's own word is its first alternative; when papers
		// use it, its dictionary synonyms suggest nothing better.
		ownPresent := len(s.alts) > 0 && s.alts[0].weight == 1 && !slices.Contains(s.alts[0].ids, -1)
		for _, a := range s.alts[1:] {
			if s.plain && ownPresent {
				continue
			}
			add(a.ids, float64(a.weight))
		}
	}
	// Spellings close to a word no paper has.
	for _, w := range ws {
		if ix.termID(w) >= 0 || len(w) < 4 || keyOnly[w] {
			continue
		}
		limit := 1
		if len(w) >= 8 {
			limit = 2
		}
		for id, st := range ix.stems {
			// A typo in an ending leaves the stemmer the word whole
			// ("decodng"): a stem it starts with counts too.
			suffixTypo := len(st) >= 5 && len(w)-len(st) <= 3 && strings.HasPrefix(w, st)
			if len(st) >= 3 && st[:2] == w[:2] && (suffixTypo || abs(len(st)-len(w)) <= limit && editDistance(st, w, limit) <= limit) {
				add([]int32{int32(id)}, 0.8)
			}
		}
	}
	slices.SortStableFunc(cands, func(a, b nearbyCand) int {
		return cmp.Or(cmp.Compare(b.score, a.score), strings.Compare(a.text, b.text))
	})
	var out []string
	seen := map[string]bool{}
	for _, c := range cands {
		if seen[c.stem] || seen[c.text] {
			continue
		}
		seen[c.stem], seen[c.text] = true, true
		out = append(out, c.text)
		if len(out) == n {
			break
		}
	}
	return out
}

// someDoc returns a paper containing the phrase ids and how many do.
func (ix *Index) someDoc(ids []int32) (uint32, int, bool) {
	if len(ids) == 1 {
		post := ix.post[ids[0]]
		if len(post) == 0 {
			return 0, 0, false
		}
		return post[0].doc, len(post), true
	}
	rare := ids[0]
	for _, id := range ids[1:] {
		if len(ix.post[id]) < len(ix.post[rare]) {
			rare = id
		}
	}
	var first uint32
	df := 0
	for _, p := range ix.post[rare] {
		if ix.phraseWTF(p.doc, ids) > 0 {
			if df == 0 {
				first = p.doc
			}
			df++
		}
	}
	return first, df, df > 0
}

// cleanTerm lower-cases a term as a paper writes it and keeps only its
// words: "Student' network" is "student network".
func cleanTerm(s string) string {
	f := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '-'
	})
	return strings.Join(f, " ")
}

func stemsKey(ids []int32, ix *Index) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = ix.stems[id]
	}
	return strings.Join(parts, " ")
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// editDistance is the Levenshtein distance of a and b, or limit+1 once it
// exceeds limit.
func editDistance(a, b string, limit int) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		best := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			best = min(best, cur[j])
		}
		if best > limit {
			return limit + 1
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
