// Package render turns digest and confirmation views into mail parts
// (subject, plain text, HTML) and renders the web pages, all from the
// templates embedded by package templates, optionally replaced file by file
// from a directory (config templates_dir).
//
// Every template is parsed, and every mail template tried on sample views,
// once in New; rendering only executes into pooled buffers. Subjects and
// plain-text parts use text/template with every output action cleaned of
// control characters (input cannot add lines to a mail or a header); HTML
// parts (cleaned the same way) and pages use html/template, which escapes
// untrusted titles and abstracts.
//
// A digest run renders what readers share once: a Batch renders the
// templates placed with {{shared}} once per paper (they see only a Paper)
// and those placed with {{matched}} once per paper and interest (a
// Match). The digest's head, each paper's item and its foot ({{head}},
// {{item}}, {{foot}}) are rendered once per shape of the reader's own
// strings (address, signed links) and cut where those strings go; an item
// that shows its Match only through {{matched}} actions is cut once per
// paper and shape with those fragments as holes too, so a paper matched
// otherwise costs only its matched fragments. Each reader's digest is the
// digest template joining those cuts around the reader's strings and
// fragments and numbering the papers (see batch.go and holes.go).
package render

import (
	"bytes"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	texttemplate "text/template"
	"text/template/parse"

	"github.com/papermail/papermail/templates"
)

// Template paths, relative to the templates folder.
const (
	layoutPage = "web/layout.html"
	// contentName is the template the layout shows a page's body with.
	contentName = "content"
	// maxSubject caps a subject, in runes.
	maxSubject = 200
)

// mailFiles are the templates every mail needs, by mail kind.
var mailFiles = []string{"digest", "confirm", "links"}

// Engine renders mails and web pages. It is safe for concurrent use.
type Engine struct {
	digest, confirm, links *mailTemplates
	pages                  map[string]*htmltemplate.Template
}

// mailTemplates are the three parts of one kind of mail.
type mailTemplates struct {
	subject, text *texttemplate.Template
	html          *htmltemplate.Template
	// origins name the files of subject, text and html, for errors.
	origins [3]string
	// sizes are the lengths of the last text and HTML parts rendered.
	sizes [2]atomic.Int64
	// skeletal marks a text or HTML digest template that lays out only
	// calls (see holes.go); skeletons holds its skeletons by [part, papers].
	skeletal  [2]bool
	skeletons sync.Map
	// free marks, by part and name, the templates that are matchFree on
	// an Item (see holes.go).
	free [2]map[string]bool
}

// file is one template's source and where it came from, for errors.
type file struct {
	src    string
	origin string
}

// New parses every template at start-up from the embedded templates.FS,
// with files in overrideDir (config templates_dir; "" = none) replacing
// embedded ones of the same relative path; overrideDir may also add web
// pages (web/*.html). A missing or broken template fails here, naming the
// file; mail templates are also tried on sample views, so one naming a
// field that does not exist fails here too.
func New(overrideDir string) (*Engine, error) {
	return newEngine(templates.FS, overrideDir)
}

func newEngine(base fs.FS, overrideDir string) (*Engine, error) {
	files, err := loadFiles(base, overrideDir)
	if err != nil {
		return nil, err
	}
	e := &Engine{pages: map[string]*htmltemplate.Template{}}
	for _, kind := range mailFiles {
		m, err := parseMail(files, kind)
		if err != nil {
			return nil, err
		}
		switch kind {
		case "digest":
			e.digest = m
		case "confirm":
			e.confirm = m
		default:
			e.links = m
		}
	}
	for _, d := range sampleDigests() {
		if err := e.digest.try(d); err != nil {
			return nil, err
		}
	}
	for _, c := range sampleConfirms() {
		if err := e.confirm.try(c); err != nil {
			return nil, err
		}
	}
	for _, l := range sampleLinks() {
		if err := e.links.try(l); err != nil {
			return nil, err
		}
	}
	if err := e.parsePages(files); err != nil {
		return nil, err
	}
	return e, nil
}

