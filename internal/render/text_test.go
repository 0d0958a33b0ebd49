package render

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestHang(t *testing.T) {
	long := "https://example.org/" + strings.Repeat("x", 80)
	tests := []struct {
		name               string
		width              int
		first, rest, input string
		want               string
	}{
		{"short", 20, "", "", "a b c", "a b c"},
		{"empty", 20, "> ", "  ", " \t\r\n ", ""},
		{"wraps", 10, "", "", "aaa bbb ccc ddd", "aaa bbb\nccc ddd"},
		{"exact", 7, "", "", "aaa bbb ccc", "aaa bbb\nccc"},
		{"hanging", 12, " 1. ", "    ", "alpha beta gamma delta", " 1. alpha\n    beta\n    gamma\n    delta"},
		{"gaps and controls", 40, "", "", "a\r\nb\tc\x00d\x1b[1m  e\u2028f\u0085g", "a b c d [1m e f g"},
		{"no-break space kept", 40, "", "", "10\u00a0km", "10\u00a0km"},
		{"url alone", 30, "  ", "  ", "see " + long + " now", "  see\n  " + long + "\n  now"},
		{"long word split", 10, "", "", "abcdefghijklmnopqrstuvwxyz", "abcdefghij\nklmnopqrst\nuvwxyz"},
		{"wide runes", 6, "", "", "日本語 テキスト", "日本語\nテキス\nト"},
		{"emoji", 8, "", "", "go 🚀 fast", "go 🚀\nfast"},
		{"invalid utf8", 20, "", "", "a\xffb c", "a\uFFFDb c"},
		{"prefix wider than width", 3, "####", "  ", "ab cd", "####a\n  b\n  c\n  d"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Hang(tt.width, tt.first, tt.rest, tt.input); got != tt.want {
				t.Errorf("Hang(%d, %q, %q, %q)\n got %q\nwant %q", tt.width, tt.first, tt.rest, tt.input, got, tt.want)
			}
		})
	}
	if got := Wrap(10, "> ", "aaa bbb ccc"); got != "> aaa bbb\n> ccc" {
		t.Errorf("Wrap: %q", got)
	}
}

func TestShorten(t *testing.T) {
	tests := []struct {
		in    string
		limit int
		want  string
	}{
		{"short", 10, "short"},
		{"exactly ten", 11, "exactly ten"},
		{"hello wonderful world", 12, "hello…"},
		{"hello wonderful world", 16, "hello wonderful…"},
		{"one, two, three", 10, "one, two…"},
		{"averyveryverylongword", 8, "averyve…"},
		{"Über décoding — 🚀 fast", 16, "Über décoding…"},
		{"abc", 1, "…"},
		{"abc", 0, "…"},
		{"a b", 2, "a…"},
	}
	for _, tt := range tests {
		got := Shorten(tt.in, tt.limit)
		if got != tt.want {
			t.Errorf("Shorten(%q, %d) = %q, want %q", tt.in, tt.limit, got, tt.want)
		}
		if tt.limit > 0 && utf8.RuneCountInString(got) > tt.limit {
			t.Errorf("Shorten(%q, %d) = %q is too long", tt.in, tt.limit, got)
		}
	}
}

