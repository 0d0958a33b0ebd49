package selection

import "strings"

// listWeight is how much a mention inside an enumeration counts: "speech
// recognition" in "computer vision, speech recognition, information
// retrieval and more" is a passing mention, not the paper's topic.
const listWeight = 0.5

// listMaxWords is the most words a list item (a comma-separated segment)
// may have.
const listMaxWords = 4

// notItem are first words of a comma-separated segment that make it a
// clause of its own rather than an item of a list ("in this work, we
// ..."; "..., which ...").
var notItem = toSet(`we it this these they our its their which that who where when while in to for by
with as since because although though however thus hence then here there so but yet if unlike
despite compared based using given furthermore moreover additionally finally first second third
specifically overall notably importantly recently similarly therefore also instead meanwhile
consequently besides today`)

// listHeads are words after which the last words of a segment start a
// list: "challenges in [mechanistic interpretability], outlier feature
// suppression, and ...".
var listHeads = toSet(`in on of as for from including like such to across between among with`)

// listWord is a word of a clause searched for enumerations.
type listWord struct {
	start, end int32
	seg        int32 // comma-separated segment it is in
	coord      bool  // "and" or "or"
	head       bool  // one of listHeads
	notItem    bool  // one of notItem
}

// listItems returns the byte ranges of the items of enumerations in an
// abstract: runs of short comma-separated segments ending with one
// joined by "and" or "or" ("web search, news recommendation, and open
// domain question answering"), with the tail of the segment before the
// run when it follows a preposition ("fields of computer vision, ...").
func listItems(text string) []span {
	if strings.Count(text, ",") < 2 {
		return nil
	}
	var out []span
	var ws []listWord
	start := 0
	for i := 0; i <= len(text); i++ {
		if i < len(text) && !clauseEnd(text, i) {
			continue
		}
		if i > start && strings.Count(text[start:i], ",") >= 2 {
			ws = clauseWords(text, start, i, ws[:0])
			out = clauseItems(ws, out)
		}
		start = i + 1
	}
	return out
}

// clauseEnd reports whether text[i] ends a clause for list detection.
func clauseEnd(text string, i int) bool {
	switch text[i] {
	case ';', ':', '!', '?', '(', ')', '[', ']', '\n':
		return true
	case '.':
		return i+1 == len(text) || text[i+1] == ' '
	}
	return false
}

// clauseWords appends the words of text[from:to] to ws with the number
// of the comma-separated segment each is in.
func clauseWords(text string, from, to int, ws []listWord) []listWord {
	clause := text[from:to]
	sc := wordScanner{s: clause}
	seg, prev := int32(0), 0
	for {
		lower, start, end, ok := sc.next()
		if !ok {
			return ws
		}
		seg += int32(strings.Count(clause[prev:start], ","))
		prev = end
		ws = append(ws, listWord{
			start: int32(from + start), end: int32(from + end), seg: seg,
			coord: string(lower) == "and" || string(lower) == "or",
			head:  listHeads[string(lower)], notItem: notItem[string(lower)],
		})
	}
}

// clauseItems appends the list items among the words of one clause.
func clauseItems(ws []listWord, out []span) []span {
	if len(ws) == 0 {
		return out
	}
	// bounds[s] is the first word of segment s; bounds[last+1] = len(ws).
	last := int(ws[len(ws)-1].seg)
	if last < 2 {
		return out
	}
	bounds := make([]int, last+2)
	for i := range bounds {
		bounds[i] = len(ws)
	}
	for i := len(ws) - 1; i >= 0; i-- {
		bounds[ws[i].seg] = i
	}
	for s := last; s >= 0; s-- { // segments without words
		bounds[s] = min(bounds[s], bounds[s+1])
	}
	segment := func(s int) []listWord { return ws[bounds[s]:bounds[s+1]] }
	// The last segment joins the final item: "and X", "X and more".
	lw := segment(last)
	coord := -1
	for k := 0; k < len(lw) && k <= listMaxWords; k++ {
		if lw[k].coord {
			coord = k
			break
		}
	}
	if coord < 0 {
		return out
	}
	// Short segments right before it are items.
	first := last
	for first > 0 && isItem(segment(first-1)) {
		first--
	}
	run := last - first
	if run == 0 {
		return out
	}
	// The segment before the run may end with the first item.
	tail := false
	if first > 0 {
		sw := segment(first - 1)
		for k := len(sw) - 1; k >= 0 && len(sw)-1-k <= listMaxWords; k-- {
			if sw[k].head {
				if k+1 < len(sw) {
					out = append(out, span{sw[k+1].start, sw[len(sw)-1].end})
					tail = true
				}
				break
			}
		}
	}
	if run < 2 && !tail {
		return out // "A, B and C" needs three items
	}
	for s := first; s < last; s++ {
		sw := segment(s)
		out = append(out, span{sw[0].start, sw[len(sw)-1].end})
	}
	// The final item: the words before the coordinator, or up to
	// listMaxWords after it.
	if coord > 0 {
		out = append(out, span{lw[0].start, lw[coord-1].end})
	} else if len(lw) > 1 {
		end := min(len(lw), 1+listMaxWords)
		out = append(out, span{lw[1].start, lw[end-1].end})
	}
	return out
}

// isItem reports whether a segment's words can be a list item: a few
// words that do not start a clause.
func isItem(ws []listWord) bool {
	return len(ws) > 0 && len(ws) <= listMaxWords+1 && !ws[0].notItem
}
