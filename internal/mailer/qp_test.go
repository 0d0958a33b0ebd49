package mailer

import (
	"bytes"
	"io"
	"mime/quotedprintable"
	"strings"
	"testing"
)

// checkQP encodes s and checks that the result is mime/quotedprintable's
// Writer's byte for byte (for text without a lone CR: after one, that
// Writer takes the next LF for the CR's own and drops a line break, as
// "\r\xea\n" shows), every encoded line is at most 76 characters,
// holds only printable ASCII, ends in no white space, and decodes back
// to s with CRLF line breaks.
func checkQP(t *testing.T, s string) {
	t.Helper()
	enc := appendQP(nil, s)
	var std bytes.Buffer
	w := quotedprintable.NewWriter(&std)
	if _, err := w.Write([]byte(s)); err != nil || w.Close() != nil {
		t.Fatal(err)
	}
	if !hasLoneCR(s) && !bytes.Equal(enc, std.Bytes()) {
		t.Fatalf("differs from mime/quotedprintable:\n got %q\nwant %q", enc, std.Bytes())
	}
	for i, line := range bytes.Split(enc, []byte("\r\n")) {
		if len(line) > qpMax {
			t.Fatalf("line %d is %d characters: %q", i+1, len(line), line)
		}
		for _, c := range line {
			if c < ' ' && c != '\t' || c > '~' {
				t.Fatalf("line %d holds byte %#x: %q", i+1, c, line)
			}
		}
		if n := len(line); n > 0 && (line[n-1] == ' ' || line[n-1] == '\t') {
			t.Fatalf("line %d ends in white space: %q", i+1, line)
		}
	}
	dec, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(enc)))
	if err != nil {
		t.Fatalf("decode: %v\n%s", err, enc)
	}
	want := strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n"), "\n", "\r\n")
	if string(dec) != want {
		t.Fatalf("round trip:\n got %q\nwant %q\n enc %q", dec, want, enc)
	}
}

// hasLoneCR reports whether s holds a CR not followed by LF.
func hasLoneCR(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '\r' && (i+1 == len(s) || s[i+1] != '\n') {
			return true
		}
	}
	return false
}

func TestQuotedPrintable(t *testing.T) {
	tests := []string{
		"",
		"plain line\n",
		"a=b\r\nc==d\n",
		"trailing space \ntrailing tab\t\n \n\t",
		strings.Repeat("x", 75), strings.Repeat("x", 76), strings.Repeat("x", 77), strings.Repeat("x", 200) + "\n",
		strings.Repeat("x", 74) + "=", strings.Repeat("x", 73) + "==", strings.Repeat("x", 75) + " ",
		strings.Repeat("x", 72) + "é", strings.Repeat("é", 40) + "\n" + strings.Repeat("·", 30),
		"<p class=\"mu\" style=\"margin:0 0 4px;font-size:12px\">papermail · Thursday, 3 December 2026 · <a href=\"https://x.org/view/abc\">View</a></p>\n",
		"bare\rcarriage and \x00 nul and \x7f del", "cr\r\n\r\rlf\n\r",
		strings.Repeat("0", 34) + "\r\xea\n", // a lone CR, then a byte to encode, then LF: two line breaks
		strings.Repeat("a b ", 50),
	}
	for _, s := range tests {
		checkQP(t, s)
	}
}

func FuzzQuotedPrintable(f *testing.F) {
	f.Add("Über — 🚀 <a href=\"x\">y</a>\n  \t\n")
	f.Add(strings.Repeat("=", 100))
	f.Fuzz(func(t *testing.T, s string) {
		checkQP(t, s)
	})
}

func BenchmarkQuotedPrintable(b *testing.B) {
	m := benchDigest()
	b.SetBytes(int64(len(m.Text) + len(m.HTML)))
	var buf []byte
	for b.Loop() {
		buf = appendQP(buf[:0], m.Text)
		buf = appendQP(buf, m.HTML)
	}
}
