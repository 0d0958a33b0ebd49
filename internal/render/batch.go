package render

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	htmltemplate "html/template"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Batch renders the digests of one run. Most readers of a day share most
// papers (92% of a day's picks), and readers with one interest see a paper
// alike, so a Batch renders with the standard engines each paper's shared
// templates ({{shared}}: run on its Paper) once per paper, and its matched
// templates ({{matched}}: run on its Match) once per paper and interest;
// each reader's digest is then the digest template on those fragments and
// the parts that are the reader's own: the numbers, the feedback and
// subscription links, the greeting. A Batch is safe for concurrent use and
// holds at most maxFragmentBytes of fragments, so its memory does not grow
// with the run: once full it renders what it does not hold.
//
// A fragment is used only for a view equal to the one it was rendered
// from, so a paper that changed under its ID, or is matched otherwise, is
// rendered afresh; a Batch never shows one reader what was another's.
type Batch struct {
	e     *Engine
	seed  maphash.Seed
	mu    sync.RWMutex
	frags map[fragKey]fragment
	cuts  map[string]cutEntry
	// seen holds the hashes of shapes rendered once, cut when they come
	// again (a collision only cuts a shape early).
	seen map[uint64]struct{}
	size int // bytes held in frags, cuts and seen
}

// cutEntry is a head, item or foot rendered once for a shape of the
// reader's strings (see holes.go); cut nil means it is rendered per reader.
type cutEntry struct {
	view Match // an item's Match, to check it (the key holds its hash)
	cut  *cut
}

// maxFragmentBytes bounds a Batch, counting each fragment's text, its
// key and the view kept to check it. The bench's run of 10k readers over
// 500 candidates has about 9,600 (paper, matched words) pairs; at 24 MiB
// of text alone the batch was 17.5 MB of a 42.6 MB live heap near the end
// of the run (heap profile of 2026-12-03), so it keeps the first pairs to
// come, the most shared ones, up to this.
const maxFragmentBytes = 16 << 20

// fragmentOverhead is about what a fragment costs beyond its text and key
// strings: the map entry and the view kept to check it (a Match: some 25
// string and slice headers).
const fragmentOverhead = 512

// seenOverhead is about what a seen shape costs (its map entry).
const seenOverhead = 32

// Parts of a mail, as fragments are kept per part.
const (
	partText = iota
	partHTML
)

type fragKey struct {
	part     int
	name, id string
	// match hashes the Match beyond the Paper (0 for shared templates).
	match uint64
}

// fragment is one rendered template and the view it was rendered from.
type fragment struct {
	view Match
	out  string
}

// NewBatch starts a batch of digests rendered with e, such as one run's.
func (e *Engine) NewBatch() *Batch { return &Batch{e: e, seed: maphash.MakeSeed()} }

// Digest renders one reader's digest mail: a one-line subject, the
// plain-text part and the HTML part. The view is not changed.
func (b *Batch) Digest(v *DigestView) (subject, text, html string, err error) {
	if v == nil {
		return "", "", "", errors.New("render: digest view is nil")
	}
	return b.e.digest.render(b.prepare(v))
}

// prepare returns a copy of v whose papers render their fragments through
// b.
func (b *Batch) prepare(v *DigestView) *DigestView {
	c := *v
	c.batch = b
	c.Papers = slices.Clone(v.Papers)
	for i := range c.Papers {
		c.Papers[i].batch = b
		c.Papers[i].Of = len(c.Papers)
	}
	return &c
}

// hash sums what a Match holds beyond its Paper.
func (b *Batch) hash(m *Match) uint64 {
	var h maphash.Hash
	h.SetSeed(b.seed)
	h.WriteString(m.Interest)
	for _, w := range m.Matched {
		h.WriteByte(0)
		h.WriteString(w)
	}
	for _, parts := range [][]Segment{m.TitleParts, m.AbstractParts} {
		h.WriteByte(1)
		for _, s := range parts {
			if s.Match {
				h.WriteByte(2)
			}
			h.WriteString(s.Text)
			h.WriteByte(3)
		}
	}
	if m.Fallback {
		h.WriteByte(4)
	}
	h.WriteString(m.Like)
	var of [8]byte
	for i := range of {
		of[i] = byte(m.Of >> (8 * i))
	}
	h.Write(of[:])
	return h.Sum64()
}

