package cli

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/papermail/papermail/internal/mailer"
)

// runMain runs papermail with args as cmd/papermail does and returns the
// exit status and what it wrote.
func runMain(t testing.TB, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var out, errb bytes.Buffer
	code = Main(ctx, args, &out, &errb)
	return code, out.String(), errb.String()
}

// installEnv sets the environment of a realistic installation in a
// temporary data folder (Maildir delivery, no DKIM) and returns the folder.
// vars (name without the PAPERMAIL_ prefix, value) change it.
func installEnv(t testing.TB, vars ...string) string {
	t.Helper()
	dir := t.TempDir()
	env := map[string]string{
		"CONFIG": "", "DATA_DIR": dir, "BASE_URL": "https://papers.example.org",
		"MAIL_FROM": "Papermail <digest@papers.example.org>", "SMTP_HOST": "", "LOG_LEVEL": "error",
		"DKIM_DOMAIN": "", "DKIM_SELECTOR": "", "DKIM_PRIVATE_KEY_FILE": "",
	}
	for i := 0; i+1 < len(vars); i += 2 {
		env[vars[i]] = vars[i+1]
	}
	for k, v := range env {
		t.Setenv("PAPERMAIL_"+k, v)
	}
	return dir
}

// txtStrings matches the quoted strings of a zone-file TXT record.
var txtStrings = regexp.MustCompile(`"([^"]*)"`)

// TestDKIMKeygen makes a key of each algorithm: the file is private
// (0600), its TXT record as printed is the one DKIMRecordForKey derives
// from it, and a second run refuses to overwrite it.
func TestDKIMKeygen(t *testing.T) {
	for _, alg := range []string{"rsa", "ed25519"} {
		t.Run(alg, func(t *testing.T) {
			dir := installEnv(t)
			key := filepath.Join(dir, "keys", alg+".pem")
			code, out, errOut := runMain(t, "dkim", "keygen", "--domain", "papers.example.org", "--selector", "pm2026", "--algorithm", alg, "--out", key)
			if code != 0 {
				t.Fatalf("exit %d: %s%s", code, out, errOut)
			}
			st, err := os.Stat(key)
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode().Perm() != 0o600 {
				t.Errorf("key file mode %v, want 0600", st.Mode().Perm())
			}
			pem, err := os.ReadFile(key)
			if err != nil {
				t.Fatal(err)
			}
			record, err := mailer.DKIMRecordForKey(pem)
			if err != nil {
				t.Fatalf("the written key does not load: %v", err)
			}
			if !strings.HasPrefix(record, "v=DKIM1; k="+alg+"; p=") {
				t.Errorf("record %q is not a %s DKIM record", record, alg)
			}
			// The printed zone line must publish exactly this key.
			var line string
			for _, l := range strings.Split(out, "\n") {
				if strings.HasPrefix(l, "pm2026._domainkey.papers.example.org. IN TXT ") {
					line = l
				}
			}
			if line == "" {
				t.Fatalf("no TXT line for pm2026._domainkey.papers.example.org in:\n%s", out)
			}
			var joined strings.Builder
			for _, m := range txtStrings.FindAllStringSubmatch(line, -1) {
				if len(m[1]) > 255 {
					t.Errorf("TXT string of %d characters, DNS allows 255", len(m[1]))
				}
				joined.WriteString(m[1])
			}
			if joined.String() != record {
				t.Errorf("printed record\n%s\ndiffers from the key's\n%s", joined.String(), record)
			}
			for _, want := range []string{"private key written to " + key, "domain: papers.example.org", "selector: pm2026", "private_key_file: " + key} {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}

			// A second run never overwrites the key.
			code, out, errOut = runMain(t, "dkim", "keygen", "--domain", "papers.example.org", "--selector", "pm2026", "--algorithm", alg, "--out", key)
			if code != 1 || !strings.Contains(errOut, "never overwritten") || out != "" {
				t.Errorf("second keygen: exit %d, stdout %q, stderr %q; want exit 1 saying the key is never overwritten", code, out, errOut)
			}
			if again, _ := os.ReadFile(key); !bytes.Equal(again, pem) {
				t.Error("the second keygen changed the key file")
			}
		})
	}
}

