package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/papermail/papermail/internal/model"
)

// PutResult counts what PutPapers did.
type PutResult struct {
	Added, Updated, Unchanged int
}

// PutPapers stores papers in one transaction: all of them or, on error,
// none. A paper whose ID exists is merged into the stored one (new values
// win where the source gives them; the first-seen time is kept), so
// re-ingesting never duplicates.
func (s *Store) PutPapers(papers []model.Paper, now time.Time) (PutResult, error) {
	for i := range papers {
		if papers[i].ID == "" {
			return PutResult{}, fmt.Errorf("paper %d (%q) has no id", i+1, papers[i].Title)
		}
	}
	// bbolt keeps a transaction's new keys of a leaf in one sorted slice:
	// inserting in key order appends instead of shifting, which makes a
	// large ingest linear instead of quadratic. The stable sort keeps the
	// later of two entries with one id later.
	order := make([]int, len(papers))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return papers[order[a]].ID < papers[order[b]].ID })

	var res PutResult
	err := s.update(func(tx *bolt.Tx) error {
		res = PutResult{}
		pb, db, cb := tx.Bucket(bucketPapers), tx.Bucket(bucketPaperDates), tx.Bucket(bucketCategories)
		if len(papers) > 1000 {
			pb.FillPercent, db.FillPercent = 0.9, 0.9
		}
		// The date index is written after the papers, in key order too;
		// dateOf holds each touched paper's final date key.
		dateOf := make(map[string][]byte, len(papers))
		for _, i := range order {
			p := papers[i]
			key := []byte(p.ID)
			var buf []byte
			var err error
			if old := pb.Get(key); old != nil {
				var prev model.Paper
				if err := json.Unmarshal(old, &prev); err != nil {
					return fmt.Errorf("stored paper %s is unreadable: %w", p.ID, err)
				}
				merged := mergePaper(prev, p, now)
				if buf, err = json.Marshal(&merged); err != nil {
					return err
				}
				if bytes.Equal(buf, old) {
					res.Unchanged++
					continue
				}
				if _, seen := dateOf[p.ID]; !seen {
					if err := db.Delete(dateKey(prev.Date(), prev.ID)); err != nil {
						return err
					}
					res.Updated++
				}
				dateOf[p.ID] = dateKey(merged.Date(), merged.ID)
			} else {
				if p.Ingested.IsZero() {
					p.Ingested = now
				}
				p.Updated = now
				if buf, err = json.Marshal(&p); err != nil {
					return err
				}
				dateOf[p.ID] = dateKey(p.Date(), p.ID)
				if err := countCategories(cb, &p); err != nil {
					return err
				}
				res.Added++
			}
			if err := pb.Put(key, buf); err != nil {
				return err
			}
		}
		keys := make([][]byte, 0, len(dateOf))
		for _, k := range dateOf {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(a, b int) bool { return bytes.Compare(keys[a], keys[b]) < 0 })
		for _, k := range keys {
			if err := db.Put(k, nil); err != nil {
				return err
			}
		}
		return nil
	})
	return res, err
}