// sameMatch reports whether two Matches show alike.
func sameMatch(a, b *Match) bool {
	return a.Paper == b.Paper && a.Interest == b.Interest && a.Fallback == b.Fallback && a.Of == b.Of && a.Like == b.Like &&
		slices.Equal(a.Matched, b.Matched) && slices.Equal(a.TitleParts, b.TitleParts) && slices.Equal(a.AbstractParts, b.AbstractParts)
}

// exec runs template name of part on data.
func (m *mailTemplates) exec(part int, name string, data any) (string, error) {
	buf := getBuf()
	defer putBuf(buf)
	var err error
	if part == partHTML {
		err = m.html.ExecuteTemplate(buf, name, data)
	} else {
		err = m.text.ExecuteTemplate(buf, name, data)
	}
	if err != nil {
		return "", fmt.Errorf("render: %s: %w", m.origins[1+part], err)
	}
	return buf.String(), nil
}

// head runs template name of part on v's Head.
func (m *mailTemplates) head(part int, name string, v *DigestView) (string, error) {
	if v == nil {
		return "", fmt.Errorf("render: template %q: no digest", name)
	}
	h := v.head()
	key := make([]byte, 0, 256)
	key = append(key, 'h')
	key = appendStrings(key, h.Interests...)
	key = appendStrings(key, h.DateLabel, strconv.Itoa(h.Count), strconv.FormatBool(h.Fallback), h.ListName, h.Preheader, h.BaseURL)
	return m.holed(part, name, v.batch, &h, []*string{&h.BrowserURL}, []holeKind{holeToken}, key, nil)
}

// foot runs template name of part on v's Foot.
func (m *mailTemplates) foot(part int, name string, v *DigestView) (string, error) {
	if v == nil {
		return "", fmt.Errorf("render: template %q: no digest", name)
	}
	f := v.foot()
	key := make([]byte, 0, 256)
	key = append(key, 'f')
	key = appendStrings(key, f.DateLabel, f.ListName, f.BaseURL)
	return m.holed(part, name, v.batch, &f, []*string{&f.Email, &f.PreferencesURL, &f.UnsubscribeURL, &f.FeedURL},
		[]holeKind{holeEmail, holeToken, holeToken, holeToken}, key, nil)
}

// item runs template name of part on p's Item.
func (m *mailTemplates) item(part int, name string, v *PaperView) (string, error) {
	if v == nil {
		return "", fmt.Errorf("render: template %q: no paper", name)
	}
	p := &v.Item
	it := *p
	b := p.batch
	var key []byte
	if b != nil {
		key = make([]byte, 0, 256)
		key = append(key, 'i')
		key = binary.LittleEndian.AppendUint64(key, b.hash(&it.Match))
		key = appendStrings(key, it.ID, it.Followed)
	}
	it.inItem, it.own = true, nil
	return m.holed(part, name, b, &it, []*string{&it.MoreURL, &it.LessURL}, []holeKind{holeToken, holeToken}, key, &it.Match)
}

// itemOf is the Item of a paper as templates pass it: a PaperView in the
// digest's range, an Item in an item template.
func itemOf(v any) *Item {
	switch p := v.(type) {
	case *PaperView:
		if p != nil {
			return &p.Item
		}
	case *Item:
		return p
	case PaperView:
		return &p.Item
	case Item:
		return &p
	}
	return nil
}

// appendStrings appends each of ss to key, length-prefixed.
func appendStrings(key []byte, ss ...string) []byte {
	key = strconv.AppendInt(key, int64(len(ss)), 10)
	for _, s := range ss {
		key = append(key, ';')
		key = strconv.AppendInt(key, int64(len(s)), 10)
		key = append(key, ':')
		key = append(key, s...)
	}
	return append(key, '|')
}

