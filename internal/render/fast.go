package render

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/template/parse"
)

// This file holds a compiled executor for the mail templates. The standard
// engines evaluate every function call and field through reflection and
// re-check types at each step, which costs about a millisecond per digest;
// the compiled form resolves variables and functions once, caches field
// positions per type and writes escaped output straight into the buffer.
//
// It runs the very parse trees the standard engines run — for HTML the
// trees html/template has already escaped, with its escaper calls in
// place — and covers the subset of template semantics the mail templates
// use. Anything outside that subset is refused when compiling, and any
// value it does not handle exactly like the standard engine while running
// (a typed HTML string, a nil, a method, an error) makes it give up with
// errFallback, after which the caller executes the standard template. So
// the output is always the standard engine's; tests compare the two.

// errFallback asks the caller to render with the standard engine.
var errFallback = errors.New("render: compiled template cannot handle this; use the standard engine")

var (
	stringType    = reflect.TypeFor[string]()
	textBlockType = reflect.TypeFor[textBlock]()
	errorType     = reflect.TypeFor[error]()
	missingType   = reflect.TypeFor[missing]()
	missingVal    = reflect.ValueOf(missing{})
)

// missing marks an absent final pipeline argument.
type missing struct{}

func isMissing(v reflect.Value) bool { return v.IsValid() && v.Type() == missingType }

type (
	// op executes a piece of template.
	op func(s *fstate, dot reflect.Value) error
	// expr evaluates a command given the previous command's result.
	expr func(s *fstate, dot, final reflect.Value) (reflect.Value, error)
)

// fstate is one execution.
type fstate struct {
	w     *bytes.Buffer
	vars  []reflect.Value
	args  []reflect.Value // arguments of the calls under way, a stack
	base  int
	depth int
	// strs and blocks hold function results, so that wrapping them in a
	// reflect.Value does not allocate one by one.
	strs   []string
	blocks []textBlock
}

var statePool = sync.Pool{New: func() any { return new(fstate) }}

// str returns x as an (addressable) reflect.Value.
func (s *fstate) str(x string) reflect.Value {
	if len(s.strs) == cap(s.strs) {
		s.strs = make([]string, 0, 32)
	}
	s.strs = append(s.strs, x)
	return reflect.ValueOf(&s.strs[len(s.strs)-1]).Elem()
}

// block returns x as an (addressable) reflect.Value.
func (s *fstate) block(x textBlock) reflect.Value {
	if len(s.blocks) == cap(s.blocks) {
		s.blocks = make([]textBlock, 0, 32)
	}
	s.blocks = append(s.blocks, x)
	return reflect.ValueOf(&s.blocks[len(s.blocks)-1]).Elem()
}

// fastProg is a compiled template set, entered at one template.
type fastProg struct {
	html   bool
	lookup func(name string) *parse.Tree
	funcs  map[string]any
	tmpls  map[string]*fastTmpl
	entry  *fastTmpl
}

// fastTmpl is one compiled template: its body and how many variable slots
// a call needs.
type fastTmpl struct {
	body  op
	slots int
}

// compileFast compiles the template named entry of a set; lookup returns
// the (escaped, for HTML) tree of a template by name.
func compileFast(entry string, html bool, lookup func(string) *parse.Tree) (p *fastProg, err error) {
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, fmt.Errorf("render: compile %s: %v", entry, r)
		}
	}()
	p = &fastProg{html: html, lookup: lookup, funcs: funcs, tmpls: map[string]*fastTmpl{}}
	if p.entry, err = p.template(entry); err != nil {
		return nil, err
	}
	return p, nil
}

// execute runs the program into w. On errFallback w may hold partial
// output the caller must discard.
func (p *fastProg) execute(w *bytes.Buffer, data any) (err error) {
	defer func() {
		if recover() != nil {
			err = errFallback
		}
	}()
	s := statePool.Get().(*fstate)
	defer func() {
		clear(s.vars[:cap(s.vars)])
		clear(s.args[:cap(s.args)])
		clear(s.strs[:cap(s.strs)])
		clear(s.blocks[:cap(s.blocks)])
		*s = fstate{vars: s.vars[:0], args: s.args[:0], strs: s.strs[:0], blocks: s.blocks[:0]}
		statePool.Put(s)
	}()
	s.w = w
	s.vars = append(s.vars[:0], make([]reflect.Value, p.entry.slots)...)
	dot := reflect.ValueOf(data)
	s.vars[0] = dot
	return p.entry.body(s, dot)
}

// compiler holds the variables in scope while compiling one template.
type compiler struct {
	p     *fastProg
	names []string
	slots int
}

func (p *fastProg) template(name string) (*fastTmpl, error) {
	if t, ok := p.tmpls[name]; ok {
		return t, nil
	}
	tree := p.lookup(name)
	if tree == nil || tree.Root == nil {
		return nil, fmt.Errorf("render: compile: no template %q", name)
	}
	t := &fastTmpl{}
	p.tmpls[name] = t // before compiling, for recursive calls
	c := &compiler{p: p, names: []string{"$"}, slots: 1}
	body, err := c.list(tree.Root)
	if err != nil {
		return nil, err
	}
	t.body, t.slots = body, c.slots
	return t, nil
}

