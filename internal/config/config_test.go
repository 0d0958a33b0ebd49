package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// writeConfig writes body to a config.yaml in a fresh directory and
// returns its path.
func writeConfig(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// mustLoad loads and fails the test on any error.
func mustLoad(t *testing.T, path string, environ ...string) (Config, []string) {
	t.Helper()
	c, warnings, err := Load(path, environ)
	if err != nil {
		t.Fatalf("Load(%q): %v", path, err)
	}
	return c, warnings
}

// loadProblems loads and returns the problems, failing unless the error
// is a *ValidationError.
func loadProblems(t *testing.T, path string, environ ...string) []Problem {
	t.Helper()
	_, _, err := Load(path, environ)
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("Load(%q) error = %v, want *ValidationError", path, err)
	}
	return ve.Problems
}

// problemsOf returns Validate's problems, nil when valid.
func problemsOf(t *testing.T, c Config) []Problem {
	t.Helper()
	err := c.Validate()
	if err == nil {
		return nil
	}
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("Validate error %T %v, want *ValidationError", err, err)
	}
	return ve.Problems
}

func keysOf(ps []Problem) []string {
	keys := make([]string, len(ps))
	for i, p := range ps {
		keys[i] = p.Key
	}
	return keys
}

func TestDefaultsWithoutFile(t *testing.T) {
	c, warnings := mustLoad(t, "")
	if len(warnings) != 0 {
		t.Errorf("warnings = %q, want none", warnings)
	}
	if !reflect.DeepEqual(c, Default()) {
		t.Errorf("Load(\"\") = %+v\nwant Default() = %+v", c, Default())
	}
	if err := Default().Validate(); err != nil {
		t.Errorf("Default() is invalid: %v", err)
	}
	want := Config{
		DataDir: "papermail-data", BaseURL: "http://127.0.0.1:8080", ShutdownTimeout: 30 * time.Second,
		HTTP:   HTTP{Listen: "127.0.0.1:8080", SubscribeRate: 5},
		Log:    Log{Format: "text", Level: "info"},
		Mail:   Mail{From: "papermail <digest@papermail.localhost>"},
		SMTP:   SMTP{Port: 587, TLS: "starttls", Connections: 4, MaxAttempts: 5, MaxPerConnection: 100, Timeout: 30 * time.Second},
		Bounce: Bounce{SoftLimit: 3},
		Digest: Digest{Schedule: "0 7 * * *", Timezone: LocalZone(), MaxPapers: 8, Window: 72 * time.Hour,
			Fallback: "none", Tick: 5 * time.Minute, LedgerDays: 7},
		Ranking: Ranking{Embeddings: Embeddings{Timeout: 10 * time.Second, Weight: 0.4}},
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("defaults = %+v\nwant %+v", c, want)
	}
	if c.Digest.Timezone == "" || c.Digest.Timezone == "Local" {
		t.Errorf("default timezone %q is not a zone name", c.Digest.Timezone)
	}
}

func TestEmptyFiles(t *testing.T) {
	for name, body := range map[string]string{
		"empty":         "",
		"comments only": "# nothing here\n\n# at all\n",
		"null document": "---\n",
		"null sections": "smtp:\ndigest:\n",
	} {
		t.Run(name, func(t *testing.T) {
			c, _ := mustLoad(t, writeConfig(t, body))
			if !reflect.DeepEqual(c, Default()) {
				t.Errorf("got %+v, want defaults", c)
			}
		})
	}
}

func TestLoadFullFile(t *testing.T) {
	c, warnings := mustLoad(t, filepath.Join("testdata", "full.yaml"))
	if len(warnings) != 0 {
		t.Errorf("warnings = %q", warnings)
	}
	want := Config{
		DataDir: "/var/lib/papermail", BaseURL: "https://papers.example.org", Secret: "s3cret-s3cret-s3cret",
		TemplatesDir: "/etc/papermail/templates", ShutdownTimeout: time.Minute,
		HTTP: HTTP{Listen: ":9090", SubscribeRate: 0, TrustProxy: true},
		Log:  Log{Format: "json", Level: "debug"},
		Mail: Mail{From: "Papers <digest@example.org>", ReplyTo: "team@example.org",
			ConfirmFrom: "Papers <confirm@example.org>", ConfirmReplyTo: "confirm-replies@example.org",
			ListID: "papers.example.org", ReturnPath: "bounces@example.org", VERP: true},
		SMTP: SMTP{Host: "smtp.example.org", Port: 465, TLS: "tls", Username: "papermail", Password: "hunter2",
			Connections: 8, MaxAttempts: 3, RatePerSecond: 2.5, MaxPerConnection: 50, Timeout: 90 * time.Second,
			HELO: "mx.example.org"},
		DKIM:   DKIM{Domain: "example.org", Selector: "pm1", PrivateKeyFile: "/etc/papermail/dkim.pem"},
		Bounce: Bounce{SoftLimit: 5, Probe: "postmaster@example.org"},
		Digest: Digest{Schedule: "30 6 * * 1-5", Timezone: "Europe/Berlin", MaxPapers: 12, Window: 7 * 24 * time.Hour,
			Fallback: "trending", Tick: time.Minute, LedgerDays: 30},
		Tracking: Tracking{Clicks: true},
		Metrics:  Metrics{Listen: "127.0.0.1:9090", Allow: []string{"127.0.0.1/8", "::1"}},
		Ranking: Ranking{Embeddings: Embeddings{URL: "http://127.0.0.1:11434/api/embed", Model: "nomic-embed-text",
			APIKey: "k3y", Timeout: 5 * time.Second, Weight: 0.3}},
		Feeds: []Feed{
			{URL: "https://huggingface.co/api/daily_papers", Format: "hf", Schedule: "*/30 * * * *"},
			{URL: "https://rss.arxiv.org/rss/cs.CL", Format: "arxiv", Schedule: DefaultFeedSchedule},
			{URL: "./local-papers.jsonl", Format: "auto", Schedule: DefaultFeedSchedule},
		},
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got  %+v\nwant %+v", c, want)
	}
	// Every scalar key differs from its default, so the fixture proves each is read.
	def := reflect.ValueOf(Default())
	got := reflect.ValueOf(c)
	for _, l := range leaves() {
		if l.key == "http.mailbox" {
			continue // refused with this public base_url; TestMailboxNeedsLoopback reads it
		}
		if got.FieldByIndex(l.index).Equal(def.FieldByIndex(l.index)) {
			t.Errorf("testdata/full.yaml leaves %s at its default", l.key)
		}
	}
}