// loadFiles reads every template of base under mail/ and web/, then lets
// the files of overrideDir with the same relative path replace them, and
// adds the override's own web pages.
func loadFiles(base fs.FS, overrideDir string) (map[string]file, error) {
	files := map[string]file{}
	for _, root := range []string{"mail", "web"} {
		err := fs.WalkDir(base, root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := fs.ReadFile(base, p)
			if err != nil {
				return err
			}
			files[p] = file{src: string(b), origin: p + " (embedded)"}
			return nil
		})
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("render: read embedded templates: %w", err)
		}
	}
	if overrideDir == "" {
		return files, nil
	}
	if st, err := os.Stat(overrideDir); err != nil {
		return nil, fmt.Errorf("render: templates_dir: %w", err)
	} else if !st.IsDir() {
		return nil, fmt.Errorf("render: templates_dir %s is not a directory", overrideDir)
	}
	names := make([]string, 0, len(files))
	for p := range files {
		names = append(names, p)
	}
	extra, err := filepath.Glob(filepath.Join(overrideDir, "web", "*.html"))
	if err != nil {
		return nil, fmt.Errorf("render: templates_dir %s: %w", overrideDir, err)
	}
	for _, x := range extra {
		names = append(names, "web/"+filepath.Base(x))
	}
	for _, p := range names {
		full := filepath.Join(overrideDir, filepath.FromSlash(p))
		b, err := os.ReadFile(full)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue
		case err != nil:
			return nil, fmt.Errorf("render: read template override %s: %w", full, err)
		}
		files[p] = file{src: string(b), origin: full}
	}
	return files, nil
}

// parseText parses a text template and guards every output action with
// clean, so no value can add a line break or control character.
func parseText(name string, f file, extra map[string]any) (*texttemplate.Template, error) {
	t, err := texttemplate.New(name).Funcs(funcs).Funcs(extra).Parse(f.src)
	if err != nil {
		return nil, fmt.Errorf("render: template %s: %w", f.origin, err)
	}
	for _, x := range t.Templates() {
		if x.Tree != nil {
			guard(x.Tree, x.Tree.Root)
		}
	}
	return t, nil
}

// cleanOutput are the functions whose results are clean already (laid out
// by wrap, hang or link, or rendered by guarded templates): an action
// ending in one of them needs no clean.
var cleanOutput = map[string]bool{"wrap": true, "hang": true, "after": true, "link": true, "shared": true, "matched": true,
	"head": true, "item": true, "foot": true}

// guard appends "| clean" to every action below n that prints something.
func guard(t *parse.Tree, n parse.Node) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			guard(t, c)
		}
	case *parse.ActionNode:
		last := n.Pipe.Cmds[len(n.Pipe.Cmds)-1].Args[0]
		if id, ok := last.(*parse.IdentifierNode); ok && cleanOutput[id.Ident] {
			return
		}
		if len(n.Pipe.Decl) == 0 {
			id := parse.NewIdentifier("clean").SetTree(t).SetPos(n.Pos)
			n.Pipe.Cmds = append(n.Pipe.Cmds, &parse.CommandNode{NodeType: parse.NodeCommand, Pos: n.Pos, Args: []parse.Node{id}})
		}
	case *parse.IfNode:
		guard(t, n.List)
		guard(t, n.ElseList)
	case *parse.RangeNode:
		guard(t, n.List)
		guard(t, n.ElseList)
	case *parse.WithNode:
		guard(t, n.List)
		guard(t, n.ElseList)
	}
}

