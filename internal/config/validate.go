package config

import (
	"github.com/papermail/papermail/internal/feeds"

	"fmt"
	"math"
	"net"
	"net/mail"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/papermail/papermail/internal/localnet"
	"github.com/papermail/papermail/internal/model"
)

// Allowed values of the enumerated keys.
var (
	smtpTLSModes = []string{"none", "starttls", "tls"}
	fallbacks    = []string{"none", "trending"}
	logFormats   = []string{"text", "json"}
	logLevels    = []string{"debug", "info", "warn", "error"}
	// feedFormats are the values feeds[].format accepts (internal/feeds
	// owns the list).
	feedFormats = feeds.FormatNames()
)

// Bounds of the ranged keys.
const (
	maxConnections = 100
	maxAttempts    = 20
	maxPapers      = 50
	minWindow      = time.Hour
	maxWindow      = 90 * day
	minTick        = time.Minute
	maxTick        = time.Hour
	// Up to three local dates are current at once somewhere (UTC-12 to
	// UTC+14): a scheduled tick may record into any of them, so their
	// ledgers are kept at least.
	minLedgerDays = 3
	maxLedgerDays = 3660
)

// Validate checks every value and reports all problems at once as a
// *ValidationError, or nil. It does not touch the file system: files such
// as the DKIM key are checked by the parts that read them.
func (c Config) Validate() error {
	return c.problems().err()
}

func (c Config) problems() problems {
	var ps problems

	if strings.TrimSpace(c.DataDir) == "" {
		ps.add("data_dir", "must name a directory")
	}
	checkBaseURL(&ps, c.BaseURL)
	checkPositive(&ps, "shutdown_timeout", c.ShutdownTimeout)

	if _, port, err := net.SplitHostPort(c.HTTP.Listen); err != nil {
		ps.add("http.listen", "want host:port such as 127.0.0.1:8080 or :8080, got %q", c.HTTP.Listen)
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		ps.add("http.listen", "port must be a number 0-65535, got %q", port)
	}
	if c.HTTP.SubscribeRate < 0 {
		ps.add("http.subscribe_rate", "must be 0 (no limit) or more, got %d", c.HTTP.SubscribeRate)
	}
	if c.HTTP.Mailbox {
		// The mailbox shows every mail with its confirm, preferences and
		// unsubscribe links: never where anyone but this machine's user
		// reaches it.
		if !localnet.LoopbackURL(c.BaseURL) {
			ps.add("http.mailbox", "is for local use only: base_url must be a loopback address such as http://127.0.0.1:8080, got %q", c.BaseURL)
		}
		if !localnet.LoopbackListen(c.HTTP.Listen) {
			ps.add("http.mailbox", "is for local use only: http.listen must be a loopback address such as 127.0.0.1:8080, got %q", c.HTTP.Listen)
		}
	}

	checkOneOf(&ps, "log.format", c.Log.Format, logFormats)
	checkOneOf(&ps, "log.level", c.Log.Level, logLevels)

	checkAddress(&ps, "mail.from", c.Mail.From, true)
	checkAddress(&ps, "mail.reply_to", c.Mail.ReplyTo, false)
	checkAddress(&ps, "mail.confirm_from", c.Mail.ConfirmFrom, false)
	checkAddress(&ps, "mail.confirm_reply_to", c.Mail.ConfirmReplyTo, false)
	checkReturnPath(&ps, c.Mail)
	if id := c.Mail.ListID; id != "" && !validListID(id) {
		ps.add("mail.list_id", "want a dotted name such as digest.example.org (letters, digits, dots and -_), got %q", id)
	}

	s := c.SMTP
	if strings.ContainsAny(s.Host, " \t\r\n/") {
		ps.add("smtp.host", "want a host name or IP address, got %q", s.Host)
	}
	checkRange(&ps, "smtp.port", s.Port, 1, 65535)
	checkOneOf(&ps, "smtp.tls", s.TLS, smtpTLSModes)
	switch {
	case s.Username != "" && s.Password == "":
		ps.add("smtp.password", "must be set when smtp.username is set")
	case s.Username == "" && s.Password != "":
		ps.add("smtp.username", "must be set when smtp.password is set")
	}
	checkRange(&ps, "smtp.connections", s.Connections, 1, maxConnections)
	checkRange(&ps, "smtp.max_attempts", s.MaxAttempts, 1, maxAttempts)
	if s.RatePerSecond < 0 || math.IsNaN(s.RatePerSecond) || math.IsInf(s.RatePerSecond, 0) {
		ps.add("smtp.rate_per_second", "must be 0 (no limit) or a positive number, got %v", s.RatePerSecond)
	}
	if s.MaxPerConnection < 1 {
		ps.add("smtp.max_per_connection", "must be 1 or more, got %d", s.MaxPerConnection)
	}
	checkPositive(&ps, "smtp.timeout", s.Timeout)
	if strings.ContainsAny(s.HELO, " \t\r\n") {
		ps.add("smtp.helo", "want a host name without spaces, got %q", s.HELO)
	}

	checkDKIM(&ps, c.DKIM)

	if c.Bounce.SoftLimit < 1 {
		ps.add("bounce.soft_limit", "must be 1 or more, got %d", c.Bounce.SoftLimit)
	}
	checkBareAddress(&ps, "bounce.probe", c.Bounce.Probe, "postmaster@example.org")

	d := c.Digest
	if err := checkSchedule(d.Schedule); err != nil {
		ps.add("digest.schedule", "%v", err)
	}
	if _, err := model.LoadZone(d.Timezone); err != nil || strings.ContainsAny(d.Timezone, "\r\n") {
		ps.add("digest.timezone", "want a zone name such as Europe/Berlin or UTC, got %q", d.Timezone)
	}
	checkRange(&ps, "digest.max_papers", d.MaxPapers, 1, maxPapers)
	checkDuration(&ps, "digest.window", d.Window, minWindow, maxWindow)
	checkOneOf(&ps, "digest.fallback", d.Fallback, fallbacks)
	checkDuration(&ps, "digest.tick", d.Tick, minTick, maxTick)
	checkRange(&ps, "digest.ledger_days", d.LedgerDays, minLedgerDays, maxLedgerDays)

	seen := make(map[string]int, len(c.Feeds))
	for i, f := range c.Feeds {
		key := fmt.Sprintf("feeds[%d]", i)
		checkFeedURL(&ps, key+".url", f.URL)
		if first, dup := seen[f.URL]; dup && f.URL != "" {
			ps.add(key+".url", "same url as feeds[%d]", first)
		} else {
			seen[f.URL] = i
		}
		// Empty format and schedule mean the defaults (Load fills them in).
		if f.Format != "" {
			checkOneOf(&ps, key+".format", f.Format, feedFormats)
		}
		if f.Schedule != "" {
			if err := checkSchedule(f.Schedule); err != nil {
				ps.add(key+".schedule", "%v", err)
			}
		}
	}
	checkMetrics(&ps, c)
	checkNetworks(&ps, "http.trusted_proxies", c.HTTP.TrustedProxies)
	checkRanking(&ps, c.Ranking)
	return ps
}