func (c *compiler) push(name string) int {
	c.names = append(c.names, name)
	c.slots = max(c.slots, len(c.names))
	return len(c.names) - 1
}

func (c *compiler) slot(name string) (int, error) {
	for i := len(c.names) - 1; i >= 0; i-- {
		if c.names[i] == name {
			return i, nil
		}
	}
	return 0, fmt.Errorf("render: compile: undefined variable %s", name)
}

func unsupported(n parse.Node) error {
	return fmt.Errorf("render: compile: unsupported %T %s", n, n)
}

func (c *compiler) list(l *parse.ListNode) (op, error) {
	if l == nil {
		return func(*fstate, reflect.Value) error { return nil }, nil
	}
	ops := make([]op, 0, len(l.Nodes))
	for _, n := range l.Nodes {
		o, err := c.node(n)
		if err != nil {
			return nil, err
		}
		if o != nil {
			ops = append(ops, o)
		}
	}
	if len(ops) == 1 {
		return ops[0], nil
	}
	return func(s *fstate, dot reflect.Value) error {
		for _, o := range ops {
			if err := o(s, dot); err != nil {
				return err
			}
		}
		return nil
	}, nil
}

func (c *compiler) node(n parse.Node) (op, error) {
	switch n := n.(type) {
	case *parse.TextNode:
		text := n.Text
		return func(s *fstate, _ reflect.Value) error { s.w.Write(text); return nil }, nil
	case *parse.CommentNode:
		return nil, nil
	case *parse.ActionNode:
		return c.action(n)
	case *parse.IfNode:
		return c.branch(&n.BranchNode, false)
	case *parse.WithNode:
		return c.branch(&n.BranchNode, true)
	case *parse.RangeNode:
		return c.rangeNode(n)
	case *parse.TemplateNode:
		return c.call(n)
	case *parse.ListNode:
		return c.list(n)
	}
	return nil, unsupported(n)
}

// action compiles {{pipeline}}: a declaration, or a printed value whose
// trailing escaper (HTML) or cleaner (text) writes straight to the buffer.
func (c *compiler) action(n *parse.ActionNode) (op, error) {
	if len(n.Pipe.Decl) > 0 {
		eval, err := c.pipeline(n.Pipe)
		if err != nil {
			return nil, err
		}
		return func(s *fstate, dot reflect.Value) error {
			_, err := eval(s, dot)
			return err
		}, nil
	}
	cmds := n.Pipe.Cmds
	var chain []string // escapers or cleaner ending the pipeline
	for len(cmds) > 1 {
		last := cmds[len(cmds)-1]
		id, ok := last.Args[0].(*parse.IdentifierNode)
		if !ok || len(last.Args) != 1 || !c.isWriter(id.Ident) {
			break
		}
		chain = append([]string{id.Ident}, chain...)
		cmds = cmds[:len(cmds)-1]
	}
	// In HTML the escapers may follow the cleaner; both are fused.
	clean := false
	if c.p.html && len(cmds) > 1 {
		last := cmds[len(cmds)-1]
		if id, ok := last.Args[0].(*parse.IdentifierNode); ok && id.Ident == "clean" && len(last.Args) == 1 {
			clean, cmds = true, cmds[:len(cmds)-1]
		}
	}
	if !c.p.html && len(chain) > 0 && len(cmds) == 1 {
		if id, ok := cmds[0].Args[0].(*parse.IdentifierNode); ok && (id.Ident == "wrap" || id.Ident == "hang") {
			return c.wrapAction(id.Ident, cmds[0].Args[1:])
		}
	}
	eval, err := c.cmds(cmds)
	if err != nil {
		return nil, err
	}
	write, err := c.writer(chain, clean)
	if err != nil {
		return nil, err
	}
	return func(s *fstate, dot reflect.Value) error {
		v, err := eval(s, dot)
		if err != nil {
			return err
		}
		return write(s, v)
	}, nil
}

// wrapAction compiles {{wrap ...}} and {{hang ...}} printed in a text
// template: the text is laid out straight into the buffer.
func (c *compiler) wrapAction(name string, args []parse.Node) (op, error) {
	ft := reflect.TypeOf(funcs[name])
	if len(args) != ft.NumIn() {
		return nil, fmt.Errorf("render: compile: %s needs %d arguments", name, ft.NumIn())
	}
	vals, err := c.typedArgs(ft, args)
	if err != nil {
		return nil, err
	}
	return func(s *fstate, dot reflect.Value) error {
		var a [4]reflect.Value
		for i, get := range vals {
			v, err := get(s, dot)
			if err != nil {
				return err
			}
			if a[i], err = assignable(v, ft.In(i)); err != nil {
				return err
			}
		}
		first, rest, text := a[1].String(), a[2].String(), a[3].String()
		if name == "wrap" {
			rest, text = first, a[2].String()
		}
		s.w.Write(appendHang(s.w.AvailableBuffer(), int(a[0].Int()), first, rest, text))
		return nil
	}, nil
}

// isWriter reports whether a pipeline command can be fused into the write.
func (c *compiler) isWriter(name string) bool {
	if c.p.html {
		_, ok := escapers[name]
		return ok
	}
	return name == "clean"
}

