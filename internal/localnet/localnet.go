// Package localnet says which host names and addresses belong to this
// machine or to a private network. It is the one place those rules live:
// configuration validation (the local mailbox), the web server (loopback
// Host headers) and feed fetching (no redirects into private networks)
// all ask it.
package localnet

import (
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
)

// proxyHeaders are set by reverse proxies and CDNs (Apache, Caddy,
// Traefik, nginx when configured, Cloudflare, Akamai).
var proxyHeaders = []string{"Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Forwarded-Server",
	"X-Real-Ip", "Via", "Cf-Connecting-Ip", "True-Client-Ip"}

// Proxied reports whether a request with header h came through a reverse
// proxy or CDN (it carries a header they set): its peer address and Host
// then say nothing about where it came from.
func Proxied(h http.Header) bool {
	return slices.ContainsFunc(proxyHeaders, func(k string) bool { _, ok := h[k]; return ok })
}

// LoopbackHost reports whether host, a host name or IP address without a
// port (an IPv6 address may keep its brackets), names this machine only:
// "localhost" or an address in 127.0.0.0/8 or ::1. A name other than
// localhost is not resolved: whatever DNS says about it can change.
func LoopbackHost(host string) bool {
	host = strings.TrimSuffix(host, ".")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}

// LoopbackHostPort reports whether hostport, "host" or "host:port" as in
// an HTTP Host header, names this machine only (see LoopbackHost).
func LoopbackHostPort(hostport string) bool {
	if hostport == "" {
		return false
	}
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return LoopbackHost(h)
	}
	return LoopbackHost(hostport)
}

// LoopbackListen reports whether a listen address ("host:port") accepts
// local clients only. ":8080" and "0.0.0.0:8080" listen everywhere.
func LoopbackListen(listen string) bool {
	h, _, err := net.SplitHostPort(listen)
	return err == nil && LoopbackHost(h)
}

// LoopbackURL reports whether an absolute URL points at this machine.
func LoopbackURL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && u.Host != "" && LoopbackHost(u.Hostname())
}

// Private reports whether an address is not on the public internet:
// loopback, private (RFC 1918, fc00::/7), link-local (which holds cloud
// metadata services), unspecified, carrier-grade NAT (100.64.0.0/10),
// multicast, other special-purpose ranges, and IPv6 forms that embed an
// IPv4 address (6to4, translated).
func Private(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsValid() {
		return true
	}
	if a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() || a.IsUnspecified() {
		return true
	}
	for _, p := range special {
		if p.Contains(a) {
			return true
		}
	}
	// NAT64 (64:ff9b::/96) and the old IPv4-compatible form (::/96)
	// carry an IPv4 address in their last 32 bits: a NAT64 gateway
	// connects to it, so it is judged as that address.
	for _, p := range embedsIPv4 {
		if p.Contains(a) {
			b := a.As16()
			return Private(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}))
		}
	}
	return false
}

// embedsIPv4 are the IPv6 prefixes whose addresses end in an IPv4 address.
var embedsIPv4 = []netip.Prefix{netip.MustParsePrefix("64:ff9b::/96"), netip.MustParsePrefix("::/96")}

// special are the ranges no public server lives in beyond what netip
// classifies (IANA special-purpose registries).
var special = func() []netip.Prefix {
	var ps []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8",       // "this network"
		"100.64.0.0/10",   // carrier-grade NAT
		"192.0.0.0/24",    // protocol assignments
		"198.18.0.0/15",   // benchmarking
		"240.0.0.0/4",     // reserved, and broadcast
		"64:ff9b:1::/48",  // local-use NAT64
		"100::/64",        // discard
		"2001::/23",       // IETF protocol assignments (Teredo, ORCHID...)
		"2002::/16",       // 6to4: embeds an IPv4 address
		"::ffff:0:0:0/96", // IPv4-translated
		"::/128",          // unspecified
		"fec0::/10",       // deprecated site-local
	} {
		ps = append(ps, netip.MustParsePrefix(s))
	}
	return ps
}()