// parseMail parses mail/<kind>.subject.txt, mail/<kind>.txt and
// mail/<kind>.html.
func parseMail(files map[string]file, kind string) (*mailTemplates, error) {
	m := new(mailTemplates)
	get := func(name string) (file, error) {
		f, ok := files[name]
		if !ok {
			return f, fmt.Errorf("render: template %s is missing", name)
		}
		return f, nil
	}
	name := "mail/" + kind + ".subject.txt"
	f, err := get(name)
	if err != nil {
		return m, err
	}
	if m.subject, err = parseText(name, f, nil); err != nil {
		return m, err
	}
	m.origins[0] = f.origin
	name = "mail/" + kind + ".txt"
	if f, err = get(name); err != nil {
		return m, err
	}
	if m.text, err = parseText(name, f, partFuncs[textBlock](m, partText)); err != nil {
		return m, err
	}
	m.origins[1] = f.origin
	name = "mail/" + kind + ".html"
	if f, err = get(name); err != nil {
		return m, err
	}
	if m.html, err = htmltemplate.New(name).Funcs(funcs).Funcs(partFuncs[htmltemplate.HTML](m, partHTML)).Parse(f.src); err != nil {
		return m, fmt.Errorf("render: template %s: %w", f.origin, err)
	}
	// Control characters are cleaned from the HTML part too (before
	// html/template adds its escapers, which happens on first use).
	for _, x := range m.html.Templates() {
		if x.Tree != nil {
			guard(x.Tree, x.Tree.Root)
		}
	}
	m.origins[2] = f.origin
	for i, t := range []*parse.Tree{m.text.Tree, m.html.Tree} {
		m.skeletal[i] = t != nil && skeletal(t.Root, false)
	}
	// Before html/template adds its escapers to the trees.
	m.free = [2]map[string]bool{{}, {}}
	for _, x := range m.text.Templates() {
		m.free[partText][x.Name()] = x.Tree != nil && matchFree(x.Tree.Root, true)
	}
	for _, x := range m.html.Templates() {
		m.free[partHTML][x.Name()] = x.Tree != nil && matchFree(x.Tree.Root, true)
	}
	return m, nil
}

// try renders a sample view, so that templates that parse but cannot
// render (a misspelt field, a "paper ..." template using a reader's field,
// an HTML escaping problem) fail at start-up.
func (m *mailTemplates) try(data any) error {
	if d, ok := data.(*DigestView); ok {
		data = (*Batch)(nil).prepare(d)
	}
	for i, x := range []interface{ Execute(io.Writer, any) error }{m.subject, m.text, m.html} {
		if err := x.Execute(io.Discard, data); err != nil {
			return fmt.Errorf("render: template %s fails on sample data: %w", m.origins[i], err)
		}
	}
	return nil
}

// parsePages builds one template set per web page: the layout (or a bare
// one when there is none) with the page's body as its "content" template.
// Pages are the *.html files directly under web/.
func (e *Engine) parsePages(files map[string]file) error {
	lf, ok := files[layoutPage]
	if !ok {
		lf = file{src: `{{block "content" .}}{{end}}`, origin: "built-in layout"}
	}
	layout, err := htmltemplate.New(layoutPage).Funcs(funcs).Parse(lf.src)
	if err != nil {
		return fmt.Errorf("render: template %s: %w", lf.origin, err)
	}
	names := make([]string, 0, len(files))
	for p := range files {
		if path.Dir(p) == "web" && path.Ext(p) == ".html" && p != layoutPage {
			names = append(names, p)
		}
	}
	slices.Sort(names)
	for _, p := range names {
		f := files[p]
		t, err := layout.Clone()
		if err != nil {
			return fmt.Errorf("render: template %s: %w", f.origin, err)
		}
		if _, err = t.New(p).Parse(f.src); err != nil {
			return fmt.Errorf("render: template %s: %w", f.origin, err)
		}
		if body := t.Lookup(p).Tree; body != nil && !parse.IsEmptyTree(body.Root) {
			if _, err = t.AddParseTree(contentName, body.Copy()); err != nil {
				return fmt.Errorf("render: template %s: %w", f.origin, err)
			}
		}
		// Escaping happens on first execution; do it now so a page that
		// html/template cannot escape safely fails at start-up. Errors of
		// the missing data itself are expected and ignored.
		var escErr *htmltemplate.Error
		if err := t.Execute(io.Discard, nil); errors.As(err, &escErr) {
			return fmt.Errorf("render: template %s: %w", f.origin, err)
		}
		e.pages[strings.TrimSuffix(path.Base(p), ".html")] = t
	}
	return nil
}

