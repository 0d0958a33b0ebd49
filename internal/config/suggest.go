package config

import "strings"

// closest returns the candidate nearest to word (case-insensitive edit
// distance counting a swap of neighbours as one edit), or "" when none is
// close enough to be a plausible typo.
func closest(word string, candidates []string) string {
	w := strings.ToLower(word)
	best, bestDist := "", max(len(w)/3+1, 2)
	for _, c := range candidates {
		d := editDistance(w, strings.ToLower(c))
		if d < bestDist {
			best, bestDist = c, d
		}
	}
	if best == "" {
		// A longer or shorter spelling of a key ("timeout_seconds", "max_paper").
		for _, c := range candidates {
			lc := strings.ToLower(c)
			if len(lc) >= 4 && len(w) >= 4 && (strings.HasPrefix(w, lc) || strings.HasPrefix(lc, w)) {
				return c
			}
		}
	}
	return best
}

// editDistance is the optimal string alignment distance between a and b
// (insertions, deletions, substitutions and adjacent transpositions).
func editDistance(a, b string) int {
	if a == b {
		return 0
	}
	// Three rolling rows: two back, previous, current.
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