func TestEnvironmentOverridesFile(t *testing.T) {
	path := writeConfig(t, `
data_dir: /from/file
smtp:
  host: file.example.org
  port: 2525
digest:
  window: 2d
  max_papers: 10
feeds:
  - url: https://file.example.org/feed
`)
	c, warnings := mustLoad(t, path,
		"HOME=/root",
		"PAPERMAIL_SMTP_HOST=env.example.org",
		"PAPERMAIL_SMTP_HOST=second.example.org", // first one wins, as with os.Getenv
		"PAPERMAIL_DIGEST_WINDOW=5d",
		"PAPERMAIL_HTTP_TRUST_PROXY=true",
		"PAPERMAIL_SMTP_RATE_PER_SECOND=0.5",
		"PAPERMAIL_SHUTDOWN_TIMEOUT=90s",
		"PAPERMAIL_DKIM_PRIVATE_KEY_FILE=/k.pem",
		"PAPERMAIL_DKIM_DOMAIN=example.org",
		"PAPERMAIL_DKIM_SELECTOR=s1",
		"PAPERMAIL_FEEDS= https://a.example.org/x , ,/srv/papers.jsonl",
	)
	if len(warnings) != 0 {
		t.Errorf("warnings = %q", warnings)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"data_dir from file", c.DataDir, "/from/file"},
		{"smtp.port from file", c.SMTP.Port, 2525},
		{"digest.max_papers from file", c.Digest.MaxPapers, 10},
		{"smtp.host from env", c.SMTP.Host, "env.example.org"},
		{"digest.window from env", c.Digest.Window, 5 * 24 * time.Hour},
		{"http.trust_proxy from env", c.HTTP.TrustProxy, true},
		{"smtp.rate_per_second from env", c.SMTP.RatePerSecond, 0.5},
		{"shutdown_timeout from env", c.ShutdownTimeout, 90 * time.Second},
		{"dkim from env", c.DKIM, DKIM{Domain: "example.org", Selector: "s1", PrivateKeyFile: "/k.pem"}},
		{"smtp.tls default", c.SMTP.TLS, DefaultSMTPTLS},
		{"feeds from env", c.Feeds, []Feed{
			{URL: "https://a.example.org/x", Format: "auto", Schedule: DefaultFeedSchedule},
			{URL: "/srv/papers.jsonl", Format: "auto", Schedule: DefaultFeedSchedule},
		}},
	}
	for _, ch := range checks {
		if !reflect.DeepEqual(ch.got, ch.want) {
			t.Errorf("%s: got %v, want %v", ch.name, ch.got, ch.want)
		}
	}
}

func TestEmptyEnvironmentValues(t *testing.T) {
	path := writeConfig(t, "smtp:\n  host: mail.example.org\nfeeds:\n  - https://example.org/f\n")
	c, _ := mustLoad(t, path, "PAPERMAIL_SMTP_HOST=", "PAPERMAIL_FEEDS=")
	if !c.UsesMaildir() {
		t.Errorf("empty PAPERMAIL_SMTP_HOST should switch to Maildir, host = %q", c.SMTP.Host)
	}
	if len(c.Feeds) != 0 {
		t.Errorf("empty PAPERMAIL_FEEDS should clear feeds, got %v", c.Feeds)
	}
	ps := loadProblems(t, path, "PAPERMAIL_SMTP_PORT=")
	if len(ps) != 1 || ps[0].Key != "smtp.port" || ps[0].Source != "PAPERMAIL_SMTP_PORT" {
		t.Errorf("empty numeric variable: problems = %+v", ps)
	}
}

func TestConfigPathFromEnvironment(t *testing.T) {
	path := writeConfig(t, "data_dir: /from/env/path\n")
	c, warnings := mustLoad(t, "", "PAPERMAIL_CONFIG="+path)
	if c.DataDir != "/from/env/path" {
		t.Errorf("data_dir = %q, want the file named by PAPERMAIL_CONFIG to be read", c.DataDir)
	}
	if len(warnings) != 0 {
		t.Errorf("PAPERMAIL_CONFIG must not be an unknown variable: %q", warnings)
	}
	// An explicit path wins over the variable.
	other := writeConfig(t, "data_dir: /explicit\n")
	if c, _ := mustLoad(t, other, "PAPERMAIL_CONFIG="+path); c.DataDir != "/explicit" {
		t.Errorf("data_dir = %q, want the explicit path read", c.DataDir)
	}
}

func TestMissingFile(t *testing.T) {
	_, _, err := Load(filepath.Join(t.TempDir(), "nope.yaml"), nil)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err = %v, want one wrapping fs.ErrNotExist", err)
	}
	if !strings.Contains(err.Error(), "nope.yaml") {
		t.Errorf("error %q does not name the file", err)
	}
}

func TestEnvironmentProblems(t *testing.T) {
	tests := []struct {
		env, key, msg string
	}{
		{"PAPERMAIL_SMTP_PORT=abc", "smtp.port", "want a whole number"},
		{"PAPERMAIL_SMTP_PORT=70000", "smtp.port", "must be 1-65535, got 70000"},
		{"PAPERMAIL_DIGEST_WINDOW=3 days", "digest.window", "want a duration"},
		{"PAPERMAIL_DIGEST_WINDOW=100d", "digest.window", "between 1h and 90d, got 100d"},
		{"PAPERMAIL_HTTP_TRUST_PROXY=maybe", "http.trust_proxy", "want true or false"},
		{"PAPERMAIL_SMTP_RATE_PER_SECOND=fast", "smtp.rate_per_second", "want a number"},
		{"PAPERMAIL_SMTP_TLS=ssl", "smtp.tls", `must be one of none, starttls, tls, got "ssl"`},
		{"PAPERMAIL_FEEDS=ftp://x.example.org/f", "feeds[0].url", "want an http or https URL"},
	}
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			ps := loadProblems(t, "", tt.env)
			if len(ps) != 1 {
				t.Fatalf("problems = %+v, want exactly one", ps)
			}
			p := ps[0]
			variable, _, _ := strings.Cut(tt.env, "=")
			if p.Key != tt.key || p.Source != variable || !strings.Contains(p.Msg, tt.msg) {
				t.Errorf("problem = %+v, want key %q from %s saying %q", p, tt.key, variable, tt.msg)
			}
			if !strings.Contains(p.String(), variable) {
				t.Errorf("%q does not name the variable", p.String())
			}
		})
	}
}

