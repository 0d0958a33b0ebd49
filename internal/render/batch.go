package render

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	htmltemplate "html/template"
	"io"
	"math/rand/v2"
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
// A fragment is kept under a sum of the whole view it was rendered from
// (128 bits, seeded per batch), so a paper that changed under its ID, or
// is matched otherwise, is rendered afresh; a Batch never shows one
// reader what was another's (cuts hold none of a reader's strings, see
// holes.go).
type Batch struct {
	e     *Engine
	seeds [2]maphash.Seed
	mu    sync.RWMutex
	frags map[key]*cut // holes none
	cuts  map[key]*cut // nil: rendered per reader
	// lines holds each piece of the cuts once: the items of one paper
	// differ in a few paragraphs (the highlights, why it matched).
	lines map[string]string
	// seen holds the heads and feet rendered once, cut when they come again.
	seen map[key]bool
	size int // bytes held in frags, cuts, lines and seen
}

// maxFragmentBytes bounds a Batch, counting each fragment's and line's
// text and about what holding it costs. The bench's run of 10k readers
// over 500 candidates has about 9,600 (paper, matched words) pairs.
const maxFragmentBytes = 16 << 20

// Overheads, about what holding a fragment, a cut, a piece of a cut, a
// line (a piece held once) and a seen key costs beyond its text (map
// entries, slices, headers).
const (
	fragmentOverhead = 64
	cutOverhead      = 128
	pieceOverhead    = 24
	lineOverhead     = 80
	seenOverhead     = 64
)

// Parts of a mail, as fragments are kept per part.
const (
	partText = iota
	partHTML
)

// sum names a view: two 64-bit maphash sums of it under the batch's seeds.
type sum [2]uint64

// key names a fragment or cut: template name of part on the view summed.
type key struct {
	view sum
	part int
	name string
}

// hasher sums a view.
type hasher struct{ a, b maphash.Hash }

func (b *Batch) hasher() *hasher {
	h := new(hasher)
	h.a.SetSeed(b.seeds[0])
	h.b.SetSeed(b.seeds[1])
	return h
}

// reset empties h for the next view, keeping its seeds.
func (h *hasher) reset() {
	h.a.Reset()
	h.b.Reset()
}

func (h *hasher) int(n int) {
	var x [8]byte
	binary.LittleEndian.PutUint64(x[:], uint64(n))
	h.a.Write(x[:])
	h.b.Write(x[:])
}

func (h *hasher) bool(b bool) {
	if b {
		h.int(1)
	} else {
		h.int(0)
	}
}

// str writes each of ss, length first.
func (h *hasher) str(ss ...string) {
	for _, s := range ss {
		h.int(len(s))
		h.a.WriteString(s)
		h.b.WriteString(s)
	}
}

func (h *hasher) sum() sum { return sum{h.a.Sum64(), h.b.Sum64()} }

// paper writes every field of p.
func (h *hasher) paper(p *Paper) {
	h.str(p.ID, p.Title, p.Link, p.Abstract, p.Authors, p.Signal, p.CodeURL, p.ProjectURL, p.ArxivID, p.AbsURL, p.PDFURL,
		p.Affiliations, p.Category, p.Venue, p.Published, p.TLDR, p.CiteURL)
}

// match writes every field of m beyond its Paper.
func (h *hasher) match(m *Match) {
	h.str(m.Interest, m.Like)
	h.int(m.Of)
	h.int(len(m.Matched))
	h.str(m.Matched...)
	h.segments(m.TitleParts, m.Title)
	h.segments(m.AbstractParts, m.Abstract)
	h.bool(m.Fallback)
}

// segments writes parts, a highlighted text: when their texts spell text
// (written with the Paper), only each one's length and Match.
func (h *hasher) segments(parts []Segment, text string) {
	h.int(len(parts))
	rest, spelled := text, true
	for _, s := range parts {
		if spelled = strings.HasPrefix(rest, s.Text); !spelled {
			break
		}
		rest = rest[len(s.Text):]
	}
	spelled = spelled && rest == ""
	h.bool(spelled)
	for _, s := range parts {
		if spelled {
			h.int(len(s.Text))
		} else {
			h.str(s.Text)
		}
		h.bool(s.Match)
	}
}

// shape writes fields with the reader's own characters (their holes)
// masked and returns the view's sum and the holes' values.
func (h *hasher) shape(fields []*string, kinds []holeKind) (sum, []string) {
	hs := holes(fields, kinds)
	vals := make([]string, len(hs))
	for i, sp := range hs {
		vals[i] = (*fields[sp.f])[sp.i:sp.j]
	}
	var buf [512]byte
	masked := shapeKey(buf[:0], fields, kinds, hs)
	h.a.Write(masked)
	h.b.Write(masked)
	return h.sum(), vals
}