func checkRange(ps *problems, key string, v, lo, hi int) {
	if v < lo || v > hi {
		ps.add(key, "must be %d-%d, got %d", lo, hi, v)
	}
}

// checkDuration requires lo <= d <= hi.
func checkDuration(ps *problems, key string, d, lo, hi time.Duration) {
	if d < lo || d > hi {
		ps.add(key, "must be between %s and %s, got %s", FormatDuration(lo), FormatDuration(hi), FormatDuration(d))
	}
}

func checkPositive(ps *problems, key string, d time.Duration) {
	if d <= 0 {
		ps.add(key, "must be longer than 0, got %s", FormatDuration(d))
	}
}

func checkOneOf(ps *problems, key, v string, allowed []string) {
	if !slices.Contains(allowed, v) {
		ps.add(key, "must be one of %s, got %q", strings.Join(allowed, ", "), v)
	}
}

func checkBaseURL(ps *problems, s string) {
	const want = "want an absolute http or https URL such as https://papers.example.org"
	u, err := url.Parse(s)
	switch {
	case s == "":
		ps.add("base_url", "must be set; %s", want)
	case err != nil || strings.ContainsAny(s, " \t\r\n"):
		ps.add("base_url", "%s, got %q", want, s)
	case u.Scheme != "http" && u.Scheme != "https", u.Host == "", u.Opaque != "":
		ps.add("base_url", "%s, got %q", want, s)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(s, "#"):
		ps.add("base_url", "must not have a query (?...) or fragment (#...), got %q", s)
	case u.User != nil:
		ps.add("base_url", "must not hold a user name or password, got %q", s)
	}
}

// checkAddress requires a single RFC 5322 address such as
// "Papers <digest@example.org>"; empty is fine unless required.
func checkAddress(ps *problems, key, s string, required bool) {
	const want = "want one address such as \"Papers <digest@example.org>\" or digest@example.org"
	switch {
	case s == "":
		if required {
			ps.add(key, "must be set; %s", want)
		}
		return
	case strings.ContainsAny(s, "\r\n"):
		ps.add(key, "must not contain line breaks")
		return
	}
	a, err := mail.ParseAddress(s)
	if err != nil {
		ps.add(key, "%s, got %q (%v)", want, s, err)
		return
	}
	if at := strings.LastIndexByte(a.Address, '@'); at <= 0 || at == len(a.Address)-1 {
		ps.add(key, "%s, got %q", want, s)
	}
}