// writer compiles printing a value through a chain of escapers (HTML),
// after the cleaner when clean is set, or through the cleaner (text).
func (c *compiler) writer(chain []string, clean bool) (func(s *fstate, v reflect.Value) error, error) {
	if !c.p.html {
		if len(chain) == 0 {
			return printValue, nil
		}
		return func(s *fstate, v reflect.Value) error {
			switch {
			case !v.IsValid():
				return errFallback
			case v.Type() == stringType:
				writeClean(s.w, v.String())
				return nil
			case v.Type() == textBlockType:
				s.w.WriteString(v.String())
				return nil
			}
			str, ok := plainString(v) // integers and booleans pass clean unchanged
			if !ok {
				return errFallback
			}
			s.w.WriteString(str)
			return nil
		}, nil
	}
	if len(chain) == 0 {
		return nil, errors.New("render: compile: HTML action without escaper")
	}
	last := chain[len(chain)-1]
	if last != "_html_template_htmlescaper" && last != "_html_template_attrescaper" && last != "_html_template_rcdataescaper" {
		return nil, fmt.Errorf("render: compile: unsupported final escaper %s", last)
	}
	filters := make([]func(string) string, 0, len(chain)-1)
	for _, name := range chain[:len(chain)-1] {
		f := escapers[name]
		if f == nil {
			return nil, fmt.Errorf("render: compile: unsupported escaper %s", name)
		}
		filters = append(filters, f)
	}
	return func(s *fstate, v reflect.Value) error {
		str, ok := plainString(v)
		if !ok {
			return errFallback
		}
		if clean && needsClean(str) { // only strings can need it
			str = cleanLine(str)
		}
		for _, f := range filters {
			str = f(str)
		}
		writeHTMLEscaped(s.w, str)
		return nil
	}, nil
}

// escapers are html/template's escaping functions this executor knows,
// as transformations of plain (untyped) strings; the final HTML escapers
// are written by writeHTMLEscaped and have no transformation here.
var escapers = map[string]func(string) string{
	"_html_template_htmlescaper":   nil,
	"_html_template_attrescaper":   nil,
	"_html_template_rcdataescaper": nil,
	"_html_template_urlfilter":     urlFilter,
	"_html_template_urlnormalizer": func(s string) string { return processURL(s, true) },
	"_html_template_urlescaper":    func(s string) string { return processURL(s, false) },
}

// plainString returns what html/template's escapers see for a value they
// treat as plain text: a string, or the decimal form of an integer. Other
// values (typed HTML, nil, Stringers) are left to the standard engine.
func plainString(v reflect.Value) (string, bool) {
	if !v.IsValid() {
		return "", false
	}
	t := v.Type()
	if t == stringType {
		return v.String(), true
	}
	if t.NumMethod() != 0 || reflect.PointerTo(t).NumMethod() != 0 {
		return "", false
	}
	switch v.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(v.Int(), 10), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return strconv.FormatUint(v.Uint(), 10), true
	case reflect.Bool:
		return strconv.FormatBool(v.Bool()), true
	}
	return "", false
}

// htmlEscapes lists the replacements html/template makes in plain text,
// in text, attribute and RCDATA contexts alike; htmlEscapeIndex maps a
// byte to its replacement's index plus one, or 0 for bytes kept.
var (
	htmlEscapes     = [...]string{"\uFFFD", "&#34;", "&amp;", "&#39;", "&#43;", "&lt;", "&gt;"}
	htmlEscapeIndex = [256]uint8{0: 1, '"': 2, '&': 3, '\'': 4, '+': 5, '<': 6, '>': 7}
)

// writeHTMLEscaped writes s escaped as html/template escapes plain text.
func writeHTMLEscaped(w *bytes.Buffer, s string) {
	last := 0
	for i := 0; i < len(s); i++ {
		if k := htmlEscapeIndex[s[i]]; k != 0 {
			w.WriteString(s[last:i])
			w.WriteString(htmlEscapes[k-1])
			last = i + 1
		}
	}
	w.WriteString(s[last:])
}

// urlFilter replaces a URL whose scheme is not http, https or mailto with
// html/template's failsafe.
func urlFilter(s string) string {
	if scheme, _, ok := strings.Cut(s, ":"); ok && !strings.Contains(scheme, "/") &&
		!strings.EqualFold(scheme, "http") && !strings.EqualFold(scheme, "https") && !strings.EqualFold(scheme, "mailto") {
		return "#ZgotmplZ"
	}
	return s
}

// urlKeep marks the bytes html/template leaves alone in a URL component
// (1) and, when normalizing a whole URL, also in the URL (2).
var urlKeep = func() (t [256]uint8) {
	for c := range 256 {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', strings.IndexByte("-._~", byte(c)) >= 0:
			t[c] = 1
		case strings.IndexByte("!#$&*+,/:;=?@[]", byte(c)) >= 0:
			t[c] = 2
		}
	}
	return t
}()

