package config

import (
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// EnvMetricsAllow replaces metrics.allow with comma-separated networks.
const EnvMetricsAllow = envPrefix + "METRICS_ALLOW"

// Metrics configures the Prometheus endpoint /metrics. By default it is
// served nowhere: not on http.listen, which is the public site.
type Metrics struct {
	// Listen serves /metrics (and /healthz) on an address of its own, such
	// as 127.0.0.1:9090; empty means no such listener.
	Listen string `yaml:"listen"`
	// Allow lists the networks (CIDR, or a single address) whose clients
	// may read /metrics. With Listen empty, setting Allow serves /metrics
	// on http.listen to those networks only; with Listen set it restricts
	// that listener too.
	Allow []string `yaml:"allow"`
}

// Enabled reports whether /metrics is served at all.
func (m Metrics) Enabled() bool { return m.Listen != "" || len(m.Allow) > 0 }

// OnPublicListener reports whether /metrics is served on http.listen.
func (m Metrics) OnPublicListener() bool { return m.Listen == "" && len(m.Allow) > 0 }

// Networks returns metrics.allow parsed; entries that do not parse (which
// Validate reports) are left out.
func (m Metrics) Networks() []netip.Prefix { return parseNetworks(m.Allow) }

// parseNetwork reads "10.0.0.0/8", "::1/128" or a bare address (a network
// of one).
func parseNetwork(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

func checkMetrics(ps *problems, c Config) {
	m := c.Metrics
	if m.Listen != "" {
		if _, port, err := net.SplitHostPort(m.Listen); err != nil {
			ps.add("metrics.listen", "want host:port such as 127.0.0.1:9090, or empty for no metrics listener, got %q", m.Listen)
		} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
			ps.add("metrics.listen", "port must be a number 0-65535, got %q", port)
		} else if m.Listen == c.HTTP.Listen && n != 0 {
			ps.add("metrics.listen", "is the same address as http.listen (%s); leave metrics.listen empty and set metrics.allow to serve /metrics there", c.HTTP.Listen)
		}
	}
	checkNetworks(ps, "metrics.allow", m.Allow)
}

// checkNetworks wants every entry of list to be a network or an address.
func checkNetworks(ps *problems, key string, list []string) {
	for i, s := range list {
		if _, err := parseNetwork(s); err != nil {
			ps.add(key, "entry %d: want a network such as 127.0.0.1/8 or 10.0.0.0/8, or an address, got %q", i+1, s)
		}
	}
}
