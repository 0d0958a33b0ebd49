// Command wordnet derives papermail's compact English synonym table
// (internal/selection/wordnet.txt) from a WordNet 3.0 database, such as
// Debian's wordnet-base in /usr/share/wordnet:
//
//	go run ./scripts/wordnet [-dict /usr/share/wordnet] [-out internal/selection/wordnet.txt]
//
// Only what ranking needs is kept: for every single-word lemma, the other
// single-word lemmas of its most frequent senses (the first two senses
// that are tagged in WordNet's sense-tagged corpus, or the first sense when
// none is), the words derivationally related to it in those senses
// ("compose" and "composition"), the nouns an adjective pertains to
// ("musical", "music") and irregular inflections ("shrunk", "shrink").
// Every lemma with a sense in use is listed, with nothing to add if need
// be: ranking treats a listed word as everyday English rather than jargon.
// Direct hypernyms of a noun's first sense are listed apart, as broader
// terms. Rare senses are left out: they are most of WordNet's size and of
// its false synonyms.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// maxSynonyms and maxBroader bound one word's entry.
const (
	maxSynonyms = 10
	maxBroader  = 4
	maxSenses   = 2
)

type pointer struct {
	symbol string
	offset string
	pos    byte
	source int // 1-based word of the source synset, 0 for the synset
	target int // 1-based word of the target synset, 0 for the synset
}

type synset struct {
	words []string
	ptrs  []pointer
}

type entry struct {
	syn, broader []string
}

func main() {
	dict := flag.String("dict", "/usr/share/wordnet", "WordNet 3.0 dict folder")
	out := flag.String("out", "internal/selection/wordnet.txt", "table to write")
	flag.Parse()
	if err := run(*dict, *out); err != nil {
		fmt.Fprintln(os.Stderr, "wordnet:", err)
		os.Exit(1)
	}
}

