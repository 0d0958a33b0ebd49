package address

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"Ada@Example.ORG", "ada@example.org"},
		{"  bob.smith+papers@mail.example.co.uk ", "bob.smith+papers@mail.example.co.uk"},
		{"x@sub-domain.example.org", "x@sub-domain.example.org"},
		// Internationalized domains are stored as DNS sees them.
		{"user@bücher.example", "user@xn--bcher-kva.example"},
		{"User@BÜCHER.Example", "user@xn--bcher-kva.example"},
		{"a@münchen.de", "a@xn--mnchen-3ya.de"},
		{"a@例え.テスト", "a@xn--r8jz45g.xn--zckzah"},
		{"a@xn--bcher-kva.example", "a@xn--bcher-kva.example"},
		{"a@XN--BCHER-KVA.Example", "a@xn--bcher-kva.example"},
		// A fully qualified domain (trailing dot) is the same domain.
		{"user@bücher.example.", "user@xn--bcher-kva.example"},
		{"Ada@Example.ORG.", "ada@example.org"},
	}
	for _, tc := range tests {
		got, err := Normalize(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("Normalize(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	bad := []string{
		"", "plain", "a@b", "@example.org", "a@", "a@@example.org",
		"Eve <eve@example.org>", "eve@example.org, bob@example.org", "\"a b\"@example.org",
		"eve@example.org\r\nBcc: victim@example.org", "eve@example.org\n", "a(comment)@example.org",
		"a..b@example.org", ".a@example.org", "a@-x.example.org", "a@example..org",
		strings.Repeat("a", 65) + "@example.org", "a@" + strings.Repeat("b", 250) + ".org",
		"ü@example.org", "a@exa_mple.org", "a\x00@example.org",
		"ü@bücher.example", "a@bü cher.example", "a@bücher..example", "a@\u202ebücher.example",
		// A-labels that are not valid punycode, or decode to what no
		// domain may hold (U+0080).
		"a@xn--zz.example", "a@xn--a.example", "a@xn--0.example", "a@example.org..", "a@.",
	}
	for _, in := range bad {
		if got, err := Normalize(in); !errors.Is(err, ErrInvalid) {
			t.Errorf("Normalize(%q) = %q, %v; want ErrInvalid", in, got, err)
		}
	}
}

func FuzzNormalize(f *testing.F) {
	f.Add("a@example.org")
	f.Add("Eve <eve@example.org>")
	f.Add("user@bücher.example")
	f.Fuzz(func(t *testing.T, s string) {
		out, err := Normalize(s)
		if err != nil {
			return
		}
		if strings.ContainsAny(out, "\r\n <>\"") || len(out) > MaxLength {
			t.Fatalf("accepted unsafe %q -> %q", s, out)
		}
		if again, err := Normalize(out); err != nil || again != out {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", s, out, again, err)
		}
	})
}