func TestUnknownEnvironmentVariables(t *testing.T) {
	c, warnings := mustLoad(t, "",
		"PAPERMAIL_SMTP_HOTS=x.example.org",
		"PAPERMAIL_smtp_port=25",
		"PAPERMAIL_DIGEST_MAX_PAPER=3",
		"PAPERMAIL_COMPLETELY_DIFFERENT=1",
		"PATH=/bin",
		"NOT_PAPERMAIL_X=1",
	)
	want := []string{
		"unknown environment variable PAPERMAIL_COMPLETELY_DIFFERENT is ignored",
		"unknown environment variable PAPERMAIL_DIGEST_MAX_PAPER is ignored (did you mean PAPERMAIL_DIGEST_MAX_PAPERS?)",
		"unknown environment variable PAPERMAIL_SMTP_HOTS is ignored (did you mean PAPERMAIL_SMTP_HOST?)",
		"unknown environment variable PAPERMAIL_smtp_port is ignored (did you mean PAPERMAIL_SMTP_PORT?)",
	}
	if !slices.Equal(warnings, want) {
		t.Errorf("warnings =\n%s\nwant\n%s", strings.Join(warnings, "\n"), strings.Join(want, "\n"))
	}
	if !reflect.DeepEqual(c, Default()) {
		t.Errorf("unknown variables changed the config: %+v", c)
	}
}

func TestEnvNames(t *testing.T) {
	want := map[string]string{
		"smtp.host":             "PAPERMAIL_SMTP_HOST",
		"digest.max_papers":     "PAPERMAIL_DIGEST_MAX_PAPERS",
		"data_dir":              "PAPERMAIL_DATA_DIR",
		"http.listen":           "PAPERMAIL_HTTP_LISTEN",
		"dkim.private_key_file": "PAPERMAIL_DKIM_PRIVATE_KEY_FILE",
	}
	got := make(map[string]string)
	seen := make(map[string]string)
	for _, l := range leaves() {
		got[l.key] = l.env
		if other, dup := seen[l.env]; dup {
			t.Errorf("keys %s and %s share variable %s", other, l.key, l.env)
		}
		seen[l.env] = l.key
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("variable for %s = %q, want %q", k, got[k], v)
		}
	}
	if n := len(Keys()); n != 48 {
		t.Errorf("len(Keys()) = %d; a key was added or lost — update the example and this count", n)
	}
	// Each variable sets its key.
	for _, l := range leaves() {
		v := reflect.New(reflect.TypeFor[Config]()).Elem().FieldByIndex(l.index)
		sample := map[reflect.Kind]string{reflect.String: "x", reflect.Int: "11", reflect.Int64: "7",
			reflect.Float64: "7", reflect.Bool: "true"}[v.Kind()]
		if v.Type() == durationType {
			sample = "7m"
		}
		c, _, _ := Load("", []string{l.env + "=" + sample})
		if got := reflect.ValueOf(c).FieldByIndex(l.index); got.Equal(reflect.ValueOf(Default()).FieldByIndex(l.index)) {
			t.Errorf("%s=%s did not set %s (got %v)", l.env, sample, l.key, got)
		}
	}
}

