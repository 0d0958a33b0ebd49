package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// CSRF protection: every form carries a token that signs the path the
// form posts to and the time the form was served. It needs no cookie, so
// any client that first fetched the form (a browser, a script) can post
// it, and a token taken from one form works for no other. Requests that
// browsers mark as cross-site (Sec-Fetch-Site, Origin) are refused on top.
const (
	csrfField = "csrf"
	csrfTTL   = 24 * time.Hour
	csrfMAC   = 16
)

// deriveKey makes a key for one use from the secret.
func deriveKey(secret []byte, use string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(use))
	return m.Sum(nil)
}

func (s *Server) csrfMAC(path string, ts []byte) []byte {
	m := hmac.New(sha256.New, s.csrfKey)
	m.Write(ts)
	m.Write([]byte(path))
	return m.Sum(nil)[:csrfMAC]
}

// csrfToken returns the token for a form that posts to path.
func (s *Server) csrfToken(path string) string {
	ts := binary.BigEndian.AppendUint64(make([]byte, 0, 8+csrfMAC), uint64(s.Now().Unix()))
	return base64.RawURLEncoding.EncodeToString(append(ts, s.csrfMAC(path, ts)...))
}

// csrfOK checks the token of a form posted to r.URL.Path and that the
// browser did not mark the request as coming from another site. The form
// must have been parsed.
func (s *Server) csrfOK(r *http.Request) bool {
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		return false
	}
	if o := r.Header.Get("Origin"); o != "" && o != "null" && !s.sameOrigin(r, o) {
		return false
	}
	raw, err := base64.RawURLEncoding.DecodeString(r.PostForm.Get(csrfField))
	if err != nil || len(raw) != 8+csrfMAC {
		return false
	}
	issued := time.Unix(int64(binary.BigEndian.Uint64(raw[:8])), 0)
	now := s.Now()
	if now.Sub(issued) > csrfTTL || issued.Sub(now) > 5*time.Minute {
		return false
	}
	return hmac.Equal(raw[8:], s.csrfMAC(r.URL.Path, raw[:8]))
}

// sameOrigin reports whether an Origin header names this server, as the
// request reached it or as base_url names it.
func (s *Server) sameOrigin(r *http.Request, origin string) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	b, err := url.Parse(s.Links.Base)
	return err == nil && strings.EqualFold(u.Host, b.Host) && u.Scheme == b.Scheme
}
