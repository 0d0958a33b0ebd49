package feeds

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestParseErrors(t *testing.T) {
	longTitle := strings.Repeat("word ", 200) + "x"   // 1001 characters
	longAbstract := strings.Repeat("abstract ", 2223) // 20006 characters
	apiFeed, err := os.ReadFile(filepath.Join("testdata", "arxiv-api.xml"))
	if err != nil {
		t.Fatal(err)
	}
	cut := strings.Index(string(apiFeed), "<title>On the Spectrum")
	tests := []struct {
		name, format, src string
		line, entry       int
		offset            int64 // -1: not checked
		want              []string
	}{
		{"hf malformed", FormatHF, "[\n{\"paper\":{\"title\":\"A\"}},\n{\"paper\": {\"title\": tru}}\n]", 3, 2, 51, []string{"src: line 3, byte offset 51: entry 2: invalid JSON", "in literal true"}},
		{"hf truncated", FormatHF, "[\n{\"paper\":{\"title\":\"A\"}},\n{\"paper\":", 3, 2, -1, []string{"line 3", "entry 2", "unexpected end of JSON input"}},
		{"hf truncated after element", FormatHF, "[\n{\"paper\":{\"title\":\"A\"}}\n", 3, 0, 26, []string{"line 3", "unexpected end"}},
		{"hf not an array", FormatHF, `{"papers":[]}`, 1, 0, 0, []string{"want a JSON array of Hugging Face daily papers, found an object"}},
		{"hf wrong type", FormatHF, "[\n{\"paper\":{\"title\":\"A\"}},\n{\"paper\":{\"title\":\"B\",\"upvotes\":\"12\"}}]", 3, 2, -1, []string{"entry 2: field paper.upvotes holds a JSON string, want an integer"}},
		{"hf element not object", FormatHF, `["x"]`, 1, 1, -1, []string{"entry 1: entry is a JSON string, want an object"}},
		{"hf empty title", FormatHF, "[\n{\"paper\":{\"title\":\"A\"}},\n{\"paper\":{\"id\":\"2401.00001\",\"title\":\" \"}}]", 3, 2, -1, []string{"src: line 3: entry 2: paper has no title"}},
		{"hf bad date", FormatHF, `[{"paper":{"title":"A","publishedAt":"yesterday"}}]`, 1, 1, -1, []string{"entry 1: publishedAt: cannot read date \"yesterday\""}},
		{"hf trailing data", FormatHF, "[]\n[]", 2, 0, -1, []string{"data after the end of the JSON array"}},
		{"hf huge title", FormatHF, `[{"paper":{"title":"` + longTitle + `"}}]`, 1, 1, -1, []string{"entry 1: title has 1001 characters, more than the limit of 1000"}},
		{"hf huge abstract", FormatHF, `[{"paper":{"title":"A","summary":"` + longAbstract + `"}}]`, 1, 1, -1, []string{"entry 1: abstract of \"A\" has 20006 characters"}},
		{"arxiv truncated", FormatArxiv, string(apiFeed[:cut+10]), 44, 2, int64(cut + 10), []string{"src: line 44", "entry 2: invalid XML: unexpected end of input"}},
		{"arxiv truncated between entries", FormatArxiv, "<feed>\n<entry><title>A</title></entry>\n", 3, 1, -1, []string{"line 3", "invalid XML: unexpected end of input"}},
		{"arxiv mismatched tag", FormatArxiv, "<feed>\n<entry>\n<title>A</summary>\n</entry></feed>", 3, 1, -1, []string{"line 3", "entry 1", "invalid XML"}},
		{"arxiv not a feed", FormatArxiv, "<!DOCTYPE html>\n<html><body>Not found</body></html>", 2, 0, -1, []string{"line 2: want an Atom or RSS feed, found root element <html>"}},
		{"arxiv api error", FormatArxiv, `<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>http://arxiv.org/api/errors#incorrect_id_format_for_1234</id><title>Error</title><summary>incorrect id format for 1234</summary></entry></feed>`, 1, 1, -1, []string{"entry 1: the arXiv API answered with an error: incorrect id format for 1234"}},
		{"arxiv huge title", FormatArxiv, "<feed>\n<entry>\n<title>" + longTitle + "</title></entry></feed>", 2, 1, -1, []string{"line 2: entry 1: title has 1001 characters"}},
		{"arxiv empty title", FormatArxiv, "<rss><channel>\n<item><title>A</title></item>\n<item><title></title><description>x</description></item></channel></rss>", 3, 2, -1, []string{"line 3: entry 2: paper has no title"}},
		{"arxiv bad date", FormatArxiv, "<feed><entry><title>A</title><published>soon</published></entry></feed>", 1, 1, -1, []string{"entry 1: date: cannot read date \"soon\""}},
		{"page huge abstract", FormatPage, "Title\n" + longAbstract, 1, 1, -1, []string{"line 1: entry 1: abstract of \"Title\" has 20006 characters"}},
		{"page huge line", FormatPage, "Title\n" + strings.Repeat("x", MaxLineBytes+1) + "\n", 2, 0, -1, []string{"src: line 2: line is longer than 1048576 bytes"}},
		{"jsonl bad line", FormatJSONL, "{\"title\":\"A\"}\n\n{\"title\":\"B\",}\n", 3, 0, -1, []string{"src: line 3: invalid JSON at column 14"}},
		{"jsonl truncated", FormatJSONL, "{\"title\":\"A\"}\n{\"title\":\"B\"", 2, 0, -1, []string{"src: line 2: invalid JSON", "unexpected end of JSON input"}},
		{"jsonl wrong type", FormatJSONL, `{"title":"A","upvotes":"many"}`, 1, 0, -1, []string{"line 1: field upvotes holds a JSON string, want an integer"}},
		{"jsonl not object", FormatJSONL, `["A"]`, 1, 0, -1, []string{"line 1: line is a JSON array, want an object"}},
		{"jsonl bad id", FormatJSONL, "{\"title\":\"A\"}\n{\"id\":\"doi:10.1/x\",\"title\":\"B\"}", 2, 0, -1, []string{"line 2: id \"doi:10.1/x\" is neither an arXiv id nor a title id"}},
		{"jsonl empty title", FormatJSONL, "{\"title\":\"A\"}\n{\"id\":\"2401.00001\"}", 2, 0, -1, []string{"src: line 2: paper has no title"}},
		{"jsonl huge title", FormatJSONL, `{"title":"` + longTitle + `"}`, 1, 0, -1, []string{"line 1: title has 1001 characters"}},
		{"jsonl huge line", FormatJSONL, "{\"title\":\"A\"}\n{\"title\":\"" + strings.Repeat("x", MaxLineBytes) + "\"}", 2, 0, -1, []string{"line 2: line is longer than"}},
		{"jsonl negative", FormatJSONL, `{"title":"A","upvotes":-1}`, 1, 0, -1, []string{"line 1: negative upvotes"}},
		{"NUL byte", FormatPage, "Title\nabc\x00def", 2, 0, 9, []string{"src: line 2, byte offset 9: NUL byte"}},
		{"NUL in JSON", FormatHF, "[\n\x00]", 2, 0, 2, []string{"line 2, byte offset 2: NUL byte"}},
		{"invalid UTF-8", FormatJSONL, "{\"title\":\"A\"}\n\n{\"title\":\"\xc3\x28\"}", 3, 0, 25, []string{"src: line 3, byte offset 25: invalid UTF-8"}},
		{"invalid UTF-8 in XML", FormatArxiv, "<feed><entry><title>\xff</title></entry></feed>", 1, 0, 20, []string{"line 1, byte offset 20: invalid UTF-8"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			papers, err := parseString(tt.src, tt.format)
			if err == nil {
				t.Fatalf("no error; got %d papers", len(papers))
			}
			if papers != nil {
				t.Errorf("got %d papers with the error, want none (all or nothing)", len(papers))
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %T is not a *ParseError", err)
			}
			if pe.Source != "src" || pe.Line != tt.line || pe.Entry != tt.entry || tt.offset >= 0 && pe.Offset != tt.offset {
				t.Errorf("error at source %q line %d entry %d offset %d, want line %d entry %d offset %d", pe.Source, pe.Line, pe.Entry, pe.Offset, tt.line, tt.entry, tt.offset)
			}
		})
	}
}

