package selection

import (
	_ "embed"
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

var (
	wordnetOnce sync.Once
	wordnetMap  map[string]wordSense
)

// wordnet returns the table by stem, parsed on first use. Words of one
// stem ("picture", "pictures") share an entry; a word's own stem and stop
// words are left out of its lists.
func wordnet() map[string]wordSense {
	wordnetOnce.Do(func() {
		m := make(map[string]wordSense, 16000)
		for line := range strings.SplitSeq(wordnetTable, "\n") {
			if line == "" || line[0] == '#' {
				continue
			}
			w, rest, ok := strings.Cut(line, ":")
			if !ok || stopWords[w] {
				continue
			}
			key := stem(w)
			e := m[key]
			syn, broader, _ := strings.Cut(rest, "|")
			e.syn = addStems(e.syn, syn, key)
			e.broader = addStems(e.broader, broader, key)
			m[key] = e
		}
		wordnetMap = m
	})
	return wordnetMap
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
		dup := false
		for _, x := range list {
			if x == s {
				dup = true
				break
			}
		}
		if !dup {
			list = append(list, s)
		}
	}
	return list
}