// mergePaper folds a fresh copy of a paper into the stored one.
func mergePaper(old, nw model.Paper, now time.Time) model.Paper {
	m := old
	setS := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	setS(&m.Title, nw.Title)
	setS(&m.Abstract, nw.Abstract)
	setS(&m.AISummary, nw.AISummary)
	setS(&m.URL, nw.URL)
	setS(&m.GitHubRepo, nw.GitHubRepo)
	setS(&m.ProjectPage, nw.ProjectPage)
	setS(&m.Thumbnail, nw.Thumbnail)
	setS(&m.PDFURL, nw.PDFURL)
	setS(&m.DOI, nw.DOI)
	setS(&m.Venue, nw.Venue)
	setS(&m.PrimaryCategory, nw.PrimaryCategory)
	setS(&m.Source, nw.Source)
	if len(nw.Affiliations) > 0 {
		m.Affiliations = nw.Affiliations
	}
	if len(nw.Authors) > 0 {
		m.Authors = nw.Authors
	}
	if len(nw.Categories) > 0 {
		m.Categories = nw.Categories
	}
	if len(nw.Keywords) > 0 {
		m.Keywords = nw.Keywords
	}
	// Counters from a source that reports them replace the stored ones.
	if nw.Upvotes != 0 || nw.Source == "hf" {
		m.Upvotes = nw.Upvotes
	}
	if nw.Comments != 0 || nw.Source == "hf" {
		m.Comments = nw.Comments
	}
	if nw.Clicks > m.Clicks {
		m.Clicks = nw.Clicks
	}
	if !nw.Published.IsZero() {
		m.Published = nw.Published
	}
	if !nw.TrendingAt.IsZero() {
		m.TrendingAt = nw.TrendingAt
	}
	if m.Ingested.IsZero() {
		m.Ingested = nw.Ingested
	}
	if m.Ingested.IsZero() {
		m.Ingested = now
	}
	m.Updated = old.Updated
	if !samePaper(old, m) {
		m.Updated = now
	}
	return m
}

func samePaper(a, b model.Paper) bool {
	x, _ := json.Marshal(&a)
	y, _ := json.Marshal(&b)
	return bytes.Equal(x, y)
}

func dateKey(t time.Time, id string) []byte {
	k := make([]byte, 8, 8+len(id))
	binary.BigEndian.PutUint64(k, uint64(t.Unix()))
	return append(k, id...)
}

// Paper returns one paper by id.
func (s *Store) Paper(id string) (model.Paper, error) {
	var p model.Paper
	err := s.view(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketPapers).Get([]byte(id))
		if v == nil {
			return fmt.Errorf("paper %s: %w", id, ErrNotFound)
		}
		return json.Unmarshal(v, &p)
	})
	return p, err
}

// PapersSince returns the papers dated at or after since, oldest first.
func (s *Store) PapersSince(since time.Time) ([]model.Paper, error) {
	var out []model.Paper
	err := s.view(func(tx *bolt.Tx) error {
		pb := tx.Bucket(bucketPapers)
		c := tx.Bucket(bucketPaperDates).Cursor()
		start := make([]byte, 8)
		binary.BigEndian.PutUint64(start, uint64(max(since.Unix(), 0)))
		for k, _ := c.Seek(start); k != nil; k, _ = c.Next() {
			v := pb.Get(k[8:])
			if v == nil {
				continue
			}
			var p model.Paper
			if err := json.Unmarshal(v, &p); err != nil {
				return fmt.Errorf("paper %s: %w", k[8:], err)
			}
			out = append(out, p)
		}
		return nil
	})
	return out, err
}

// ForEachPaper calls fn for every paper in id order.
func (s *Store) ForEachPaper(fn func(*model.Paper) error) error {
	return s.view(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketPapers).ForEach(func(k, v []byte) error {
			var p model.Paper
			if err := json.Unmarshal(v, &p); err != nil {
				return fmt.Errorf("paper %s: %w", k, err)
			}
			return fn(&p)
		})
	})
}

// CountPapers returns how many papers are stored.
func (s *Store) CountPapers() (int, error) {
	n := 0
	err := s.view(func(tx *bolt.Tx) error {
		// The date index holds one key per paper on pages some 30 times
		// fewer than the papers': counting it does not read (and map)
		// every paper of the store.
		n = tx.Bucket(bucketPaperDates).Stats().KeyN
		return nil
	})
	return n, err
}

// AddClick counts one anonymous click on a paper's link.
func (s *Store) AddClick(id string) error {
	return s.batch(func(tx *bolt.Tx) error {
		pb := tx.Bucket(bucketPapers)
		v := pb.Get([]byte(id))
		if v == nil {
			return fmt.Errorf("paper %s: %w", id, ErrNotFound)
		}
		var p model.Paper
		if err := json.Unmarshal(v, &p); err != nil {
			return err
		}
		p.Clicks++
		buf, err := json.Marshal(&p)
		if err != nil {
			return err
		}
		return pb.Put([]byte(id), buf)
	})
}
