package mailer

import (
	"bufio"
	"bytes"
	"testing"
)

func TestWriteDotStuffed(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a\r\nb\r\n", "a\r\nb\r\n"},
		{".start\r\nmid\r\n.\r\n..two\r\n", "..start\r\nmid\r\n..\r\n...two\r\n"},
		{"no final newline", "no final newline\r\n"},
		{"a.b\r\n x.\r\n", "a.b\r\n x.\r\n"},
		{"", ""},
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
