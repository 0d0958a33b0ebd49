package store

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"
)

// bucketFeeds holds one FeedHealth per feed URL. It is created on the
// first recorded fetch, so stores written before it exist read as "no
// fetch recorded yet".
var bucketFeeds = []byte("feeds")

// FeedHealth is what the store knows about one feed's fetches: the last
// attempt and its outcome, the last success, and how many attempts in a
// row have failed.
type FeedHealth struct {
	URL string `json:"url"`
	// LastAttempt is when the last fetch ended, whatever its outcome.
	LastAttempt time.Time `json:"last_attempt"`
	// Error is the last fetch's error; empty when it succeeded.
	Error string `json:"error,omitempty"`
	// LastSuccess is when a fetch last succeeded (zero: never).
	LastSuccess time.Time `json:"last_success,omitzero"`
	// Papers, Added and Updated are what the last successful fetch gave.
	Papers  int `json:"papers"`
	Added   int `json:"added"`
	Updated int `json:"updated"`
	// Failures counts the failed fetches since the last success.
	Failures int `json:"failures"`
}

// OK reports whether the last fetch succeeded.
func (h FeedHealth) OK() bool { return !h.LastAttempt.IsZero() && h.Error == "" }

// FeedFetch is the outcome of one fetch to record: Err nil for a success,
// with the counts of what it stored.
type FeedFetch struct {
	At                     time.Time
	Papers, Added, Updated int
	Err                    error
}

// RecordFeedFetch records one fetch of url and returns the feed's health
// after it.
func (s *Store) RecordFeedFetch(url string, f FeedFetch) (FeedHealth, error) {
	var h FeedHealth
	err := s.update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketFeeds)
		if err != nil {
			return err
		}
		if v := b.Get([]byte(url)); v != nil {
			if err := json.Unmarshal(v, &h); err != nil {
				return fmt.Errorf("feed %s record unreadable: %w", url, err)
			}
		}
		h.URL = url
		h.LastAttempt = f.At
		if f.Err != nil {
			h.Error = f.Err.Error()
			h.Failures++
		} else {
			h.Error, h.Failures = "", 0
			h.LastSuccess = f.At
			h.Papers, h.Added, h.Updated = f.Papers, f.Added, f.Updated
		}
		v, err := json.Marshal(h)
		if err != nil {
			return err
		}
		return b.Put([]byte(url), v)
	})
	if err != nil {
		return FeedHealth{}, fmt.Errorf("store: record fetch of %s: %w", url, err)
	}
	return h, nil
}

// FeedHealth returns the recorded health of one feed, or ErrNotFound when
// no fetch of it was recorded.
func (s *Store) FeedHealth(url string) (FeedHealth, error) {
	var h FeedHealth
	err := s.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketFeeds)
		var v []byte
		if b != nil {
			v = b.Get([]byte(url))
		}
		if v == nil {
			return fmt.Errorf("feed %s: %w", url, ErrNotFound)
		}
		return json.Unmarshal(v, &h)
	})
	return h, err
}

// FeedHealths returns every recorded feed's health, ordered by URL.
func (s *Store) FeedHealths() ([]FeedHealth, error) {
	var out []FeedHealth
	err := s.view(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketFeeds)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var h FeedHealth
			if err := json.Unmarshal(v, &h); err != nil {
				return fmt.Errorf("feed %s record unreadable: %w", k, err)
			}
			out = append(out, h)
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].URL < out[j].URL })
	return out, err
}