func TestFileProblems(t *testing.T) {
	tests := []struct {
		name, body string
		want       []string // Problem.String() of every problem, in order
	}{
		{
			name: "unknown top-level key",
			body: "data_dir: d\nhttp:\n  listen: :1\n\nsmpt:\n  host: x\n",
			want: []string{`config.yaml:5: unknown key "smpt" (did you mean "smtp"?)`},
		},
		{
			name: "unknown nested key",
			body: "smtp:\n  port: 25\n  hots: x\n",
			want: []string{`config.yaml:3: unknown key "smtp.hots" (did you mean "smtp.host"?)`},
		},
		{
			name: "key in the wrong section",
			body: "port: 25\n",
			want: []string{`config.yaml:1: unknown key "port" (did you mean "smtp.port"?)`},
		},
		{
			name: "unknown key without suggestion",
			body: "colour: blue\n",
			want: []string{`config.yaml:1: unknown key "colour"`},
		},
		{
			name: "unknown key in a feed",
			body: "feeds:\n  - url: https://e.org/f\n    fromat: hf\n",
			want: []string{`config.yaml:3: unknown key "feeds[0].fromat" (did you mean "feeds[0].format"?)`},
		},
		{
			name: "duplicate key",
			body: "smtp:\n  port: 25\n  port: 26\n",
			want: []string{`config.yaml:3: key "smtp.port" appears twice (first on line 2)`},
		},
		{
			name: "wrong types",
			body: "smtp:\n  port: twenty\n  timeout: 30\ndigest: 5\nhttp:\n  listen: [a, b]\nfeeds: https://e.org/f\n",
			want: []string{
				`config.yaml:2: smtp.port: want a whole number, got "twenty"`,
				`config.yaml:3: smtp.timeout: want a duration such as 30s, 90m, 1h30m or 3d, got "30"`,
				`config.yaml:4: digest: want a mapping of keys, found "5"`,
				`config.yaml:6: http.listen: want a single value, found a list`,
				`config.yaml:7: feeds: want a list (lines starting with "- "), found "https://e.org/f"`,
			},
		},
		{
			name: "bad feed item",
			body: "feeds:\n  - [a]\n  - url: https://e.org/f\n    format: atom\n",
			want: []string{
				`config.yaml:2: feeds[0]: want a mapping with keys such as "url:", found a list`,
				`config.yaml:4: feeds[1].format: must be one of auto, hf, arxiv, biorxiv, rss, page, jsonl, got "atom"`,
			},
		},
		{
			name: "not a mapping",
			body: "- a\n- b\n",
			want: []string{`config.yaml:1: the file must be a mapping of keys such as "smtp:" and "digest:", found a list`},
		},
		{
			name: "syntax error",
			body: "smtp:\n  port: 25\n  host: : x\n",
			want: []string{`config.yaml:3: YAML syntax error: mapping values are not allowed in this context`},
		},
		{
			name: "two documents",
			body: "data_dir: a\n---\ndata_dir: b\n",
			want: []string{`config.yaml:2: the file holds more than one YAML document; papermail reads one`},
		},
		{
			name: "validation problems carry the line",
			body: "smtp:\n  port: 70000\ndigest:\n  window: 30m\n",
			want: []string{
				`config.yaml:2: smtp.port: must be 1-65535, got 70000`,
				`config.yaml:4: digest.window: must be between 1h and 90d, got 30m`,
			},
		},
		{
			name: "feed defaults point at the item",
			body: "feeds:\n  - url: https://e.org/a\n  - url: https://e.org/a\n",
			want: []string{`config.yaml:3: feeds[1].url: same url as feeds[0]`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConfig(t, tt.body)
			ps := loadProblems(t, path)
			var got []string
			for _, p := range ps {
				got = append(got, strings.TrimPrefix(p.String(), filepath.Dir(path)+string(filepath.Separator)))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("problems =\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			}
		})
	}
}

func TestAnchorsAndMerge(t *testing.T) {
	path := writeConfig(t, `
base: &feed
  format: arxiv
  schedule: "15 * * * *"
`)
	// "base" is not a key, so anchors must live inside known keys.
	if ps := loadProblems(t, path); len(ps) != 1 || !strings.Contains(ps[0].Msg, `unknown key "base"`) {
		t.Fatalf("problems = %+v", ps)
	}
	path = writeConfig(t, `
feeds:
  - &arxiv
    url: https://rss.arxiv.org/rss/cs.CL
    format: arxiv
    schedule: "15 * * * *"
  - <<: *arxiv
    url: https://rss.arxiv.org/rss/cs.LG
`)
	c, _ := mustLoad(t, path)
	want := []Feed{
		{URL: "https://rss.arxiv.org/rss/cs.CL", Format: "arxiv", Schedule: "15 * * * *"},
		{URL: "https://rss.arxiv.org/rss/cs.LG", Format: "arxiv", Schedule: "15 * * * *"},
	}
	if !reflect.DeepEqual(c.Feeds, want) {
		t.Errorf("feeds = %+v, want %+v", c.Feeds, want)
	}
}

func TestMultipleProblemsReportedTogether(t *testing.T) {
	path := writeConfig(t, "smtp:\n  port: 70000\n  tls: ssl\nlog:\n  level: loud\nsmpt: {}\n")
	_, _, err := Load(path, []string{"PAPERMAIL_DIGEST_MAX_PAPERS=0"})
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v", err)
	}
	wantKeys := []string{"", "log.level", "smtp.port", "smtp.tls", "digest.max_papers"}
	if got := keysOf(ve.Problems); !slices.Equal(got, wantKeys) {
		t.Errorf("keys = %q, want %q", got, wantKeys)
	}
	lines := strings.Split(err.Error(), "\n")
	if lines[0] != "config: 5 problems:" || len(lines) != 6 {
		t.Errorf("Error() =\n%s", err)
	}
	for _, l := range lines[1:] {
		if !strings.HasPrefix(l, "  ") {
			t.Errorf("problem line %q is not indented", l)
		}
	}
	if !strings.Contains(err.Error(), "digest.max_papers (PAPERMAIL_DIGEST_MAX_PAPERS): must be 1-50, got 0") {
		t.Errorf("Error() does not show the environment problem:\n%s", err)
	}
	one := (&ValidationError{Problems: []Problem{{Key: "smtp.port", Msg: "must be 1-65535, got 0"}}}).Error()
	if one != "config: smtp.port: must be 1-65535, got 0" {
		t.Errorf("single problem Error() = %q", one)
	}
}

func TestValidateRules(t *testing.T) {
	tests := []struct {
		key    string
		mutate func(*Config)
	}{
		{"data_dir", func(c *Config) { c.DataDir = "" }},
		{"data_dir", func(c *Config) { c.DataDir = "  " }},
		{"base_url", func(c *Config) { c.BaseURL = "" }},
		{"base_url", func(c *Config) { c.BaseURL = "papers.example.org" }},
		{"base_url", func(c *Config) { c.BaseURL = "ftp://papers.example.org" }},
		{"base_url", func(c *Config) { c.BaseURL = "https://papers.example.org/?a=b" }},
		{"base_url", func(c *Config) { c.BaseURL = "https://papers.example.org/?" }},
		{"base_url", func(c *Config) { c.BaseURL = "https://papers.example.org/#top" }},
		{"base_url", func(c *Config) { c.BaseURL = "https://user:pw@papers.example.org" }},
		{"base_url", func(c *Config) { c.BaseURL = "https:///path" }},
		{"shutdown_timeout", func(c *Config) { c.ShutdownTimeout = 0 }},
		{"http.listen", func(c *Config) { c.HTTP.Listen = "8080" }},
		{"http.listen", func(c *Config) { c.HTTP.Listen = "" }},
		{"http.listen", func(c *Config) { c.HTTP.Listen = "127.0.0.1:http" }},
		{"http.listen", func(c *Config) { c.HTTP.Listen = "127.0.0.1:65536" }},
		{"http.subscribe_rate", func(c *Config) { c.HTTP.SubscribeRate = -1 }},
		{"http.mailbox", func(c *Config) { c.HTTP.Mailbox, c.BaseURL = true, "https://papers.example.org" }},
		{"http.mailbox", func(c *Config) { c.HTTP.Mailbox, c.BaseURL = true, "http://127.0.0.1.nip.io:8080" }},
		{"http.mailbox", func(c *Config) { c.HTTP.Mailbox, c.BaseURL = true, "http://10.0.0.5:8080" }},
		{"http.mailbox", func(c *Config) { c.HTTP.Mailbox, c.HTTP.Listen = true, ":8080" }},
		{"http.mailbox", func(c *Config) { c.HTTP.Mailbox, c.HTTP.Listen = true, "0.0.0.0:8080" }},
		{"log.format", func(c *Config) { c.Log.Format = "xml" }},
		{"log.level", func(c *Config) { c.Log.Level = "trace" }},
		{"mail.from", func(c *Config) { c.Mail.From = "" }},
		{"mail.from", func(c *Config) { c.Mail.From = "not an address" }},
		{"mail.from", func(c *Config) { c.Mail.From = "a@example.org, b@example.org" }},
		{"mail.from", func(c *Config) { c.Mail.From = "a@example.org\r\nBcc: x@example.org" }},
		{"mail.reply_to", func(c *Config) { c.Mail.ReplyTo = "nobody" }},
		{"mail.confirm_from", func(c *Config) { c.Mail.ConfirmFrom = "<broken" }},
		{"mail.confirm_reply_to", func(c *Config) { c.Mail.ConfirmReplyTo = "x@y\nz" }},
		{"mail.list_id", func(c *Config) { c.Mail.ListID = "nodot" }},
		{"mail.list_id", func(c *Config) { c.Mail.ListID = "a..b" }},
		{"mail.list_id", func(c *Config) { c.Mail.ListID = "a.b>\r\nX: y" }},
		{"mail.return_path", func(c *Config) { c.Mail.ReturnPath = "Bounces <bounces@example.org>" }},
		{"mail.return_path", func(c *Config) { c.Mail.ReturnPath = "no-at-sign" }},
		{"mail.return_path", func(c *Config) { c.Mail.ReturnPath = "b@x.org\r\nRCPT TO:<v@x.org>" }},
		{"mail.return_path", func(c *Config) { c.Mail.ReturnPath, c.Mail.VERP = "bounces+x@example.org", true }},
		{"bounce.probe", func(c *Config) { c.Bounce.Probe = "Postmaster <postmaster@example.org>" }},
		{"bounce.probe", func(c *Config) { c.Bounce.Probe = "p@x.org\r\nDATA" }},
		{"bounce.probe", func(c *Config) { c.Bounce.Probe = "no-at-sign" }},
		{"smtp.host", func(c *Config) { c.SMTP.Host = "mail example.org" }},
		{"smtp.port", func(c *Config) { c.SMTP.Port = 0 }},
		{"smtp.port", func(c *Config) { c.SMTP.Port = 70000 }},
		{"smtp.tls", func(c *Config) { c.SMTP.TLS = "ssl" }},
		{"smtp.tls", func(c *Config) { c.SMTP.TLS = "" }},
		{"smtp.password", func(c *Config) { c.SMTP.Username = "u" }},
		{"smtp.username", func(c *Config) { c.SMTP.Password = "p" }},
		{"smtp.connections", func(c *Config) { c.SMTP.Connections = 0 }},
		{"smtp.connections", func(c *Config) { c.SMTP.Connections = 101 }},
		{"smtp.max_attempts", func(c *Config) { c.SMTP.MaxAttempts = 0 }},
		{"smtp.max_attempts", func(c *Config) { c.SMTP.MaxAttempts = 21 }},
		{"smtp.rate_per_second", func(c *Config) { c.SMTP.RatePerSecond = -0.1 }},
		{"smtp.max_per_connection", func(c *Config) { c.SMTP.MaxPerConnection = 0 }},
		{"smtp.timeout", func(c *Config) { c.SMTP.Timeout = 0 }},
		{"smtp.timeout", func(c *Config) { c.SMTP.Timeout = -time.Second }},
		{"smtp.helo", func(c *Config) { c.SMTP.HELO = "two words" }},
		{"dkim.selector", func(c *Config) { c.DKIM.Domain, c.DKIM.PrivateKeyFile = "example.org", "k.pem" }},
		{"dkim.domain", func(c *Config) { c.DKIM.Selector, c.DKIM.PrivateKeyFile = "s", "k.pem" }},
		{"dkim.private_key_file", func(c *Config) { c.DKIM.Domain, c.DKIM.Selector = "example.org", "s" }},
		{"bounce.soft_limit", func(c *Config) { c.Bounce.SoftLimit = 0 }},
		{"digest.schedule", func(c *Config) { c.Digest.Schedule = "" }},
		{"digest.schedule", func(c *Config) { c.Digest.Schedule = "0 7 * *" }},
		{"digest.schedule", func(c *Config) { c.Digest.Schedule = "0 0 7 * * *" }},
		{"digest.schedule", func(c *Config) { c.Digest.Schedule = "61 7 * * *" }},
		{"digest.schedule", func(c *Config) { c.Digest.Schedule = "0 0 30 2 *" }},
		{"digest.schedule", func(c *Config) { c.Digest.Schedule = "CRON_TZ=Mars/Olympus 0 7 * * *" }},
		{"digest.schedule", func(c *Config) { c.Digest.Schedule = "CRON_TZ=UTC" }},
		{"digest.schedule", func(c *Config) { c.Digest.Schedule = "TZ=" }},
		{"digest.timezone", func(c *Config) { c.Digest.Timezone = "Mars/Olympus" }},
		{"digest.timezone", func(c *Config) { c.Digest.Timezone = "../../etc/passwd" }},
		{"digest.max_papers", func(c *Config) { c.Digest.MaxPapers = 0 }},
		{"digest.max_papers", func(c *Config) { c.Digest.MaxPapers = 51 }},
		{"digest.window", func(c *Config) { c.Digest.Window = 59 * time.Minute }},
		{"digest.window", func(c *Config) { c.Digest.Window = 91 * day }},
		{"digest.fallback", func(c *Config) { c.Digest.Fallback = "random" }},
		{"digest.tick", func(c *Config) { c.Digest.Tick = 59 * time.Second }},
		{"digest.tick", func(c *Config) { c.Digest.Tick = time.Hour + time.Second }},
		{"digest.ledger_days", func(c *Config) { c.Digest.LedgerDays = 2 }},
		{"digest.ledger_days", func(c *Config) { c.Digest.LedgerDays = -7 }},
		{"digest.ledger_days", func(c *Config) { c.Digest.LedgerDays = 3661 }},
		{"feeds[0].url", func(c *Config) { c.Feeds = []Feed{{URL: ""}} }},
		{"feeds[0].url", func(c *Config) { c.Feeds = []Feed{{URL: "ftp://example.org/f"}} }},
		{"feeds[0].url", func(c *Config) { c.Feeds = []Feed{{URL: "https:///nohost"}} }},
		{"feeds[0].url", func(c *Config) { c.Feeds = []Feed{{URL: "/tmp/a\x00b"}} }},
		{"feeds[1].url", func(c *Config) { c.Feeds = []Feed{{URL: "/a"}, {URL: "/a"}} }},
		{"feeds[2].format", func(c *Config) { c.Feeds = []Feed{{URL: "/a"}, {URL: "/b"}, {URL: "/c", Format: "atom"}} }},
		{"feeds[0].schedule", func(c *Config) { c.Feeds = []Feed{{URL: "/a", Schedule: "hourly"}} }},
	}
	for _, tt := range tests {
		c := Default()
		tt.mutate(&c)
		ps := problemsOf(t, c)
		if len(ps) != 1 || ps[0].Key != tt.key || ps[0].Msg == "" {
			t.Errorf("%s: problems = %+v, want one naming %s", tt.key, ps, tt.key)
		}
	}
}

// TestMailboxNeedsLoopback reads http.mailbox from a file and the
// environment: with the public base_url of a real site it is refused, and
// the one problem names the key and the value that made it so.
func TestMailboxNeedsLoopback(t *testing.T) {
	path := writeConfig(t, "base_url: https://papers.example.org\nhttp:\n  mailbox: true\n")
	_, _, err := Load(path, nil)
	var ve *ValidationError
	if !errors.As(err, &ve) || len(ve.Problems) != 1 || ve.Problems[0].Key != "http.mailbox" ||
		!strings.Contains(ve.Problems[0].Msg, "https://papers.example.org") {
		t.Fatalf("Load = %v, want one http.mailbox problem naming base_url", err)
	}
	path = writeConfig(t, "base_url: http://127.0.0.1:8080\n")
	c, _ := mustLoad(t, path, "PAPERMAIL_HTTP_MAILBOX=true")
	if !c.HTTP.Mailbox {
		t.Error("PAPERMAIL_HTTP_MAILBOX=true not read")
	}
}

func TestValidateAccepts(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Config)
	}{
		{"https base url with path", func(c *Config) { c.BaseURL = "https://example.org/papers" }},
		{"any-interface listen", func(c *Config) { c.HTTP.Listen = ":8080" }},
		{"random port", func(c *Config) { c.HTTP.Listen = "127.0.0.1:0" }},
		{"ipv6 listen", func(c *Config) { c.HTTP.Listen = "[::1]:8080" }},
		{"mailbox on loopback", func(c *Config) { c.HTTP.Mailbox = true }},
		{"mailbox on localhost", func(c *Config) {
			c.HTTP.Mailbox, c.BaseURL, c.HTTP.Listen = true, "http://localhost:9000/papers", "localhost:9000"
		}},
		{"mailbox on ::1", func(c *Config) { c.HTTP.Mailbox, c.BaseURL, c.HTTP.Listen = true, "http://[::1]:8080", "[::1]:8080" }},
		{"bare address", func(c *Config) { c.Mail.From = "digest@example.org" }},
		{"quoted name", func(c *Config) { c.Mail.ReplyTo = `"Team, Papers" <team@example.org>` }},
		{"port bounds", func(c *Config) { c.SMTP.Port = 65535 }},
		{"port 1", func(c *Config) { c.SMTP.Port = 1 }},
		{"connections bounds", func(c *Config) { c.SMTP.Connections, c.SMTP.MaxAttempts = 100, 20 }},
		{"login", func(c *Config) { c.SMTP.Username, c.SMTP.Password = "u", "p" }},
		{"fractional rate", func(c *Config) { c.SMTP.RatePerSecond = 0.25 }},
		{"dkim complete", func(c *Config) { c.DKIM = DKIM{"example.org", "s", "/missing/is/fine.pem"} }},
		{"window bounds low", func(c *Config) { c.Digest.Window, c.Digest.Tick = time.Hour, time.Minute }},
		{"window bounds high", func(c *Config) { c.Digest.Window, c.Digest.Tick = 90*day, time.Hour }},
		{"cron zone prefix", func(c *Config) { c.Digest.Schedule = "CRON_TZ=Europe/Berlin 0 7 * * *" }},
		{"cron descriptor", func(c *Config) { c.Digest.Schedule = "@daily" }},
		{"cron ranges", func(c *Config) { c.Digest.Schedule = "*/15 6-9 * * mon-fri" }},
		{"utc", func(c *Config) { c.Digest.Timezone = "UTC" }},
		{"fallback trending", func(c *Config) { c.Digest.Fallback = "trending" }},
		{"log json debug", func(c *Config) { c.Log = Log{"json", "debug"} }},
		{"every feed form", func(c *Config) {
			c.Feeds = []Feed{
				{URL: "http://example.org/a", Format: "page"},
				{URL: "https://example.org/b", Format: "jsonl", Schedule: "*/5 * * * *"},
				{URL: "relative/file.jsonl", Format: "auto"},
				{URL: "/abs/file.json", Format: "hf"},
				{URL: `C:\papers\feed.xml`, Format: "arxiv"},
			}
		}},
	}
	for _, tt := range tests {
		c := Default()
		tt.mutate(&c)
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
}

