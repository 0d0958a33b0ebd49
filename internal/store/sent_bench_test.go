package store

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// BenchmarkSentSets reads what one batch of a run (1,000 subscribers)
// must leave out of the day's 500 candidates, with the history as it
// stands after a month of daily digests: eight papers a day for the
// SentHistoryDays the prune keeps. Paper ids grow with the day they were
// announced, as arXiv's do; the candidates are the last week's papers
// and today's, and twenty older ones trending again.
func BenchmarkSentSets(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "papermail.db"), Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const subs, days, perDay, pool = 1000, 37, 8, 60
	paper := func(day, n int) string { return fmt.Sprintf("2611.%05d", day*pool+n) }
	ids := make([]uint64, subs)
	err = s.update(func(tx *bolt.Tx) error {
		for i := range ids {
			ids[i] = uint64(i + 1)
			for d := range days {
				date := time.Date(2026, 10, 27+d, 0, 0, 0, 0, time.UTC).Format("2006-01-02")
				papers := make([]string, perDay)
				for p := range papers {
					papers[p] = paper(d, (p*7+i)%pool)
				}
				if err := putSent(tx, ids[i], date, papers); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	var candidates []string
	for d := range 20 {
		candidates = append(candidates, paper(d*3/2, d%pool))
	}
	for d := days - 7; d <= days; d++ {
		for n := range pool {
			candidates = append(candidates, paper(d, n))
		}
	}
	if len(candidates) != 500 {
		b.Fatalf("%d candidates", len(candidates))
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.SentSets(ids, candidates); err != nil {
			b.Fatal(err)
		}
	}
}