// processURL percent-encodes the bytes of s that may not appear in a URL
// (norm) or in a URL component (!norm), as html/template does; when
// normalizing, existing %XX escapes are kept.
func processURL(s string, norm bool) string {
	var b []byte
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if k := urlKeep[ch]; k == 1 || (norm && (k == 2 || ch == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]))) {
			if b != nil {
				b = append(b, ch)
			}
			continue
		}
		if b == nil {
			b = make([]byte, i, len(s)+16)
			copy(b, s)
		}
		b = append(b, '%', "0123456789abcdef"[ch>>4], "0123456789abcdef"[ch&15])
	}
	if b == nil {
		return s
	}
	return string(b)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// writeClean writes s with control characters replaced, like cleanLine.
func writeClean(w *bytes.Buffer, s string) {
	if !needsClean(s) {
		w.WriteString(s)
		return
	}
	w.WriteString(cleanLine(s))
}

// printValue prints a value as text/template does for the kinds without
// methods it meets here; anything else falls back.
func printValue(s *fstate, v reflect.Value) error {
	if v.Kind() == reflect.String && v.Type().NumMethod() == 0 && reflect.PointerTo(v.Type()).NumMethod() == 0 {
		s.w.WriteString(v.String())
		return nil
	}
	str, ok := plainString(v)
	if !ok {
		return errFallback
	}
	s.w.WriteString(str)
	return nil
}

// branch compiles {{if}} and {{with}}.
func (c *compiler) branch(n *parse.BranchNode, with bool) (op, error) {
	mark := len(c.names)
	defer func() { c.names = c.names[:mark] }()
	cond, err := c.pipeline(n.Pipe)
	if err != nil {
		return nil, err
	}
	yes, err := c.list(n.List)
	if err != nil {
		return nil, err
	}
	no, err := c.list(n.ElseList)
	if err != nil {
		return nil, err
	}
	return func(s *fstate, dot reflect.Value) error {
		v, err := cond(s, dot)
		if err != nil {
			return err
		}
		t, ok := isTrue(indirectInterface(v))
		if !ok {
			return errFallback
		}
		if !t {
			return no(s, dot)
		}
		if with {
			return yes(s, v)
		}
		return yes(s, dot)
	}, nil
}

// rangeNode compiles {{range}} over slices and arrays.
func (c *compiler) rangeNode(n *parse.RangeNode) (op, error) {
	if n.Pipe.IsAssign || len(n.Pipe.Decl) > 2 {
		return nil, unsupported(n)
	}
	mark := len(c.names)
	defer func() { c.names = c.names[:mark] }()
	eval, err := c.pipeline(n.Pipe)
	if err != nil {
		return nil, err
	}
	elemSlot, indexSlot := -1, -1
	switch len(n.Pipe.Decl) {
	case 1:
		elemSlot = mark
	case 2:
		indexSlot, elemSlot = mark, mark+1
	}
	body, err := c.list(n.List)
	if err != nil {
		return nil, err
	}
	c.names = c.names[:mark+len(n.Pipe.Decl)]
	elseOp, err := c.list(n.ElseList)
	if err != nil {
		return nil, err
	}
	return func(s *fstate, dot reflect.Value) error {
		v, err := eval(s, dot)
		if err != nil {
			return err
		}
		v, _ = indirect(v)
		switch v.Kind() {
		case reflect.Invalid:
		case reflect.Slice, reflect.Array:
			if v.Len() == 0 {
				break
			}
			for i := range v.Len() {
				e := v.Index(i)
				if elemSlot >= 0 {
					s.vars[s.base+elemSlot] = e
				}
				if indexSlot >= 0 {
					s.vars[s.base+indexSlot] = reflect.ValueOf(i)
				}
				if err := body(s, e); err != nil {
					return err
				}
			}
			return nil
		default:
			return errFallback
		}
		return elseOp(s, dot)
	}, nil
}

// call compiles {{template "name" pipeline}}.
func (c *compiler) call(n *parse.TemplateNode) (op, error) {
	t, err := c.p.template(n.Name)
	if err != nil {
		return nil, err
	}
	var eval func(*fstate, reflect.Value) (reflect.Value, error)
	if n.Pipe != nil {
		if eval, err = c.pipeline(n.Pipe); err != nil {
			return nil, err
		}
	}
	return func(s *fstate, dot reflect.Value) error {
		if eval != nil {
			v, err := eval(s, dot)
			if err != nil {
				return err
			}
			dot = v
		} else {
			dot = reflect.Value{}
		}
		if s.depth > 1000 {
			return errFallback
		}
		base, n := s.base, len(s.vars)
		s.base = n
		s.vars = append(s.vars, make([]reflect.Value, t.slots)...)
		s.vars[n] = dot
		s.depth++
		err := t.body(s, dot)
		s.depth--
		s.vars, s.base = s.vars[:n], base
		return err
	}, nil
}

// pipeline compiles a pipeline with its variable declarations.
func (c *compiler) pipeline(p *parse.PipeNode) (func(*fstate, reflect.Value) (reflect.Value, error), error) {
	if p == nil {
		return func(*fstate, reflect.Value) (reflect.Value, error) { return reflect.Value{}, nil }, nil
	}
	eval, err := c.cmds(p.Cmds)
	if err != nil {
		return nil, err
	}
	if len(p.Decl) == 0 {
		return eval, nil
	}
	slots := make([]int, len(p.Decl))
	for i, d := range p.Decl {
		if len(d.Ident) != 1 {
			return nil, unsupported(d)
		}
		if p.IsAssign {
			if slots[i], err = c.slot(d.Ident[0]); err != nil {
				return nil, err
			}
		} else {
			slots[i] = c.push(d.Ident[0])
		}
	}
	return func(s *fstate, dot reflect.Value) (reflect.Value, error) {
		v, err := eval(s, dot)
		if err != nil {
			return v, err
		}
		for _, slot := range slots {
			s.vars[s.base+slot] = v
		}
		return v, nil
	}, nil
}

