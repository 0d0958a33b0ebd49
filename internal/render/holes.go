package render

import (
	htmltemplate "html/template"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"text/template/parse"
)

// A run's readers share most of what their digests show; what is only
// theirs is a handful of strings: their address and their signed links. A
// Batch renders a template that shows such strings (the head, each paper's
// item, the foot) once per shape of them and cuts the output where they
// went, so each reader's part is the cut pieces joined around their own
// strings: no template runs for a reader whose shape was seen.
//
// The reader's own characters ("holes") are, in a signed link, every run
// of at least minToken URL-safe base64 characters (the token) and, in an
// address, its letters and digits. The shape is the string with those
// characters masked; readers whose strings have one shape share a render.
// The first reader of a shape costs two runs: one with random sentinels
// in the holes, whose output is cut at the sentinels (as they are, or as
// html/template escapes them in text, which an address with "+" or "&"
// needs), so no piece holds a reader's string; and the reader's own, which
// is their part, and the cut is used only when the pieces joined around
// the reader's strings give that part exactly. That holds
// when the template shows the strings whole, escaped alike character by
// character, and decides nothing on their letters; a template that cuts,
// reorders or tests them fails the check and renders for every reader on
// the reader's own strings, as without a Batch.

// minToken is the shortest run of URL-safe base64 characters taken as a
// signed token (papermail's are 44 characters and more).
const minToken = 16

// holeKind says which characters of a reader string are the reader's own.
type holeKind uint8

const (
	holeToken holeKind = iota // runs of at least minToken of [A-Za-z0-9_-]
	holeEmail                 // letters and digits of a plain address
)

// inB64 marks the characters of b64.
var inB64 = func() (set [256]bool) {
	for i := range len(b64) {
		set[b64[i]] = true
	}
	return set
}()

func isB64(c byte) bool { return inB64[c] }

func isAlnum(c byte) bool { return inB64[c] && c != '-' && c != '_' }

// span is one hole: field f of the view, bytes [i, j).
type span struct{ f, i, j int }

