package config

import (
	"net"
	"net/http"
	"strings"
	"testing"
)

func TestClientIP(t *testing.T) {
	proxies := HTTP{TrustedProxies: []string{"127.0.0.1", "10.0.0.0/8"}}
	tests := []struct {
		name   string
		h      HTTP
		remote string
		xff    []string
		want   string
	}{
		{"no proxy settings: the peer", HTTP{}, "203.0.113.5:4000", []string{"198.51.100.1"}, "203.0.113.5"},
		{"trust_proxy: last entry", HTTP{TrustProxy: true}, "127.0.0.1:4000", []string{"1.1.1.1, 198.51.100.1"}, "198.51.100.1"},
		{"trust_proxy, no header: the peer", HTTP{TrustProxy: true}, "127.0.0.1:4000", nil, "127.0.0.1"},
		{"trusted proxy forwards", proxies, "127.0.0.1:4000", []string{"198.51.100.1"}, "198.51.100.1"},
		{"a forged entry left of the real one", proxies, "127.0.0.1:4000", []string{"6.6.6.6, 198.51.100.1"}, "198.51.100.1"},
		{"two trusted proxies in a row", proxies, "127.0.0.1:4000", []string{"198.51.100.1, 10.1.2.3"}, "198.51.100.1"},
		{"several headers", proxies, "127.0.0.1:4000", []string{"6.6.6.6", "198.51.100.1, 10.0.0.9"}, "198.51.100.1"},
		{"direct client's header is ignored", proxies, "203.0.113.5:4000", []string{"198.51.100.1"}, "203.0.113.5"},
		{"garbled entry: the proxy", proxies, "127.0.0.1:4000", []string{"198.51.100.1, bogus"}, "127.0.0.1"},
		{"only proxies: the leftmost", proxies, "127.0.0.1:4000", []string{"10.0.0.1, 10.0.0.2"}, "10.0.0.1"},
		{"IPv6 peer, v4-mapped entry", HTTP{TrustedProxies: []string{"::1"}}, "[::1]:4000", []string{"::ffff:198.51.100.1"}, "198.51.100.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := http.NewRequest("GET", "http://papers.example.org/", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := tt.h.ClientIP(r, tt.h.ProxyNetworks()); got != tt.want {
				t.Errorf("ClientIP = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestTrustedProxiesKey(t *testing.T) {
	c, _ := mustLoad(t, writeConfig(t, "http:\n  trusted_proxies: [127.0.0.1, 10.0.0.0/8]\n"), "PAPERMAIL_HTTP_TRUSTED_PROXIES=::1, 192.168.0.0/16")
	if got := c.HTTP.TrustedProxies; len(got) != 2 || got[0] != "::1" || got[1] != "192.168.0.0/16" {
		t.Errorf("env did not replace the list: %q", got)
	}
	if _, _, err := Load(writeConfig(t, "http:\n  trusted_proxies: [proxy.example.org]\n"), nil); err == nil ||
		!strings.Contains(err.Error(), `http.trusted_proxies: entry 1: want a network`) {
		t.Errorf("a host name as proxy: %v", err)
	}
}

// FuzzClientIP: whatever the headers, the client is the peer or one of
// the X-Forwarded-For entries, never something else, and a request from
// outside the trusted networks is always its peer.
func FuzzClientIP(f *testing.F) {
	f.Add("127.0.0.1:4000", "198.51.100.1, 10.0.0.1")
	f.Add("[::1]:80", "::ffff:1.2.3.4,,  ,")
	f.Add("203.0.113.5:1", "127.0.0.1")
	f.Add("garbage", "1.1.1.1")
	f.Add("10.0.0.1:9", "fe80::1%eth0, 10.0.0.2")
	h := HTTP{TrustedProxies: []string{"127.0.0.1", "::1", "10.0.0.0/8"}}
	proxies := h.ProxyNetworks()
	f.Fuzz(func(t *testing.T, remote, xff string) {
		r, _ := http.NewRequest("GET", "http://papers.example.org/", nil)
		r.RemoteAddr = remote
		r.Header.Set("X-Forwarded-For", xff)
		got := h.ClientIP(r, proxies)
		peer := peerAddr(remote)
		if peer.IsValid() && !inNetworks(peer, proxies) && got != peer.String() {
			t.Fatalf("untrusted peer %s attributed to %q", remote, got)
		}
		ok := got == r.RemoteAddr || peer.IsValid() && got == peer.String()
		if host, _, err := net.SplitHostPort(remote); err == nil && got == host {
			ok = true
		}
		for _, a := range forwardedFor(r) {
			if a.IsValid() && got == a.String() {
				ok = true
			}
		}
		if !ok {
			t.Fatalf("ClientIP(%q, %q) = %q: neither the peer nor a forwarded entry", remote, xff, got)
		}
	})
}
