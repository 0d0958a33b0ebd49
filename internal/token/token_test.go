package token

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestVerify(t *testing.T) {
	s, err := NewSigner([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	other, _ := NewSigner([]byte("another secret of enough length!"))
	now := time.Date(2026, 11, 27, 7, 0, 0, 0, time.UTC)
	good := s.Sign(Claims{Purpose: Confirm, ID: 42, Expires: now.Add(7 * 24 * time.Hour)}, "nonce1")
	noexp := s.Sign(Claims{Purpose: Unsubscribe, ID: 42}, "")
	fb := s.Sign(Claims{Purpose: Feedback, ID: 7, Extra: "2401.01234"}, "")
	tamper := []byte(good)
	tamper[3] ^= 1
	tests := []struct {
		name    string
		tok     string
		purpose Purpose
		bind    string
		at      time.Time
		want    error
		id      uint64
	}{
		{"valid", good, Confirm, "nonce1", now, nil, 42},
		{"no expiry", noexp, Unsubscribe, "", now.Add(10 * 365 * 24 * time.Hour), nil, 42},
		{"extra", fb, Feedback, "", now, nil, 7},
		{"expired", good, Confirm, "nonce1", now.Add(8 * 24 * time.Hour), ErrExpired, 0},
		{"expired at the second", good, Confirm, "nonce1", now.Add(7 * 24 * time.Hour), ErrExpired, 0},
		{"wrong purpose", good, Unsubscribe, "nonce1", now, ErrPurpose, 0},
		{"purpose swap", noexp, Confirm, "", now, ErrPurpose, 0},
		{"reused (nonce changed)", good, Confirm, "nonce2", now, ErrForged, 0},
		{"other secret", other.Sign(Claims{Purpose: Confirm, ID: 42}, "nonce1"), Confirm, "nonce1", now, ErrForged, 0},
		{"tampered", string(tamper), Confirm, "nonce1", now, nil, 0},
		{"garbage", "not a token!", Confirm, "", now, ErrMalformed, 0},
		{"empty", "", Confirm, "", now, ErrMalformed, 0},
		{"short", "AAAA", Confirm, "", now, ErrMalformed, 0},
		{"huge", strings.Repeat("A", 5000), Confirm, "", now, ErrMalformed, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := s.Verify(tc.tok, tc.purpose, tc.bind, tc.at)
			if tc.name == "tampered" {
				if err == nil {
					t.Fatal("tampered token verified")
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if err == nil && c.ID != tc.id {
				t.Fatalf("id = %d, want %d", c.ID, tc.id)
			}
		})
	}
	if c, _ := s.Verify(fb, Feedback, "", now); c.Extra != "2401.01234" {
		t.Fatalf("extra = %q", c.Extra)
	}
}

func FuzzVerify(f *testing.F) {
	s, _ := NewSigner([]byte("0123456789abcdef0123456789abcdef"))
	f.Add(s.Sign(Claims{Purpose: Confirm, ID: 1}, ""))
	f.Add("")
	f.Add("%%%")
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := s.Verify(tok, Confirm, "", time.Now())
		if err == nil && s.Sign(Claims{Purpose: c.Purpose, ID: c.ID, Expires: c.Expires, Extra: c.Extra}, "") != tok {
			t.Fatalf("accepted a token that does not round-trip: %q", tok)
		}
	})
}

// TestTokensStillVerify: tokens already in readers' mailboxes (made by
// earlier releases) keep verifying, and signing makes them byte for byte.
func TestTokensStillVerify(t *testing.T) {
	s, err := NewSigner([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 3, 7, 0, 0, 0, time.UTC)
	tests := []struct {
		name, tok string
		c         Claims
		bind      string
	}{
		{"confirm", "YwAAAAAAAAAqAAAAAGsaTfDDzKMWi9Ri4ZNdk6DaZ_8xFW7LrA",
			Claims{Purpose: Confirm, ID: 42, Expires: time.Date(2026, 12, 10, 7, 0, 0, 0, time.UTC)}, "nonce1"},
		{"feedback", "ZgAAAAAAAAAHAAAAAAAAAAAyNDAxLjAxMjM0a20HiInbDr4SOZsPexfP9bCzaXU",
			Claims{Purpose: Feedback, ID: 7, Extra: "2401.01234"}, ""},
		{"click", "awAAAAAAAAAAAAAAAAAAAAAyNDAxLjAxMjM0qbH3ChmdwPNCEcUkCCogD684GNk",
			Claims{Purpose: Click, Extra: "2401.01234"}, "https://arxiv.org/abs/2401.01234"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := s.Sign(tc.c, tc.bind); got != tc.tok {
				t.Errorf("Sign = %q, want %q", got, tc.tok)
			}
			c, err := s.Verify(tc.tok, tc.c.Purpose, tc.bind, now)
			if err != nil {
				t.Fatal(err)
			}
			if c != tc.c {
				t.Errorf("claims = %+v, want %+v", c, tc.c)
			}
		})
	}
}

// TestSignConcurrent: signers shared by the digest's workers give every
// caller its own signature.
func TestSignConcurrent(t *testing.T) {
	s, _ := NewSigner([]byte("0123456789abcdef0123456789abcdef"))
	want := make([]string, 64)
	for i := range want {
		want[i] = s.Sign(Claims{Purpose: Feedback, ID: uint64(i), Extra: strings.Repeat("x", i)}, "")
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for n := range 200 {
				i := (n + g) % len(want)
				if got := s.Sign(Claims{Purpose: Feedback, ID: uint64(i), Extra: strings.Repeat("x", i)}, ""); got != want[i] {
					t.Errorf("token %d = %q, want %q", i, got, want[i])
					return
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkSign(b *testing.B) {
	s, _ := NewSigner([]byte("0123456789abcdef0123456789abcdef"))
	b.ReportAllocs()
	for i := range b.N {
		s.Sign(Claims{Purpose: Feedback, ID: uint64(i), Extra: "2401.01234"}, "")
	}
}