// holes finds the holes of fields.
func holes(fields []*string, kinds []holeKind) []span {
	var out []span
	for f, p := range fields {
		s := *p
		if kinds[f] == holeEmail {
			// Only an address of a single line of printable ASCII: its
			// other characters stay in the shape.
			if len(s) >= 3 && strings.IndexByte(s, '@') > 0 && printable(s) {
				out = append(out, span{f, 0, len(s)})
			}
			continue
		}
		for i := 0; i < len(s); {
			if !isB64(s[i]) {
				i++
				continue
			}
			j := i
			for j < len(s) && isB64(s[j]) {
				j++
			}
			if j-i >= minToken {
				out = append(out, span{f, i, j})
			}
			i = j
		}
	}
	return out
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// cut is a rendered template cut at the holes and where a paragraph
// starts (after a blank line, before a line opening an HTML element), so
// a Batch holds a paragraph that many cuts show once: the pieces in
// order, each followed by its gap. A nil cut means the template does not
// show the holes as they are; it is run for every reader.
type cut struct {
	pieces []string
	gaps   []gap
	// calls, in an item's cut, name the {{matched}} templates whose
	// fragments fill the holes past the reader's strings, in order.
	calls []string
}

// gap is what follows a piece: hole (-1 for none) as it is or, esc, as
// html/template escapes it in text.
type gap struct {
	hole int32
	esc  bool
}

// escText is html/template escaping a string in text (and quoted
// attribute) context: the form an address with "+", "&" or quotes takes in
// the HTML part.
var escText = htmltemplate.Must(htmltemplate.New("esc").Parse("{{.}}"))

func escapeText(s string) string {
	var b strings.Builder
	if err := escText.Execute(&b, s); err != nil {
		return "\x00" // never found in an output: the check fails
	}
	return b.String()
}

// needsEscape reports whether html/template changes s in text context.
func needsEscape(s string) bool { return strings.ContainsAny(s, "\x00\"&'+<>") }

// makeCut cuts outA (the template run with the sentinels sent in the
// holes) and checks the cut against out (run with the reader's own vals).
func makeCut(outA, out string, sent, vals []string) *cut {
	type find struct {
		at, n int
		gap   gap
	}
	var finds []find
	for h := range sent {
		forms := []string{sent[h]}
		if needsEscape(sent[h]) {
			forms = append(forms, escapeText(sent[h]))
		}
		for e, form := range forms {
			for off := 0; ; {
				i := strings.Index(outA[off:], form)
				if i < 0 {
					break
				}
				finds = append(finds, find{off + i, len(form), gap{int32(h), e == 1}})
				off += i + len(form)
			}
		}
	}
	if len(finds) == 0 && len(sent) > 0 {
		return nil
	}
	// Order by position; overlapping finds cannot be cut.
	slices.SortFunc(finds, func(a, b find) int { return a.at - b.at })
	c := &cut{}
	last := 0
	for _, f := range finds {
		if f.at < last {
			return nil
		}
		c.add(outA[last:f.at], f.gap)
		last = f.at + f.n
	}
	c.add(outA[last:], gap{hole: -1})
	if !c.gives(out, vals) {
		return nil
	}
	return c
}

// add appends piece, followed by g, cut where paragraphs start.
func (c *cut) add(piece string, g gap) {
	for i := 0; i < len(piece)-1; i++ {
		if piece[i] == '\n' && (piece[i+1] == '\n' || piece[i+1] == '<') {
			c.pieces = append(c.pieces, piece[:i+1])
			c.gaps = append(c.gaps, gap{hole: -1})
			piece, i = piece[i+1:], -1
		}
	}
	c.pieces = append(c.pieces, piece)
	c.gaps = append(c.gaps, g)
}

// gives reports whether c joined around vals is out.
func (c *cut) gives(out string, vals []string) bool {
	for i, p := range c.pieces {
		if !strings.HasPrefix(out, p) {
			return false
		}
		out = out[len(p):]
		if g := c.gaps[i]; g.hole >= 0 {
			v := g.show(vals)
			if !strings.HasPrefix(out, v) {
				return false
			}
			out = out[len(v):]
		}
	}
	return out == ""
}

// write writes c joined around vals (raw hole strings) to b.
func (c *cut) write(b *strings.Builder, vals []string) {
	for i, p := range c.pieces {
		b.WriteString(p)
		if g := c.gaps[i]; g.hole >= 0 {
			b.WriteString(g.show(vals))
		}
	}
}

// show is what g, a hole, shows of vals.
func (g gap) show(vals []string) string {
	if g.esc && needsEscape(vals[g.hole]) {
		return escapeText(vals[g.hole])
	}
	return vals[g.hole]
}

// b64 is the alphabet of tokens.
const b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// sentinel fills the holes hs of the masked fields at random. Token
// sentinels hold "-" and "_" as tokens do, so a template (or an escaper)
// that treats those apart from letters fails the check.
func sentinel(fields []*string, kinds []holeKind, hs []span) []string {
	vals := make([]string, len(hs))
	for h, sp := range hs {
		v := []byte((*fields[sp.f])[sp.i:sp.j])
		for k := range v {
			switch {
			case kinds[sp.f] == holeEmail:
				if isAlnum(v[k]) {
					v[k] = b64[rand.IntN(62)]
				}
			case k == 1:
				v[k] = '-'
			case k == 2:
				v[k] = '_'
			default:
				v[k] = b64[rand.IntN(64)]
			}
		}
		vals[h] = string(v)
	}
	return vals
}

// shapeKey appends to key the fields with their holes masked, each
// length-prefixed.
func shapeKey(key []byte, fields []*string, kinds []holeKind, hs []span) []byte {
	h := 0
	for f, p := range fields {
		s := *p
		key = strconv.AppendInt(key, int64(len(s)), 10)
		key = append(key, ':')
		start := len(key)
		key = append(key, s...)
		for ; h < len(hs) && hs[h].f == f; h++ {
			for k := hs[h].i; k < hs[h].j; k++ {
				if kinds[f] == holeToken || isAlnum(s[k]) {
					key[start+k] = 'x'
				}
			}
		}
	}
	return key
}

// A digest template whose own tree only lays out its head, its papers'
// items after their numbers and its foot (skeletal) gives an output that
// depends on nothing but the number of papers and what those calls give.
// It is run once per number of papers with marks standing for the calls
// (a skeleton), and each digest is the skeleton's pieces joined around
// its reader's head, items and foot: no template runs for the digest
// itself. The skeleton is cut from a run with one set of marks and used
// only when it gives the run with a second set exactly.

// skeletal reports whether the tree below n holds only text,
// {{range .Papers}}, and in it {{.N}}, {{printf FORMAT .N}} and
// {{item NAME .}}, and outside it {{head NAME .}} and {{foot NAME .}}
// (each maybe ending in the clean guard adds).
func skeletal(n parse.Node, inRange bool) bool {
	switch n := n.(type) {
	case *parse.TextNode:
		return true
	case *parse.ListNode:
		for _, c := range n.Nodes {
			if !skeletal(c, inRange) {
				return false
			}
		}
		return true
	case *parse.RangeNode:
		return !inRange && len(n.Pipe.Decl) == 0 && len(n.Pipe.Cmds) == 1 && isField(n.Pipe.Cmds[0].Args, "Papers") &&
			skeletal(n.List, true) && (n.ElseList == nil || skeletal(n.ElseList, false))
	case *parse.ActionNode:
		cmds := n.Pipe.Cmds
		if len(cmds) == 2 && len(cmds[1].Args) == 1 && cmds[1].Args[0].String() == "clean" {
			cmds = cmds[:1]
		}
		if len(n.Pipe.Decl) > 0 || len(cmds) != 1 {
			return false
		}
		args := cmds[0].Args
		if inRange && isField(args, "N") {
			return true
		}
		if len(args) != 3 {
			return false
		}
		_, str := args[1].(*parse.StringNode)
		_, dot := args[2].(*parse.DotNode)
		switch args[0].String() {
		case "head", "foot":
			return !inRange && str && dot
		case "item":
			return inRange && str && dot
		case "printf":
			return inRange && str && isField(args[2:], "N")
		}
	}
	return false
}

// isField reports whether args is the one field .name.
func isField(args []parse.Node, name string) bool {
	f, ok := args[0].(*parse.FieldNode)
	return len(args) == 1 && ok && len(f.Ident) == 1 && f.Ident[0] == name
}

// marks stand for the head, item and foot calls of a skeleton run: markup,
// so that a mark shows as it is only where the HTML of a call does.
type marks struct {
	tag   string
	calls []call
	all   []string // the marks given, in order
}

// call is one head ('h'), item ('i', of paper) or foot ('f') call.
type call struct {
	kind  byte
	name  string
	paper int
}

func (ms *marks) mark(kind byte, name string, paper int) string {
	ms.calls = append(ms.calls, call{kind, name, paper})
	ms.all = append(ms.all, "<b>"+ms.tag+strconv.Itoa(len(ms.calls)-1)+"</b>")
	return ms.all[len(ms.all)-1]
}

// skeleton is a digest template run with marks, cut at them: a cut whose
// holes are its calls.
type skeleton struct {
	*cut
	calls []call
}

// skeleton returns the skeleton of part for digests with as many papers
// as v, nil when v is none, its papers are not numbered from 1, the part
// is not skeletal or its runs disagree.
func (m *mailTemplates) skeleton(part int, v *DigestView) *skeleton {
	if v == nil || !m.skeletal[part] {
		return nil
	}
	for i := range v.Papers {
		if v.Papers[i].N != i+1 {
			return nil
		}
	}
	n := len(v.Papers)
	k := [2]int{part, n}
	if sk, ok := m.skeletons.Load(k); ok {
		return sk.(*skeleton)
	}
	var runs [2]string
	var ms [2]marks
	ok := true
	for r := range runs {
		ms[r].tag = strconv.FormatUint(rand.Uint64(), 36) + "_"
		marked := &DigestView{marks: &ms[r], Papers: make([]PaperView, n)}
		for i := range marked.Papers {
			marked.Papers[i].N, marked.Papers[i].marks = i+1, &ms[r]
		}
		var b strings.Builder
		ok = ok && m.run(1+part, &b, marked) == nil
		runs[r] = b.String()
	}
	var sk *skeleton
	if ok && slices.Equal(ms[0].calls, ms[1].calls) {
		c := makeCut(runs[0], runs[1], ms[0].all, ms[1].all)
		if c != nil && !slices.ContainsFunc(c.gaps, func(g gap) bool { return g.esc }) {
			sk = &skeleton{c, ms[0].calls}
		}
	}
	m.skeletons.Store(k, sk)
	return sk
}

// fill writes the digest v to w: the pieces of sk and v's own calls.
func (m *mailTemplates) fill(w *strings.Builder, part int, sk *skeleton, v *DigestView) error {
	for i, p := range sk.pieces {
		w.WriteString(p)
		if sk.gaps[i].hole < 0 {
			continue
		}
		c := sk.calls[sk.gaps[i].hole]
		var err error
		switch c.kind {
		case 'i':
			err = m.item(w, part, c.name, &v.Papers[c.paper])
		case 'h':
			err = m.head(w, part, c.name, v)
		default:
			err = m.foot(w, part, c.name, v)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// An item template (the text or HTML of one paper in a digest) sees the
// reader's Match: the words that matched, why the paper is here. When it
// shows the Match only through whole {{matched "NAME" .}} actions
// (matchFree), its output is the same for every reader of the paper whose
// links have one shape, but for those actions' fragments: a Batch cuts it
// once per paper and shape with the matched calls as holes too (marks in
// the sentinels' render), and each reader's item is the pieces joined
// around the reader's links and the fragments of the reader's Match,
// which the Batch renders once per paper and interest.

// matchHoles record the {{matched}} calls of an item render that a Batch
// cuts: with marks, each call gives a mark (the sentinels' render); else
// the fragment, kept in outs (the reader's own).
type matchHoles struct {
	marks *marks
	names []string
	outs  []string
}

// itemNames are the fields and methods an item template may name and stay
// matchFree: those of the Paper, the Item's own and the number of papers.
var itemNames = func() map[string]bool {
	names := map[string]bool{"Paper": true, "Of": true, "MoreURL": true, "LessURL": true, "Followed": true}
	for _, t := range []reflect.Type{reflect.TypeFor[Paper](), reflect.TypeFor[*Paper]()} {
		if t.Kind() == reflect.Struct {
			for i := range t.NumField() {
				names[t.Field(i).Name] = true
			}
		}
		for i := range t.NumMethod() {
			names[t.Method(i).Name] = true
		}
	}
	return names
}()

// matchFree reports whether the template below n, run on an Item, shows
// the Item's Match only through whole {{matched "NAME" .}} actions: it
// names no other field or method than itemNames, passes the Item itself
// (dot or $) to nothing but matched and shared, and neither tests nor
// passes on what matched gives. dot says whether dot is the Item.
func matchFree(n parse.Node, dot bool) bool {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return true
		}
		for _, c := range n.Nodes {
			if !matchFree(c, dot) {
				return false
			}
		}
		return true
	case *parse.TextNode, *parse.CommentNode, *parse.BreakNode, *parse.ContinueNode:
		return true
	case *parse.ActionNode:
		if c := n.Pipe.Cmds; len(n.Pipe.Decl) == 0 && len(c) == 1 && len(c[0].Args) == 3 && c[0].Args[0].String() == "matched" {
			_, str := c[0].Args[1].(*parse.StringNode)
			_, isDot := c[0].Args[2].(*parse.DotNode)
			return dot && str && isDot
		}
		return freePipe(n.Pipe, dot)
	case *parse.IfNode:
		return freePipe(n.Pipe, dot) && matchFree(n.List, dot) && matchFree(n.ElseList, dot)
	case *parse.WithNode:
		return freePipe(n.Pipe, dot) && matchFree(n.List, false) && matchFree(n.ElseList, dot)
	case *parse.RangeNode:
		return freePipe(n.Pipe, dot) && matchFree(n.List, false) && matchFree(n.ElseList, dot)
	case *parse.TemplateNode:
		return n.Pipe == nil || freePipe(n.Pipe, dot)
	}
	return false
}

// freePipe is matchFree for a pipeline.
func freePipe(p *parse.PipeNode, dot bool) bool {
	if p == nil {
		return true
	}
	for _, c := range p.Cmds {
		for i, a := range c.Args {
			if !freeArg(a, dot, c.Args[0].String() == "shared" && i == 2 && len(c.Args) == 3) {
				return false
			}
		}
	}
	return true
}

// freeArg is matchFree for one argument; toShared says it is the paper
// passed to shared.
func freeArg(a parse.Node, dot, toShared bool) bool {
	switch a := a.(type) {
	case *parse.DotNode:
		return !dot || toShared
	case *parse.FieldNode:
		return !dot || itemNames[a.Ident[0]]
	case *parse.VariableNode:
		return a.Ident[0] != "$" || len(a.Ident) > 1 && itemNames[a.Ident[1]]
	case *parse.ChainNode:
		return freeArg(a.Node, dot, false)
	case *parse.PipeNode:
		return freePipe(a, dot)
	case *parse.IdentifierNode:
		return a.Ident != "matched"
	}
	return true
}