// NewBatch starts a batch of digests rendered with e, such as one run's.
func (e *Engine) NewBatch() *Batch {
	return &Batch{e: e, seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}}
}

// Digest renders one reader's digest mail: a one-line subject, the
// plain-text part and the HTML part. The view is not changed.
func (b *Batch) Digest(v *DigestView) (subject, text, html string, err error) {
	if v == nil {
		return "", "", "", errors.New("render: digest view is nil")
	}
	return b.e.digest.render(b.prepare(v))
}

// itemHoles are the kinds of an Item's own strings, MoreURL and LessURL.
var itemHoles = []holeKind{holeToken, holeToken}

// prepare returns a copy of v whose papers render their fragments through
// b, each with its sums; with b nil, a digest rendered on its own.
func (b *Batch) prepare(v *DigestView) *DigestView {
	c := *v
	c.batch = b
	c.Papers = slices.Clone(v.Papers)
	var h *hasher
	if b != nil {
		h = b.hasher()
	}
	for i := range c.Papers {
		p := &c.Papers[i].Item
		p.batch, p.Of = b, len(c.Papers)
		if b == nil {
			continue
		}
		h.reset()
		h.paper(&p.Paper)
		p.psum = h.sum()
		h.match(&p.Match)
		p.msum = h.sum()
		h.str(p.Followed)
		links := []*string{&p.MoreURL, &p.LessURL}
		p.isum, p.vals = h.shape(links, itemHoles)
		h.reset()
		h.int(int(p.psum[0]))
		h.int(int(p.psum[1]))
		h.int(p.Of)
		h.str(p.Followed)
		p.ksum, _ = h.shape(links, itemHoles)
	}
	if b != nil {
		hd, f := c.head(), c.foot()
		h.reset()
		h.str("head", hd.DateLabel, hd.ListName, hd.Preheader, hd.BaseURL)
		h.int(hd.Count)
		h.bool(hd.Fallback)
		h.int(len(hd.Interests))
		h.str(hd.Interests...)
		c.hsum, c.hvals = h.shape(hd.own())
		h.reset()
		h.str("foot", f.DateLabel, f.ListName, f.BaseURL)
		c.fsum, c.fvals = h.shape(f.own())
	}
	return &c
}

// exec runs template name of part on data.
func (m *mailTemplates) exec(part int, name string, data any) (string, error) {
	buf := getBuf()
	defer putBuf(buf)
	if err := m.execTo(buf, part, name, data); err != nil {
		return "", err
	}
	return buf.String(), nil
}

// execTo runs template name of part on data into w.
func (m *mailTemplates) execTo(w io.Writer, part int, name string, data any) error {
	var err error
	if part == partHTML {
		err = m.html.ExecuteTemplate(w, name, data)
	} else {
		err = m.text.ExecuteTemplate(w, name, data)
	}
	if err != nil {
		return fmt.Errorf("render: %s: %w", m.origins[1+part], err)
	}
	return nil
}

// head writes template name of part run on v's Head to w.
func (m *mailTemplates) head(w *strings.Builder, part int, name string, v *DigestView) error {
	switch {
	case v == nil:
		return fmt.Errorf("render: template %q: no digest", name)
	case v.marks != nil:
		w.WriteString(v.marks.mark('h', name, 0))
		return nil
	}
	hd := v.head()
	fields, kinds := hd.own()
	return m.holed(w, part, name, v.batch, &hd, fields, kinds, v.hsum, v.hvals, false, nil)
}

// foot writes template name of part run on v's Foot to w.
func (m *mailTemplates) foot(w *strings.Builder, part int, name string, v *DigestView) error {
	switch {
	case v == nil:
		return fmt.Errorf("render: template %q: no digest", name)
	case v.marks != nil:
		w.WriteString(v.marks.mark('f', name, 0))
		return nil
	}
	f := v.foot()
	fields, kinds := f.own()
	return m.holed(w, part, name, v.batch, &f, fields, kinds, v.fsum, v.fvals, false, nil)
}

