package feeds

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

func TestCleanText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"Plain title", "Plain title"},
		{"  spaced \t out\n\r\nlines  ", "spaced out lines"},
		{"non\u00a0breaking\u2028space", "non breaking space"},
		{"ctrl\x01chars\x7f\u0085gone", "ctrlchars gone"},
		{"bad \xff utf8", "bad utf8"},
		{"{\\em emphasis} and {\\bf bold} and {\\it it}", "emphasis and bold and it"},
		{"\\textit{x} \\emph{y} \\textbf{z} \\texttt{code}", "x y z code"},
		{"\\emph{nested {braces} kept}", "nested {braces} kept"},
		{"38\\% \\& a\\_b \\#1 \\$5", "38% & a_b #1 $5"},
		{"with $x^2 + y$ math", "with x^2 + y math"},
		{"gap as $1/\\sqrt{N}$", "gap as 1/√N"},
		{"at $\\frac{1}{6}$ size", "at 1/6 size"},
		{"display $$E=mc^2$$ math", "display E=mc^2 math"},
		{"costs $5 and $10 each", "costs $5 and $10 each"},
		{"a lone $ sign", "a lone $ sign"},
		{"``quoted'' text", "\"quoted\" text"},
		{"it's 'single' quotes", "it's 'single' quotes"},
		{"codecs~(H.264) and Fig.~3", "codecs (H.264) and Fig. 3"},
		{"only ~30% of them", "only ~30% of them"},
		{"https://example.org/~user/x", "https://example.org/~user/x"},
		{"pages 10--20, a---b", "pages 10–20, a—b"},
		{"interpretability -- they", "interpretability – they"},
		{"run with --verbose flag", "run with --verbose flag"},
		{"arrow --> and <!-- comment", "arrow --> and <!-- comment"},
		{"a ---- rule", "a ---- rule"},
		{"well-known co-author", "well-known co-author"},
		{"M{\\\"u}ller and Schr\\\"odinger and Erd\\H{o}s", "Müller and Schrödinger and Erdős"},
		{"Fran\\c{c}ois and \\'{E}cole and na\\\"{\\i}ve", "François and École and naïve"},
		{"\\alpha-divergence and $\\beta$", "α-divergence and β"},
		{"(\\eg BERT) \\etc", "(e.g. BERT) etc."},
		{"see \\url{https://github.com/a/b}", "see https://github.com/a/b"},
		{"cut \\url{https://github.com/a/b", "cut https://github.com/a/b"},
		{"\\href{https://x.org}{the site}", "the site"},
		{"as shown \\cite{smith2020} before", "as shown before"},
		{"\\LaTeX{} leftovers", "LaTeX leftovers"},
		{"unknown \\foo command", "unknown \\foo command"},
		{"trailing backslash \\", "trailing backslash \\"},
		{"line\\\\break", "line break"},
		{"unbalanced } brace {", "unbalanced } brace {"},
		{"e\u0301 composed", "é composed"},
		{"F_{1}-norm", "F_{1}-norm"},
		{"4{,}000 notes", "4,000 notes"},
		{"$\\hat{y} = \\mathbf{W}x$", "y = Wx"},
	}
	for _, tt := range tests {
		if got := CleanText(tt.in); got != tt.want {
			t.Errorf("CleanText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestCleanTextStable checks that cleaning clean text changes nothing, so
// a jsonl export read back keeps its titles and ids.
func TestCleanTextStable(t *testing.T) {
	for _, s := range []string{
		"{\\em emphasis} 38\\% $x^2$ ``q'' a~b 10--20 M{\\\"u}ller \\alpha",
		"Attention is All You Need? Good Embeddings with Statistics are enough",
		"only ~30% -- and $5 or $10 --verbose",
	} {
		once := CleanText(s)
		if twice := CleanText(once); twice != once {
			t.Errorf("CleanText not stable on %q: %q then %q", s, once, twice)
		}
	}
}

// TestCleanTextKeepsSampleTitles: the real page's titles are plain text;
// cleaning must leave every one exactly as it is (other parts of papermail
// key judgments by these titles).
func TestCleanTextKeepsSampleTitles(t *testing.T) {
	f, err := os.Open(samplePage(t))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, MaxLineBytes)
	n := 0
	for no := 1; sc.Scan(); no++ {
		line := strings.TrimPrefix(sc.Text(), "Subscribe")
		if no < 3 || no%2 == 0 {
			continue
		}
		n++
		if got := CleanText(line); got != line {
			t.Errorf("line %d: CleanText changed title %q to %q", no, line, got)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n != 252 {
		t.Fatalf("checked %d titles, want 252", n)
	}
}
