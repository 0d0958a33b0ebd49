package cli

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/papermail/papermail/internal/mailer"
)

func cmdDKIM(e *env, args []string) error {
	if len(args) > 0 && wantsHelp(args[:1]) {
		return groupHelp(e, "dkim", "keygen")
	}
	if len(args) == 0 || args[0] != "keygen" {
		return fmt.Errorf("%w: dkim keygen --domain D --selector S [--algorithm rsa|ed25519] [--out FILE]", errUsage)
	}
	fs := newFlags(e, "dkim keygen", "dkim keygen --domain D --selector S [--algorithm rsa|ed25519] [--out FILE]")
	domain := fs.String("domain", "", "signing domain (d=), normally the domain of mail.from")
	selector := fs.String("selector", "", "selector (s=), e.g. papermail2026")
	alg := fs.String("algorithm", "rsa", "rsa (2048 bits, understood everywhere) or ed25519")
	out := fs.String("out", "", "private key file (default DATA_DIR/dkim-SELECTOR.pem)")
	if _, err := flags(fs, args[1:]); err != nil {
		return err
	}
	if *domain == "" || *selector == "" {
		return fmt.Errorf("%w: --domain and --selector are required", errUsage)
	}
	if strings.ContainsAny(*domain+*selector, " \t\r\n/;=") {
		return fmt.Errorf("%w: --domain and --selector must be plain DNS labels", errUsage)
	}
	priv, record, err := mailer.GenerateDKIMKey(*alg)
	if err != nil {
		return err
	}
	path := e.abs(cmp.Or(*out, filepath.Join(e.cfg.DataDir, "dkim-"+*selector+".pem")))
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	if err := writeNewKey(path, priv); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "private key written to %s\n\n", path)
	fmt.Fprintf(e.stdout, "Publish this TXT record in DNS:\n\n%s._domainkey.%s. IN TXT %s\n\n", *selector, *domain, quoteTXT(record))
	fmt.Fprintf(e.stdout, "Then configure:\n\ndkim:\n  domain: %s\n  selector: %s\n  private_key_file: %s\n", *domain, *selector, path)
	return nil
}

// errKeyExists marks a key file that is already there: keygen never
// replaces a key (DNS may publish it).
var errKeyExists = errors.New("an existing key is never overwritten")

// writeNewKey writes the private key pem to path, which must not exist,
// whole or not at all: into a temporary file of mode 0600 in the same
// folder, synced, then linked to path (a link, unlike a rename, fails
// rather than replace a file that appeared meanwhile) and the folder
// synced. A failed write leaves no file at path and no temporary file; an
// existing key is never touched.
func writeNewKey(path string, pem []byte) (err error) {
	fail := func(step string, err error) error {
		return fmt.Errorf("write private key %s: %s: %w (no key was written)", path, step, err)
	}
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("write private key %s: %w", path, errKeyExists)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fail("check the path", err)
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fail("create a temporary file in "+dir, err)
	}
	tmp := f.Name()
	defer func() {
		if f != nil {
			f.Close()
		}
		os.Remove(tmp) // linked to path on success, else half written
	}()
	if err := f.Chmod(0o600); err != nil {
		return fail("make it private", err)
	}
	if _, err := f.Write(pem); err != nil {
		return fail("write "+tmp, err)
	}
	if err := f.Sync(); err != nil {
		return fail("sync "+tmp, err)
	}
	err = f.Close()
	f = nil
	if err != nil {
		return fail("close "+tmp, err)
	}
	if err := os.Link(tmp, path); errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("write private key %s: %w (it appeared while the key was written)", path, errKeyExists)
	} else if err != nil {
		return fail("move it into place", err)
	}
	syncDir(dir)
	return nil
}

// quoteTXT splits a record into quoted strings of at most 255 characters.
func quoteTXT(s string) string {
	var parts []string
	for len(s) > 255 {
		parts = append(parts, `"`+s[:255]+`"`)
		s = s[255:]
	}
	parts = append(parts, `"`+s+`"`)
	return strings.Join(parts, " ")
}

type check struct {
	ok   bool
	warn bool
	msg  string
}