// holed runs template name of part on data, a view whose strings fields
// are the reader's own, through b's cuts (see holes.go): once per shape
// of those strings and key (the view's other fields), then per reader
// only joined. match, when not nil, is checked against the cut's (key
// holds its hash). A shape is cut the second time it comes (the first
// renders it for its reader, so a shape only one reader has costs one
// render); a Batch that is full renders per reader.
func (m *mailTemplates) holed(part int, name string, b *Batch, data any, fields []*string, kinds []holeKind, key []byte, match *Match) (string, error) {
	if b == nil {
		return m.exec(part, name, data)
	}
	hs := holes(fields, kinds)
	orig := make([]string, len(fields))
	for i, p := range fields {
		orig[i] = *p
	}
	vals := make([]string, len(hs))
	for h, sp := range hs {
		vals[h] = orig[sp.f][sp.i:sp.j]
	}
	key = append(key, byte('0'+part))
	key = append(key, name...)
	key = append(key, 0)
	key = shapeKey(key, fields, kinds, hs)
	b.mu.RLock()
	e, ok := b.cuts[string(key)]
	b.mu.RUnlock()
	if ok && (match == nil || sameMatch(&e.view, match)) {
		if e.cut == nil {
			return m.exec(part, name, data)
		}
		return e.cut.join(vals, nil), nil
	}
	seen := maphash.Bytes(b.seed, key)
	b.mu.Lock()
	full := b.size+len(key)+fragmentOverhead > maxFragmentBytes
	_, ok = b.seen[seen]
	first := !ok
	if first && !full {
		if b.seen == nil {
			b.seen = make(map[uint64]struct{})
		}
		b.seen[seen] = struct{}{}
		b.size += seenOverhead
	}
	b.mu.Unlock()
	if full || first {
		return m.exec(part, name, data)
	}
	var c *cut
	if len(hs) == 0 {
		out, err := m.exec(part, name, data)
		if err != nil {
			return "", err
		}
		c = &cut{pieces: []string{out}}
	} else {
		s := sentinelsFor(fields, kinds, hs)
		out1, err1 := m.exec(part, name, withHoles(data, fields, orig, hs, s.a))
		out2, err2 := m.exec(part, name, withHoles(data, fields, orig, hs, s.b))
		withHoles(data, fields, orig, hs, vals)
		if err1 == nil && err2 == nil {
			c = makeCut(out1, out2, s)
		}
	}
	if c != nil || len(hs) > 0 {
		ent := cutEntry{cut: c}
		if match != nil {
			ent.view = *match
		}
		cost := len(key) + fragmentOverhead
		if c != nil {
			cost += c.size()
		}
		b.mu.Lock()
		if b.cuts == nil {
			b.cuts = make(map[string]cutEntry)
		}
		if _, ok := b.cuts[string(key)]; !ok && b.size+cost <= maxFragmentBytes {
			b.cuts[string(key)] = ent
			b.size += cost
		}
		b.mu.Unlock()
	}
	if c == nil {
		return m.exec(part, name, data)
	}
	return c.join(vals, nil), nil
}

// withHoles sets fields to orig with the holes hs replaced by vals and
// returns data.
func withHoles(data any, fields []*string, orig []string, hs []span, vals []string) any {
	h := 0
	for f := range fields {
		s := orig[f]
		if h < len(hs) && hs[h].f == f {
			var b strings.Builder
			last := 0
			for ; h < len(hs) && hs[h].f == f; h++ {
				b.WriteString(s[last:hs[h].i])
				b.WriteString(vals[h])
				last = hs[h].j
			}
			b.WriteString(s[last:])
			s = b.String()
		}
		*fields[f] = s
	}
	return data
}

