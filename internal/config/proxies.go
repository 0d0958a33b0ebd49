package config

import (
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
)

// EnvTrustedProxies replaces http.trusted_proxies with comma-separated
// networks.
const EnvTrustedProxies = envPrefix + "HTTP_TRUSTED_PROXIES"

// ProxyNetworks returns http.trusted_proxies parsed; entries that do not
// parse (which Validate reports) are left out.
func (h HTTP) ProxyNetworks() []netip.Prefix { return parseNetworks(h.TrustedProxies) }

// ClientIP is the address of the client behind r, the one rate limits
// count:
//   - with http.trusted_proxies, a request from one of those networks is
//     attributed to the rightmost X-Forwarded-For entry that is not itself
//     a trusted proxy (so a client cannot forge the entries a proxy adds);
//     requests from anywhere else to their peer address;
//   - with only http.trust_proxy, to the last X-Forwarded-For entry,
//     whoever sent it (right only when every request comes through one
//     proxy);
//   - otherwise to the peer address.
//
// proxies is h.ProxyNetworks(), parsed once by the caller.
func (h HTTP) ClientIP(r *http.Request, proxies []netip.Prefix) string {
	peer := peerAddr(r.RemoteAddr)
	switch {
	case len(proxies) > 0:
		if !peer.IsValid() || !inNetworks(peer, proxies) {
			break
		}
		entries := forwardedFor(r)
		for i, a := range slices.Backward(entries) {
			if !a.IsValid() {
				break // a garbled entry: trust nothing left of it
			}
			if !inNetworks(a, proxies) || i == 0 {
				return a.String()
			}
		}
	case h.TrustProxy:
		if entries := forwardedFor(r); len(entries) > 0 && entries[len(entries)-1].IsValid() {
			return entries[len(entries)-1].String()
		}
	}
	if peer.IsValid() {
		return peer.String()
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// forwardedFor returns the X-Forwarded-For entries of every such header in
// order; an entry that is not an address is the zero Addr.
func forwardedFor(r *http.Request) []netip.Addr {
	var out []netip.Addr
	for _, v := range r.Header.Values("X-Forwarded-For") {
		for part := range strings.SplitSeq(v, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			a, _ := netip.ParseAddr(part)
			out = append(out, a.Unmap())
		}
	}
	return out
}

func peerAddr(remote string) netip.Addr {
	ap, err := netip.ParseAddrPort(remote)
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

func inNetworks(a netip.Addr, nets []netip.Prefix) bool {
	return slices.ContainsFunc(nets, func(p netip.Prefix) bool { return p.Contains(a) })
}

func parseNetworks(list []string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range list {
		if p, err := parseNetwork(s); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// envList applies a comma-separated list variable when set.
func envList(env map[string]string, name string, dst *[]string) bool {
	s, ok := env[name]
	if !ok {
		return false
	}
	*dst = nil
	for n := range strings.SplitSeq(s, ",") {
		if n = strings.TrimSpace(n); n != "" {
			*dst = append(*dst, n)
		}
	}
	return true
}
