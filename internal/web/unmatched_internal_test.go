package web

import "testing"

func TestReplaceInterest(t *testing.T) {
	tests := []struct{ in, old, term, want string }{
		{"a b\nc", "a b", "x", "x\nc"},
		{"a  b; c", "a b", "x y", "x y\nc"},
		{"c", "a", "x", "c"},
	}
	for _, tt := range tests {
		if got := replaceInterest(tt.in, tt.old, tt.term); got != tt.want {
			t.Errorf("replaceInterest(%q, %q, %q) = %q, want %q", tt.in, tt.old, tt.term, got, tt.want)
		}
	}
}