// bufPool recycles render buffers; oversized ones are dropped.
var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func getBuf() *bytes.Buffer { return bufPool.Get().(*bytes.Buffer) }

func putBuf(b *bytes.Buffer) {
	if b.Cap() <= 1<<20 {
		b.Reset()
		bufPool.Put(b)
	}
}

// render executes the three parts of a mail. The parts are written into
// builders grown to the size of the last mail's, so the strings returned
// are not copied again.
func (m *mailTemplates) render(data any) (subject, text, html string, err error) {
	buf := getBuf()
	defer putBuf(buf)
	if err = m.run(0, buf, data); err != nil {
		return "", "", "", err
	}
	subject = oneLine(buf.String(), maxSubject)
	v, _ := data.(*DigestView)
	var parts [2]string
	for i := range parts {
		var b strings.Builder
		b.Grow(int(m.sizes[i].Load()) + 1024)
		if sk := m.skeleton(i, v); sk != nil {
			err = m.fill(&b, i, sk, v)
		} else {
			err = m.run(1+i, &b, data)
		}
		if err != nil {
			return "", "", "", err
		}
		parts[i] = b.String()
		m.sizes[i].Store(int64(len(parts[i])))
	}
	return subject, parts[0], parts[1], nil
}

// run executes part i (subject, text, html) into buf.
func (m *mailTemplates) run(i int, buf io.Writer, data any) error {
	var err error
	switch i {
	case 0:
		err = m.subject.Execute(buf, data)
	case 1:
		err = m.text.Execute(buf, data)
	default:
		err = m.html.Execute(buf, data)
	}
	if err != nil {
		return fmt.Errorf("render: %s: %w", m.origins[i], err)
	}
	return nil
}

// Digest renders a digest mail: a one-line subject, the plain-text part
// and the HTML part. A run that renders many digests uses a Batch.
func (e *Engine) Digest(v *DigestView) (subject, text, html string, err error) {
	if v == nil {
		return "", "", "", errors.New("render: digest view is nil")
	}
	return e.digest.render((*Batch)(nil).prepare(v))
}

// Confirm renders a confirmation mail: a one-line subject, the plain-text
// part and the HTML part.
func (e *Engine) Confirm(v *ConfirmView) (subject, text, html string, err error) {
	if v == nil {
		return "", "", "", errors.New("render: confirm view is nil")
	}
	return e.confirm.render(v)
}

// Links renders the mail with a subscriber's own links: the welcome after
// confirming (v.Welcome) or the answer to "send me my link".
func (e *Engine) Links(v *LinksView) (subject, text, html string, err error) {
	if v == nil {
		return "", "", "", errors.New("render: links view is nil")
	}
	return e.links.render(v)
}

// HasPage reports whether the web page "web/<name>.html" exists.
func (e *Engine) HasPage(name string) bool {
	_, ok := e.pages[name]
	return ok
}

// Page renders the web page "web/<name>.html" inside web/layout.html (the
// page's body, or its {{define "content"}}, fills the layout's "content"
// block) with data. Nothing is written when rendering fails.
func (e *Engine) Page(w io.Writer, name string, data any) error {
	t, ok := e.pages[name]
	if !ok {
		return fmt.Errorf("render: no web page %q", name)
	}
	buf := getBuf()
	defer putBuf(buf)
	if err := t.Execute(buf, data); err != nil {
		return fmt.Errorf("render: page %s: %w", name, err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("render: write page %s: %w", name, err)
	}
	return nil
}
