package store

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// BenchmarkSentSets reads the sent-papers history of one batch of a run
// (1,000 subscribers) as the history stands after a month of daily
// digests: eight papers a day for the SentHistoryDays the prune keeps.
func BenchmarkSentSets(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "papermail.db"), Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const subs, days, perDay = 1000, 37, 8
	ids := make([]uint64, subs)
	err = s.update(func(tx *bolt.Tx) error {
		for i := range ids {
			ids[i] = uint64(i + 1)
			for d := range days {
				date := time.Date(2026, 11, 1+d, 0, 0, 0, 0, time.UTC).Format("2006-01-02")
				papers := make([]string, perDay)
				for p := range papers {
					papers[p] = fmt.Sprintf("2611.%05d", (d*97+p*13+i)%20000)
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
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.SentSets(ids); err != nil {
			b.Fatal(err)
		}
	}
}
