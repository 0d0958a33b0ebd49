package bounce

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrForged is returned by VERP.Parse for an address in the VERP form
// whose signature does not match: someone made it up.
var ErrForged = errors.New("bounce: VERP token signature does not match")

// verpEncoding is lower-case base32 without padding: safe in a local part
// and unchanged by mail systems that fold local parts to lower case.
var verpEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

const verpMACLen = 10 // 80 bits, 16 characters

// VERP makes and reads variable envelope return paths: per-digest
// envelope senders local+<id>.<yyyymmdd>.<mac>@domain that name the
// subscriber and the digest date, signed with the store's secret so a
// forged bounce cannot name anyone. The whole local part stays well under
// RFC 5321's 64 characters.
type VERP struct {
	local, domain string
	key           []byte
}

// NewVERP returns a VERP for the base address (bounces@example.org) and
// secret (at least 16 bytes).
func NewVERP(base string, secret []byte) (*VERP, error) {
	at := strings.LastIndexByte(base, '@')
	if at <= 0 || at == len(base)-1 || strings.Contains(base[:at], "+") {
		return nil, fmt.Errorf("bounce: VERP base %q is not a plain local@domain address", base)
	}
	if len(secret) < 16 {
		return nil, errors.New("bounce: VERP secret must be at least 16 bytes")
	}
	return &VERP{local: base[:at], domain: base[at+1:], key: append([]byte(nil), secret...)}, nil
}

// Address returns the envelope sender for the digest of subscriber id on
// date (YYYY-MM-DD).
func (v *VERP) Address(id uint64, date string) string {
	d := strings.ReplaceAll(date, "-", "")
	return v.local + "+" + strconv.FormatUint(id, 10) + "." + d + "." + v.mac(id, d) + "@" + v.domain
}

func (v *VERP) mac(id uint64, date string) string {
	m := hmac.New(sha256.New, v.key)
	m.Write([]byte("papermail verp\x00"))
	m.Write([]byte(strconv.FormatUint(id, 10)))
	m.Write([]byte{0})
	m.Write([]byte(date))
	return verpEncoding.EncodeToString(m.Sum(nil)[:verpMACLen])
}

// Parse reads an address made by Address (in any letter case, with or
// without angle brackets). ok is false for any other address; err is
// ErrForged when it has the form but not the signature.
func (v *VERP) Parse(addr string) (id uint64, date string, ok bool, err error) {
	addr = strings.ToLower(strings.Trim(strings.TrimSpace(addr), "<>"))
	at := strings.LastIndexByte(addr, '@')
	if at < 0 || addr[at+1:] != strings.ToLower(v.domain) {
		return 0, "", false, nil
	}
	local, tag, found := strings.Cut(addr[:at], "+")
	if !found || local != strings.ToLower(v.local) {
		return 0, "", false, nil
	}
	parts := strings.Split(tag, ".")
	if len(parts) != 3 || len(parts[1]) != 8 {
		return 0, "", false, nil
	}
	id, perr := strconv.ParseUint(parts[0], 10, 64)
	if perr != nil {
		return 0, "", false, nil
	}
	for _, c := range parts[1] {
		if c < '0' || c > '9' {
			return 0, "", false, nil
		}
	}
	if !hmac.Equal([]byte(parts[2]), []byte(v.mac(id, parts[1]))) {
		return 0, "", false, fmt.Errorf("%w: %s", ErrForged, addr)
	}
	d := parts[1]
	return id, d[:4] + "-" + d[4:6] + "-" + d[6:], true, nil
}
