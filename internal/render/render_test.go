package render

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"unicode/utf8"

	"github.com/papermail/papermail/templates"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// newEngine builds the engine from the embedded templates.
func testEngine(t testing.TB) *Engine {
	t.Helper()
	e, err := New("")
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return e
}

// loadJSON reads a fixture from testdata into v.
func loadJSON(t testing.TB, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

func loadDigest(t testing.TB, name string) *DigestView {
	t.Helper()
	v := new(DigestView)
	loadJSON(t, name, v)
	return v
}

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(p, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/render -update to create it)", err)
	}
	if got != string(want) {
		gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for i := range max(len(gl), len(wl)) {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("%s differs at line %d:\n got: %q\nwant: %q\n(run with -update if the change is intended)", name, i+1, g, w)
			}
		}
	}
}

func TestGolden(t *testing.T) {
	e := testEngine(t)
	for _, name := range []string{"digest", "fallback", "confirm"} {
		t.Run(name, func(t *testing.T) {
			var subject, text, html string
			var err error
			if name == "confirm" {
				v := new(ConfirmView)
				loadJSON(t, name+".json", v)
				subject, text, html, err = e.Confirm(v)
			} else {
				subject, text, html, err = e.Digest(loadDigest(t, name+".json"))
			}
			if err != nil {
				t.Fatal(err)
			}
			golden(t, name+".subject.golden", subject+"\n")
			golden(t, name+".txt.golden", text)
			golden(t, name+".html.golden", html)
		})
	}
}

func TestSubject(t *testing.T) {
	e := testEngine(t)
	long := strings.Repeat("word ", 100)
	tests := []struct {
		name string
		view *DigestView
		want string
	}{
		{"fixture", loadDigest(t, "digest.json"),
			"Your papers for Fri 27 Nov: Über-fast décoding — 🚀: speculative sampling for diffusion… and 2 more"},
		{"fallback", loadDigest(t, "fallback.json"), "Trending papers for Sat 28 Nov: Scaling laws for small models and 1 more"},
		{"one paper", &DigestView{DateLabel: "Monday, 30 November 2026", Papers: []PaperView{{N: 1, Item: Item{Match: Match{Paper: Paper{Title: "Only one"}}}}}},
			"Your papers for Mon 30 Nov: Only one"},
		{"parts only", &DigestView{Papers: []PaperView{{N: 1, Item: Item{Match: Match{TitleParts: []Segment{{Text: "From "}, {Text: "parts", Match: true}}}}}}},
			"Your papers: From parts"},
		{"odd date label", &DigestView{DateLabel: "27.11.2026", Papers: []PaperView{{N: 1, Item: Item{Match: Match{Paper: Paper{Title: "T"}}}}}}, "Your papers for 27.11.2026: T"},
		{"injection", &DigestView{DateLabel: "Friday,\r\nBcc: x@example.org", Papers: []PaperView{{N: 1, Item: Item{Match: Match{Paper: Paper{Title: "A\r\nSubject: evil\x00\x1b[1m"}}}}}},
			"Your papers for Friday, Bcc: x@example.org: A Subject: evil [1m"},
		{"long title", &DigestView{Papers: []PaperView{{N: 1, Item: Item{Match: Match{Paper: Paper{Title: long}}}}}}, "Your papers: " + strings.TrimSpace(Shorten(long, 60))},
		{"empty", &DigestView{}, "Your papers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			subject, _, _, err := e.Digest(tt.view)
			if err != nil {
				t.Fatal(err)
			}
			if subject != tt.want {
				t.Errorf("subject\n got %q\nwant %q", subject, tt.want)
			}
			if strings.ContainsFunc(subject, isControl) || strings.Contains(subject, "  ") {
				t.Errorf("subject %q is not one clean line", subject)
			}
		})
	}
}

// urlLine matches a line that is nothing but a link (and indentation).
var urlLine = regexp.MustCompile(`^ *(https?://|mailto:)\S+$`)

// checkText asserts the rules every plain-text part follows.
func checkText(t *testing.T, text string) {
	t.Helper()
	if !utf8.ValidString(text) {
		t.Error("text part is not valid UTF-8")
	}
	if i := strings.IndexFunc(text, func(r rune) bool { return r != '\n' && isControl(r) }); i >= 0 {
		t.Errorf("text part has control character %q at %d", text[i], i)
	}
	if !strings.HasSuffix(text, "\n") || strings.HasSuffix(text, "\n\n") {
		t.Errorf("text part should end in exactly one newline: %q", text[max(0, len(text)-20):])
	}
	for i, line := range strings.Split(text, "\n") {
		if w := Width(line); (w > 78 || utf8.RuneCountInString(line) > 78) && !urlLine.MatchString(line) {
			t.Errorf("line %d is %d columns wide and not a lone link: %q", i+1, w, line)
		}
		if line != "-- " && strings.TrimRight(line, " ") != line {
			t.Errorf("line %d has trailing spaces: %q", i+1, line)
		}
	}
}

// lines returns the lines of text with their indentation trimmed.
func lines(text string) map[string]bool {
	m := map[string]bool{}
	for _, l := range strings.Split(text, "\n") {
		m[strings.TrimSpace(l)] = true
	}
	return m
}

