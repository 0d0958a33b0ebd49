package deploy

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/papermail/papermail/internal/config"
)

// unit is a parsed systemd unit file: section -> key -> values in order.
type unit map[string]map[string][]string

func parseUnit(t *testing.T, data []byte) unit {
	t.Helper()
	u := unit{}
	section := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = line[1 : len(line)-1]
			u[section] = map[string][]string{}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" || strings.TrimSpace(k) == "" {
				t.Fatalf("papermail.service:%d: not a key=value line in a section: %q", n, line)
			}
			u[section][k] = append(u[section][k], v)
		}
	}
	return u
}

func (u unit) get(section, key string) string {
	vs := u[section][key]
	if len(vs) == 0 {
		return ""
	}
	return vs[len(vs)-1]
}

func TestSystemdUnit(t *testing.T) {
	data, err := os.ReadFile("papermail.service")
	if err != nil {
		t.Fatal(err)
	}
	u := parseUnit(t, data)
	for _, s := range []string{"Unit", "Service", "Install"} {
		if u[s] == nil {
			t.Errorf("no [%s] section", s)
		}
	}
	want := map[string]string{
		"DynamicUser": "yes", "ProtectSystem": "strict", "StateDirectory": "papermail", "ProtectHome": "yes",
		"PrivateTmp": "yes", "NoNewPrivileges": "yes", "KillSignal": "SIGTERM", "CapabilityBoundingSet": "",
		"WorkingDirectory": "/var/lib/papermail",
	}
	for k, v := range want {
		if _, ok := u["Service"][k]; !ok || u.get("Service", k) != v {
			t.Errorf("[Service] %s = %q, want %q", k, u.get("Service", k), v)
		}
	}
	execStart := strings.Fields(u.get("Service", "ExecStart"))
	if len(execStart) == 0 || !filepath.IsAbs(execStart[0]) || execStart[len(execStart)-1] != "serve" {
		t.Fatalf("ExecStart %q: want an absolute papermail path running serve", execStart)
	}
	// The data lives in the state directory, the only writable place.
	if !slices.Contains(u["Service"]["Environment"], "PAPERMAIL_DATA_DIR=/var/lib/"+u.get("Service", "StateDirectory")) {
		t.Errorf("Environment %q does not put data_dir in the StateDirectory", u["Service"]["Environment"])
	}
	// systemd must wait longer than papermail's own shutdown.
	stop, err := time.ParseDuration(u.get("Service", "TimeoutStopSec"))
	if err != nil || stop <= config.DefaultShutdownTimeout {
		t.Errorf("TimeoutStopSec %q: want more than shutdown_timeout %s", u.get("Service", "TimeoutStopSec"), config.DefaultShutdownTimeout)
	}
	if fams := u.get("Service", "RestrictAddressFamilies"); !strings.Contains(fams, "AF_UNIX") || !strings.Contains(fams, "AF_INET") {
		t.Errorf("RestrictAddressFamilies %q: the control socket needs AF_UNIX, SMTP and the pages AF_INET", fams)
	}

	t.Run("systemd-analyze verify", func(t *testing.T) {
		bin, err := execLookPath("systemd-analyze")
		if err != nil {
			t.Skip("systemd-analyze not installed: skipping the systemd check of papermail.service")
		}
		// verify wants ExecStart to exist: point it at this test binary.
		self, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		tmp := filepath.Join(t.TempDir(), "papermail.service")
		if err := os.WriteFile(tmp, bytes.ReplaceAll(data, []byte(execStart[0]), []byte(self)), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := runCmd(bin, "verify", tmp)
		// Unknown or misspelt keys are only warnings: any line about the
		// unit fails the test.
		if err != nil || strings.Contains(out, "papermail.service") {
			t.Errorf("systemd-analyze verify: %v\n%s", err, out)
		}
	})
}

// compose is the part of compose.yaml papermail depends on.
type compose struct {
	Services map[string]struct {
		Build struct {
			Context    string `yaml:"context"`
			Dockerfile string `yaml:"dockerfile"`
		} `yaml:"build"`
		Ports       []string          `yaml:"ports"`
		Volumes     []string          `yaml:"volumes"`
		Environment map[string]string `yaml:"environment"`
		Healthcheck struct {
			Test     []string `yaml:"test"`
			Interval string   `yaml:"interval"`
			Timeout  string   `yaml:"timeout"`
			Retries  int      `yaml:"retries"`
		} `yaml:"healthcheck"`
		StopGracePeriod string `yaml:"stop_grace_period"`
	} `yaml:"services"`
	Volumes map[string]any `yaml:"volumes"`
}

func TestCompose(t *testing.T) {
	data, err := os.ReadFile("compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var c compose
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	s, ok := c.Services["papermail"]
	if !ok {
		t.Fatal("compose.yaml has no papermail service")
	}
	df, err := os.ReadFile(filepath.Join(s.Build.Context, s.Build.Dockerfile))
	if err != nil {
		t.Fatalf("build context %q / %q: %v", s.Build.Context, s.Build.Dockerfile, err)
	}
	bin := dockerfileBinary(t, df)
	if want := []string{"CMD", bin, "healthcheck"}; !slices.Equal(s.Healthcheck.Test, want) {
		t.Errorf("healthcheck test %q, want %q", s.Healthcheck.Test, want)
	}
	for _, d := range []string{s.Healthcheck.Interval, s.Healthcheck.Timeout} {
		if _, err := time.ParseDuration(d); err != nil {
			t.Errorf("healthcheck duration %q: %v", d, err)
		}
	}
	if s.Healthcheck.Retries < 1 {
		t.Errorf("healthcheck retries %d", s.Healthcheck.Retries)
	}
	if g, err := time.ParseDuration(s.StopGracePeriod); err != nil || g <= config.DefaultShutdownTimeout {
		t.Errorf("stop_grace_period %q: want more than shutdown_timeout %s", s.StopGracePeriod, config.DefaultShutdownTimeout)
	}
	if !slices.ContainsFunc(s.Volumes, func(v string) bool { return strings.HasSuffix(v, ":/data") }) || !strings.Contains(string(df), `VOLUME ["/data"]`) {
		t.Errorf("volumes %q: the data volume must be the Dockerfile's /data", s.Volumes)
	}
	if len(s.Ports) != 1 || !strings.HasPrefix(s.Ports[0], "127.0.0.1:") || !strings.HasSuffix(s.Ports[0], ":8080") {
		t.Errorf("ports %q: publish 8080 on loopback only, for the proxy", s.Ports)
	}
	// Every variable is one papermail knows, and together they load.
	var env []string
	for k, v := range s.Environment {
		env = append(env, k+"="+v)
	}
	cfg, warnings, err := config.Load("", env)
	if err != nil || len(warnings) > 0 {
		t.Fatalf("compose environment does not load cleanly: %v %q", err, warnings)
	}
	if !strings.HasPrefix(cfg.BaseURL, "https://") || !cfg.HTTP.TrustProxy {
		t.Errorf("behind the proxy: base_url %q (want https), trust_proxy %v", cfg.BaseURL, cfg.HTTP.TrustProxy)
	}
	if _, ok := c.Volumes["papermail-data"]; !ok {
		t.Error("the named volume papermail-data is not declared")
	}
}

// dockerfileBinary returns where the Dockerfile installs papermail, and
// checks its build and health check.
func dockerfileBinary(t *testing.T, df []byte) string {
	t.Helper()
	text := string(df)
	m := regexp.MustCompile(`(?m)^COPY --from=build \S+ (\S+)$`).FindStringSubmatch(text)
	if m == nil {
		t.Fatal("Dockerfile: no COPY --from=build of the binary")
	}
	bin := m[1]
	// The same build as the README's: static, trimmed paths, ./cmd/papermail.
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "./cmd/papermail", "USER nonroot"} {
		if !strings.Contains(text, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	hc := regexp.MustCompile(`(?m)^HEALTHCHECK .*\\\n\s+CMD \["` + regexp.QuoteMeta(bin) + `", "healthcheck"\]$`)
	if !hc.MatchString(text) {
		t.Errorf("Dockerfile: no HEALTHCHECK running %s healthcheck", bin)
	}
	return bin
}

// nginxBlock is a parsed nginx directive: name, arguments and, for
// blocks, the directives inside.
type nginxBlock struct {
	name  string
	args  []string
	inner []*nginxBlock
}

// parseNginx reads nginx's configuration syntax: words, quoted strings,
// "#" comments, directives ending in ";" and blocks in braces.
func parseNginx(src string) ([]*nginxBlock, error) {
	var tokens []string
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == '#':
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '{' || c == '}' || c == ';':
			tokens = append(tokens, string(c))
			i++
		case c == '"' || c == '\'':
			j := strings.IndexByte(src[i+1:], c)
			if j < 0 {
				return nil, fmt.Errorf("unterminated quote at byte %d", i)
			}
			tokens = append(tokens, src[i+1:i+1+j])
			i += j + 2
		default:
			j := i
			for j < len(src) && !strings.ContainsRune(" \t\r\n{};#", rune(src[j])) {
				j++
			}
			tokens = append(tokens, src[i:j])
			i = j
		}
	}
	pos := 0
	var parse func(depth int) ([]*nginxBlock, error)
	parse = func(depth int) ([]*nginxBlock, error) {
		var out []*nginxBlock
		for pos < len(tokens) {
			if tokens[pos] == "}" {
				if depth == 0 {
					return nil, errors.New("unbalanced }")
				}
				pos++
				return out, nil
			}
			d := &nginxBlock{name: tokens[pos]}
			pos++
			for pos < len(tokens) && tokens[pos] != ";" && tokens[pos] != "{" && tokens[pos] != "}" {
				d.args = append(d.args, tokens[pos])
				pos++
			}
			switch {
			case pos >= len(tokens) || tokens[pos] == "}":
				return nil, fmt.Errorf("directive %s %q does not end with ; or a block", d.name, d.args)
			case tokens[pos] == ";":
				pos++
			default: // "{"
				pos++
				inner, err := parse(depth + 1)
				if err != nil {
					return nil, err
				}
				d.inner = inner
			}
			out = append(out, d)
		}
		if depth > 0 {
			return nil, errors.New("a block is not closed")
		}
		return out, nil
	}
	return parse(0)
}

func find(ds []*nginxBlock, name string, args ...string) *nginxBlock {
	for _, d := range ds {
		if d.name == name && (len(args) == 0 || slices.Equal(d.args, args)) {
			return d
		}
	}
	return nil
}

func TestNginx(t *testing.T) {
	data, err := os.ReadFile("nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	top, err := parseNginx(string(data))
	if err != nil {
		t.Fatalf("nginx.conf: %v", err)
	}
	var tls *nginxBlock
	for _, d := range top {
		if d.name == "server" && find(d.inner, "listen", "443", "ssl") != nil {
			tls = d
		}
	}
	if tls == nil {
		t.Fatal("nginx.conf: no server listening on 443 ssl")
	}
	for _, k := range []string{"server_name", "ssl_certificate", "ssl_certificate_key"} {
		if find(tls.inner, k) == nil {
			t.Errorf("TLS server lacks %s", k)
		}
	}
	root := find(tls.inner, "location", "/")
	if root == nil {
		t.Fatal("no location /")
	}
	if p := find(root.inner, "proxy_pass"); p == nil || p.args[0] != "http://"+config.DefaultListen {
		t.Errorf("proxy_pass %v, want http://%s (http.listen's default)", p, config.DefaultListen)
	}
	// papermail's rate limits read the last X-Forwarded-For entry (with
	// http.trust_proxy): the one nginx appends.
	headers := map[string]string{}
	for _, d := range root.inner {
		if d.name == "proxy_set_header" && len(d.args) == 2 {
			headers[d.args[0]] = d.args[1]
		}
	}
	if headers["X-Forwarded-For"] != "$proxy_add_x_forwarded_for" && headers["X-Forwarded-For"] != "$remote_addr" {
		t.Errorf("X-Forwarded-For = %q: the last entry must be the client nginx saw", headers["X-Forwarded-For"])
	}
	if headers["Host"] != "$host" {
		t.Errorf("Host = %q", headers["Host"])
	}
	for _, path := range [][]string{{"=", "/metrics"}, {"/mailbox"}} {
		l := find(tls.inner, "location", path...)
		if l == nil || find(l.inner, "return", "404") == nil {
			t.Errorf("location %v is not closed to the public", path)
		}
	}
	// The settings it names are real keys with valid values.
	m := regexp.MustCompile(`(?m)^#\s+base_url: (\S+).*\n#\s+http\.listen: (\S+).*\n#\s+http\.trusted_proxies: \[(\S+)\]`).FindStringSubmatch(string(data))
	if m == nil {
		t.Fatal("nginx.conf does not say which papermail settings it needs (base_url, http.listen, http.trusted_proxies)")
	}
	cfg, warnings, err := config.Load("", []string{"PAPERMAIL_BASE_URL=" + m[1], "PAPERMAIL_HTTP_LISTEN=" + m[2], "PAPERMAIL_HTTP_TRUSTED_PROXIES=" + m[3]})
	if err != nil || len(warnings) > 0 {
		t.Fatalf("the settings nginx.conf names do not load: %v %q", err, warnings)
	}
	if p := find(root.inner, "proxy_pass"); p == nil || p.args[0] != "http://"+cfg.HTTP.Listen {
		t.Errorf("proxy_pass does not go to the http.listen it names (%s)", cfg.HTTP.Listen)
	}
	// A request from nginx on loopback, forwarded for a reader: the
	// reader's address is the one rate limits count.
	r, _ := http.NewRequest("GET", m[1]+"/", nil)
	r.RemoteAddr = "127.0.0.1:50000"
	r.Header.Set("X-Forwarded-For", "198.51.100.7")
	if got := cfg.HTTP.ClientIP(r, cfg.HTTP.ProxyNetworks()); got != "198.51.100.7" {
		t.Errorf("behind nginx the client is %s, want the reader 198.51.100.7", got)
	}
}

// TestNginxParserRejects proves the structural parse can fail.
func TestNginxParserRejects(t *testing.T) {
	for _, bad := range []string{"server { listen 80 }", "server { listen 80;", "location / { return 404; }}", `a "b;`, "listen 80"} {
		if _, err := parseNginx(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func execLookPath(name string) (string, error) { return exec.LookPath(name) }

// runCmd runs a program and returns its combined output.
func runCmd(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	return string(out), err
}

// caddyLine is one directive line of a Caddyfile with its nesting depth.
type caddyLine struct {
	depth int
	words []string
}

// parseCaddyfile reads the Caddyfile's structure: lines of words, "#"
// comments, blocks opened by a trailing "{" and closed by a lone "}".
func parseCaddyfile(src string) ([]caddyLine, error) {
	var out []caddyLine
	depth := 0
	for n, raw := range strings.Split(src, "\n") {
		line := raw
		if i := strings.Index(line, "#"); i >= 0 {
			line = line[:i]
		}
		words := strings.Fields(line)
		if len(words) == 0 {
			continue
		}
		if len(words) == 1 && words[0] == "}" {
			if depth == 0 {
				return nil, fmt.Errorf("line %d: } without a block", n+1)
			}
			depth--
			continue
		}
		open := words[len(words)-1] == "{"
		if open {
			words = words[:len(words)-1]
		}
		for _, w := range words {
			if strings.ContainsAny(w, "{}") && !strings.HasPrefix(w, "{") {
				return nil, fmt.Errorf("line %d: stray brace in %q", n+1, w)
			}
		}
		out = append(out, caddyLine{depth: depth, words: words})
		if open {
			depth++
		}
	}
	if depth != 0 {
		return nil, errors.New("a block is not closed")
	}
	return out, nil
}

func TestCaddyfile(t *testing.T) {
	data, err := os.ReadFile("Caddyfile")
	if err != nil {
		t.Fatal(err)
	}
	if bin, err := execLookPath("caddy"); err == nil {
		if out, err := runCmd(bin, "adapt", "--config", "Caddyfile", "--adapter", "caddyfile"); err != nil {
			t.Errorf("caddy adapt: %v\n%s", err, out)
		}
	} else {
		t.Log("caddy not installed: structural check only")
	}
	lines, err := parseCaddyfile(string(data))
	if err != nil {
		t.Fatalf("Caddyfile: %v", err)
	}
	if len(lines) == 0 || lines[0].depth != 0 || lines[0].words[0] != "papers.example.org" {
		t.Fatalf("the first site block is not papers.example.org: %+v", lines)
	}
	var proxy, private, respond bool
	for _, l := range lines {
		switch {
		case l.depth == 1 && l.words[0] == "reverse_proxy":
			proxy = len(l.words) == 2 && l.words[1] == config.DefaultListen
		case l.depth == 1 && l.words[0] == "@private":
			private = slices.Contains(l.words, "/metrics") && slices.Contains(l.words, "/mailbox/*")
		case l.depth == 1 && l.words[0] == "respond":
			respond = slices.Equal(l.words, []string{"respond", "@private", "404"})
		}
	}
	if !proxy || !private || !respond {
		t.Errorf("reverse_proxy to %s: %v; /metrics and /mailbox matched: %v and answered 404: %v", config.DefaultListen, proxy, private, respond)
	}
	if !strings.Contains(string(data), "http.trusted_proxies: [127.0.0.1]") || !strings.Contains(string(data), "base_url: https://papers.example.org") {
		t.Error("the Caddyfile does not name the papermail settings it needs")
	}
	for _, bad := range []string{"a {\n", "}\n", "a {\n b }\n"} {
		if _, err := parseCaddyfile(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}
