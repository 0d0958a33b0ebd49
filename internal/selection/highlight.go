package selection

// Segment is a piece of text; Match marks a matched term.
type Segment struct {
	Text  string
	Match bool
}

// Highlight splits text into segments, marking whole-word occurrences of
// the matched words and phrases (as in Pick.Matched). Matching ignores
// case and word endings ("Segmentations" matches "segmentation") and the
// punctuation between a phrase's words ("Mixture-of-Experts" matches
// "mixture of experts"). Concatenating the segments gives text back.
func Highlight(text string, matched []string) []Segment {
	if text == "" {
		return nil
	}
	type phrase []string
	byFirst := make(map[string][]phrase, len(matched))
	for _, m := range matched {
		var p phrase
		content := false
		forEachWord(m, func(lower []byte, _, _ int) {
			w := string(lower)
			content = content || !stopWords[w]
			p = append(p, wordKey(w))
		})
		if len(p) > 0 && content {
			byFirst[p[0]] = append(byFirst[p[0]], p)
		}
	}
	if len(byFirst) == 0 {
		return []Segment{{Text: text}}
	}
	ws := words(text)
	keys := make([]string, len(ws))
	for i, w := range ws {
		keys[i] = wordKey(w.lower)
	}
	var out []Segment
	last := 0
	for i := 0; i < len(ws); {
		best := 0
		for _, p := range byFirst[keys[i]] {
			if len(p) > best && i+len(p) <= len(ws) && equalKeys(keys[i:i+len(p)], p) {
				best = len(p)
			}
		}
		if best == 0 {
			i++
			continue
		}
		start, end := ws[i].start, ws[i+best-1].end
		if start > last {
			out = append(out, Segment{Text: text[last:start]})
		}
		if n := len(out); n > 0 && out[n-1].Match && last == start {
			out[n-1].Text += text[start:end]
		} else {
			out = append(out, Segment{Text: text[start:end], Match: true})
		}
		last = end
		i += best
	}
	if last < len(text) {
		out = append(out, Segment{Text: text[last:]})
	}
	return out
}

// wordKey is what a word is compared by when highlighting: its stem, or
// the word itself for stop words.
func wordKey(lower string) string {
	if stopWords[lower] {
		return lower
	}
	return stem(lower)
}

func equalKeys(a []string, b []string) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