func TestTextPart(t *testing.T) {
	e := testEngine(t)
	for _, name := range []string{"digest.json", "fallback.json"} {
		t.Run(name, func(t *testing.T) {
			v := loadDigest(t, name)
			_, text, _, err := e.Digest(v)
			if err != nil {
				t.Fatal(err)
			}
			checkText(t, text)
			// Papers are numbered 1..n, in order, at the start of a line.
			var nums []string
			for _, m := range regexp.MustCompile(`(?m)^ ?(\d+)\. \S`).FindAllStringSubmatch(text, -1) {
				nums = append(nums, m[1])
			}
			var want []string
			for i := range v.Papers {
				want = append(want, fmt.Sprint(i+1))
			}
			if fmt.Sprint(nums) != fmt.Sprint(want) {
				t.Errorf("paper numbers %v, want %v", nums, want)
			}
			// Every link of the view stands alone on a line.
			ls := lines(text)
			urls := []string{v.PreferencesURL, v.UnsubscribeURL, v.FeedURL, v.BaseURL}
			for _, p := range v.Papers {
				urls = append(urls, p.Link, p.MoreURL, p.LessURL, p.CodeURL, p.ProjectURL)
			}
			for _, u := range urls {
				if strings.HasPrefix(u, "http") && !ls[u] {
					t.Errorf("link %q is not alone on a line", u)
				}
			}
			for _, p := range v.Papers {
				switch {
				case p.Fallback:
					if !strings.Contains(text, "Why: trending today") {
						t.Error("fallback paper does not say it is trending")
					}
				case !strings.Contains(text, "Why: matched "+p.Interest):
					t.Errorf("paper %d: no %q", p.N, "Why: matched "+p.Interest)
				}
			}
			if !strings.Contains(text, "Manage preferences") || !strings.Contains(text, "Unsubscribe") {
				t.Error("footer lacks preferences or unsubscribe")
			}
			if v.Fallback != strings.Contains(text, "Nothing matched your interests today; here is what is trending.") {
				t.Errorf("fallback notice shown = %v, want %v", !v.Fallback, v.Fallback)
			}
		})
	}
	// Input line breaks never start a line of their own.
	_, text, _, err := e.Digest(loadDigest(t, "digest.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"\nSecond line after a CRLF", "\nalignment methods", "\r", "\x00", "\x1b", "\u2028"} {
		if strings.Contains(text, bad) {
			t.Errorf("text part contains %q from input", bad)
		}
	}
	if !strings.Contains(text, " 3. A survey of alignment methods with a title split by a CR LF") {
		t.Error("title with CR LF was not joined into one line")
	}
}

// tagRE finds start and end tags; htmlVoid are elements without end tag.
var (
	tagRE    = regexp.MustCompile(`<(/?)([a-zA-Z][a-zA-Z0-9]*)\b[^<>]*>`)
	anchorRE = regexp.MustCompile(`(?s)<a\b([^>]*)>(.*?)</a>`)
	htmlVoid = map[string]bool{"meta": true, "br": true, "img": true, "hr": true, "link": true, "input": true}
)

// checkHTML asserts the rules every HTML mail part follows: well nested,
// accessible, no scripts or external styles, at most 600 px wide.
func checkHTML(t *testing.T, html, preheader string) {
	t.Helper()
	var stack []string
	for _, m := range tagRE.FindAllStringSubmatch(html, -1) {
		name := strings.ToLower(m[2])
		switch {
		case htmlVoid[name]:
		case m[1] == "":
			stack = append(stack, name)
		case len(stack) == 0 || stack[len(stack)-1] != name:
			t.Fatalf("HTML does not nest: </%s> closes %v", name, stack)
		default:
			stack = stack[:len(stack)-1]
		}
	}
	if len(stack) != 0 {
		t.Fatalf("HTML leaves %v open", stack)
	}
	if strings.Count(html, "<") != len(tagRE.FindAllString(html, -1))+1 { // +1 for <!DOCTYPE html>
		t.Error("HTML has a stray '<' outside tags")
	}
	low := strings.ToLower(html)
	for _, tag := range tagRE.FindAllString(html, -1) {
		if regexp.MustCompile(`(?i)\son\w+=`).MatchString(tag) {
			t.Errorf("HTML tag with event handler: %s", tag)
		}
	}
	for _, bad := range []string{"<script", "<link", "javascript:", "@import", "<img", "url("} {
		if strings.Contains(low, bad) {
			t.Errorf("HTML contains %q", bad)
		}
	}
	for _, want := range []string{`<html lang="en"`, `<meta name="color-scheme" content="light dark">`,
		`<meta name="supported-color-schemes" content="light dark">`, "max-width:600px", "prefers-color-scheme:dark"} {
		if !strings.Contains(html, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	if m := regexp.MustCompile(`<title>([^<]+)</title>`).FindStringSubmatch(html); m == nil || strings.TrimSpace(m[1]) == "" {
		t.Error("HTML has no title")
	}
	tables := strings.Count(html, "<table")
	if tables == 0 || strings.Count(html, `<table role="presentation"`) != tables {
		t.Errorf("%d tables, not all role=presentation", tables)
	}
	pre := regexp.MustCompile(`<div style="display:none;max-height:0;[^"]*overflow:hidden;[^"]*">([^<]*)</div>`).FindStringSubmatch(html)
	if pre == nil || !strings.HasPrefix(pre[1], preheader) {
		t.Errorf("no hidden preheader starting %q", preheader)
	}
	as := anchorRE.FindAllStringSubmatch(html, -1)
	if len(as) == 0 {
		t.Error("HTML has no links")
	}
	for _, a := range as {
		text := strings.TrimSpace(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(a[2], ""))
		if text == "" || strings.EqualFold(text, "click here") || strings.EqualFold(text, "here") {
			t.Errorf("link %s has no real text: %q", a[1], a[2])
		}
		if !regexp.MustCompile(`href="[^"]+"`).MatchString(a[1]) {
			t.Errorf("link %q has no href", a[1])
		}
	}
}

func TestHTMLPart(t *testing.T) {
	e := testEngine(t)
	v := loadDigest(t, "digest.json")
	_, _, html, err := e.Digest(v)
	if err != nil {
		t.Fatal(err)
	}
	checkHTML(t, html, v.Preheader)
	for _, want := range []string{
		"&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt; Jailbreaking", // title escaped
		"&lt;/p&gt;&lt;img src=x onerror=alert(1)&gt;",                     // abstract escaped
		"Mallory &lt;mallory@example.org&gt;",
		`<mark>diffusion</mark> transformers</a>`, // title highlight
		`We make <mark>diffusion</mark>`,          // abstract highlight
		`Matched <b>diffusion models</b>: diffusion, denoising`,
		"142 upvotes · 12 comments", ">Code</a>", ">Project page</a>", ">More like this</a>", ">Less like this</a>",
		">Manage preferences</a>", ">Unsubscribe</a>", ">Your papers as a feed</a>",
		`href="https://papers.example.org/feedback?p=2611.01234&amp;v=1&amp;t=`,
		"Über-fast décoding — 🚀",
	} {
		if !strings.Contains(html, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	// The javascript: code link is neutralised, the paper without a link
	// shows its title unlinked, and a paper without upvotes shows its
	// honest signal instead.
	if !strings.Contains(html, `href="#ZgotmplZ"`) {
		t.Error("javascript: URL was not neutralised")
	}
	if !strings.Contains(html, "<h2 style=\"margin:0 0 4px;font-size:17px;line-height:24px;\">3. A survey of") {
		t.Error("paper without link should show a plain title")
	}
	if !strings.Contains(html, "Mallory &lt;mallory@example.org&gt;, Eve<br>new today</p>") {
		t.Error("paper without upvotes should show \"new today\"")
	}
	if strings.Contains(html, "Nothing matched") {
		t.Error("a matched digest says nothing matched")
	}

	fb := loadDigest(t, "fallback.json")
	_, _, html, err = e.Digest(fb)
	if err != nil {
		t.Fatal(err)
	}
	checkHTML(t, html, "Nothing matched your interests today: 2 trending papers")
	for _, want := range []string{"Nothing matched your interests today; here is what is trending.", "87 upvotes", "Trending today; it did not match your interests."} {
		if !strings.Contains(html, want) {
			t.Errorf("fallback HTML lacks %q", want)
		}
	}
}

func TestConfirm(t *testing.T) {
	e := testEngine(t)
	v := new(ConfirmView)
	loadJSON(t, "confirm.json", v)
	subject, text, html, err := e.Confirm(v)
	if err != nil {
		t.Fatal(err)
	}
	if subject != "Confirm your papermail subscription" {
		t.Errorf("subject %q", subject)
	}
	checkText(t, text)
	checkHTML(t, html, "One click to start")
	if !lines(text)[v.ConfirmURL] {
		t.Error("confirm link is not alone on a line of the text part")
	}
	if n := strings.Count(html, `href="`+v.ConfirmURL+`"`); n != 1 {
		t.Errorf("HTML has %d confirm links, want 1", n)
	}
	for part, s := range map[string]string{"text": text, "html": html} {
		for _, want := range []string{v.Email, "diffusion models", "until Friday, 4 December 2026", "no mail will ever be sent"} {
			if !strings.Contains(s, want) {
				t.Errorf("%s part lacks %q", part, want)
			}
		}
	}
	if !strings.Contains(html, "speech &lt;b&gt;recognition&lt;/b&gt;") {
		t.Error("interest not escaped in HTML")
	}
	// Without an expiry date the mail still says when the link expires.
	_, text, html, err = e.Confirm(&ConfirmView{Email: "x@example.org", ConfirmURL: "https://example.org/c?t=1"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "works for 7 days") || !strings.Contains(html, "works for 7 days") {
		t.Error("default expiry missing")
	}
	if _, _, _, err := e.Confirm(nil); err == nil {
		t.Error("nil view: no error")
	}
}

// maxDigest builds the largest digest a configuration allows: n papers
// with titles of 1,000 characters, long abstracts shortened the way the
// digest package does, several highlights each, and every link set.
func maxDigest(n int) *DigestView {
	words := strings.Fields("efficient diffusion transformers for long context retrieval with sparse attention and learned token merging across modalities")
	text := func(chars int, seed int) string {
		var b strings.Builder
		for i := seed; b.Len() < chars; i++ {
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(words[i%len(words)])
		}
		return b.String()[:chars]
	}
	parts := func(s string) []Segment {
		var out []Segment
		for len(s) > 0 {
			i := strings.Index(s, "diffusion")
			if i < 0 {
				return append(out, Segment{Text: s})
			}
			out = append(out, Segment{Text: s[:i]}, Segment{Text: "diffusion", Match: true})
			s = s[i+len("diffusion"):]
		}
		return out
	}
	sig := "t=" + strings.Repeat("eyJzIjoxMjM0NTY3", 6)
	v := &DigestView{
		Email: "someone.with.a.long.address@example.org", Interests: []string{"diffusion models", "retrieval", "sparse attention", "multimodal learning"},
		DateLabel: "Wednesday, 30 December 2026", ListName: "papermail",
		PreferencesURL: "https://papers.example.org/preferences?" + sig, UnsubscribeURL: "https://papers.example.org/unsubscribe?" + sig,
		FeedURL: "https://papers.example.org/feed?" + sig, BaseURL: "https://papers.example.org/",
		BrowserURL: "https://papers.example.org/view/" + sig,
	}
	for i := range n {
		title := text(1000, i) + " & <more>"
		abs := Shorten(text(5000, i+3), 600)
		v.Papers = append(v.Papers, PaperView{Item: Item{Match: Match{
			Paper: Paper{
				ID: fmt.Sprintf("2612.%05d", i), Title: title, Link: fmt.Sprintf("https://arxiv.org/abs/2612.%05d", i), Abstract: abs,
				Authors:    "Alexandra Very-Long-Surname, Bartholomew Another-Long-Name, Chen Xiaoming et al.",
				Signal:     "1234 upvotes · 321 comments",
				CodeURL:    "https://github.com/some-organisation/a-repository-with-a-long-name",
				ProjectURL: "https://some-organisation.github.io/a-repository-with-a-long-name/",
				ArxivID:    fmt.Sprintf("2612.%05d", i), AbsURL: fmt.Sprintf("https://arxiv.org/abs/2612.%05d", i),
				PDFURL:       fmt.Sprintf("https://arxiv.org/pdf/2612.%05dv2", i),
				Affiliations: "Massachusetts Institute of Technology, Eidgenössische Technische Hochschule Zürich, University of Cambridge et al.",
				Category:     "physics.ao-ph", Venue: "bioRxiv", Published: "28 Dec 2026",
				TLDR:    Shorten(text(400, i+7), 300),
				CiteURL: fmt.Sprintf("https://papers.example.org/cite/2612.%05d.bib", i),
			},
			TitleParts: parts(title), AbstractParts: parts(abs),
			Interest: "diffusion models", Matched: []string{"diffusion", "transformers", "attention"}},
			Followed: "Alexandra Very-Long-Surname",
			MoreURL:  fmt.Sprintf("https://papers.example.org/feedback?p=2612.%05d&v=1&%s", i, sig),
			LessURL:  fmt.Sprintf("https://papers.example.org/feedback?p=2612.%05d&v=-1&%s", i, sig),
		}, N: i + 1})
	}
	return v
}

// gmailClip is the HTML size from which Gmail clips a message (102 KB).
const gmailClip = 102 * 1000

func TestSize(t *testing.T) {
	e := testEngine(t)
	for _, tt := range []struct {
		papers, limit int
	}{{50, gmailClip}, {8, gmailClip / 3}, {20, gmailClip}} {
		t.Run(fmt.Sprint(tt.papers), func(t *testing.T) {
			_, text, html, err := e.Digest(maxDigest(tt.papers))
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d papers: HTML %d bytes, text %d bytes", tt.papers, len(html), len(text))
			if len(html) >= tt.limit {
				t.Errorf("HTML part of %d papers is %d bytes, want < %d", tt.papers, len(html), tt.limit)
			}
			// The text part shares the HTML part's budget (titles,
			// abstracts, TL;DRs, affiliations), so it stays as small.
			if len(text) >= tt.limit {
				t.Errorf("text part of %d papers is %d bytes, want < %d", tt.papers, len(text), tt.limit)
			}
			if strings.Count(html, "<h2 ") != tt.papers {
				t.Errorf("HTML shows %d papers, want %d", strings.Count(html, "<h2 "), tt.papers)
			}
			checkText(t, text)
		})
	}
}

func TestNilAndEmpty(t *testing.T) {
	e := testEngine(t)
	if _, _, _, err := e.Digest(nil); err == nil {
		t.Error("nil view: no error")
	}
	s, text, html, err := e.Digest(&DigestView{})
	if err != nil {
		t.Fatal(err)
	}
	if s == "" || text == "" || html == "" {
		t.Error("empty view gave an empty part")
	}
	checkText(t, text)
}

// writeFiles writes name -> content below dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestOverride(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"mail/confirm.subject.txt": "Please confirm {{.Email}}",
		"web/extra.html":           `{{define "title"}}Extra{{end}}{{define "content"}}<p>extra {{.X}}</p>{{end}}`,
		"unrelated.txt":            "{{ not a template",
	})
	e, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	def := testEngine(t)
	v := &ConfirmView{Email: "a@example.org\r\nBcc: b@example.org", ConfirmURL: "https://example.org/c"}
	s1, text1, html1, err := e.Confirm(v)
	if err != nil {
		t.Fatal(err)
	}
	s2, text2, html2, err := def.Confirm(v)
	if err != nil {
		t.Fatal(err)
	}
	if s1 != "Please confirm a@example.org Bcc: b@example.org" {
		t.Errorf("overridden subject %q", s1)
	}
	if s1 == s2 || text1 != text2 || html1 != html2 {
		t.Error("override should replace the subject and nothing else")
	}
	if !e.HasPage("extra") || def.HasPage("extra") {
		t.Error("override dir should add web/extra.html")
	}
	var b bytes.Buffer
	if err := e.Page(&b, "extra", map[string]string{"X": "<x>"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "<title>Extra</title>") || !strings.Contains(b.String(), "<p>extra &lt;x&gt;</p>") {
		t.Errorf("page with defines rendered %q", b.String())
	}
}

func TestOverrideErrors(t *testing.T) {
	tests := []struct {
		name, file, src, want string
	}{
		{"parse error", "mail/digest.html", "<p>{{if .Fallback}}</p>", "mail/digest.html"},
		{"unknown function", "mail/digest.txt", "{{nosuchfunc .Email}}", "mail/digest.txt"},
		{"unknown field", "mail/confirm.txt", "{{.Emial}}", "mail/confirm.txt"},
		{"unknown field in html", "mail/digest.html", "{{range .Papers}}{{.Titel}}{{end}}", "mail/digest.html"},
		{"escaping error", "mail/confirm.html", `<a href="{{if .Email}}x">{{end}}`, "mail/confirm.html"},
		{"broken layout", "web/layout.html", "{{block \"content\" .}}", "web/layout.html"},
		{"broken page", "web/message.html", "{{.Title", "web/message.html"},
		{"page escaping error", "web/message.html", `<a href="{{if .Title}}x">{{end}}`, "web/message.html"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, map[string]string{tt.file: tt.src})
			_, err := New(dir)
			if err == nil {
				t.Fatal("New accepted a broken template")
			}
			if want := filepath.Join(dir, filepath.FromSlash(tt.want)); !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not name %s", err, want)
			}
		})
	}
	if _, err := New(filepath.Join(t.TempDir(), "missing")); err == nil || !strings.Contains(err.Error(), "templates_dir") {
		t.Errorf("missing templates_dir: %v", err)
	}
	f := filepath.Join(t.TempDir(), "file")
	writeFiles(t, filepath.Dir(f), map[string]string{"file": ""})
	if _, err := New(f); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("templates_dir is a file: %v", err)
	}
}