func TestZeroConfigReportsEverythingRequired(t *testing.T) {
	ps := problemsOf(t, Config{})
	got := keysOf(ps)
	for _, k := range []string{"data_dir", "base_url", "shutdown_timeout", "http.listen", "log.format",
		"log.level", "mail.from", "smtp.port", "smtp.tls", "smtp.connections", "smtp.max_attempts",
		"smtp.max_per_connection", "smtp.timeout", "bounce.soft_limit", "digest.schedule",
		"digest.max_papers", "digest.window", "digest.fallback", "digest.tick", "digest.ledger_days"} {
		if !slices.Contains(got, k) {
			t.Errorf("zero Config: no problem for %s (got %q)", k, got)
		}
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"3d", 72 * time.Hour, true},
		{"7d", 7 * 24 * time.Hour, true},
		{"0d", 0, true},
		{" 1d ", 24 * time.Hour, true},
		{"90m", 90 * time.Minute, true},
		{"1h30m", 90 * time.Minute, true},
		{"0", 0, true},
		{"-5s", -5 * time.Second, true},
		{"1.5h", 90 * time.Minute, true},
		{"d", 0, false},
		{"1.5d", 0, false},
		{"-1d", 0, false},
		{"1d12h", 0, false},
		{"3 days", 0, false},
		{"30", 0, false},
		{"", 0, false},
		{"99999999999999999999d", 0, false},
		{"106752d", 0, false}, // beyond time.Duration
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
	c, _ := mustLoad(t, writeConfig(t, "digest:\n  window: 3d\n  tick: 90s\nsmtp:\n  timeout: 1m30s\n"))
	if c.Digest.Window != 72*time.Hour || c.Digest.Tick != 90*time.Second || c.SMTP.Timeout != 90*time.Second {
		t.Errorf("durations from file: window %v tick %v timeout %v", c.Digest.Window, c.Digest.Tick, c.SMTP.Timeout)
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		72 * time.Hour: "3d", 24 * time.Hour: "1d", 25 * time.Hour: "25h", 90 * time.Minute: "1h30m", 0: "0s",
		90 * time.Second: "1m30s", time.Minute: "1m", 1500 * time.Millisecond: "1.5s", -time.Hour: "-1h",
	} {
		if got := FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", d, got, want)
		}
		if back, err := ParseDuration(FormatDuration(d)); err != nil || back != d {
			t.Errorf("round trip of %v: %v, %v", d, back, err)
		}
	}
}