// cmds compiles the commands of a pipeline.
func (c *compiler) cmds(cmds []*parse.CommandNode) (func(*fstate, reflect.Value) (reflect.Value, error), error) {
	exprs := make([]expr, len(cmds))
	for i, cmd := range cmds {
		e, err := c.command(cmd)
		if err != nil {
			return nil, err
		}
		exprs[i] = e
	}
	return func(s *fstate, dot reflect.Value) (reflect.Value, error) {
		v := missingVal
		for _, e := range exprs {
			var err error
			if v, err = e(s, dot, v); err != nil {
				return v, err
			}
			if v.Kind() == reflect.Interface && v.Type().NumMethod() == 0 {
				v = reflect.ValueOf(v.Interface())
			}
		}
		return v, nil
	}, nil
}

// noArgs wraps an evaluation that takes neither arguments nor a final
// value (a field, a variable, a constant).
func noArgs(get func(s *fstate, dot reflect.Value) (reflect.Value, error)) expr {
	return func(s *fstate, dot, final reflect.Value) (reflect.Value, error) {
		if !isMissing(final) {
			return reflect.Value{}, errFallback
		}
		return get(s, dot)
	}
}

func (c *compiler) command(cmd *parse.CommandNode) (expr, error) {
	first := cmd.Args[0]
	if id, ok := first.(*parse.IdentifierNode); ok {
		return c.function(id.Ident, cmd.Args[1:])
	}
	if len(cmd.Args) > 1 {
		return nil, unsupported(cmd)
	}
	get, err := c.operand(first)
	if err != nil {
		return nil, err
	}
	return noArgs(get), nil
}

// operand compiles a value: field chains, variables, dot, parenthesized
// pipelines and constants.
func (c *compiler) operand(n parse.Node) (func(*fstate, reflect.Value) (reflect.Value, error), error) {
	switch n := n.(type) {
	case *parse.DotNode:
		return func(_ *fstate, dot reflect.Value) (reflect.Value, error) { return dot, nil }, nil
	case *parse.FieldNode:
		return c.fields(func(_ *fstate, dot reflect.Value) (reflect.Value, error) { return dot, nil }, n.Ident), nil
	case *parse.VariableNode:
		slot, err := c.slot(n.Ident[0])
		if err != nil {
			return nil, err
		}
		return c.fields(func(s *fstate, _ reflect.Value) (reflect.Value, error) { return s.vars[s.base+slot], nil }, n.Ident[1:]), nil
	case *parse.ChainNode:
		if n.Node.Type() == parse.NodeNil {
			return nil, unsupported(n)
		}
		get, err := c.operand(n.Node)
		if err != nil {
			return nil, err
		}
		return c.fields(func(s *fstate, dot reflect.Value) (reflect.Value, error) {
			v, err := get(s, dot)
			if err == nil && !v.IsValid() {
				err = errFallback
			}
			return v, err
		}, n.Field), nil
	case *parse.PipeNode:
		if len(n.Decl) > 0 {
			return nil, unsupported(n)
		}
		return c.cmds(n.Cmds)
	case *parse.IdentifierNode:
		f, err := c.function(n.Ident, nil)
		if err != nil {
			return nil, err
		}
		return func(s *fstate, dot reflect.Value) (reflect.Value, error) { return f(s, dot, missingVal) }, nil
	case *parse.StringNode:
		v := reflect.ValueOf(n.Text)
		return func(*fstate, reflect.Value) (reflect.Value, error) { return v, nil }, nil
	case *parse.BoolNode:
		v := reflect.ValueOf(n.True)
		return func(*fstate, reflect.Value) (reflect.Value, error) { return v, nil }, nil
	case *parse.NumberNode:
		if !n.IsInt || n.IsComplex || (n.IsFloat && strings.ContainsAny(n.Text, ".eEpP")) || int64(int(n.Int64)) != n.Int64 {
			return nil, unsupported(n)
		}
		v := reflect.ValueOf(int(n.Int64))
		return func(*fstate, reflect.Value) (reflect.Value, error) { return v, nil }, nil
	}
	return nil, unsupported(n)
}

// fieldCache remembers, for the last receiver type seen, where a field
// is. Executions share it, so it is replaced, never changed.
type fieldCache struct {
	typ   reflect.Type
	index []int
}

