package usertext

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestClean(t *testing.T) {
	tests := []struct{ in, want string }{
		{"graph neural networks", "graph neural networks"},
		{"über Änderungen; 机器学习", "über Änderungen; 机器学习"},
		{"speech\x07 recognition", "speech recognition"},
		{"red \x1b[31mtext\x1b[0m here", "red text here"},
		{"title \x1b]0;owned\x07 rest", "title  rest"},
		{"esc alone \x1b", "esc alone "},
		{"bidi \u202egnp.exe\u202c", "bidi gnp.exe"},
		{"isolate \u2066x\u2069 and marks \u200e\u200f\u061c", "isolate x and marks "},
		{"\ufeffbom", "bom"},
		{"c1 \u0085\u009b31m", "c1 31m"},
		{"del\x7f", "del"},
		{"nul\x00byte", "nulbyte"},
		{"two\r\nlines\rthree\u2028four", "two\nlines\nthree\nfour"},
		{"tab\tkept\nnewline kept", "tab\tkept\nnewline kept"},
		{"bad \xff\xfe utf8", "bad  utf8"},
		{"emoji 👩‍🔬 keep zwj", "emoji 👩‍🔬 keep zwj"},
	}
	for _, tt := range tests {
		if got := Clean(tt.in); got != tt.want {
			t.Errorf("Clean(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := Line("a\nb\tc\r\nd"); got != "a b c d" {
		t.Errorf("Line = %q", got)
	}
}

func TestPrintable(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain text; über", "plain text; über"},
		{"esc\x1b[31m", `esc\x1b[31m`},
		{"bel\a", `bel\a`},
		{"rlo\u202eabc", `rlo\u202eabc`},
		{`back\slash`, `back\\slash`},
		{"bad\xff", `bad\xff`},
		{"c1\u009b", `c1\u009b`},
		{"nl\n", `nl\n`},
	}
	for _, tt := range tests {
		if got := Printable(tt.in); got != tt.want {
			t.Errorf("Printable(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzClean(f *testing.F) {
	for _, s := range []string{"a\x1b[1;31mb", "\u202e\u2066x", "\r\n\r", "\xff", "ok"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := Clean(s)
		if !utf8.ValidString(c) {
			t.Fatalf("Clean(%q) = %q: invalid UTF-8", s, c)
		}
		for _, r := range c {
			if r != '\n' && r != '\t' && NotText(r) {
				t.Fatalf("Clean(%q) = %q keeps %U", s, c, r)
			}
		}
		if Clean(c) != c {
			t.Fatalf("Clean is not idempotent on %q", s)
		}
		p := Printable(s)
		for _, r := range p {
			if r != ' ' && !printable(r) || strings.ContainsRune(p, 0x1b) {
				t.Fatalf("Printable(%q) = %q keeps %U", s, p, r)
			}
		}
	})
}

func TestEscapeJSON(t *testing.T) {
	in := []byte(`{"i":["a` + "\u202e\u0085\u2066" + `b","über"]}`)
	want := `{"i":["a\u202e\u0085\u2066b","über"]}`
	if got := string(EscapeJSON(in)); got != want {
		t.Errorf("EscapeJSON = %s, want %s", got, want)
	}
	var v map[string][]string
	if err := json.Unmarshal(EscapeJSON(in), &v); err != nil || v["i"][0] != "a\u202e\u0085\u2066b" {
		t.Errorf("escaped JSON reads back as %q, %v", v, err)
	}
}
