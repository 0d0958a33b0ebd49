package selection

import (
	_ "embed"
	"slices"
	"strings"
	"sync"
)

// wordnetTable is the synonym table derived from WordNet 3.0 by
// scripts/wordnet (licence: WORDNET-LICENSE): per everyday English word,
// the words of its frequent senses, its derivational and irregular forms,
// and after "|" broader terms.
//
//go:embed wordnet.txt
var wordnetTable string

// wordSense is what the table says about one stem: stems of synonyms and
// related forms, and stems of broader terms.
type wordSense struct {
	syn, broader []string
}

// wordnetLine is one line of the table by the stem of its word.
type wordnetLine struct {
	stem string
	at   uint32 // offset of the line's text after "word:"
}

// wordnetIndex lists the table's lines by stem, then by position; built on
// first use. The lines stay in the embedded table: an entry is read only
// when a reader's word asks for it.
var wordnetIndex = sync.OnceValue(func() []wordnetLine {
	out := make([]wordnetLine, 0, strings.Count(wordnetTable, "\n"))
	for at := 0; at < len(wordnetTable); {
		line, _, _ := strings.Cut(wordnetTable[at:], "\n")
		w, _, ok := strings.Cut(line, ":")
		if line != "" && line[0] != '#' && ok && !stopWords[w] {
			out = append(out, wordnetLine{stemUncached(w), uint32(at + len(w) + 1)})
		}
		at += len(line) + 1
	}
	slices.SortStableFunc(out, func(a, b wordnetLine) int { return strings.Compare(a.stem, b.stem) })
	return out
})

// wordnetLines returns the lines of the table whose word has stem key.
func wordnetLines(key string) []wordnetLine {
	idx := wordnetIndex()
	i, _ := slices.BinarySearchFunc(idx, key, func(l wordnetLine, k string) int { return strings.Compare(l.stem, k) })
	j := i
	for j < len(idx) && idx[j].stem == key {
		j++
	}
	return idx[i:j]
}

// inWordnet reports whether the table lists a word of stem key.
func inWordnet(key string) bool { return len(wordnetLines(key)) > 0 }

// wordnet returns what the table says about stem key. Words of one stem
// ("picture", "pictures") share an entry; a word's own stem and stop words
// are left out of its lists.
func wordnet(key string) wordSense {
	var e wordSense
	for _, l := range wordnetLines(key) {
		rest, _, _ := strings.Cut(wordnetTable[l.at:], "\n")
		syn, broader, _ := strings.Cut(rest, "|")
		e.syn = addStems(e.syn, syn, key)
		e.broader = addStems(e.broader, broader, key)
	}
	return e
}

func addStems(list []string, words, self string) []string {
	for _, w := range strings.Fields(words) {
		if stopWords[w] || queryNoise[w] {
			continue
		}
		s := stem(w)
		if s == self || len(s) < 3 {
			continue
		}
		if !slices.Contains(list, s) {
			list = append(list, s)
		}
	}
	return list
}
