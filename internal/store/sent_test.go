package store

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// openSent opens a store in a temporary file with the given sent history
// written: subscriber id -> papers sent.
func openSent(t *testing.T, history map[uint64][]string) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "papermail.db"), Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	err = s.update(func(tx *bolt.Tx) error {
		for id, papers := range history {
			if err := putSent(tx, id, "2026-11-30", papers); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSentSetsAmongCandidates(t *testing.T) {
	long := "doi:10.1000/" + strings.Repeat("x", 80) // longer than the seek buffer
	history := map[uint64][]string{
		1:   {"2611.00001", "2611.00002", "2612.00010", "2612.00011", long},
		2:   {"2612.00010"},
		3:   {"2601.00001", "2601.00002", "2601.00003", "2601.00004", "2601.00005", "2601.00006", "2601.00007", "2601.00008", "2601.00009", "2601.00010", "2612.00050"},
		256: {"2612.00011"}, // shares all but the last byte of its key prefix with 1
	}
	s := openSent(t, history)
	tests := []struct {
		name       string
		ids        []uint64
		candidates []string
		want       map[uint64][]string
	}{
		{"no candidates", []uint64{1, 2}, nil, map[uint64][]string{}},
		{"no subscribers", nil, []string{"2612.00010"}, map[uint64][]string{}},
		{"only the candidates sent", []uint64{1, 2, 3, 4, 256}, []string{"2612.00010", "2612.00011", "2612.00012"},
			map[uint64][]string{1: {"2612.00010", "2612.00011"}, 2: {"2612.00010"}, 256: {"2612.00011"}}},
		{"unsorted with duplicates", []uint64{1}, []string{"2612.00011", "2611.00001", "2612.00011", "2699.00000"},
			map[uint64][]string{1: {"2611.00001", "2612.00011"}}},
		{"candidate before all history and after it", []uint64{3}, []string{"2500.00000", "2601.00005", "2612.00050", "2700.00000"},
			map[uint64][]string{3: {"2601.00005", "2612.00050"}}},
		{"a run of history longer than a step", []uint64{3}, []string{"2600.00000", "2612.00050"},
			map[uint64][]string{3: {"2612.00050"}}},
		{"a long id", []uint64{1, 2}, []string{long, "2612.00010"},
			map[uint64][]string{1: {long, "2612.00010"}, 2: {"2612.00010"}}},
		{"a subscriber without history", []uint64{4}, []string{"2612.00010"}, map[uint64][]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := slices.Clone(tt.candidates)
			got, err := s.SentSets(tt.ids, tt.candidates)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(before, tt.candidates) {
				t.Errorf("candidates changed: %q, was %q", tt.candidates, before)
			}
			checkSets(t, got, tt.want)
		})
	}
}

// TestSentSetsMatchesHistory compares SentSets with the whole history,
// filtered, over random histories and candidate sets.
func TestSentSetsMatchesHistory(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	paper := func() string { return fmt.Sprintf("26%02d.%05d", 1+rng.IntN(12), rng.IntN(400)) }
	history := map[uint64][]string{}
	var ids []uint64
	for id := uint64(1); id <= 60; id++ {
		ids = append(ids, id)
		for range rng.IntN(300) {
			history[id] = append(history[id], paper())
		}
	}
	s := openSent(t, history)
	for round := range 20 {
		candidates := make([]string, rng.IntN(600))
		for i := range candidates {
			candidates[i] = paper()
		}
		if round == 0 {
			// Every paper: the hits fill more than one chunk, with a
			// subscriber's hits across the end of one.
			candidates = candidates[:0]
			for m := 1; m <= 12; m++ {
				for n := range 400 {
					candidates = append(candidates, fmt.Sprintf("26%02d.%05d", m, n))
				}
			}
		}
		got, err := s.SentSets(ids, candidates)
		if err != nil {
			t.Fatal(err)
		}
		if hits := 0; round == 0 {
			for _, p := range got {
				hits += len(p)
			}
			if hits <= sentChunk {
				t.Fatalf("%d hits fit in one chunk", hits)
			}
		}
		want := map[uint64][]string{}
		for _, id := range ids {
			hist, err := s.SentHistory(id)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range candidates {
				if _, ok := hist[c]; ok && !slices.Contains(want[id], c) {
					want[id] = append(want[id], c)
				}
			}
		}
		t.Run(fmt.Sprint("round ", round), func(t *testing.T) { checkSets(t, got, want) })
	}
}

func checkSets(t *testing.T, got map[uint64]SentPapers, want map[uint64][]string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%d subscribers with sent candidates, want %d", len(got), len(want))
	}
	for id, papers := range want {
		w := slices.Sorted(slices.Values(papers))
		if !slices.Equal(got[id], w) {
			t.Errorf("subscriber %d: %q, want %q (sorted)", id, got[id], w)
		}
		for _, p := range w {
			if !got[id].Has(p) {
				t.Errorf("subscriber %d: Has(%q) is false", id, p)
			}
		}
		if got[id].Has("0000.00000") {
			t.Errorf("subscriber %d: Has a paper never sent", id)
		}
	}
	for id := range got {
		if _, ok := want[id]; !ok {
			t.Errorf("subscriber %d: %v, want none", id, got[id])
		}
	}
}
