package deliverability

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/papermail/papermail/internal/config"
	"github.com/papermail/papermail/internal/mailer"
)

// Test installation: the signing domain and selector of its DKIM key.
const (
	testDomain   = "papers.example.org"
	testSelector = "pm2026"
	testSecret   = "deliverability-test-secret-0123456789"
)

// signedInstance starts an instance in a temporary folder whose mail is
// DKIM-signed with a fresh key of alg (rsa or ed25519); opts.Dir and
// opts.DKIM are filled in. It returns the instance and the DNS TXT record
// of the key.
func signedInstance(t testing.TB, alg string, opts Options) (*Instance, string) {
	t.Helper()
	priv, record, err := mailer.GenerateDKIMKey(alg)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	key := filepath.Join(dir, "dkim.pem")
	if err := os.WriteFile(key, priv, 0o600); err != nil {
		t.Fatal(err)
	}
	if again, err := mailer.DKIMRecordForKey(priv); err != nil || again != record {
		t.Fatalf("DKIMRecordForKey = %q, %v; GenerateDKIMKey printed %q", again, err, record)
	}
	opts.Dir = filepath.Join(dir, "data")
	opts.DKIM = config.DKIM{Domain: testDomain, Selector: testSelector, PrivateKeyFile: key}
	in, err := Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := in.Close(); err != nil {
			t.Error(err)
		}
	})
	return in, record
}

// verifyDKIM checks the message's DKIM signatures, answering the key
// query with record; it fails the test when a different name is queried.
func verifyDKIM(t testing.TB, raw []byte, record string) []*dkim.Verification {
	t.Helper()
	want := testSelector + "._domainkey." + testDomain
	vs, err := dkim.VerifyWithOptions(bytes.NewReader(raw), &dkim.VerifyOptions{
		LookupTXT: func(name string) ([]string, error) {
			if name != want {
				return nil, fmt.Errorf("test DNS has no TXT record at %s (only at %s)", name, want)
			}
			return []string{record}, nil
		},
	})
	if err != nil {
		t.Fatalf("DKIM verification could not run: %v", err)
	}
	return vs
}

// checkLines fails the test for a line that does not end in CRLF or is
// 998 octets or longer (RFC 5322 2.1.1).
func checkLines(t testing.TB, raw []byte) {
	t.Helper()
	if !bytes.HasSuffix(raw, []byte("\r\n")) {
		t.Errorf("message does not end in CRLF")
	}
	for i, line := range bytes.SplitAfter(raw, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		if !bytes.HasSuffix(line, []byte("\r\n")) || bytes.Contains(line[:len(line)-2], []byte("\r")) {
			t.Errorf("line %d does not end in a lone CRLF: %q", i+1, line)
		}
		if n := len(bytes.TrimSuffix(line, []byte("\r\n"))); n >= 998 {
			t.Errorf("line %d has %d octets, RFC 5322 allows at most 998", i+1, n)
		}
	}
}

// testCtx is a context ending with the test, at most after d.
func testCtx(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// contains reports whether list holds s, ignoring case.
func contains(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