func TestMissingTemplate(t *testing.T) {
	base := mailFS(t, nil)
	if _, err := newEngine(base, ""); err != nil {
		t.Fatalf("all mail templates and no web pages: %v", err)
	}
	delete(base, "mail/confirm.html")
	_, err := newEngine(base, "")
	if err == nil || !strings.Contains(err.Error(), "mail/confirm.html is missing") {
		t.Errorf("missing template: %v", err)
	}
}

// mailFS returns the embedded mail templates plus the given files.
func mailFS(t *testing.T, files map[string]string) fstest.MapFS {
	t.Helper()
	fsys := fstest.MapFS{}
	for _, p := range mailPaths {
		b, err := templates.FS.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		fsys[p] = &fstest.MapFile{Data: b}
	}
	for p, src := range files {
		fsys[p] = &fstest.MapFile{Data: []byte(src)}
	}
	return fsys
}

func TestPage(t *testing.T) {
	e, err := newEngine(mailFS(t, map[string]string{
		"web/layout.html": `<!DOCTYPE html><html lang="en"><title>{{block "title" .}}papermail{{end}}</title><main>{{block "content" .}}{{end}}</main></html>`,
		"web/hello.html":  `{{define "title"}}Hi {{.Name}}{{end}}<p>Hello {{.Name}}, <a href="{{.URL}}">home</a></p>`,
		"web/defs.html":   `{{define "content"}}<p>defined {{.Name}}</p>{{end}}`,
		"web/sub/x.html":  `{{.Ignored}}`,
	}), "")
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]bool{"hello": true, "defs": true, "layout": false, "sub/x": false, "x": false, "nope": false} {
		if e.HasPage(name) != want {
			t.Errorf("HasPage(%q) = %v, want %v", name, !want, want)
		}
	}
	type data struct{ Name, URL string }
	tests := []struct {
		page string
		data data
		want string
	}{
		{"hello", data{"<b>Ann</b>", "https://example.org/?a=1&b=2"},
			`<!DOCTYPE html><html lang="en"><title>Hi &lt;b&gt;Ann&lt;/b&gt;</title><main><p>Hello &lt;b&gt;Ann&lt;/b&gt;, <a href="https://example.org/?a=1&amp;b=2">home</a></p></main></html>`},
		{"hello", data{"Bo", "javascript:alert(1)"},
			`<!DOCTYPE html><html lang="en"><title>Hi Bo</title><main><p>Hello Bo, <a href="#ZgotmplZ">home</a></p></main></html>`},
		{"defs", data{"Cy", ""}, `<!DOCTYPE html><html lang="en"><title>papermail</title><main><p>defined Cy</p></main></html>`},
	}
	for _, tt := range tests {
		var b bytes.Buffer
		if err := e.Page(&b, tt.page, tt.data); err != nil {
			t.Fatal(err)
		}
		if b.String() != tt.want {
			t.Errorf("page %s:\n got %s\nwant %s", tt.page, b.String(), tt.want)
		}
	}
	var b bytes.Buffer
	if err := e.Page(&b, "nope", nil); err == nil || b.Len() != 0 {
		t.Errorf("unknown page: err %v, wrote %d bytes", err, b.Len())
	}
	// A failing render writes nothing.
	if err := e.Page(&b, "hello", struct{ Name string }{"x"}); err == nil || b.Len() != 0 {
		t.Errorf("bad data: err %v, wrote %d bytes", err, b.Len())
	}
	if err := e.Page(failWriter{}, "hello", data{}); err == nil {
		t.Error("write error not reported")
	}
	// Without a layout a page renders alone.
	solo, err := newEngine(mailFS(t, map[string]string{"web/solo.html": `<p>{{.}}</p>`}), "")
	if err != nil {
		t.Fatal(err)
	}
	b.Reset()
	if err := solo.Page(&b, "solo", "<x>"); err != nil || b.String() != "<p>&lt;x&gt;</p>" {
		t.Errorf("page without layout: %q, %v", b.String(), err)
	}
}