// fields compiles a chain of field accesses on a receiver. Only exported
// struct fields of types without a method of that name are handled.
func (c *compiler) fields(recv func(*fstate, reflect.Value) (reflect.Value, error), names []string) func(*fstate, reflect.Value) (reflect.Value, error) {
	if len(names) == 0 {
		return recv
	}
	caches := make([]atomic.Pointer[fieldCache], len(names))
	return func(s *fstate, dot reflect.Value) (reflect.Value, error) {
		v, err := recv(s, dot)
		if err != nil {
			return v, err
		}
		for i, name := range names {
			var isNil bool
			if v, isNil = indirect(v); isNil || v.Kind() != reflect.Struct {
				return v, errFallback
			}
			fc := caches[i].Load()
			if fc == nil || v.Type() != fc.typ {
				t := v.Type()
				f, ok := t.FieldByName(name)
				if _, method := reflect.PointerTo(t).MethodByName(name); method || !ok || !f.IsExported() {
					return v, errFallback
				}
				fc = &fieldCache{typ: t, index: f.Index}
				caches[i].Store(fc)
			}
			if len(fc.index) == 1 {
				v = v.Field(fc.index[0])
			} else if v, err = v.FieldByIndexErr(fc.index); err != nil {
				return v, errFallback
			}
		}
		return v, nil
	}
}

// function compiles a call of a builtin or of a function of funcs.
func (c *compiler) function(name string, args []parse.Node) (expr, error) {
	switch name {
	case "and", "or":
		return c.andOr(name == "or", args)
	case "not", "len":
		if len(args) > 1 {
			return nil, fmt.Errorf("render: compile: %s takes one argument", name)
		}
		vals, err := c.rawArgs(args)
		if err != nil {
			return nil, err
		}
		return func(s *fstate, dot, final reflect.Value) (reflect.Value, error) {
			v, err := oneArg(s, dot, final, vals)
			if err != nil {
				return v, err
			}
			if name == "not" {
				return reflect.ValueOf(!truth(v)), nil
			}
			if v, isNil := indirect(v); !isNil {
				switch v.Kind() {
				case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
					return reflect.ValueOf(v.Len()), nil
				}
			}
			return v, errFallback
		}, nil
	case "index":
		return c.index(args)
	case "eq", "ne", "lt", "le", "gt", "ge":
		return c.compare(name, args)
	case "printf", "print":
		vals, err := c.rawArgs(args)
		if err != nil {
			return nil, err
		}
		return func(s *fstate, dot, final reflect.Value) (reflect.Value, error) {
			a := make([]any, 0, len(vals)+1)
			for _, get := range vals {
				v, err := get(s, dot)
				if err != nil || !v.IsValid() {
					return v, errFallback
				}
				a = append(a, v.Interface())
			}
			if !isMissing(final) {
				if !final.IsValid() {
					return final, errFallback
				}
				a = append(a, final.Interface())
			}
			if name == "print" {
				return reflect.ValueOf(fmt.Sprint(a...)), nil
			}
			if len(a) == 0 {
				return reflect.Value{}, errFallback
			}
			format, ok := a[0].(string)
			if !ok {
				return reflect.Value{}, errFallback
			}
			return reflect.ValueOf(fmt.Sprintf(format, a[1:]...)), nil
		}, nil
	}
	f, ok := c.p.funcs[name]
	if !ok {
		return nil, fmt.Errorf("render: compile: unsupported function %s", name)
	}
	fv := reflect.ValueOf(f)
	ft := fv.Type()
	if ft.IsVariadic() || ft.NumOut() == 0 || ft.NumOut() > 2 || (ft.NumOut() == 2 && ft.Out(1) != errorType) {
		return nil, fmt.Errorf("render: compile: unsupported signature of %s", name)
	}
	vals, err := c.typedArgs(ft, args)
	if err != nil {
		return nil, err
	}
	fast := fastFuncs[name]
	return func(s *fstate, dot, final reflect.Value) (reflect.Value, error) {
		n := len(vals)
		if !isMissing(final) {
			n++
		}
		if n != ft.NumIn() {
			return reflect.Value{}, errFallback
		}
		start := len(s.args)
		defer func() { s.args = s.args[:start] }()
		for i, get := range vals {
			v, err := get(s, dot)
			if err != nil {
				return v, err
			}
			if v, err = assignable(v, ft.In(i)); err != nil {
				return v, err
			}
			s.args = append(s.args, v)
		}
		if !isMissing(final) {
			v, err := assignable(final, ft.In(n-1))
			if err != nil {
				return v, err
			}
			s.args = append(s.args, v)
		}
		if fast != nil {
			return fast(s, s.args[start:])
		}
		out := fv.Call(s.args[start:])
		if len(out) == 2 && !out[1].IsNil() {
			return reflect.Value{}, errFallback
		}
		return out[0], nil
	}, nil
}

// assignable checks a value as text/template checks an argument; values
// it would convert (or reject) are left to the standard engine.
func assignable(v reflect.Value, t reflect.Type) (reflect.Value, error) {
	if !v.IsValid() || !v.Type().AssignableTo(t) {
		return v, errFallback
	}
	return v, nil
}