// checkReturnPath wants a bare address (no display name, no angle
// brackets); with VERP its local part must leave room for the token and
// must not use the '+' that separates it.
func checkReturnPath(ps *problems, m Mail) {
	rp := m.ReturnPath
	if !checkBareAddress(ps, "mail.return_path", rp, "bounces@example.org") || rp == "" {
		return
	}
	at := strings.LastIndexByte(rp, '@')
	if m.VERP && (strings.Contains(rp[:at], "+") || at > 24) {
		ps.add("mail.return_path", "with mail.verp the local part must be at most 24 characters without '+' (the token follows a '+'), got %q", rp[:at])
	}
}

// checkBareAddress wants v empty or a bare address (no display name, no
// angle brackets, nothing that could end an SMTP command); it reports
// whether v passed.
func checkBareAddress(ps *problems, key, v, example string) bool {
	if v == "" {
		return true
	}
	want := "want a bare address such as " + example
	if strings.ContainsAny(v, "<>\" \t\r\n") {
		ps.add(key, "%s, got %q", want, v)
		return false
	}
	a, err := mail.ParseAddress(v)
	at := strings.LastIndexByte(v, '@')
	if err != nil || a.Address != v || at <= 0 || at == len(v)-1 {
		ps.add(key, "%s, got %q", want, v)
		return false
	}
	return true
}

func checkDKIM(ps *problems, d DKIM) {
	if d.Domain+d.Selector+d.PrivateKeyFile == "" || d.Domain != "" && d.Selector != "" && d.PrivateKeyFile != "" {
		return
	}
	set := map[string]string{"dkim.domain": d.Domain, "dkim.selector": d.Selector, "dkim.private_key_file": d.PrivateKeyFile}
	for _, key := range []string{"dkim.domain", "dkim.selector", "dkim.private_key_file"} {
		if set[key] == "" {
			ps.add(key, "must be set: DKIM signing needs domain, selector and private_key_file together (or none of them)")
		}
	}
}

// checkFeedURL accepts an http(s) URL with a host, or a file path.
func checkFeedURL(ps *problems, key, s string) {
	switch {
	case s == "":
		ps.add(key, "must be set to an http(s) URL or a file path")
		return
	case strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		ps.add(key, "must not contain control characters, got %q", s)
		return
	}
	scheme, _, isURL := strings.Cut(s, "://")
	if !isURL {
		return // a file path
	}
	u, err := url.Parse(s)
	if err != nil || (scheme != "http" && scheme != "https") || u.Host == "" {
		ps.add(key, "want an http or https URL (or a file path), got %q", s)
	}
}

// checkSchedule parses a five-field cron expression (minute hour day
// month weekday, optionally after "CRON_TZ=Zone ") and makes sure it fires.
func checkSchedule(spec string) error {
	sched, err := ParseSchedule(spec)
	if err != nil {
		return err
	}
	if sched.Next(time.Now()).IsZero() {
		return fmt.Errorf("schedule %q never fires", spec)
	}
	return nil
}

// ParseSchedule parses a digest or feed schedule: five cron fields
// (minute hour day-of-month month day-of-week), a descriptor such as
// "@daily", optionally after "CRON_TZ=Zone ".
func ParseSchedule(spec string) (sched cron.Schedule, err error) {
	const want = "want five cron fields (minute hour day month weekday) such as \"0 7 * * *\""
	if strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ=") {
		// The cron parser slices up to the first space without checking there is one.
		if !strings.Contains(spec, " ") {
			return nil, fmt.Errorf("%s after the zone, got %q", want, spec)
		}
	}
	defer func() {
		if r := recover(); r != nil {
			sched, err = nil, fmt.Errorf("%s, got %q", want, spec)
		}
	}()
	sched, err = cron.ParseStandard(spec)
	if err != nil {
		return nil, fmt.Errorf("%s, got %q (%v)", want, spec, err)
	}
	return sched, nil
}

// validListID reports whether id is a dot-atom with at least one dot, as
// the id part of a List-Id header needs.
func validListID(id string) bool {
	if len(id) > 255 || !strings.Contains(id, ".") {
		return false
	}
	for label := range strings.SplitSeq(id, ".") {
		if label == "" || strings.ContainsFunc(label, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_')
		}) {
			return false
		}
	}
	return true
}
