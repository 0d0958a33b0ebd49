// Package address validates and normalizes subscriber email addresses:
// one bare addr-spec, no display name, no comments or quoting tricks, no
// control characters, within RFC 5321 length limits. An internationalized
// domain (bücher.example) is stored in its ASCII form (xn--bcher-kva.example),
// the one DNS and every mail server use.
package address

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"

	"golang.org/x/net/idna"
)

// Limits from RFC 5321 section 4.5.3.1.
const (
	MaxLength      = 254
	MaxLocalLength = 64
)

// ErrInvalid wraps every validation failure.
var ErrInvalid = errors.New("invalid email address")

// Normalize checks s and returns the canonical form used as the
// subscriber's key: trimmed, domain lower-cased (the local part too, since
// virtually every provider treats it case-insensitively and one person
// must not subscribe twice).
func Normalize(s string) (string, error) {
	fail := func(why string) (string, error) {
		return "", fmt.Errorf("%w: %s", ErrInvalid, why)
	}
	if strings.ContainsAny(s, "\r\n") {
		return fail("contains a line break")
	}
	s = strings.Trim(s, " \t")
	// A fully qualified domain ("example.org.") is the same domain.
	if strings.HasSuffix(s, ".") && !strings.HasSuffix(s, "..") && strings.Contains(s, "@") {
		s = strings.TrimSuffix(s, ".")
	}
	if at := strings.LastIndexByte(s, '@'); at >= 0 && !isASCII(s[at+1:]) {
		if !isASCII(s[:at]) {
			return fail("contains non-ASCII characters before @ (such addresses are not supported)")
		}
		ascii, err := idna.Lookup.ToASCII(s[at+1:])
		if err != nil {
			return fail(fmt.Sprintf("domain %q is not a valid internationalized domain name", s[at+1:]))
		}
		s = s[:at+1] + ascii
	}
	switch {
	case s == "":
		return fail("empty")
	case len(s) > MaxLength:
		return fail(fmt.Sprintf("longer than %d characters", MaxLength))
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return fail("contains control characters")
		}
		if r > 0x7e {
			return fail("contains non-ASCII characters")
		}
		if strings.ContainsRune(" <>()\",;:[]\\", r) {
			return fail(fmt.Sprintf("contains %q: give only the bare address, like name@example.org", r))
		}
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return fail("not of the form name@example.org")
	}
	at := strings.LastIndexByte(s, '@')
	local, domain := s[:at], strings.ToLower(s[at+1:])
	if len(local) > MaxLocalLength {
		return fail(fmt.Sprintf("part before @ longer than %d characters", MaxLocalLength))
	}
	if strings.HasPrefix(local, ".") || strings.HasSuffix(local, ".") || strings.Contains(local, "..") {
		return fail("misplaced dot before @")
	}
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.Contains(domain, "..") {
		return fail("domain must be a full name like example.org")
	}
	for label := range strings.SplitSeq(domain, ".") {
		if len(label) > 63 || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return fail("malformed domain")
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return fail("malformed domain")
			}
		}
		// An A-label must be punycode of a valid internationalized
		// label: "xn--zz" or "xn--a" (U+0080) is no domain.
		if strings.HasPrefix(label, "xn--") {
			if _, err := idna.Lookup.ToUnicode(label); err != nil {
				return fail(fmt.Sprintf("domain label %q is not valid punycode", label))
			}
		}
	}
	return strings.ToLower(local) + "@" + domain, nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
