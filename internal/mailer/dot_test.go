package mailer

import (
	"strings"
	"testing"
)

func TestAppendDotStuffed(t *testing.T) {
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
		if got := appendDotStuffed([]byte("x"), []byte(tc.in)); string(got) != "x"+tc.want {
			t.Errorf("appendDotStuffed(%q) = %q, want %q", tc.in, got[1:], tc.want)
		}
	}
}