// typedArgs compiles the arguments of a function call: constants become
// values of the parameter's type, everything else is evaluated.
func (c *compiler) typedArgs(ft reflect.Type, args []parse.Node) ([]func(*fstate, reflect.Value) (reflect.Value, error), error) {
	if len(args) > ft.NumIn() {
		return nil, fmt.Errorf("render: compile: too many arguments")
	}
	vals := make([]func(*fstate, reflect.Value) (reflect.Value, error), len(args))
	for i, a := range args {
		t := ft.In(i)
		var konst reflect.Value
		switch a := a.(type) {
		case *parse.StringNode:
			if t.Kind() != reflect.String {
				return nil, unsupported(a)
			}
			konst = reflect.New(t).Elem()
			konst.SetString(a.Text)
		case *parse.NumberNode:
			if !a.IsInt || t.Kind() != reflect.Int {
				return nil, unsupported(a)
			}
			konst = reflect.New(t).Elem()
			konst.SetInt(a.Int64)
		case *parse.BoolNode:
			if t.Kind() != reflect.Bool {
				return nil, unsupported(a)
			}
			konst = reflect.New(t).Elem()
			konst.SetBool(a.True)
		case *parse.NilNode:
			return nil, unsupported(a)
		default:
			get, err := c.operand(a)
			if err != nil {
				return nil, err
			}
			vals[i] = get
			continue
		}
		vals[i] = func(*fstate, reflect.Value) (reflect.Value, error) { return konst, nil }
	}
	return vals, nil
}

// rawArgs compiles arguments of builtins, which take any value.
func (c *compiler) rawArgs(args []parse.Node) ([]func(*fstate, reflect.Value) (reflect.Value, error), error) {
	vals := make([]func(*fstate, reflect.Value) (reflect.Value, error), len(args))
	for i, a := range args {
		if _, ok := a.(*parse.NilNode); ok {
			return nil, unsupported(a)
		}
		get, err := c.operand(a)
		if err != nil {
			return nil, err
		}
		vals[i] = get
	}
	return vals, nil
}

// oneArg evaluates the single argument of a builtin: the given one or the
// pipeline's final value.
func oneArg(s *fstate, dot, final reflect.Value, vals []func(*fstate, reflect.Value) (reflect.Value, error)) (reflect.Value, error) {
	var v reflect.Value
	var err error
	switch {
	case len(vals) == 1 && isMissing(final):
		v, err = vals[0](s, dot)
	case len(vals) == 0 && !isMissing(final):
		v = final
	default:
		return v, errFallback
	}
	if err == nil && !v.IsValid() {
		err = errFallback
	}
	return v, err
}

// andOr compiles the short-circuit builtins.
func (c *compiler) andOr(or bool, args []parse.Node) (expr, error) {
	vals, err := c.rawArgs(args)
	if err != nil {
		return nil, err
	}
	if len(vals) == 0 {
		return nil, errors.New("render: compile: and/or without arguments")
	}
	return func(s *fstate, dot, final reflect.Value) (reflect.Value, error) {
		var v reflect.Value
		for _, get := range vals {
			var err error
			if v, err = get(s, dot); err != nil {
				return v, err
			}
			if !v.IsValid() {
				return v, errFallback
			}
			if truth(v) == or {
				return v, nil
			}
		}
		if !isMissing(final) {
			if !final.IsValid() {
				return final, errFallback
			}
			return final, nil
		}
		return v, nil
	}, nil
}

// index compiles index of slices and arrays by int.
func (c *compiler) index(args []parse.Node) (expr, error) {
	vals, err := c.rawArgs(args)
	if err != nil {
		return nil, err
	}
	if len(vals) != 2 {
		return nil, errors.New("render: compile: index with other than one index")
	}
	return func(s *fstate, dot, final reflect.Value) (reflect.Value, error) {
		if !isMissing(final) {
			return final, errFallback
		}
		item, err := vals[0](s, dot)
		if err != nil {
			return item, err
		}
		i, err := vals[1](s, dot)
		if err != nil {
			return i, err
		}
		item, i = indirectInterface(item), indirectInterface(i)
		if !item.IsValid() || !i.IsValid() || (item.Kind() != reflect.Slice && item.Kind() != reflect.Array) || i.Kind() != reflect.Int {
			return item, errFallback
		}
		if n := i.Int(); n < 0 || n >= int64(item.Len()) {
			return item, errFallback
		}
		return item.Index(int(i.Int())), nil
	}, nil
}

// compare compiles eq, ne, lt, le, gt and ge for two values of the same
// basic kind.
func (c *compiler) compare(name string, args []parse.Node) (expr, error) {
	vals, err := c.rawArgs(args)
	if err != nil {
		return nil, err
	}
	if len(vals) != 2 {
		return nil, fmt.Errorf("render: compile: %s with %d arguments", name, len(vals))
	}
	return func(s *fstate, dot, final reflect.Value) (reflect.Value, error) {
		if !isMissing(final) {
			return final, errFallback
		}
		a, err := vals[0](s, dot)
		if err != nil {
			return a, err
		}
		b, err := vals[1](s, dot)
		if err != nil {
			return b, err
		}
		a, b = indirectInterface(a), indirectInterface(b)
		if !a.IsValid() || !b.IsValid() {
			return a, errFallback
		}
		var cmp int
		switch {
		case isIntKind(a.Kind()) && isIntKind(b.Kind()):
			cmp = compareOrdered(a.Int(), b.Int())
		case a.Kind() == reflect.String && b.Kind() == reflect.String:
			cmp = strings.Compare(a.String(), b.String())
		case a.Kind() == reflect.Bool && b.Kind() == reflect.Bool && (name == "eq" || name == "ne"):
			if a.Bool() != b.Bool() {
				cmp = 1
			}
		default:
			return a, errFallback
		}
		var r bool
		switch name {
		case "eq":
			r = cmp == 0
		case "ne":
			r = cmp != 0
		case "lt":
			r = cmp < 0
		case "le":
			r = cmp <= 0
		case "gt":
			r = cmp > 0
		case "ge":
			r = cmp >= 0
		}
		return reflect.ValueOf(r), nil
	}, nil
}

