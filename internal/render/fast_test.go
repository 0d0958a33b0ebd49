package render

import (
	"bytes"
	"errors"
	htmltemplate "html/template"
	"strings"
	"testing"
	texttemplate "text/template"
	"text/template/parse"
)

// standard returns a copy of e that renders with the standard template
// engines only: the reference the compiled templates must match.
func standard(e *Engine) *Engine {
	c := *e
	c.digest.fast = [3]*fastProg{}
	c.confirm.fast = [3]*fastProg{}
	return &c
}

// same renders a view with the compiled and the standard templates and
// fails unless all three parts are equal; strict also requires that the
// compiled templates handled the view without falling back.
func same(t *testing.T, e *Engine, view any, strict bool) {
	t.Helper()
	m := &e.digest
	if _, ok := view.(*ConfirmView); ok {
		m = &e.confirm
	}
	for i, f := range m.fast {
		if f == nil {
			t.Fatalf("part %d of %s has no compiled form", i, m.origins[i])
		}
		var fast, std bytes.Buffer
		ferr := f.execute(&fast, view)
		if strict && ferr != nil {
			t.Errorf("%s: compiled template fell back: %v", m.origins[i], ferr)
		}
		var serr error
		switch i {
		case 0:
			serr = m.subject.Execute(&std, view)
		case 1:
			serr = m.text.Execute(&std, view)
		default:
			serr = m.html.Execute(&std, view)
		}
		if serr != nil {
			t.Fatalf("%s: standard engine: %v", m.origins[i], serr)
		}
		if ferr == nil && fast.String() != std.String() {
			t.Errorf("%s: compiled output differs from the standard engine\n got: %q\nwant: %q", m.origins[i], fast.String(), std.String())
		}
	}
}

func TestFastMatchesStandard(t *testing.T) {
	e := testEngine(t)
	views := map[string]any{
		"digest":      loadDigest(t, "digest.json"),
		"fallback":    loadDigest(t, "fallback.json"),
		"max50":       maxDigest(50),
		"max1":        maxDigest(1),
		"empty":       &DigestView{},
		"zero papers": &DigestView{Papers: []PaperView{{}, {N: 2, TitleParts: []Segment{{}}, Matched: []string{}}}},
		"odd values": &DigestView{Email: "\x00", DateLabel: "Friday, 31 February 2026", Interests: []string{"", " "},
			Papers: []PaperView{{N: -1, Title: "a\u2028b", Link: "mailto:x@example.org", CodeURL: "HTTPS://EXAMPLE.ORG/%zz%41 x", ProjectURL: "/relative?q=a b",
				Interest: "X", Matched: []string{"x", "X", "y"}, MoreURL: "data:text/html,<b>", LessURL: "https://example.org/\u00e9?q=\"'<>"}}},
	}
	for i, v := range sampleDigests() {
		views["sample"+string(rune('0'+i))] = v
	}
	confirm := new(ConfirmView)
	loadJSON(t, "confirm.json", confirm)
	views["confirm"] = confirm
	views["confirm empty"] = &ConfirmView{}
	for i, v := range sampleConfirms() {
		views["sample confirm"+string(rune('0'+i))] = v
	}
	for name, v := range views {
		t.Run(name, func(t *testing.T) { same(t, e, v, true) })
	}
	// The engine's own output is the standard one too.
	std := standard(e)
	for name, v := range views {
		d, ok := v.(*DigestView)
		if !ok {
			continue
		}
		s1, t1, h1, err1 := e.Digest(d)
		s2, t2, h2, err2 := std.Digest(d)
		if s1 != s2 || t1 != t2 || h1 != h2 || (err1 == nil) != (err2 == nil) {
			t.Errorf("%s: Digest differs between compiled and standard templates", name)
		}
	}
}

