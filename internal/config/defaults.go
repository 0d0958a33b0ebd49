package config

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/papermail/papermail/internal/model"
)

// Default returns the configuration with every default filled in. The
// digest time zone is the machine's local zone (see LocalZone).
func Default() Config {
	return Config{
		DataDir:         DefaultDataDir,
		BaseURL:         DefaultBaseURL,
		ShutdownTimeout: DefaultShutdownTimeout,
		HTTP:            HTTP{Listen: DefaultListen, SubscribeRate: DefaultSubscribeRate},
		Log:             Log{Format: DefaultLogFormat, Level: DefaultLogLevel},
		Mail:            Mail{From: DefaultFrom},
		SMTP: SMTP{
			Port:             DefaultSMTPPort,
			TLS:              DefaultSMTPTLS,
			Connections:      DefaultConnections,
			MaxAttempts:      DefaultMaxAttempts,
			MaxPerConnection: DefaultMaxPerConnection,
			Timeout:          DefaultSMTPTimeout,
		},
		Bounce: Bounce{SoftLimit: DefaultSoftLimit},
		Digest: Digest{
			Schedule:   DefaultSchedule,
			Timezone:   LocalZone(),
			MaxPapers:  DefaultMaxPapers,
			Window:     DefaultWindow,
			Fallback:   DefaultFallback,
			Tick:       DefaultTick,
			LedgerDays: DefaultLedgerDays,
		},
		Ranking: defaultRanking(),
	}
}

// LocalZone returns the IANA name of the machine's local time zone ("Europe/Berlin"),
// found from time.Local, the TZ variable, /etc/timezone or the target of
// the /etc/localtime link, in that order; "UTC" when none names a zone
// this machine can load. It is worked out once per process.
func LocalZone() string { return localZone() }

var localZone = sync.OnceValue(func() string {
	return zoneName(time.Local.String(), os.Getenv("TZ"), "/")
})

// zoneName picks the first loadable zone name among local (time.Local's
// name), tz (the TZ variable) and the files below root.
func zoneName(local, tz, root string) string {
	etc, _ := os.ReadFile(filepath.Join(root, "etc", "timezone"))
	etcZone, _, _ := strings.Cut(string(etc), "\n")
	link, _ := os.Readlink(filepath.Join(root, "etc", "localtime"))
	for _, c := range []string{local, tz, etcZone, link} {
		if name := cleanZone(c); name != "" {
			return name
		}
	}
	return "UTC"
}

// cleanZone turns a zone name, a TZ value (":Europe/Paris") or a path into
// the zoneinfo database ("/usr/share/zoneinfo/Europe/Paris") into a name
// model.LoadZone accepts, or "" when it cannot.
func cleanZone(s string) string {
	s = strings.TrimPrefix(strings.TrimSpace(s), ":")
	if _, after, ok := strings.Cut(s, "zoneinfo/"); ok {
		s = after
	}
	if s == "" || s == "Local" {
		return ""
	}
	if _, err := model.LoadZone(s); err != nil {
		return ""
	}
	return s
}