func TestAccessors(t *testing.T) {
	c := Default()
	c.DataDir = "/srv/pm"
	c.Mail.From = "Papers <Digest@Example.ORG>"
	if got := c.DBPath(); got != filepath.Join("/srv/pm", "papermail.db") {
		t.Errorf("DBPath = %q", got)
	}
	if got := c.MaildirPath(); got != filepath.Join("/srv/pm", "Maildir") {
		t.Errorf("MaildirPath = %q", got)
	}
	if got := c.SocketPath(); got != filepath.Join("/srv/pm", "papermail.sock") {
		t.Errorf("SocketPath = %q", got)
	}
	if got := c.FromDomain(); got != "example.org" {
		t.Errorf("FromDomain = %q", got)
	}
	if got := c.ListID(); got != "digest.example.org" {
		t.Errorf("ListID = %q", got)
	}
	c.Mail.ListID = "papers.example.net"
	if got := c.ListID(); got != "papers.example.net" {
		t.Errorf("ListID with list_id = %q", got)
	}
	if !c.UsesMaildir() {
		t.Error("UsesMaildir false without smtp.host")
	}
	c.SMTP.Host = "smtp.example.org"
	if c.UsesMaildir() {
		t.Error("UsesMaildir true with smtp.host")
	}
	c.Digest.Timezone = "America/New_York"
	if got := c.Location().String(); got != "America/New_York" {
		t.Errorf("Location = %q", got)
	}
	c.Digest.Timezone = "Nowhere/Land"
	if got := c.Location(); got != time.UTC {
		t.Errorf("Location of a bad zone = %v, want UTC", got)
	}
	if got := (Config{}).FromDomain(); got != "" {
		t.Errorf("FromDomain of empty from = %q", got)
	}
}

