// Package config loads papermail's single YAML file, overlays PAPERMAIL_*
// environment variables, fills defaults and validates the result, reporting
// every problem at once.
package config

import "time"

// Defaults, named so documentation and code agree.
const (
	DefaultDataDir          = "papermail-data"
	DefaultListen           = "127.0.0.1:8080"
	DefaultBaseURL          = "http://127.0.0.1:8080"
	DefaultFrom             = "papermail <digest@papermail.localhost>"
	DefaultSMTPPort         = 587 // with smtp.tls starttls; see SMTPPort
	DefaultSMTPTLS          = "starttls"
	DefaultConnections      = 4
	DefaultMaxAttempts      = 5
	DefaultMaxPerConnection = 100
	DefaultSMTPTimeout      = 30 * time.Second
	DefaultSchedule         = "0 7 * * *"
	DefaultMaxPapers        = 8
	DefaultWindow           = 72 * time.Hour
	DefaultTick             = 5 * time.Minute
	DefaultFeedSchedule     = "0 * * * *"
	DefaultShutdownTimeout  = 30 * time.Second
	DefaultSoftLimit        = 3
	DefaultSubscribeRate    = 5
	DefaultLogFormat        = "text"
	DefaultLogLevel         = "info"
	DefaultFallback         = "none"
	DefaultLedgerDays       = 7
)

// SMTPPort is the default smtp.port for the smtp.tls mode tls: 465 for
// implicit TLS, 25 for none, else DefaultSMTPPort (587, submission with
// STARTTLS).
func SMTPPort(tls string) int {
	switch tls {
	case "tls":
		return 465
	case "none":
		return 25
	}
	return DefaultSMTPPort
}

