package config

import (
	"cmp"
	"net/mail"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/papermail/papermail/internal/model"
)

// Location returns the digest time zone; UTC when it cannot be loaded
// (Validate reports that). Zones are loaded once (model.LoadZone).
func (c Config) Location() *time.Location {
	if loc, err := model.LoadZone(c.Digest.Timezone); err == nil {
		return loc
	}
	return time.UTC
}

// UsesMaildir reports whether mail is delivered to the local Maildir
// instead of an SMTP server (no smtp.host).
func (c Config) UsesMaildir() bool { return c.SMTP.Host == "" }

// DBPath is the bbolt store file.
func (c Config) DBPath() string { return filepath.Join(c.DataDir, "papermail.db") }

// MaildirPath is the Maildir that receives mail when no SMTP host is set.
func (c Config) MaildirPath() string { return filepath.Join(c.DataDir, "Maildir") }

// SocketPath is the control socket the command line talks to.
func (c Config) SocketPath() string { return filepath.Join(c.DataDir, "papermail.sock") }

// FromDomain is the lower-cased domain of mail.from, "" when it does not parse.
func (c Config) FromDomain() string {
	a, err := mail.ParseAddress(c.Mail.From)
	if err != nil {
		return ""
	}
	at := strings.LastIndexByte(a.Address, '@')
	if at < 0 {
		return ""
	}
	return strings.ToLower(a.Address[at+1:])
}

// ListID is the id part of the List-Id header: mail.list_id, else
// "digest." followed by the From domain.
func (c Config) ListID() string {
	if c.Mail.ListID != "" {
		return c.Mail.ListID // without parsing mail.from for every digest
	}
	return "digest." + cmp.Or(c.FromDomain(), "localhost")
}

// DefaultHour returns the hour (0-23) and minute of digest.schedule when
// it is a simple daily schedule ("M H * * *", "@daily", "@midnight",
// optionally after "CRON_TZ=Zone "), else those of DefaultSchedule.
func (c Config) DefaultHour() (int, int) {
	if h, m, ok := dailyTime(c.Digest.Schedule); ok {
		return h, m
	}
	h, m, _ := dailyTime(DefaultSchedule)
	return h, m
}

func dailyTime(spec string) (hour, minute int, ok bool) {
	if strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ=") {
		_, spec, _ = strings.Cut(spec, " ")
	}
	f := strings.Fields(spec)
	switch {
	case len(f) == 1 && (f[0] == "@daily" || f[0] == "@midnight"):
		return 0, 0, true
	case len(f) != 5 || f[2] != "*" || f[3] != "*" || f[4] != "*":
		return 0, 0, false
	}
	m, err1 := strconv.Atoi(f[0])
	h, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil || m < 0 || m > 59 || h < 0 || h > 23 {
		return 0, 0, false
	}
	return h, m, true
}

// ReturnPath is the envelope sender of digests without VERP: mail.return_path,
// else the address of mail.from.
func (c Config) ReturnPath() string {
	if c.Mail.ReturnPath != "" {
		return c.Mail.ReturnPath
	}
	if a, err := mail.ParseAddress(c.Mail.From); err == nil {
		return a.Address
	}
	return ""
}

// ProbeAddress is the recipient of the circuit breaker's relay probe:
// bounce.probe, else the envelope sender (ReturnPath).
func (c Config) ProbeAddress() string { return cmp.Or(c.Bounce.Probe, c.ReturnPath()) }

// VERPBase is the address VERP tokens are added to: mail.return_path,
// else bounces@ the domain of mail.from.
func (c Config) VERPBase() string {
	if c.Mail.ReturnPath != "" {
		return c.Mail.ReturnPath
	}
	from := c.ReturnPath()
	if at := strings.LastIndexByte(from, '@'); at >= 0 {
		return "bounces" + from[at:]
	}
	return ""
}