func TestShortenParts(t *testing.T) {
	parts := []Segment{{Text: "We study "}, {Text: "diffusion", Match: true}, {Text: " models for speech"}}
	if got := ShortenParts(parts, 100); &got[0] != &parts[0] || len(got) != 3 {
		t.Error("fitting parts should be returned as they are")
	}
	got := ShortenParts(parts, 22)
	want := []Segment{{Text: "We study "}, {Text: "diffusion", Match: true}, {Text: ellipsis}}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("part %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	got = ShortenParts(parts, 27)
	if plain(got) != "We study diffusion models…" || !got[1].Match || got[2].Match {
		t.Errorf("cut inside a plain part: %+v", got)
	}
	if plain(parts) != "We study diffusion models for speech" {
		t.Error("ShortenParts changed its input")
	}
}

func TestCleanLineAndOneLine(t *testing.T) {
	for in, want := range map[string]string{
		"plain":                    "plain",
		"a\r\nb":                   "a  b",
		"tab\tnul\x00esc\x1bdel":   "tab nul esc del",
		"c1\u0085ls\u2028ps\u2029": "c1 ls ps ",
		"bad\xffutf8":              "bad\uFFFDutf8",
		"keep é — 🚀\u00a0":         "keep é — 🚀\u00a0",
	} {
		if got := cleanLine(in); got != want {
			t.Errorf("cleanLine(%q) = %q, want %q", in, got, want)
		}
		if needsClean(in) != (in != want) {
			t.Errorf("needsClean(%q) = %v", in, needsClean(in))
		}
	}
	if got := oneLine("  Your\r\n papers:\t\x00 today  ", 100); got != "Your papers: today" {
		t.Errorf("oneLine: %q", got)
	}
	if got := oneLine(strings.Repeat("word ", 100), 20); utf8.RuneCountInString(got) > 20 || !strings.HasSuffix(got, ellipsis) {
		t.Errorf("oneLine long: %q", got)
	}
}

func TestHelpers(t *testing.T) {
	if got := Authors([]string{"A", "B", "C", "D"}, 3); got != "A, B, C et al." {
		t.Errorf("Authors: %q", got)
	}
	if got := Authors([]string{"A", "B"}, 3); got != "A, B" {
		t.Errorf("Authors: %q", got)
	}
	for in, want := range map[string]textBlock{
		"https://x.org/a":       "https://x.org/a",
		" HTTP://x.org/a b\r\n": "HTTP://x.org/a%20b",
		"mailto:a@b.org":        "mailto:a@b.org",
		"javascript:alert(1)":   "",
		"/relative":             "",
		"ftp://x.org":           "",
	} {
		if got := link(in); got != want {
			t.Errorf("link(%q) = %q, want %q", in, got, want)
		}
	}
	if got := why("speech recognition", []string{"Speech Recognition"}); got != "speech recognition" {
		t.Errorf("why: %q", got)
	}
	if got := why("diffusion models", []string{"diffusion", "noise"}); got != "diffusion models (diffusion, noise)" {
		t.Errorf("why: %q", got)
	}
	if got := why("", []string{"a"}); got != "a" {
		t.Errorf("why: %q", got)
	}
	if got := shortDate("Friday, 27 November 2026"); got != "Fri 27 Nov" {
		t.Errorf("shortDate: %q", got)
	}
	if got := budget(10000, 50, 200, 600); got != 200 {
		t.Errorf("budget: %d", got)
	}
	if got := budget(10000, 0, 200, 600); got != 600 {
		t.Errorf("budget of no items: %d", got)
	}
	if plural(1, "paper", "papers") != "1 paper" || plural(0, "paper", "papers") != "0 papers" {
		t.Error("plural")
	}
	if got := Width("ab日🚀e\u0301"); got != 7 {
		t.Errorf("Width: %d", got)
	}
}

func FuzzHang(f *testing.F) {
	f.Add(20, "a bb ccc https://example.org/very/long/url/that/does/not/fit/anywhere x", "> ")
	f.Add(5, "日本語テキスト\r\n\x00 🚀🚀🚀", "")
	f.Add(1, "\xff\xfe abc", "   ")
	f.Fuzz(func(t *testing.T, width int, s, indent string) {
		width = 1 + abs(width)%120
		indent = strings.Map(func(r rune) rune {
			if isControl(r) || r == '\n' {
				return -1
			}
			return r
		}, indent)
		if !utf8.ValidString(indent) {
			return
		}
		out := Hang(width, indent, indent, s)
		if !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8: %q", out)
		}
		if strings.ContainsFunc(out, func(r rune) bool { return r != '\n' && isControl(r) }) {
			t.Fatalf("control character in %q", out)
		}
		// Words survive in order: the output's words are the input's,
		// except that overlong words may be split across lines.
		in := strings.Join(strings.FieldsFunc(cleanLine(strings.ToValidUTF8(s, "\uFFFD")), isBreak), "")
		var words []string
		for _, line := range strings.Split(out, "\n") {
			line = strings.TrimPrefix(line, indent)
			words = append(words, strings.FieldsFunc(line, isBreak)...)
			// A line too wide holds a single word: a link or one rune.
			if Width(indent+line) > width && len(strings.FieldsFunc(line, isBreak)) > 1 {
				t.Fatalf("line %q is wider than %d and holds several words", line, width)
			}
		}
		if got := strings.Join(words, ""); got != in && indent == "" {
			t.Fatalf("words changed:\n in %q\nout %q", in, got)
		}
	})
}

func FuzzShorten(f *testing.F) {
	f.Add("hello wonderful world", 12)
	f.Add("Über décoding — 🚀 fast", 3)
	f.Add("\xff\xfe", 1)
	f.Fuzz(func(t *testing.T, s string, limit int) {
		limit = abs(limit) % 2000
		got := Shorten(s, limit)
		if utf8.RuneCountInString(s) <= limit {
			if got != s {
				t.Fatalf("Shorten(%q, %d) = %q, want it unchanged", s, limit, got)
			}
			return
		}
		if utf8.RuneCountInString(got) > max(limit, 1) {
			t.Fatalf("Shorten(%q, %d) = %q is too long", s, limit, got)
		}
		if !strings.HasSuffix(got, ellipsis) || !strings.HasPrefix(s, strings.TrimSuffix(got, ellipsis)) {
			t.Fatalf("Shorten(%q, %d) = %q is not a prefix plus ellipsis", s, limit, got)
		}
		parts := []Segment{{Text: s[:len(s)/2], Match: true}, {Text: s[len(s)/2:]}}
		if p := plain(ShortenParts(parts, limit)); p != got {
			t.Fatalf("ShortenParts gives %q, Shorten %q", p, got)
		}
	})
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
