package web

import (
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/papermail/papermail/internal/selection"
)

// A preview ranks every candidate paper for the typed interests: tens to
// hundreds of milliseconds of CPU. The same interests get the same answer
// from a small cache for a few minutes, and each client may have only so
// many previews computed per minute (see previewRate), so distinct
// queries cannot be used to keep the server busy.
const (
	// previewCacheSize is how many distinct interest lists are kept.
	previewCacheSize = 256
	// previewCacheTTL is how long an answer is reused: new papers show
	// up in a preview at most this late.
	previewCacheTTL = 5 * time.Minute
	// previewRatePerSubscribe is how many previews a client may have
	// computed per subscribe post it may make (http.subscribe_rate; 0
	// turns both limits off): typing, previewing and refining come
	// before one subscribe.
	previewRatePerSubscribe = 4
)

// previewCache holds recent previews by interest list.
type previewCache struct {
	mu      sync.Mutex
	entries map[string]previewEntry
}

type previewEntry struct {
	picks []selection.Pick
	at    time.Time
}

// previewKey identifies an interest list: the parsed interests, in order,
// case-folded.
func previewKey(interests []string) string {
	return strings.ToLower(strings.Join(interests, "\x00"))
}

// profileKey identifies a preview profile: its interests and, after a
// separator no interest holds, its followed authors.
func profileKey(p selection.Profile) string {
	key := previewKey(p.Interests)
	if len(p.Authors) > 0 {
		key += "\x01" + strings.ToLower(strings.Join(p.Authors, "\x00"))
	}
	return key
}

func (c *previewCache) get(key string, now time.Time) ([]selection.Pick, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || now.Sub(e.at) >= previewCacheTTL || now.Before(e.at) {
		return nil, false
	}
	return e.picks, true
}

func (c *previewCache) put(key string, picks []selection.Pick, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = make(map[string]previewEntry)
	}
	if len(c.entries) >= previewCacheSize {
		// Drop what expired, else the oldest entry.
		oldest, at := "", now
		for k, e := range c.entries {
			if now.Sub(e.at) >= previewCacheTTL {
				delete(c.entries, k)
			} else if e.at.Before(at) {
				oldest, at = k, e.at
			}
		}
		if len(c.entries) >= previewCacheSize {
			delete(c.entries, oldest)
		}
	}
	c.entries[key] = previewEntry{picks: picks, at: now}
}

// previewPicks is the preview for a profile of interests and followed
// authors: from the cache, or computed when the client may have one more
// computed (ok false when not).
func (s *Server) previewPicks(r *http.Request, prof selection.Profile) (picks []selection.Pick, ok bool, err error) {
	key, now := profileKey(prof), s.Now()
	if picks, hit := s.previews.get(key, now); hit {
		return picks, true, nil
	}
	if !s.previewLimiter.allow(limitKey(s.clientIP(r)), now) {
		return nil, false, nil
	}
	picks, err = s.Runner.Preview(prof, previewLimit, now)
	if err == nil {
		s.previews.put(key, picks, now)
	}
	return picks, true, err
}
