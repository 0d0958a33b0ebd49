package store

import (
	"encoding/json"
	"sort"
	"strings"

	bolt "go.etcd.io/bbolt"

	"github.com/papermail/papermail/internal/model"
)

// bucketCategories holds every category a stored paper has named, as the
// key, with the number of papers that named it when they were stored (a
// paper stored again is not counted again).
var bucketCategories = []byte("categories")

// maxCategoryLen bounds a recorded category name; longer ones are noise.
const maxCategoryLen = 64

// CategoryCount is one category the store has seen and how many stored
// papers named it.
type CategoryCount struct {
	Name   string
	Papers int
}

// Categories returns the categories the stored papers have named, most
// used first, then by name.
func (s *Store) Categories() ([]CategoryCount, error) {
	var out []CategoryCount
	err := s.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketCategories)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			out = append(out, CategoryCount{Name: string(k), Papers: int(btoi(v))})
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool {
		if out[i].Papers != out[j].Papers {
			return out[i].Papers > out[j].Papers
		}
		return out[i].Name < out[j].Name
	})
	return out, err
}

// countCategories records the categories of a paper stored for the first
// time.
func countCategories(b *bolt.Bucket, p *model.Paper) error {
	for _, c := range p.Categories {
		c = strings.TrimSpace(c)
		if c == "" || len(c) > maxCategoryLen {
			continue
		}
		var n uint64
		if v := b.Get([]byte(c)); len(v) == 8 {
			n = btoi(v)
		}
		if err := b.Put([]byte(c), u64(n+1)); err != nil {
			return err
		}
	}
	return nil
}

// backfillCategories fills a new categories bucket from the stored papers
// (a store made before categories were recorded).
func backfillCategories(tx *bolt.Tx) error {
	b := tx.Bucket(bucketCategories)
	return tx.Bucket(bucketPapers).ForEach(func(_, v []byte) error {
		var p struct {
			Categories []string `json:"categories"`
		}
		if json.Unmarshal(v, &p) != nil {
			return nil // an unreadable paper is reported where it is read
		}
		return countCategories(b, &model.Paper{Categories: p.Categories})
	})
}