func isIntKind(k reflect.Kind) bool { return k >= reflect.Int && k <= reflect.Int64 }

func compareOrdered(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// indirect follows pointers and interfaces as text/template does.
func indirect(v reflect.Value) (rv reflect.Value, isNil bool) {
	for ; v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface; v = v.Elem() {
		if v.IsNil() {
			return v, true
		}
	}
	return v, false
}

func indirectInterface(v reflect.Value) reflect.Value {
	if v.Kind() != reflect.Interface {
		return v
	}
	if v.IsNil() {
		return reflect.Value{}
	}
	return v.Elem()
}

// isTrue is text/template's truth of a value.
func isTrue(v reflect.Value) (truth, ok bool) {
	if !v.IsValid() {
		return false, true
	}
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() > 0, true
	case reflect.Bool:
		return v.Bool(), true
	case reflect.Complex64, reflect.Complex128:
		return v.Complex() != 0, true
	case reflect.Chan, reflect.Func, reflect.Pointer, reflect.UnsafePointer, reflect.Interface:
		return !v.IsNil(), true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int() != 0, true
	case reflect.Float32, reflect.Float64:
		return v.Float() != 0, true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return v.Uint() != 0, true
	case reflect.Struct:
		return true, true
	}
	return false, false
}

func truth(v reflect.Value) bool {
	t, _ := isTrue(indirectInterface(v))
	return t
}

// fastFuncs call the functions of funcs without reflection; their
// arguments have been checked against the parameter types.
var fastFuncs = map[string]func(st *fstate, a []reflect.Value) (reflect.Value, error){
	"clean": func(st *fstate, a []reflect.Value) (reflect.Value, error) {
		v := indirectInterface(a[0])
		switch {
		case !v.IsValid():
			return reflect.ValueOf(cleanValue(nil)), nil
		case v.Type() == stringType:
			if x := v.String(); needsClean(x) {
				return st.str(cleanLine(x)), nil
			}
			return v, nil
		}
		return reflect.ValueOf(cleanValue(v.Interface())), nil
	},
	"wrap": func(st *fstate, a []reflect.Value) (reflect.Value, error) {
		return st.block(hang(int(a[0].Int()), a[1].String(), a[1].String(), a[2].String())), nil
	},
	"hang": func(st *fstate, a []reflect.Value) (reflect.Value, error) {
		return st.block(hang(int(a[0].Int()), a[1].String(), a[2].String(), a[3].String())), nil
	},
	"join": func(st *fstate, a []reflect.Value) (reflect.Value, error) {
		l := a[1]
		switch l.Len() {
		case 0:
			return st.str(""), nil
		case 1:
			return l.Index(0), nil
		}
		var b strings.Builder
		for i := range l.Len() {
			if i > 0 {
				b.WriteString(a[0].String())
			}
			b.WriteString(l.Index(i).String())
		}
		return st.str(b.String()), nil
	},
	"short": func(st *fstate, a []reflect.Value) (reflect.Value, error) {
		x := a[1].String()
		if _, cut := cutPoint(x, int(a[0].Int())); !cut {
			return a[1], nil
		}
		return st.str(Shorten(x, int(a[0].Int()))), nil
	},
	"plain": func(st *fstate, a []reflect.Value) (reflect.Value, error) {
		return st.str(plain(sliceOf[Segment](a[0]))), nil
	},
	"why": func(st *fstate, a []reflect.Value) (reflect.Value, error) {
		return st.str(why(a[0].String(), sliceOf[string](a[1]))), nil
	},
	"link": func(st *fstate, a []reflect.Value) (reflect.Value, error) {
		return st.block(link(a[0].String())), nil
	},
	"budget": func(st *fstate, a []reflect.Value) (reflect.Value, error) {
		return reflect.ValueOf(budget(int(a[0].Int()), int(a[1].Int()), int(a[2].Int()), int(a[3].Int()))), nil
	},
	"parts": func(st *fstate, a []reflect.Value) (reflect.Value, error) {
		return reflect.ValueOf(parts(int(a[0].Int()), sliceOf[Segment](a[1]), a[2].String())), nil
	},
	"others": func(st *fstate, a []reflect.Value) (reflect.Value, error) {
		m := sliceOf[string](a[1])
		if o := others(a[0].String(), m); len(o) != len(m) {
			return reflect.ValueOf(o), nil
		}
		return a[1], nil
	},
}

// sliceOf returns the []E a value assignable to []E holds, without the
// copy Value.Interface makes of addressable values (a slice field).
func sliceOf[E any](v reflect.Value) []E {
	if v.CanAddr() {
		return *(*[]E)(v.Addr().UnsafePointer())
	}
	return v.Convert(reflect.TypeFor[[]E]()).Interface().([]E)
}