// fragment returns template name of part (text or HTML) run on p's Paper
// (matched false) or Match (matched true), from p's batch when it holds it.
func (m *mailTemplates) fragment(part int, name string, v any, matched bool) (string, error) {
	p := itemOf(v)
	if p == nil {
		return "", fmt.Errorf("render: template %q: no paper", name)
	}
	b := p.batch
	view := Match{Paper: p.Paper}
	var data any = &p.Paper
	if matched {
		view, data = p.Match, &p.Match
	}
	var key fragKey
	if b != nil {
		key = fragKey{part: part, name: name, id: p.ID}
		if matched {
			key.match = b.hash(&view)
		}
		if matched && p.inItem {
			// The item's cut holds this; the renders of one call share it.
			if out, ok := p.own[key]; ok {
				return out, nil
			}
			out, err := m.exec(part, name, data)
			if err == nil {
				if p.own == nil {
					p.own = make(map[fragKey]string)
				}
				p.own[key] = out
			}
			return out, err
		}
		b.mu.RLock()
		f, ok := b.frags[key]
		b.mu.RUnlock()
		if ok && sameMatch(&f.view, &view) {
			return f.out, nil
		}
	}
	out, err := m.exec(part, name, data)
	if err != nil {
		return "", err
	}
	if b != nil {
		b.mu.Lock()
		if b.frags == nil {
			b.frags = make(map[fragKey]fragment)
		}
		cost := len(out) + len(key.name) + len(key.id) + fragmentOverhead
		if _, ok := b.frags[key]; !ok && b.size+cost <= maxFragmentBytes {
			b.frags[key] = fragment{view: view, out: out}
			b.size += cost
		}
		b.mu.Unlock()
	}
	return out, nil
}

// textFuncs are the functions of the plain-text part that render
// fragments:
//
//	shared NAME PAPER    template NAME on the paper's Paper, once per paper
//	matched NAME PAPER   template NAME on the paper's Match, once per paper
//	                     and interest
//	item NAME PAPER      template NAME on the paper's Item, once per paper,
//	                     interest and shape of the reader's links
//	head NAME DIGEST     template NAME on the digest's Head, once per
//	                     interests and shape of the reader's links
//	foot NAME DIGEST     template NAME on the digest's Foot, once per shape
//	                     of the reader's address and links
func (m *mailTemplates) textFuncs() map[string]any {
	return map[string]any{
		"shared": func(name string, p any) (textBlock, error) {
			s, err := m.fragment(partText, name, p, false)
			return textBlock(s), err
		},
		"matched": func(name string, p any) (textBlock, error) {
			s, err := m.fragment(partText, name, p, true)
			return textBlock(s), err
		},
		"head": func(name string, v *DigestView) (textBlock, error) {
			s, err := m.head(partText, name, v)
			return textBlock(s), err
		},
		"item": func(name string, p *PaperView) (textBlock, error) {
			s, err := m.item(partText, name, p)
			return textBlock(s), err
		},
		"foot": func(name string, v *DigestView) (textBlock, error) {
			s, err := m.foot(partText, name, v)
			return textBlock(s), err
		},
	}
}

// htmlFuncs are shared and matched of the HTML part (as in the text part,
// giving HTML), and its clean, which passes that HTML unchanged: its
// templates have cleaned and escaped every value already.
func (m *mailTemplates) htmlFuncs() map[string]any {
	return map[string]any{
		"shared": func(name string, p any) (htmltemplate.HTML, error) {
			s, err := m.fragment(partHTML, name, p, false)
			return htmltemplate.HTML(s), err
		},
		"matched": func(name string, p any) (htmltemplate.HTML, error) {
			s, err := m.fragment(partHTML, name, p, true)
			return htmltemplate.HTML(s), err
		},
		"head": func(name string, v *DigestView) (htmltemplate.HTML, error) {
			s, err := m.head(partHTML, name, v)
			return htmltemplate.HTML(s), err
		},
		"item": func(name string, p *PaperView) (htmltemplate.HTML, error) {
			s, err := m.item(partHTML, name, p)
			return htmltemplate.HTML(s), err
		},
		"foot": func(name string, v *DigestView) (htmltemplate.HTML, error) {
			s, err := m.foot(partHTML, name, v)
			return htmltemplate.HTML(s), err
		},
		"clean": func(v any) any {
			if h, ok := v.(htmltemplate.HTML); ok {
				return h
			}
			return cleanValue(v)
		},
	}
}