func run(dict, out string) error {
	poses := []struct {
		name string
		pos  byte
	}{{"noun", 'n'}, {"verb", 'v'}, {"adj", 'a'}, {"adv", 'r'}}
	data := map[byte]map[string]*synset{}
	for _, p := range poses {
		m, err := readData(filepath.Join(dict, "data."+p.name))
		if err != nil {
			return err
		}
		data[p.pos] = m
	}
	// Adjective satellites live in data.adj too.
	data['s'] = data['a']
	common, err := commonWords(dict)
	if err != nil {
		return err
	}
	entries := map[string]*entry{}
	get := func(w string) *entry {
		e := entries[w]
		if e == nil {
			e = &entry{}
			entries[w] = e
		}
		return e
	}
	add := func(list *[]string, w, self string) {
		if w != self && single(w) && common[w] && !slices.Contains(*list, w) {
			*list = append(*list, w)
		}
	}
	for _, p := range poses {
		f, err := os.Open(filepath.Join(dict, "index."+p.name))
		if err != nil {
			return err
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if strings.HasPrefix(line, " ") {
				continue // licence header
			}
			lemma, offsets, tagged, ok := parseIndex(line)
			if !ok || !single(lemma) || !common[lemma] {
				continue
			}
			n := min(max(tagged, 1), maxSenses, len(offsets))
			for si, off := range offsets[:n] {
				ss := data[p.pos][off]
				if ss == nil {
					continue
				}
				me := slices.Index(ss.words, lemma) + 1
				if me == 0 {
					continue // the lemma is a proper noun here ("Teach")
				}
				e := get(lemma)
				for _, w := range ss.words {
					add(&e.syn, w, lemma)
				}
				for _, ptr := range ss.ptrs {
					switch {
					case (ptr.symbol == "+" || ptr.symbol == `\`) && ptr.source == me && ptr.target > 0:
						if t := data[ptr.pos][ptr.offset]; t != nil && ptr.target <= len(t.words) {
							add(&e.syn, t.words[ptr.target-1], lemma)
						}
					case (ptr.symbol == "@" || ptr.symbol == "@i") && p.pos == 'n' && si == 0:
						if t := data[ptr.pos][ptr.offset]; t != nil {
							for _, w := range t.words {
								add(&e.broader, w, lemma)
							}
						}
					}
				}
			}
		}
		f.Close()
		if err := sc.Err(); err != nil {
			return err
		}
	}
	for _, name := range []string{"noun.exc", "verb.exc", "adj.exc", "adv.exc"} {
		f, err := os.Open(filepath.Join(dict, name))
		if err != nil {
			return err
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fs := strings.Fields(sc.Text())
			if len(fs) < 2 || !single(fs[0]) {
				continue
			}
			e := get(fs[0])
			for _, base := range fs[1:] {
				add(&e.syn, base, fs[0])
			}
		}
		f.Close()
	}
	// Every everyday word is listed, with nothing when WordNet has nothing
	// to add: ranking treats listed words as plain English, not jargon.
	for w := range common {
		if single(w) {
			get(w)
		}
	}
	words := make([]string, 0, len(entries))
	for w := range entries {
		words = append(words, w)
	}
	sort.Strings(words)
	var b strings.Builder
	b.WriteString("# Derived from WordNet 3.0 by scripts/wordnet; see WORDNET-LICENSE.\n")
	b.WriteString("# word: synonyms and related forms of its frequent senses | broader terms\n")
	for _, w := range words {
		e := entries[w]
		b.WriteString(w)
		b.WriteString(":")
		for _, s := range e.syn[:min(len(e.syn), maxSynonyms)] {
			b.WriteString(" " + s)
		}
		if len(e.broader) > 0 {
			b.WriteString(" |")
			for _, s := range e.broader[:min(len(e.broader), maxBroader)] {
				b.WriteString(" " + s)
			}
		}
		b.WriteString("\n")
	}
	return os.WriteFile(out, []byte(b.String()), 0o644)
}

// commonWords returns the lemmas with at least one sense tagged in
// WordNet's sense-tagged corpus: words in everyday use, in a sense people
// use. Rarer words are neither keys nor synonyms.
func commonWords(dict string) (map[string]bool, error) {
	common := map[string]bool{}
	for _, name := range []string{"noun", "verb", "adj", "adv"} {
		f, err := os.Open(filepath.Join(dict, "index."+name))
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if lemma, _, tagged, ok := parseIndex(sc.Text()); ok && tagged > 0 {
				common[lemma] = true
			}
		}
		f.Close()
		if err := sc.Err(); err != nil {
			return nil, err
		}
	}
	return common, nil
}

// single reports whether w is one plain lower-case word.
func single(w string) bool {
	if len(w) < 2 {
		return false
	}
	for _, r := range w {
		if (r < 'a' || r > 'z') && r != '-' {
			return false
		}
	}
	return true
}

// parseIndex reads one index.<pos> line: lemma pos synset_cnt p_cnt
// [ptr_symbol...] sense_cnt tagsense_cnt synset_offset...
func parseIndex(line string) (lemma string, offsets []string, tagged int, ok bool) {
	fs := strings.Fields(line)
	if len(fs) < 6 {
		return "", nil, 0, false
	}
	cnt, err1 := strconv.Atoi(fs[2])
	pc, err2 := strconv.Atoi(fs[3])
	if err1 != nil || err2 != nil || len(fs) < 4+pc+2+cnt {
		return "", nil, 0, false
	}
	tagged, _ = strconv.Atoi(fs[4+pc+1])
	return fs[0], fs[4+pc+2 : 4+pc+2+cnt], tagged, true
}

// readData reads a data.<pos> file into synsets by offset.
func readData(path string) (map[string]*synset, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m := map[string]*synset{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, " ") {
			continue
		}
		if i := strings.Index(line, " | "); i >= 0 {
			line = line[:i]
		}
		fs := strings.Fields(line)
		if len(fs) < 4 {
			continue
		}
		wc, err := strconv.ParseInt(fs[3], 16, 32)
		if err != nil {
			return nil, fmt.Errorf("%s: synset %s: word count %q", path, fs[0], fs[3])
		}
		ss := &synset{}
		i := 4
		for range wc {
			w := fs[i] // proper nouns keep their capitals and are skipped
			if j := strings.IndexByte(w, '('); j > 0 {
				w = w[:j] // adjective markers: "big(a)"
			}
			ss.words = append(ss.words, w)
			i += 2
		}
		pc, _ := strconv.Atoi(fs[i])
		i++
		for range pc {
			if i+3 >= len(fs) {
				break
			}
			st := fs[i+3]
			src, _ := strconv.ParseInt(st[:2], 16, 32)
			tgt, _ := strconv.ParseInt(st[2:], 16, 32)
			ss.ptrs = append(ss.ptrs, pointer{symbol: fs[i], offset: fs[i+1], pos: fs[i+2][0], source: int(src), target: int(tgt)})
			i += 4
		}
		m[fs[0]] = ss
	}
	return m, sc.Err()
}