// item writes template name of part run on p's Item to w.
func (m *mailTemplates) item(w *strings.Builder, part int, name string, v *PaperView) error {
	switch {
	case v == nil:
		return fmt.Errorf("render: template %q: no paper", name)
	case v.marks != nil:
		w.WriteString(v.marks.mark('i', name, v.N-1))
		return nil
	}
	it := v.Item
	links := []*string{&it.MoreURL, &it.LessURL}
	if it.batch != nil && m.free[part][name] {
		return m.holed(w, part, name, it.batch, &it, links, itemHoles, it.ksum, it.vals, true, &it)
	}
	it.inItem, it.own = true, nil
	return m.holed(w, part, name, it.batch, &it, links, itemHoles, it.isum, it.vals, true, nil)
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

// holed writes to w template name of part run on data, a view whose strings fields
// are the reader's own (vals their holes), through b's cuts (see
// holes.go): once per shape of those strings and the view's other fields
// (summed in s), then per reader only joined. A shape is cut the first
// time it comes, from a render on sentinels checked against the render on
// the reader's own strings, which is the reader's part; unless first, only
// the second time (a head, whose key holds the reader's interests, mostly
// comes once). A Batch that is full renders per reader.
//
// With it, data's Item (an item template that is matchFree), the
// template's {{matched}} calls are holes too: marks in the sentinels'
// render, and per reader the fragments of the reader's Match, so s need
// not sum the Match.
func (m *mailTemplates) holed(w *strings.Builder, part int, name string, b *Batch, data any, fields []*string, kinds []holeKind, s sum, vals []string, first bool, it *Item) error {
	if b == nil {
		return m.execTo(w, part, name, data)
	}
	k := key{s, part, name}
	b.mu.RLock()
	c, ok := b.cuts[k]
	full := b.size > maxFragmentBytes-1<<14
	b.mu.RUnlock()
	switch {
	case c != nil:
		for i, p := range c.pieces {
			w.WriteString(p)
			switch g := c.gaps[i]; {
			case g.hole < 0:
			case int(g.hole) < len(vals):
				w.WriteString(g.show(vals))
			default:
				if err := m.writeFragment(w, part, c.calls[int(g.hole)-len(vals)], it); err != nil {
					return err
				}
			}
		}
		return nil
	case ok || full || !first && !b.saw(k):
		return m.execTo(w, part, name, data)
	}
	var own, marked *matchHoles
	if it != nil {
		own, marked = new(matchHoles), &matchHoles{marks: &marks{tag: strconv.FormatUint(rand.Uint64(), 36) + "_"}}
		it.holes = own
	}
	start := w.Len()
	if err := m.execTo(w, part, name, data); err != nil {
		return err
	}
	out := w.String()[start:] // the reader's part, not copied
	var err error
	hs := holes(fields, kinds)
	sent, outA := sentinel(fields, kinds, hs), out
	if len(hs) > 0 || it != nil {
		orig := make([]string, len(fields))
		for i, p := range fields {
			orig[i] = *p
		}
		for h := len(hs) - 1; h >= 0; h-- {
			f := fields[hs[h].f]
			*f = (*f)[:hs[h].i] + sent[h] + (*f)[hs[h].j:]
		}
		if it != nil {
			it.holes = marked
		}
		outA, err = m.exec(part, name, data)
		for i, p := range fields {
			*p = orig[i]
		}
	}
	switch {
	case err != nil:
	case it == nil:
		c = makeCut(outA, out, sent, vals)
	case slices.Equal(own.names, marked.names):
		c = makeCut(outA, out, append(sent, marked.outs...), append(slices.Clip(vals), own.outs...))
		if c != nil && slices.ContainsFunc(c.gaps, func(g gap) bool { return g.esc && int(g.hole) >= len(sent) }) {
			c = nil // a fragment placed where HTML is escaped
		}
		if c != nil {
			c.calls = own.names
		}
	}
	b.keep(k, c)
	return nil
}

// cut returns the cut b holds under k (nil for none, or a nil b).
func (b *Batch) cut(k key) *cut {
	if b == nil {
		return nil
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.cuts[k]
}

// saw reports whether k was seen before, and marks it seen.
func (b *Batch) saw(k key) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.seen[k] {
		return true
	}
	if b.seen == nil {
		b.seen = make(map[key]bool)
	}
	if b.size+seenOverhead <= maxFragmentBytes {
		b.seen[k] = true
		b.size += seenOverhead
	}
	return false
}

// keep holds c under k, each of its pieces once, if b has room for it.
func (b *Batch) keep(k key, c *cut) {
	cost := c.cost()
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.cuts[k]; ok || b.size+cost > maxFragmentBytes {
		return
	}
	if b.cuts == nil {
		b.cuts = make(map[key]*cut)
	}
	b.cuts[k] = c
	b.size += b.intern(c, cost)
}

// cost is about what holding c costs a Batch, its pieces not yet shared.
func (c *cut) cost() int {
	cost := cutOverhead
	if c != nil {
		for _, p := range c.pieces {
			cost += len(p) + pieceOverhead + lineOverhead
		}
	}
	return cost
}

// intern makes c (with b.mu held) show each piece that b holds already
// from b's copy and hold a copy of the others, and returns c's cost less
// what it shares.
func (b *Batch) intern(c *cut, cost int) int {
	if c == nil {
		return cost
	}
	if b.lines == nil {
		b.lines = make(map[string]string)
	}
	c.pieces, c.gaps = slices.Clone(c.pieces), slices.Clone(c.gaps) // no spare capacity
	for i, p := range c.pieces {
		if l, ok := b.lines[p]; ok {
			c.pieces[i] = l
			cost -= len(p) + lineOverhead
		} else {
			l = strings.Clone(p)
			b.lines[l], c.pieces[i] = l, l
		}
	}
	return cost
}

// fragment returns template name of part (text or HTML) run on p's Paper
// (matched false) or Match (matched true), from p's batch when it holds it.
func (m *mailTemplates) fragment(part int, name string, v any, matched bool) (string, error) {
	p := itemOf(v)
	if p == nil {
		return "", fmt.Errorf("render: template %q: no paper", name)
	}
	b := p.batch
	var data any = &p.Paper
	k := key{p.psum, part, name}
	if matched {
		data, k.view = &p.Match, p.msum
	}
	switch {
	case b == nil:
		return m.exec(part, name, data)
	case matched && p.holes != nil && p.holes.marks != nil:
		mark := p.holes.marks.mark('m', name, 0)
		p.holes.names, p.holes.outs = append(p.holes.names, name), append(p.holes.outs, mark)
		return mark, nil
	case matched && p.inItem:
		// The item's cut holds this; the renders of one call share it.
		if out, ok := p.own[k]; ok {
			return out, nil
		}
		out, err := m.exec(part, name, data)
		if err == nil {
			if p.own == nil {
				p.own = make(map[key]string)
			}
			p.own[k] = out
		}
		return out, err
	}
	var out string
	if c := b.frag(k); c != nil {
		var w strings.Builder
		c.write(&w, nil)
		out = w.String()
	} else {
		var err error
		if out, err = m.exec(part, name, data); err != nil {
			return "", err
		}
		b.hold(k, out)
	}
	if matched && p.holes != nil {
		p.holes.names, p.holes.outs = append(p.holes.names, name), append(p.holes.outs, out)
	}
	return out, nil
}

// writeFragment writes to w template name of part run on p's Match, from
// p's batch when it holds it.
func (m *mailTemplates) writeFragment(w *strings.Builder, part int, name string, p *Item) error {
	k := key{p.msum, part, name}
	if c := p.batch.frag(k); c != nil {
		c.write(w, nil)
		return nil
	}
	start := w.Len()
	if err := m.execTo(w, part, name, &p.Match); err != nil {
		return err
	}
	p.batch.hold(k, w.String()[start:])
	return nil
}

// frag returns the fragment b holds under k, nil for none.
func (b *Batch) frag(k key) *cut {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.frags[k]
}

// hold keeps out, a fragment, under k cut into its paragraphs (each held
// once), if b has room for it.
func (b *Batch) hold(k key, out string) {
	c := new(cut)
	c.add(out, gap{hole: -1})
	cost := c.cost()
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.frags[k]; ok || b.size+cost > maxFragmentBytes {
		return
	}
	if b.frags == nil {
		b.frags = make(map[key]*cut)
	}
	b.frags[k] = c
	b.size += b.intern(c, cost)
}

// partFuncs are the functions of the text (T textBlock) or HTML (T
// htmltemplate.HTML, which its templates have escaped) part that render
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
//
// and, in the HTML part, clean, which passes that HTML unchanged.
func partFuncs[T textBlock | htmltemplate.HTML](m *mailTemplates, part int) map[string]any {
	out := func(s string, err error) (T, error) { return T(s), err }
	built := func(run func(*strings.Builder) error) (T, error) {
		var b strings.Builder
		err := run(&b)
		return T(b.String()), err
	}
	return map[string]any{
		"shared":  func(name string, p any) (T, error) { return out(m.fragment(part, name, p, false)) },
		"matched": func(name string, p any) (T, error) { return out(m.fragment(part, name, p, true)) },
		"head": func(name string, v *DigestView) (T, error) {
			return built(func(w *strings.Builder) error { return m.head(w, part, name, v) })
		},
		"item": func(name string, p *PaperView) (T, error) {
			return built(func(w *strings.Builder) error { return m.item(w, part, name, p) })
		},
		"foot": func(name string, v *DigestView) (T, error) {
			return built(func(w *strings.Builder) error { return m.foot(w, part, name, v) })
		},
		"clean": func(v any) any {
			if h, ok := v.(htmltemplate.HTML); ok && part == partHTML {
				return h
			}
			return cleanValue(v)
		},
	}
}