// TestDKIMKeygenDefaultPath writes the key to data_dir/dkim-SELECTOR.pem
// when --out is not given.
func TestDKIMKeygenDefaultPath(t *testing.T) {
	dir := installEnv(t)
	code, out, errOut := runMain(t, "dkim", "keygen", "--domain", "papers.example.org", "--selector", "s1", "--algorithm", "ed25519")
	if code != 0 {
		t.Fatalf("exit %d: %s%s", code, out, errOut)
	}
	key := filepath.Join(dir, "dkim-s1.pem")
	if st, err := os.Stat(key); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("default key file %s: %v, %v", key, st, err)
	}
	if !strings.Contains(out, "private_key_file: "+key) {
		t.Errorf("output does not name %s:\n%s", key, out)
	}
}

// TestDKIMKeygenUsage refuses bad command lines without writing a key.
func TestDKIMKeygenUsage(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no subcommand", []string{"dkim"}, 2, "dkim keygen --domain"},
		{"unknown subcommand", []string{"dkim", "rotate"}, 2, "dkim keygen --domain"},
		{"no domain", []string{"dkim", "keygen", "--selector", "s"}, 2, "--domain and --selector are required"},
		{"no selector", []string{"dkim", "keygen", "--domain", "papers.example.org"}, 2, "--domain and --selector are required"},
		{"selector with a slash", []string{"dkim", "keygen", "--domain", "papers.example.org", "--selector", "a/b"}, 2, "plain DNS labels"},
		{"unknown algorithm", []string{"dkim", "keygen", "--domain", "papers.example.org", "--selector", "s", "--algorithm", "dsa"}, 1, `unknown DKIM key algorithm "dsa"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := installEnv(t)
			code, out, errOut := runMain(t, c.args...)
			if code != c.code || !strings.Contains(errOut, c.want) {
				t.Errorf("exit %d, stderr %q; want exit %d saying %q", code, errOut, c.code, c.want)
			}
			if out != "" {
				t.Errorf("stdout %q, want nothing", out)
			}
			if keys, _ := filepath.Glob(filepath.Join(dir, "*.pem")); len(keys) > 0 {
				t.Errorf("keys written although the command failed: %v", keys)
			}
		})
	}
}

// dnsWorks reports whether this machine can resolve names: a working
// resolver always knows the root zone's name servers.
func dnsWorks(t *testing.T) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ns, err := (&net.Resolver{}).LookupNS(ctx, ".")
	t.Logf("DNS probe (root name servers): %d records, error %v", len(ns), err)
	return err == nil && len(ns) > 0
}

// runDoctor runs `papermail doctor` in the environment the test set and
// returns its exit status, report lines and stderr, checking that every
// line is an ok, warn or FAIL line and that the status says whether one
// failed.
func runDoctor(t *testing.T) (code int, lines []string, stderr string) {
	t.Helper()
	start := time.Now()
	code, out, errOut := runMain(t, "doctor")
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("doctor took %v", d)
	}
	lines = strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	failed := 0
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l, "FAIL  "):
			failed++
		case strings.HasPrefix(l, "ok    "), strings.HasPrefix(l, "warn  "):
		default:
			t.Errorf("line %q is not ok/warn/FAIL", l)
		}
	}
	switch {
	case failed == 0 && code != 0:
		t.Errorf("exit %d although no check failed", code)
	case failed > 0 && (code != 1 || !strings.Contains(errOut, fmt.Sprintf("%d checks failed", failed))):
		t.Errorf("exit %d, stderr %q with %d failed checks; want exit 1 saying so", code, errOut, failed)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("doctor output:\n%s%s", out, errOut)
		}
	})
	return code, lines, errOut
}

// reported reports whether a line starts with mark and contains msg.
func reported(lines []string, mark, msg string) bool {
	for _, l := range lines {
		if strings.HasPrefix(l, mark) && strings.Contains(l, msg) {
			return true
		}
	}
	return false
}

// dkimKeys writes a valid Ed25519 key and a file that holds none into a
// temporary folder and returns their paths.
func dkimKeys(t *testing.T) (key, garbage string) {
	t.Helper()
	dir := t.TempDir()
	pem, _, err := mailer.GenerateDKIMKey("ed25519")
	if err != nil {
		t.Fatal(err)
	}
	key, garbage = filepath.Join(dir, "dkim.pem"), filepath.Join(dir, "garbage.pem")
	if err := os.WriteFile(key, pem, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(garbage, []byte("not a key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return key, garbage
}

func dkimVars(domain, file string) []string {
	return []string{"DKIM_DOMAIN", domain, "DKIM_SELECTOR", "pm2026", "DKIM_PRIVATE_KEY_FILE", file}
}

// TestDoctor runs `papermail doctor` on installations with one problem
// each: doctor reports every check on a line of its own and fails when
// one fails. (Its DNS checks are TestDoctorDNS's.)
func TestDoctor(t *testing.T) {
	key, garbage := dkimKeys(t)
	missing := filepath.Join(filepath.Dir(key), "missing.pem")
	for _, c := range []struct {
		name string
		vars []string
		ok   []string // lines that must read "ok  ..."
		fail []string // lines that must read "FAIL  ..."
	}{
		{
			name: "good",
			vars: dkimVars("papers.example.org", key),
			ok: []string{"configuration is valid", "base_url https://papers.example.org is https",
				"DKIM key " + key + " loads", "From domain papers.example.org is aligned with the DKIM domain papers.example.org"},
		},
		{
			name: "http base_url",
			vars: append(dkimVars("papers.example.org", key), "BASE_URL", "http://papers.example.org"),
			fail: []string{"base_url http://papers.example.org is not https"},
		},
		{
			name: "DKIM domain not aligned",
			vars: dkimVars("other.example.net", key),
			fail: []string{"aligned with the DKIM domain other.example.net"}, // "is aligned" or "is not aligned"
		},
		{
			name: "From on a subdomain of the DKIM domain",
			vars: append(dkimVars("example.org", key), "MAIL_FROM", "Papermail <digest@papers.example.org>"),
			ok:   []string{"From domain papers.example.org is aligned with the DKIM domain example.org"},
		},
		{
			name: "missing key file",
			vars: dkimVars("papers.example.org", missing),
			fail: []string{"dkim.private_key_file: open " + missing + ": no such file or directory"},
		},
		{
			name: "key file without a key",
			vars: dkimVars("papers.example.org", garbage),
			fail: []string{"dkim.private_key_file: mailer: DKIM key: no PEM block found"},
		},
		{
			name: "no DKIM",
			fail: []string{"dkim is not configured"},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			installEnv(t, c.vars...)
			_, lines, _ := runDoctor(t)
			for _, m := range c.ok {
				if !reported(lines, "ok    ", m) {
					t.Errorf("no ok line %q", m)
				}
			}
			for _, m := range c.fail {
				if !reported(lines, "FAIL  ", m) {
					t.Errorf("no FAIL line %q", m)
				}
			}
			if !reported(lines, "warn  ", "smtp.host is empty") {
				t.Error("no warning that mail goes into the local Maildir")
			}
		})
	}
}

// TestDoctorDNS checks how doctor deals with DNS. Where DNS does not work
// (these test machines resolve nothing: every name, even the root, is "no
// such host"), doctor must say so in one warning instead of reporting
// every record missing; where it works, papers.example.org has no SPF,
// DMARC or DKIM record and doctor must say that.
func TestDoctorDNS(t *testing.T) {
	dns := dnsWorks(t)
	key, _ := dkimKeys(t)
	installEnv(t, dkimVars("papers.example.org", key)...)
	_, lines, _ := runDoctor(t)
	if dns {
		for _, m := range []string{"SPF record for papers.example.org: missing", "DMARC record for _dmarc.papers.example.org: missing",
			"DKIM record pm2026._domainkey.papers.example.org: missing"} {
			if !reported(lines, "FAIL  ", m) {
				t.Errorf("DNS works here, but no FAIL line %q", m)
			}
		}
		return
	}
	if !reported(lines, "warn  ", "DNS is not reachable") {
		t.Errorf("DNS does not work here, but doctor does not say so")
	}
	for _, l := range lines {
		if !strings.Contains(l, "DNS is not reachable") && (strings.Contains(l, "SPF record") || strings.Contains(l, "DMARC record") || strings.Contains(l, "DKIM record")) {
			t.Errorf("DNS does not work here, yet doctor reports a record: %q", l)
		}
	}
}
