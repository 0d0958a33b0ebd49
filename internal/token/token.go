// Package token signs and verifies the capability tokens in papermail's
// links: HMAC-SHA256 over a purpose, a subscriber id, an expiry and an
// optional binding (such as a confirmation nonce), compared in constant
// time. A token made for one purpose never verifies for another.
package token

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"sync"
	"time"
)

// Purpose says what a token may be used for.
type Purpose byte

// Purposes.
const (
	Confirm     Purpose = 'c'
	Preferences Purpose = 'p'
	Unsubscribe Purpose = 'u'
	Feedback    Purpose = 'f'
	Feed        Purpose = 'a'
	Click       Purpose = 'k'
	// View shows one digest (Extra: its local date) as a web page.
	View Purpose = 'v'
)

func (p Purpose) String() string {
	switch p {
	case Confirm:
		return "confirm"
	case Preferences:
		return "preferences"
	case Unsubscribe:
		return "unsubscribe"
	case Feedback:
		return "feedback"
	case Feed:
		return "feed"
	case Click:
		return "click"
	case View:
		return "view"
	}
	return fmt.Sprintf("purpose(%d)", byte(p))
}

// Errors from Verify.
var (
	ErrMalformed = errors.New("token is malformed")
	ErrForged    = errors.New("token signature does not match")
	ErrExpired   = errors.New("token has expired")
	ErrPurpose   = errors.New("token is for another purpose")
)

const macLen = 20

var strict = base64.RawURLEncoding.Strict()

// Signer makes and checks tokens with one secret. It is safe for
// concurrent use.
type Signer struct {
	// macs holds *macState keyed with the secret: Reset restores the keyed
	// state, so a signature hashes its payload only, not the key's two
	// blocks as well (a digest has a dozen links).
	macs sync.Pool
}

type macState struct {
	h   hash.Hash
	buf []byte
}

// sum returns the MAC of payload and bind; it is valid until m is used
// again.
func (m *macState) sum(payload []byte, bind string) []byte {
	b := append(append(append(m.buf[:0], payload...), 0), bind...)
	m.h.Reset()
	m.h.Write(b)
	m.buf = m.h.Sum(b[:0])
	return m.buf[:macLen]
}

// NewSigner returns a signer; the secret must be at least 16 bytes.
func NewSigner(secret []byte) (*Signer, error) {
	if len(secret) < 16 {
		return nil, errors.New("token secret must be at least 16 bytes")
	}
	secret = append([]byte(nil), secret...)
	s := &Signer{}
	s.macs.New = func() any { return &macState{h: hmac.New(sha256.New, secret)} }
	return s, nil
}

// Claims is what a token carries.
type Claims struct {
	Purpose Purpose
	ID      uint64
	// Expires is zero for tokens that do not expire.
	Expires time.Time
	// Extra is free data signed with the token (a paper id for feedback).
	Extra string
}

// Sign makes a token. bind is signed but not carried: Verify must be given
// the same value (a nonce that changes to revoke tokens).
func (s *Signer) Sign(c Claims, bind string) string {
	var exp int64
	if !c.Expires.IsZero() {
		exp = c.Expires.Unix()
	}
	var buf [128]byte
	payload := append(buf[:0], byte(c.Purpose))
	payload = binary.BigEndian.AppendUint64(payload, c.ID)
	payload = binary.BigEndian.AppendUint64(payload, uint64(exp))
	payload = append(payload, c.Extra...)
	m := s.macs.Get().(*macState)
	defer s.macs.Put(m)
	return base64.RawURLEncoding.EncodeToString(append(payload, m.sum(payload, bind)...))
}

// Parse decodes a token without checking its signature; use it only to find
// which subscriber a token names before calling Verify.
func Parse(tok string) (Claims, error) {
	var c Claims
	if len(tok) > 512 {
		return c, ErrMalformed
	}
	raw, err := strict.DecodeString(tok)
	if err != nil || len(raw) < 17+macLen {
		return c, ErrMalformed
	}
	c.Purpose = Purpose(raw[0])
	c.ID = binary.BigEndian.Uint64(raw[1:9])
	if exp := int64(binary.BigEndian.Uint64(raw[9:17])); exp != 0 {
		c.Expires = time.Unix(exp, 0).UTC()
	}
	c.Extra = string(raw[17 : len(raw)-macLen])
	return c, nil
}

// Verify checks a token for purpose at time now with binding bind and
// returns its claims.
func (s *Signer) Verify(tok string, purpose Purpose, bind string, now time.Time) (Claims, error) {
	c, err := Parse(tok)
	if err != nil {
		return c, err
	}
	raw, _ := strict.DecodeString(tok)
	body, sig := raw[:len(raw)-macLen], raw[len(raw)-macLen:]
	m := s.macs.Get().(*macState)
	defer s.macs.Put(m)
	if !hmac.Equal(sig, m.sum(body, bind)) {
		return c, ErrForged
	}
	if c.Purpose != purpose {
		return c, ErrPurpose
	}
	if !c.Expires.IsZero() && !now.Before(c.Expires) {
		return c, ErrExpired
	}
	return c, nil
}