// mailPaths are the mail templates.
var mailPaths = []string{"mail/digest.subject.txt", "mail/digest.txt", "mail/digest.html", "mail/confirm.subject.txt", "mail/confirm.txt", "mail/confirm.html", "mail/links.subject.txt", "mail/links.txt", "mail/links.html"}

func TestEmbeddedPages(t *testing.T) {
	e := testEngine(t)
	paths, err := fs.Glob(templates.FS, "web/*.html")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no embedded web pages: %v", err)
	}
	for _, p := range paths {
		if name := strings.TrimSuffix(path.Base(p), ".html"); name != "layout" && !e.HasPage(name) {
			t.Errorf("embedded %s is not a page", p)
		}
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestConcurrent(t *testing.T) {
	e := testEngine(t)
	v := loadDigest(t, "digest.json")
	s0, t0, h0, err := e.Digest(v)
	if err != nil {
		t.Fatal(err)
	}
	// All goroutines start on an empty batch at once.
	b := e.NewBatch()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 20 {
				s, text, html, err := b.Digest(v)
				if err != nil || s != s0 || text != t0 || html != h0 {
					t.Error("concurrent render differs")
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestBatchReaders renders the same papers for readers with their own
// numbers, highlights and links, in one batch: each digest must be the one
// rendered on its own, so nothing of one reader reaches another.
func TestBatchReaders(t *testing.T) {
	e := testEngine(t)
	b := e.NewBatch()
	base := maxDigest(6)
	for r := range 12 {
		v := *base
		v.Email = fmt.Sprintf("reader%d@example.org", r)
		v.UnsubscribeURL = fmt.Sprintf("https://papers.example.org/unsubscribe?r=%d", r)
		v.Papers = slices.Clone(base.Papers)
		slices.Reverse(v.Papers[:r%len(v.Papers)])
		for i := range v.Papers {
			p := &v.Papers[i]
			p.N = i + 1
			p.MoreURL = fmt.Sprintf("https://papers.example.org/feedback?r=%d&p=%s", r, p.ID)
			if r%3 == 0 {
				p.TitleParts, p.AbstractParts, p.Matched = nil, nil, nil
			}
			if r%4 == 1 {
				// Another paper under the same ID: rendered afresh.
				p.Authors = fmt.Sprintf("Reader %d's view", r)
			}
		}
		s1, t1, h1, err := b.Digest(&v)
		if err != nil {
			t.Fatal(err)
		}
		s2, t2, h2, err := e.Digest(&v)
		if err != nil {
			t.Fatal(err)
		}
		if s1 != s2 || t1 != t2 || h1 != h2 {
			t.Fatalf("reader %d: digest from the batch differs from the one rendered alone", r)
		}
		if !strings.Contains(h1, v.Email) || !strings.Contains(t1, v.Email) {
			t.Errorf("reader %d: own address missing", r)
		}
		if want := fmt.Sprintf("r=%d&amp;p=%s", r, v.Papers[0].ID); !strings.Contains(h1, want) {
			t.Errorf("reader %d: own feedback link %q missing", r, want)
		}
	}
}

func FuzzDigest(f *testing.F) {
	f.Add("Über-fast décoding — 🚀", "<script>alert(1)</script>", "a\r\nb", "https://x.org/a b")
	f.Add("\x00\x1b\u2028\u0085", "\xff\xfe", "", "javascript:alert(1)")
	e := testEngine(f)
	// One batch for all inputs: every paper has the ID "", so a batch
	// that reused a fragment of another paper would show here.
	batch := e.NewBatch()
	f.Fuzz(func(t *testing.T, title, abstract, interest, link string) {
		v := &DigestView{
			Email: interest + "@example.org", Interests: []string{interest}, DateLabel: title,
			Papers: []PaperView{{Item: Item{
				Match: Match{
					Paper:    Paper{Title: title, Link: link, Abstract: abstract, Authors: interest, Signal: abstract, CodeURL: link},
					Interest: interest, Matched: []string{title},
					TitleParts:    []Segment{{Text: title, Match: true}, {Text: abstract}},
					AbstractParts: []Segment{{Text: abstract}, {Text: interest, Match: true}},
				},
				MoreURL: link,
			}, N: 1}},
			PreferencesURL: link, UnsubscribeURL: "https://example.org/u",
		}
		subject, text, html, err := e.Digest(v)
		if err != nil {
			t.Fatal(err)
		}
		s2, text2, html2, err := batch.Digest(v)
		if err != nil || s2 != subject || text2 != text || html2 != html {
			t.Errorf("digest from a shared batch differs from one rendered alone (%v)", err)
		}
		notNL := func(r rune) bool { return r != '\n' && isControl(r) }
		if strings.ContainsFunc(subject, isControl) || strings.ContainsFunc(text, notNL) || strings.ContainsFunc(html, notNL) {
			t.Errorf("control character in subject %q, text or HTML", subject)
		}
		low := strings.ToLower(html)
		if strings.Contains(low, "<script") || strings.Contains(low, "<img") || strings.Contains(low, "javascript:") {
			t.Error("input reached the HTML unescaped")
		}
		if !utf8.ValidString(subject) || !utf8.ValidString(text) {
			t.Error("invalid UTF-8 in subject or text")
		}
	})
}

// benchDigest is the digest of the benchmarks: the default 8 papers with
// titles of about 90 characters, abstracts of 600, highlights and links.
func benchDigest() *DigestView {
	v := maxDigest(8)
	for i := range v.Papers {
		p := &v.Papers[i]
		p.Title = Shorten(p.Title, 90)
		p.TitleParts = ShortenParts(p.TitleParts, 90)
	}
	return v
}

// benchReaders are the digests of the benchmarks: readers of one day
// whose 8 papers come from a pool of 24, in their own order, with their
// own links and, for two in three, highlights of their own interest.
func benchReaders(n int) []*DigestView {
	pool := benchDigest()
	for len(pool.Papers) < 24 {
		for _, p := range benchDigest().Papers {
			p.ID = fmt.Sprintf("2612.%05d", 100+len(pool.Papers))
			pool.Papers = append(pool.Papers, p)
		}
	}
	views := make([]*DigestView, n)
	for r := range views {
		v := *pool
		v.Email = fmt.Sprintf("reader%d@example.org", r)
		v.PreferencesURL = "https://papers.example.org/preferences/" + readerToken(r, "p")
		v.UnsubscribeURL = "https://papers.example.org/unsubscribe/" + readerToken(r, "u")
		v.FeedURL = "https://papers.example.org/feed/" + readerToken(r, "f") + ".atom"
		v.BrowserURL = "https://papers.example.org/view/" + readerToken(r, "v")
		v.Papers = make([]PaperView, 8)
		for i := range v.Papers {
			p := pool.Papers[(r*5+i*7)%len(pool.Papers)]
			p.N = i + 1
			tok := readerToken(r, p.ID)
			p.MoreURL = "https://papers.example.org/feedback/" + tok + "?v=more"
			p.LessURL = "https://papers.example.org/feedback/" + tok + "?v=less"
			if r%3 == 2 {
				p.TitleParts, p.AbstractParts, p.Matched = nil, nil, nil
			}
			v.Papers[i] = p
		}
		views[r] = &v
	}
	return views
}

// readerToken stands for a signed token of reader r (URL-safe base64 of
// 33 bytes and more, as internal/token makes them).
func readerToken(r int, extra string) string {
	sum := sha256.Sum256([]byte(fmt.Sprint(r, extra)))
	return base64.RawURLEncoding.EncodeToString(append(sum[:], extra...))
}

// benchRender reports, besides wall time, the CPU time per digest: on a
// busy machine wall time mostly measures the other processes. Each
// iteration renders one reader's digest; fresh renders each on its own
// (Engine.Digest).
func benchRender(b *testing.B, e *Engine, fresh bool) {
	views := benchReaders(1000)
	batch := e.NewBatch()
	b.ReportAllocs()
	n, start := 0, cpuTime()
	for b.Loop() {
		digest := batch.Digest
		if fresh {
			digest = e.Digest
		}
		if _, _, _, err := digest(views[n%len(views)]); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(cpuTime()-start)/float64(n), "cpu-ns/op")
}

// BenchmarkDigest renders the subject, text and HTML of 8-paper digests
// of one run's readers in one Batch, as the digest runner does.
func BenchmarkDigest(b *testing.B) { benchRender(b, testEngine(b), false) }

// BenchmarkDigestAlone renders each digest on its own: the standard
// engines on every part of every paper (a preview, a browser view).
func BenchmarkDigestAlone(b *testing.B) { benchRender(b, testEngine(b), true) }

func TestLinksMail(t *testing.T) {
	e := testEngine(t)
	for _, welcome := range []bool{true, false} {
		v := &LinksView{Email: "ada@example.org", Interests: []string{"speech"}, Welcome: welcome,
			PreferencesURL: "https://papers.example.org/preferences/tok", UnsubscribeURL: "https://papers.example.org/unsubscribe/tok",
			FeedURL: "https://papers.example.org/feed/tok.atom", BaseURL: "https://papers.example.org/", DeliveryLabel: "every day at 07:00 (UTC)"}
		subject, text, html, err := e.Links(v)
		if err != nil {
			t.Fatal(err)
		}
		checkText(t, text)
		for _, part := range []string{text, html} {
			if !strings.Contains(part, v.PreferencesURL) || !strings.Contains(part, v.UnsubscribeURL) {
				t.Errorf("welcome=%v: a part lacks the links:\n%s", welcome, part)
			}
		}
		if welcome != strings.HasPrefix(subject, "Welcome") || welcome != strings.Contains(text, "is confirmed") {
			t.Errorf("welcome=%v: subject %q", welcome, subject)
		}
	}
}

// TestBatchHoles renders readers with their own signed links and
// addresses (one with "+", which HTML escapes) in one batch: each digest
// must equal the one rendered alone, the heads, items and feet must come
// from cuts made once per shape, and a template that cuts a reader's link
// (so a cut cannot stand for it) must still show each reader their own.
func TestBatchHoles(t *testing.T) {
	cutLink := `{{define "paper"}}{{matched "paper title" .}}</h2><p>{{printf "%.40s" .MoreURL}}|{{len .LessURL}}</p></td></tr>{{end}}`
	tests := []struct {
		name     string
		override string // appended to digest.html; "" keeps it
		cuts     bool   // HTML items come from cuts (text ones always do)
	}{
		{"embedded templates", "", true},
		{"HTML item cuts the link", cutLink, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := testEngine(t)
			if tt.override != "" {
				src, err := fs.ReadFile(templates.FS, "mail/digest.html")
				if err != nil {
					t.Fatal(err)
				}
				fsys := mailFS(t, map[string]string{"mail/digest.html": strings.Replace(string(src), `{{- define "paper"}}`, tt.override+`{{- define "unused"}}`, 1)})
				if e, err = newEngine(fsys, ""); err != nil {
					t.Fatal(err)
				}
			}
			b := e.NewBatch()
			views := benchReaders(40)
			views[7].Email = "ada+papers&more@example.org"
			for r, v := range views {
				s1, t1, h1, err := b.Digest(v)
				if err != nil {
					t.Fatal(err)
				}
				s2, t2, h2, err := e.Digest(v)
				if err != nil {
					t.Fatal(err)
				}
				if s1 != s2 || t1 != t2 || h1 != h2 {
					t.Fatalf("reader %d: digest from the batch differs from the one rendered alone", r)
				}
				for _, u := range []string{v.PreferencesURL, v.UnsubscribeURL, v.BrowserURL, v.Papers[0].LessURL} {
					if !strings.Contains(t1, u) || tt.cuts && !strings.Contains(h1, u) {
						t.Errorf("reader %d: own link %s missing from HTML", r, u)
					}
				}
				if !strings.Contains(t1, v.Email) || !strings.Contains(h1, escapeText(v.Email)) {
					t.Errorf("reader %d: own address %s missing", r, v.Email)
				}
			}
			if !strings.Contains(mustDigest(t, b, views[7]), "ada&#43;papers&amp;more@example.org") {
				t.Error(`address with "+" and "&" not escaped in HTML`)
			}
			kinds := map[string][2]int{}
			for k, c := range b.cuts {
				n := kinds[k.name]
				if c != nil {
					n[0]++
				} else {
					n[1]++
				}
				kinds[k.name] = n
			}
			if kinds["digest head"][0] == 0 || kinds["digest foot"][0] == 0 {
				t.Errorf("heads and feet not cut (cut, per reader): %v", kinds)
			}
			if kinds["paper"][0] == 0 || tt.cuts == (kinds["paper"][1] > 0) {
				t.Errorf("items (cut, per reader): %v; want cuts %v", kinds["paper"], tt.cuts)
			}
			if len(b.cuts) > 200 {
				t.Errorf("%d cuts for 40 readers of 24 papers: shapes are not shared", len(b.cuts))
			}
		})
	}
}

func mustDigest(t *testing.T, b *Batch, v *DigestView) string {
	t.Helper()
	_, _, html, err := b.Digest(v)
	if err != nil {
		t.Fatal(err)
	}
	return html
}

// TestBatchSums changes each field of a paper's view in turn: the sum a
// Batch keeps its fragments and cuts under must change with every field
// a template may show, or a fragment would be shown for another view.
func TestBatchSums(t *testing.T) {
	b := testEngine(t).NewBatch()
	base := benchDigest()
	sums := func(v *DigestView) Item { return b.prepare(v).Papers[0].Item }
	orig := sums(base)
	item := reflect.ValueOf(&base.Papers[0].Item).Elem()
	var walk func(v reflect.Value, path string, level int)
	walk = func(v reflect.Value, path string, level int) {
		for i := range v.NumField() {
			f, sf := v.Field(i), v.Type().Field(i)
			if !sf.IsExported() {
				continue
			}
			if sf.Anonymous {
				walk(f, path+sf.Name+".", level+1)
				continue
			}
			saved := reflect.New(f.Type()).Elem()
			saved.Set(f)
			switch f.Kind() {
			case reflect.String:
				f.SetString(f.String() + "x")
			case reflect.Int:
				f.SetInt(f.Int() + 1)
			case reflect.Bool:
				f.SetBool(!f.Bool())
			case reflect.Slice:
				f.Set(reflect.Append(f, reflect.New(f.Type().Elem()).Elem()))
			default:
				t.Fatalf("%s%s: kind %s not covered", path, sf.Name, f.Kind())
			}
			got := sums(base)
			var changed bool
			switch {
			case sf.Name == "Of":
				continue // set by the batch from the number of papers
			case sf.Name == "MoreURL" || sf.Name == "LessURL":
				changed = got.isum != orig.isum || !slices.Equal(got.vals, orig.vals)
			case level == 2: // a Paper's field
				changed = got.psum != orig.psum && got.msum != orig.msum && got.isum != orig.isum
			case level == 1: // a Match's field
				changed = got.psum == orig.psum && got.msum != orig.msum && got.isum != orig.isum
			default: // an Item's own field
				changed = got.msum == orig.msum && got.isum != orig.isum
			}
			if !changed {
				t.Errorf("%s%s: the sums do not follow it", path, sf.Name)
			}
			f.Set(saved)
		}
	}
	walk(item, "", 0)
}

// TestSkeleton renders digests of 0 to 8 papers, alone and in a batch,
// and compares each part with the digest template run in full: the
// embedded templates use a skeleton; a digest template that shows a
// reader's field itself, or puts an item where HTML would be escaped, is
// run in full for every digest.
func TestSkeleton(t *testing.T) {
	embedded := func(name string) string {
		src, err := fs.ReadFile(templates.FS, name)
		if err != nil {
			t.Fatal(err)
		}
		return string(src)
	}
	tests := []struct {
		name     string
		files    map[string]string // replaced in the embedded templates
		skeletal [2]bool           // text, HTML
		// itemOnly: a skeleton fails only for its items (not without papers).
		itemOnly bool
	}{
		{"embedded", nil, [2]bool{true, true}, false},
		{"root shows the address", map[string]string{"mail/digest.txt": strings.Replace(embedded("mail/digest.txt"),
			`{{- foot "digest foot" .}}`, `{{- foot "digest foot" .}}{{.Email}}`, 1)}, [2]bool{false, true}, false},
		{"item in an attribute", map[string]string{"mail/digest.html": strings.Replace(embedded("mail/digest.html"),
			`{{.N}}. {{item "paper" .}}`, `{{.N}}. <span title="{{item "paper" .}}"></span>`, 1)}, [2]bool{true, false}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := newEngine(mailFS(t, tt.files), "")
			if err != nil {
				t.Fatal(err)
			}
			b := e.NewBatch()
			views := benchReaders(9)
			for n, v := range views {
				v.Papers = v.Papers[:n]
			}
			for _, v := range append(views, sampleDigests()...) {
				for _, batch := range []*Batch{nil, b} {
					digest := e.Digest
					if batch != nil {
						digest = batch.Digest
					}
					_, text, html, err := digest(v)
					if err != nil {
						t.Fatal(err)
					}
					for part, got := range []string{text, html} {
						var want strings.Builder
						if err := e.digest.run(1+part, &want, batch.prepare(v)); err != nil {
							t.Fatal(err)
						}
						if got != want.String() {
							t.Fatalf("part %d of %d papers (batch %v) differs from the template run in full", part, len(v.Papers), batch != nil)
						}
						wantSk := tt.skeletal[part] || tt.itemOnly && len(v.Papers) == 0
						if has := e.digest.skeleton(part, v) != nil; has != wantSk {
							t.Errorf("part %d of %d papers: skeleton %v, want %v", part, len(v.Papers), has, wantSk)
						}
					}
				}
			}
		})
	}
}

// TestMatchFree renders readers who share papers but not interests in
// one batch, with item templates that show the Match through whole
// {{matched}} actions (cut once per paper) and ones that name a Match
// field or test a fragment themselves (cut per paper and interest): each
// digest must equal the one rendered alone.
func TestMatchFree(t *testing.T) {
	tests := []struct {
		name, item string
		free       bool
	}{
		{"embedded", "", true},
		{"item shows the interest", `{{define "paper"}}{{matched "paper title" .}}</h2><p>{{.Interest}}</p>{{matched "paper why" .}}</td></tr>{{end}}`, false},
		{"item tests a fragment", `{{define "paper"}}{{matched "paper title" .}}</h2>{{if matched "paper why" .}}<p>why</p>{{end}}</td></tr>{{end}}`, false},
		{"item passes itself on", `{{define "paper"}}{{matched "paper title" .}}</h2>{{template "hl" .TitleParts}}{{with $}}{{.Like}}{{end}}</td></tr>{{end}}`, false},
		{"fragment in an attribute", `{{define "paper"}}<span title="{{matched "paper why" .}}">{{matched "paper title" .}}</span></h2></td></tr>{{end}}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string]string{}
			if tt.item != "" {
				src, err := fs.ReadFile(templates.FS, "mail/digest.html")
				if err != nil {
					t.Fatal(err)
				}
				files["mail/digest.html"] = strings.Replace(string(src), `{{- define "paper"}}`, tt.item+`{{- define "unused"}}`, 1)
			}
			e, err := newEngine(mailFS(t, files), "")
			if err != nil {
				t.Fatal(err)
			}
			if got := e.digest.free[partHTML]["paper"]; got != tt.free {
				t.Errorf("HTML item matchFree %v, want %v", got, tt.free)
			}
			b := e.NewBatch()
			for r, v := range benchReaders(30) {
				for i := range v.Papers {
					p := &v.Papers[i]
					p.Interest = fmt.Sprintf("interest %d", r%4)
					p.Matched = []string{p.Interest}
					p.Like = fmt.Sprintf("like %d", r%5)
				}
				s1, t1, h1, err := b.Digest(v)
				if err != nil {
					t.Fatal(err)
				}
				s2, t2, h2, err := e.Digest(v)
				if err != nil {
					t.Fatal(err)
				}
				if s1 != s2 || t1 != t2 || h1 != h2 {
					t.Fatalf("reader %d: digest from the batch differs from the one rendered alone", r)
				}
			}
		})
	}
}