// compiled parses src with the standard engine (text or html), runs it
// once so html/template escapes it, and compiles it.
func compiled(t testing.TB, html bool, src string) (*fastProg, func(any) (string, error)) {
	t.Helper()
	if html {
		ht, err := htmltemplate.New("t").Funcs(funcs).Parse(src)
		if err != nil {
			t.Fatal(err)
		}
		var escErr *htmltemplate.Error
		if err := ht.Execute(&bytes.Buffer{}, nil); errors.As(err, &escErr) {
			t.Fatal(err)
		}
		p, err := compileFast("t", true, func(n string) *parse.Tree {
			if x := ht.Lookup(n); x != nil {
				return x.Tree
			}
			return nil
		})
		if err != nil {
			t.Fatalf("compile %q: %v", src, err)
		}
		return p, func(d any) (string, error) {
			var b bytes.Buffer
			err := ht.Execute(&b, d)
			return b.String(), err
		}
	}
	tt, err := parseText("t", file{src: src, origin: "test"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := compileFast("t", false, textLookup(tt))
	if err != nil {
		t.Fatalf("compile %q: %v", src, err)
	}
	return p, func(d any) (string, error) {
		var b bytes.Buffer
		err := tt.Execute(&b, d)
		return b.String(), err
	}
}

// fastData is the data of the compiler tests.
type fastData struct {
	S     string
	N     int
	B     bool
	L     []string
	P     []Segment
	Inner *fastData
	Any   any
}

// fastTemplates exercise every construct the compiler covers.
var fastTemplates = []struct {
	html bool
	src  string
	// declines says the compiled form may hand some data to the standard
	// engine (values it does not print itself, like a []int).
	declines bool
}{
	{false, `{{.S}}|{{.N}}|{{.B}}|{{$.S}}`, false},
	{false, `{{if .S}}yes {{.S}}{{else if .N}}num{{else}}no{{end}}`, false},
	{false, `{{with .S}}<{{.}}>{{else}}none{{end}}{{with $x := .N}}{{$x}}{{end}}`, false},
	{false, `{{range $i, $e := .L}}{{$i}}={{$e}};{{else}}empty{{end}}{{range .P}}{{if .Match}}[{{.Text}}]{{else}}{{.Text}}{{end}}{{end}}`, false},
	{false, `{{range $e := .L}}{{$e}}{{end}}{{$v := 1}}{{range .L}}{{$v = 2}}{{end}}{{$v}}`, false},
	{false, `{{and .S .N}} {{or .S "dflt"}} {{not .B}} {{len .L}} {{len .S}} {{index .L 0}}`, false},
	{false, `{{eq .N 3}} {{ne .S "x"}} {{lt .N 10}} {{le .N 0}} {{gt (len .L) 1}} {{ge .N -2}} {{eq .B true}}`, false},
	{false, `{{printf "%03d %q" .N .S}} {{print .S .N}} {{.S | printf "%s!"}} {{.N | printf "%d"}}`, false},
	{false, `{{define "x"}}[{{.}}|{{$}}]{{end}}{{template "x" .S}}{{template "x" .N}}`, false},
	{false, `{{define "x"}}[{{.}}]{{end}}{{template "x"}}{{.Any}}{{.Inner.Inner.S}}`, true},
	{false, `{{wrap 20 "  " .S}}|{{hang 20 "> " "  " .S}}|{{join ", " .L}}|{{short 5 .S}}|{{plain .P}}|{{why .S .L}}|{{link .S}}`, false},
	{false, `{{.Inner.S}} {{.Inner.Inner.N}} {{(index .P 0).Text}}`, false},
	{false, `{{budget 100 .N 1 50}} {{plural .N "x" "xs"}} {{add .N 1}} {{sub .N 1}} {{shortdate .S}} {{oneline .S}}`, false},
	{true, `<p title="{{.S}}">{{.S}} {{.N}}</p><a href="{{.S}}">x</a><a href="/q?x={{.S}}&y={{.N}}">y</a><title>{{.S}}</title>`, false},
	{true, `{{range .P}}{{if .Match}}<mark>{{.Text}}</mark>{{else}}{{.Text}}{{end}}{{end}}{{with others .S .L}}: {{join ", " .}}{{end}}`, false},
	{true, `{{define "hl"}}{{range .}}<b>{{.Text}}</b>{{end}}{{end}}{{template "hl" parts 10 .P .S}}{{$sep := ""}}{{range .L}}{{$sep}}{{.}}{{$sep = ", "}}{{end}}`, false},
}

func TestFastTemplates(t *testing.T) {
	data := []*fastData{
		{},
		{S: "hello <world> & 'friends' + \"x\"", N: 3, B: true, L: []string{"a", "b"}, P: []Segment{{Text: "x"}, {Text: "y", Match: true}},
			Inner: &fastData{S: "in", Inner: &fastData{N: 7}}, Any: "any"},
		{S: "javascript:alert(1)", N: -2, L: []string{""}, P: []Segment{{}}, Any: 5},
		{S: "Friday, 27 November 2026", N: 100, L: []string{"Friday"}, Inner: &fastData{}},
		{S: "https://example.org/a b?c=d&e=%41%zz\x00é", N: 1},
		{S: "line\r\nbreak\x1b", N: 0, B: true, Any: []int{1}},
	}
	for _, tt := range fastTemplates {
		p, std := compiled(t, tt.html, tt.src)
		for i, d := range data {
			want, serr := std(d)
			var b bytes.Buffer
			ferr := p.execute(&b, d)
			switch {
			case ferr != nil && serr == nil && !tt.declines:
				t.Errorf("%q data %d: compiled form declined: %v", tt.src, i, ferr)
			case ferr == nil && serr != nil:
				t.Errorf("%q data %d: standard engine fails (%v), compiled form succeeded with %q", tt.src, i, serr, b.String())
			case ferr == nil && b.String() != want:
				t.Errorf("%q data %d:\n got: %q\nwant: %q", tt.src, i, b.String(), want)
			}
		}
	}
}

func TestFastDeclines(t *testing.T) {
	// Constructs outside the compiled subset fail to compile, so the
	// engine keeps the standard template.
	for _, src := range []string{
		`{{html .S}}`, `{{.S | urlquery}}`, `{{range .L}}{{break}}{{end}}`, `{{call .Any}}`, `{{slice .S 1}}`,
		`{{printf "%v" nil}}`, `{{eq .N 1 2}}`, `{{1.5}}`, `{{range $i = .L}}{{end}}`,
	} {
		tt, err := texttemplate.New("t").Funcs(funcs).Parse(src)
		if err != nil {
			t.Fatalf("%q: %v", src, err)
		}
		if _, err := compileFast("t", false, textLookup(tt)); err == nil {
			t.Errorf("%q compiled", src)
		}
	}
	if _, err := compileFast("t", true, func(string) *parse.Tree { return nil }); err == nil {
		t.Error("missing template compiled")
	}
	// At run time the compiled form gives up on values it does not handle
	// like the standard engine, and the engine's output is the standard
	// one, error included.
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"mail/digest.subject.txt": `{{with .Papers}}{{(index . 0).Title}}{{end}}{{if eq .ListName "boom"}}{{index .Papers 9}}{{end}}`,
		"mail/digest.txt":         `{{.Papers}}`,
		"mail/digest.html":        `<p>{{.Interests}}</p>`,
	})
	e, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	v := &DigestView{Papers: []PaperView{{Title: "a\nb"}}, Interests: []string{"<x>"}}
	var b bytes.Buffer
	if e.digest.fast[1] == nil || e.digest.fast[1].execute(&b, v) != errFallback {
		t.Error("printing a slice should fall back")
	}
	s, text, html, err := e.Digest(v)
	s2, text2, html2, err2 := standard(e).Digest(v)
	if err != nil || err2 != nil || s != "a b" || s2 != s || text != text2 || !strings.HasPrefix(text, "[{0  a b ") || html != html2 || html != "<p>[&lt;x&gt;]</p>" {
		t.Errorf("fallback render: %q %q %q %v", s, text, html, err)
	}
	if _, _, _, err := e.Digest(&DigestView{ListName: "boom"}); err == nil || !strings.Contains(err.Error(), "index out of range") {
		t.Errorf("error of the standard engine expected, got %v", err)
	}
}

func FuzzFast(f *testing.F) {
	f.Add("hello <b>", 3, true, "a,b")
	f.Add("javascript:x", -1, false, "")
	f.Add("https://x.org/a b?c=%41&d='\"", 0, true, "Friday, 27 November 2026")
	f.Add("\x00\xff\u2028", 1000, false, ",,")
	progs := make([]*fastProg, len(fastTemplates))
	stds := make([]func(any) (string, error), len(fastTemplates))
	for i, tt := range fastTemplates {
		progs[i], stds[i] = compiled(f, tt.html, tt.src)
	}
	f.Fuzz(func(t *testing.T, s string, n int, b bool, list string) {
		d := &fastData{S: s, N: n, B: b, L: strings.Split(list, ","), P: []Segment{{Text: s, Match: b}, {Text: list}}, Inner: &fastData{S: list, Inner: &fastData{N: n}}, Any: s}
		for i, p := range progs {
			want, serr := stds[i](d)
			var buf bytes.Buffer
			ferr := p.execute(&buf, d)
			if ferr == nil && (serr != nil || buf.String() != want) {
				t.Errorf("%q:\n got: %q\nwant: %q (%v)", fastTemplates[i].src, buf.String(), want, serr)
			}
		}
	})
}