func TestDefaultHour(t *testing.T) {
	tests := []struct {
		schedule   string
		hour, mins int
	}{
		{"0 7 * * *", 7, 0},
		{"30 6 * * *", 6, 30},
		{"5 23 * * *", 23, 5},
		{"CRON_TZ=Europe/Berlin 15 9 * * *", 9, 15},
		{"@daily", 0, 0},
		{"0 7 * * 1-5", 7, 0}, // not daily: default
		{"0 */2 * * *", 7, 0},
		{"0 6,18 * * *", 7, 0},
		{"60 6 * * *", 7, 0},
		{"garbage", 7, 0},
		{"", 7, 0},
	}
	for _, tt := range tests {
		c := Default()
		c.Digest.Schedule = tt.schedule
		if h, m := c.DefaultHour(); h != tt.hour || m != tt.mins {
			t.Errorf("DefaultHour(%q) = %d:%02d, want %d:%02d", tt.schedule, h, m, tt.hour, tt.mins)
		}
	}
}

func TestZoneName(t *testing.T) {
	withFiles := func(t *testing.T, timezone, link string) string {
		t.Helper()
		root := t.TempDir()
		if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
			t.Fatal(err)
		}
		if timezone != "" {
			if err := os.WriteFile(filepath.Join(root, "etc", "timezone"), []byte(timezone), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if link != "" {
			if err := os.Symlink(link, filepath.Join(root, "etc", "localtime")); err != nil {
				t.Fatal(err)
			}
		}
		return root
	}
	tests := []struct {
		name, local, tz, timezone, link, want string
	}{
		{"named local", "Asia/Tokyo", "", "Europe/Paris\n", "", "Asia/Tokyo"},
		{"tz variable", "Local", ":Europe/Lisbon", "Europe/Paris\n", "", "Europe/Lisbon"},
		{"tz path", "Local", "/usr/share/zoneinfo/America/Chicago", "", "", "America/Chicago"},
		{"etc timezone", "Local", "", "Europe/Paris\n", "/usr/share/zoneinfo/Asia/Tokyo", "Europe/Paris"},
		{"localtime link", "Local", "", "", "/usr/share/zoneinfo/Asia/Tokyo", "Asia/Tokyo"},
		{"relative link", "Local", "", "garbage zone\n", "../usr/share/zoneinfo/Europe/Oslo", "Europe/Oslo"},
		{"nothing", "Local", "", "", "", "UTC"},
		{"nothing loadable", "Local", "CET-1CEST", "Mars/Base\n", "/etc/elsewhere", "UTC"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := withFiles(t, tt.timezone, tt.link)
			if got := zoneName(tt.local, tt.tz, root); got != tt.want {
				t.Errorf("zoneName = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSuggestions(t *testing.T) {
	keys := []string{"host", "port", "tls", "username", "password", "timeout", "max_attempts"}
	for word, want := range map[string]string{
		"hots": "host", "prot": "port", "tsl": "tls", "user_name": "username", "pasword": "password",
		"timeout_seconds": "timeout", "max_attempt": "max_attempts", "colour": "", "x": "", "HOST": "host",
	} {
		if got := closest(word, keys); got != want {
			t.Errorf("closest(%q) = %q, want %q", word, got, want)
		}
	}
}

// TestExampleMatchesDefaults proves config.example.yaml documents the real
// defaults: loaded as shipped it must equal Default().
func TestExampleMatchesDefaults(t *testing.T) {
	c, warnings := mustLoad(t, examplePath(t))
	if len(warnings) != 0 {
		t.Errorf("warnings = %q", warnings)
	}
	if !reflect.DeepEqual(c, Default()) {
		t.Errorf("config.example.yaml =\n%+v\nDefault() =\n%+v", c, Default())
	}
}

// commentedKey matches a commented-out setting ("  # host: x",
// "#   - url: x"); prose comments start with a capital or lack the colon.
var commentedKey = regexp.MustCompile(`(?m)^(\s*)# ( *(?:- )?[a-z_]+:(?: .*)?)$`)

// TestExampleDocumentsEveryKey uncomments every commented-out setting of
// config.example.yaml: the result must load without problems and set
// every key, so each key is documented exactly once and its example
// value is valid.
func TestExampleDocumentsEveryKey(t *testing.T) {
	data, err := os.ReadFile(examplePath(t))
	if err != nil {
		t.Fatal(err)
	}
	uncommented := commentedKey.ReplaceAll(data, []byte("$1$2"))
	l := loader{name: "uncommented", origins: make(map[string]string)}
	c := Default()
	if err := l.file(uncommented, &c); err != nil {
		t.Fatal(err)
	}
	if err := l.problems.err(); err != nil {
		t.Fatalf("uncommented example: %v\n%s", err, uncommented)
	}
	normalize(&c)
	if err := c.Validate(); err != nil {
		t.Fatalf("uncommented example: %v", err)
	}
	for _, k := range Keys() {
		if _, ok := l.origins[k]; !ok {
			t.Errorf("config.example.yaml does not document %s", k)
		}
	}
	wantFeeds := []Feed{
		{URL: "https://huggingface.co/api/daily_papers", Format: "hf", Schedule: "0 * * * *"},
		{URL: "https://rss.arxiv.org/rss/cs.CL", Format: "arxiv", Schedule: DefaultFeedSchedule},
		{URL: "https://api.biorxiv.org/details/biorxiv/2d", Format: "biorxiv", Schedule: DefaultFeedSchedule},
		{URL: "https://www.nature.com/nature.rss", Format: "rss", Schedule: DefaultFeedSchedule},
	}
	if !reflect.DeepEqual(c.Feeds, wantFeeds) {
		t.Errorf("example feeds = %+v, want %+v", c.Feeds, wantFeeds)
	}
	// Each key carries a "Default:" line in its comment.
	if n, want := strings.Count(string(data), "# Default:"), len(Keys())+1-3; n < want {
		t.Errorf("%d \"Default:\" lines, want at least %d", n, want)
	}
}

func examplePath(t *testing.T) string {
	t.Helper()
	p := filepath.Join("..", "..", "config.example.yaml")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("config.example.yaml: %v", err)
	}
	return p
}

func TestFeedAllowPrivate(t *testing.T) {
	path := writeConfig(t, "feeds:\n  - url: http://10.0.0.5/papers.json\n    allow_private: true\n  - https://papers.example.org/feed\n")
	c, _ := mustLoad(t, path)
	if len(c.Feeds) != 2 || !c.Feeds[0].AllowPrivate || c.Feeds[1].AllowPrivate {
		t.Errorf("feeds = %+v, want allow_private on the first only", c.Feeds)
	}
}

// TestSMTPPortFollowsTLS: without smtp.port, the port is the TLS mode's
// (465 for implicit TLS, 25 for none, 587 for STARTTLS); a port set in
// the file or the environment is kept.
func TestSMTPPortFollowsTLS(t *testing.T) {
	tests := []struct {
		name, file string
		env        []string
		want       int
	}{
		{"default", "", nil, 587},
		{"starttls", "smtp:\n  tls: starttls\n", nil, 587},
		{"tls in the file", "smtp:\n  tls: tls\n", nil, 465},
		{"tls in the environment", "", []string{"PAPERMAIL_SMTP_TLS=tls"}, 465},
		{"none", "smtp:\n  tls: none\n", nil, 25},
		{"port in the file", "smtp:\n  tls: tls\n  port: 2465\n", nil, 2465},
		{"port in the environment", "smtp:\n  tls: none\n", []string{"PAPERMAIL_SMTP_PORT=2525"}, 2525},
		{"587 set with tls", "smtp:\n  tls: tls\n  port: 587\n", nil, 587},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := ""
			if tt.file != "" {
				path = writeConfig(t, tt.file)
			}
			c, _ := mustLoad(t, path, tt.env...)
			if c.SMTP.Port != tt.want {
				t.Errorf("smtp.port = %d, want %d", c.SMTP.Port, tt.want)
			}
		})
	}
}