// Config is the whole configuration. Durations accept Go syntax ("90m")
// and whole days ("3d").
type Config struct {
	// DataDir holds the bbolt store, the Maildir and the control socket.
	DataDir string `yaml:"data_dir"`
	// BaseURL is the public URL every link in a mail is built from.
	BaseURL string `yaml:"base_url"`
	// Secret signs tokens; empty means one generated once and kept in the store.
	Secret string `yaml:"secret"`
	// TemplatesDir overrides the embedded templates file by file.
	TemplatesDir    string        `yaml:"templates_dir"`
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`

	HTTP     HTTP     `yaml:"http"`
	Log      Log      `yaml:"log"`
	Mail     Mail     `yaml:"mail"`
	SMTP     SMTP     `yaml:"smtp"`
	DKIM     DKIM     `yaml:"dkim"`
	Bounce   Bounce   `yaml:"bounce"`
	Digest   Digest   `yaml:"digest"`
	Tracking Tracking `yaml:"tracking"`
	Metrics  Metrics  `yaml:"metrics"`
	Ranking  Ranking  `yaml:"ranking"`
	Feeds    []Feed   `yaml:"feeds"`
}

// HTTP configures the web server.
type HTTP struct {
	Listen string `yaml:"listen"`
	// SubscribeRate is how many subscribe posts one IP may make per minute; 0 turns the limit off.
	SubscribeRate int `yaml:"subscribe_rate"`
	// TrustProxy takes the client IP from X-Forwarded-For (only behind a proxy you run).
	TrustProxy bool `yaml:"trust_proxy"`
	// TrustedProxies lists the networks of the reverse proxies in front
	// (CIDR or single addresses): X-Forwarded-For is read only on requests
	// from them, and entries they added are skipped. See ClientIP.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// Mailbox serves /mailbox, a page reading every mail in the Maildir,
	// to loopback clients. Only for local use: it is refused unless
	// base_url and listen are loopback. `papermail demo` turns it on.
	Mailbox bool `yaml:"mailbox"`
}

// Log configures log/slog.
type Log struct {
	Format string `yaml:"format"` // text | json
	Level  string `yaml:"level"`  // debug | info | warn | error
}

// Mail configures the envelope and headers of outgoing mail.
type Mail struct {
	From    string `yaml:"from"`
	ReplyTo string `yaml:"reply_to"`
	// ConfirmFrom and ConfirmReplyTo apply to confirmation (transactional) mail; empty means From/ReplyTo.
	ConfirmFrom    string `yaml:"confirm_from"`
	ConfirmReplyTo string `yaml:"confirm_reply_to"`
	// ListID is the List-Id header value's id part; empty derives one from the From domain.
	ListID string `yaml:"list_id"`
	// ReturnPath is the envelope sender (MAIL FROM), where bounces go; a
	// bare address. Empty means the address of From.
	ReturnPath string `yaml:"return_path"`
	// VERP gives each digest its own envelope sender,
	// local+<token>@domain of the return path (bounces@<From domain> when
	// return_path is empty), so a bounce names the subscriber and digest
	// it is about.
	VERP bool `yaml:"verp"`
}

// SMTP configures delivery. An empty Host means local Maildir delivery.
type SMTP struct {
	Host             string        `yaml:"host"`
	Port             int           `yaml:"port"` // unset: SMTPPort(TLS)
	TLS              string        `yaml:"tls"`  // none | starttls | tls
	Username         string        `yaml:"username"`
	Password         string        `yaml:"password"`
	Connections      int           `yaml:"connections"`
	MaxAttempts      int           `yaml:"max_attempts"`
	RatePerSecond    float64       `yaml:"rate_per_second"`
	MaxPerConnection int           `yaml:"max_per_connection"`
	Timeout          time.Duration `yaml:"timeout"`
	// HELO is the name announced to the server; empty means the From domain.
	HELO string `yaml:"helo"`
}

// DKIM configures signing; all three keys or none.
type DKIM struct {
	Domain         string `yaml:"domain"`
	Selector       string `yaml:"selector"`
	PrivateKeyFile string `yaml:"private_key_file"`
}

// Bounce configures bounce handling.
type Bounce struct {
	// SoftLimit is the number of distinct days with temporary failures after which an address counts as bounced.
	SoftLimit int `yaml:"soft_limit"`
	// Probe is the recipient the circuit breaker asks the relay about
	// (MAIL FROM, RCPT TO, RSET: nothing is sent) when many recipients of
	// a run get the same mailbox refusal: accepted, the refusals are dead
	// mailboxes and bounce; refused too, the relay refuses everyone and the
	// run stops. A bare address the relay must accept; empty means the
	// envelope sender (mail.return_path, else the address of mail.from).
	Probe string `yaml:"probe"`
}

// Digest configures selection and scheduling.
type Digest struct {
	Schedule  string        `yaml:"schedule"`
	Timezone  string        `yaml:"timezone"`
	MaxPapers int           `yaml:"max_papers"`
	Window    time.Duration `yaml:"window"`
	// Fallback is "none" (no relevant papers, no mail) or "trending".
	Fallback string `yaml:"fallback"`
	// Tick is how often the scheduler looks for subscribers whose delivery hour has come.
	Tick time.Duration `yaml:"tick"`
	// LedgerDays is how many run dates keep their delivery ledger (one
	// line per subscriber due: what was sent, the Message-ID bounce
	// reports are matched by, the papers the browser view shows). Older
	// ledgers are deleted after each run, except an unfinished run's;
	// every date keeps its run summary.
	LedgerDays int `yaml:"ledger_days"`
}

// Tracking configures optional anonymous click counting.
type Tracking struct {
	Clicks bool `yaml:"clicks"`
}

// Feed is one configured source fetched on its own schedule.
type Feed struct {
	URL      string `yaml:"url"`
	Format   string `yaml:"format"`
	Schedule string `yaml:"schedule"`
	// AllowPrivate lets the fetch connect to loopback, private and
	// link-local addresses (a feed on the operator's own network).
	AllowPrivate bool `yaml:"allow_private"`
}
