package mailer

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
)

func TestWriteDotStuffed(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a\r\nb\r\n", "a\r\nb\r\n"},
		{".start\r\nmid\r\n.\r\n..two\r\n", "..start\r\nmid\r\n..\r\n...two\r\n"},
		{"no final newline", "no final newline\r\n"},
		{"a.b\r\n x.\r\n", "a.b\r\n x.\r\n"},
		{"", ""},
		{".", "..\r\n"},
		{"a\r\n.", "a\r\n..\r\n"},
		{strings.Repeat("x", 9000) + "\r\n." + strings.Repeat("y", 5000) + "\r\n", strings.Repeat("x", 9000) + "\r\n.." + strings.Repeat("y", 5000) + "\r\n"},
	}
	for _, tc := range tests {
		var buf bytes.Buffer
		bw := bufio.NewWriter(&buf)
		if err := writeDotStuffed(bw, []byte(tc.in)); err != nil {
			t.Fatal(err)
		}
		bw.Flush()
		if buf.String() != tc.want {
			t.Errorf("writeDotStuffed(%q) = %q, want %q", tc.in, buf.String(), tc.want)
		}
	}
}
