package token

import (
	"errors"
	"strings"
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
