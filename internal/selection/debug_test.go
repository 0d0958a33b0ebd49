package selection

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

func TestDebugQueries(t *testing.T) {
	qs := os.Getenv("DEBUG_Q")
	if qs == "" {
		t.Skip()
	}
	date := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	ix := NewIndex(loadPage(t, date), Options{Now: date})
	for _, q := range strings.Split(qs, "|") {
		picks := ix.Select(ix.Compile(Profile{Interests: ParseInterests(q)}), 10)
		t.Logf("== %s (%d)", q, len(picks))
		for _, p := range picks {
			m := p.Matched
			if len(m) > 5 {
				m = m[:5]
			}
			t.Logf("   %.3f %-70.70s %q", p.Relevance, p.Paper.Title, m)
		}
	}
}

func TestDebugSlots(t *testing.T) {
	qs := os.Getenv("DEBUG_S")
	if qs == "" {
		t.Skip()
	}
	date := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	ix := NewIndex(loadPage(t, date), Options{Now: date})
	for _, q := range strings.Split(qs, "|") {
		ws := stems(q, true)
		in := ix.compileInterest(ws)
		t.Logf("== %s %v hits=%d", q, ws, len(in.hits))
		for _, s := range in.slots {
			var keys []string
			for i, a := range s.alts {
				if i < 6 {
					keys = append(keys, fmt.Sprintf("%s(%.2f)", a.key, a.weight))
				}
			}
			t.Logf("   imp=%.2f alts=%d %v", s.imp, len(s.alts), keys)
		}
	}
}

func TestDebugDoc(t *testing.T) {
	q, doc := os.Getenv("DEBUG_DQ"), os.Getenv("DEBUG_DOC")
	if q == "" {
		t.Skip()
	}
	date := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	ix := NewIndex(loadPage(t, date), Options{Now: date})
	in := ix.compileInterest(stems(q, true))
	for d := range ix.papers {
		if !strings.Contains(ix.papers[d].Title, doc) {
			continue
		}
		t.Logf("doc %s", ix.papers[d].Title)
		for _, s := range in.slots {
			t.Logf("  slot imp=%.2f first=%s", s.imp, s.alts[0].key)
			for _, a := range s.alts {
				if v, whole := ix.value(&a, uint32(d)); v > 0 {
					t.Logf("     %-40s w=%.2f v=%.3f whole=%v", a.key, a.weight, v, whole)
				}
			}
		}
		for _, h := range in.hits {
			if h.doc == uint32(d) {
				t.Logf("  rel=%.3f", h.v)
			}
		}
	}
}