func TestParseLimitsErrTooLarge(t *testing.T) {
	_, err := parseString(`{"title":"`+strings.Repeat("x", 1001)+`"}`, FormatJSONL)
	if !errors.Is(err, ErrTooLarge) {
		t.Errorf("error %v does not wrap ErrTooLarge", err)
	}
	// Exactly at the limits is fine.
	papers, err := parseString(`{"title":"`+strings.Repeat("é", MaxTitleChars)+`","abstract":"`+strings.Repeat("x", MaxAbstractChars)+`"}`, FormatJSONL)
	if err != nil || len(papers) != 1 {
		t.Errorf("papers at the limits: %v, %d papers", err, len(papers))
	}
}

func TestParseUnknownFormat(t *testing.T) {
	_, err := parseString("x", "csv")
	if err == nil || !strings.Contains(err.Error(), `src: unknown feed format "csv"`) {
		t.Errorf("error = %v", err)
	}
	// Load refuses before fetching anything.
	if _, _, err := Load(context.Background(), "/nonexistent/feed", "csv", testNow); err == nil || !strings.Contains(err.Error(), `unknown feed format "csv"`) {
		t.Errorf("Load error = %v", err)
	}
}

// TestParseJSONLParallelErrorOrder: in a source split across goroutines
// the reported error is the first one in the source, with its true line.
func TestParseJSONLParallelErrorOrder(t *testing.T) {
	defer func(chunk, procs int) { jsonlChunk = chunk; runtime.GOMAXPROCS(procs) }(jsonlChunk, runtime.GOMAXPROCS(4))
	jsonlChunk = 64 << 10
	src := jsonlSource(6000) // 4 chunks
	lines := strings.Split(src, "\n")
	lines[1234] = `{"title":""}`
	lines[5000] = `{broken`
	papers, err := parseString(strings.Join(lines, "\n"), FormatJSONL)
	if err == nil || papers != nil {
		t.Fatalf("got %d papers, err %v", len(papers), err)
	}
	if want := "src: line 1235: paper has no title"; err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
	lines[1234] = lines[1233]
	_, err = parseString(strings.Join(lines, "\n"), FormatJSONL)
	if err == nil || !strings.HasPrefix(err.Error(), "src: line 5001: invalid JSON") {
		t.Errorf("error = %v, want line 5001", err)
	}
	// Without errors the chunks join up in source order.
	lines[5000] = lines[4999]
	papers, err = parseString(strings.Join(lines, "\n"), FormatJSONL)
	if err != nil || len(papers) != 6000 {
		t.Fatalf("got %d papers, err %v", len(papers), err)
	}
	for i, p := range papers {
		want := fmt.Sprintf("2401.%05d", i)
		if i == 1234 || i == 5000 {
			want = fmt.Sprintf("2401.%05d", i-1)
		}
		if p.ID != want {
			t.Fatalf("paper %d has id %q, want %q", i, p.ID, want)
		}
	}
}