func cmdDoctor(e *env, args []string) error {
	fs := newFlags(e, "doctor", "doctor")
	if _, err := flags(fs, args); err != nil {
		return err
	}
	cfg := e.cfg
	var checks []check
	add := func(ok bool, msg string, a ...any) {
		checks = append(checks, check{ok: ok, msg: fmt.Sprintf(msg, a...)})
	}
	warn := func(msg string, a ...any) {
		checks = append(checks, check{ok: true, warn: true, msg: fmt.Sprintf(msg, a...)})
	}

	add(true, "configuration is valid")
	if u, err := url.Parse(cfg.BaseURL); err == nil && u.Scheme == "https" {
		add(true, "base_url %s is https (RFC 8058 one-click unsubscribe needs it)", cfg.BaseURL)
	} else {
		add(false, "base_url %s is not https: Gmail and Yahoo ignore one-click unsubscribe over http", cfg.BaseURL)
	}
	from := cfg.FromDomain()
	if cfg.UsesMaildir() {
		warn("smtp.host is empty: mail goes into the local Maildir %s, nothing reaches real inboxes", cfg.MaildirPath())
	}
	var record string
	if cfg.DKIM.Domain == "" {
		add(false, "dkim is not configured: bulk mail must be DKIM-signed (papermail dkim keygen)")
	} else {
		pem, err := os.ReadFile(cfg.DKIM.PrivateKeyFile)
		if err != nil {
			add(false, "dkim.private_key_file: %v", err)
		} else if record, err = mailer.DKIMRecordForKey(pem); err != nil {
			add(false, "dkim.private_key_file: %v", err)
		} else {
			add(true, "DKIM key %s loads", cfg.DKIM.PrivateKeyFile)
		}
		aligned := strings.EqualFold(from, cfg.DKIM.Domain) || strings.HasSuffix(strings.ToLower(from), "."+strings.ToLower(cfg.DKIM.Domain))
		if aligned {
			add(true, "From domain %s is aligned with the DKIM domain %s (DMARC relaxed alignment)", from, cfg.DKIM.Domain)
		} else {
			add(false, "From domain %s is not aligned with the DKIM domain %s: DMARC needs the same domain or a subdomain", from, cfg.DKIM.Domain)
		}
	}

	ctx, cancel := context.WithTimeout(e.ctx, 5*time.Second)
	defer cancel()
	r := &net.Resolver{}
	txt := func(name string) ([]string, error) { return r.LookupTXT(ctx, name) }
	// A working resolver knows the root zone's name servers. One that
	// does not (no network, or a stub answering "no such host" to every
	// name) would make every record below look missing.
	if _, err := r.LookupNS(ctx, "."); err != nil {
		warn("DNS is not reachable from here (%v): SPF, DKIM and DMARC records were not checked", err)
	} else {
		spf := findTXT(txt, from, "v=spf1")
		add(spf != "", "SPF record for %s: %s", from, cmp.Or(spf, "missing"))
		dmarc := findTXT(txt, "_dmarc."+from, "v=DMARC1")
		add(dmarc != "", "DMARC record for _dmarc.%s: %s", from, cmp.Or(dmarc, "missing"))
		if cfg.DKIM.Domain != "" {
			name := cfg.DKIM.Selector + "._domainkey." + cfg.DKIM.Domain
			pub := findTXT(txt, name, "")
			switch {
			case pub == "":
				add(false, "DKIM record %s: missing", name)
			case record != "" && keyOf(pub) != keyOf(record):
				add(false, "DKIM record %s does not match the private key (publish the record 'papermail dkim keygen' printed)", name)
			default:
				add(true, "DKIM record %s matches the key", name)
			}
		}
	}
	failed := 0
	for _, c := range checks {
		mark := "ok  "
		switch {
		case !c.ok:
			mark = "FAIL"
			failed++
		case c.warn:
			mark = "warn"
		}
		fmt.Fprintf(e.stdout, "%s  %s\n", mark, c.msg)
	}
	if failed > 0 {
		return fmt.Errorf("%d checks failed", failed)
	}
	return nil
}

func findTXT(lookup func(string) ([]string, error), name, prefix string) string {
	recs, err := lookup(name)
	if err != nil {
		return ""
	}
	if i := slices.IndexFunc(recs, func(r string) bool { return strings.HasPrefix(strings.TrimSpace(r), prefix) }); i >= 0 {
		return recs[i]
	}
	return ""
}

// keyOf extracts the p= tag of a DKIM record.
func keyOf(rec string) string {
	for part := range strings.SplitSeq(rec, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok && strings.TrimSpace(k) == "p" {
			return strings.Join(strings.Fields(v), "")
		}
	}
	return ""
}
