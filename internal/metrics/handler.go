package metrics

import (
	"net"
	"net/http"
	"net/netip"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// proxyHeaders mark a request that came through a reverse proxy: its peer
// address is the proxy's, not the client's.
var proxyHeaders = []string{"Forwarded", "X-Forwarded-For", "X-Real-Ip"}

// Handler serves the registry in the Prometheus text format. With allow
// set it answers only clients whose own address (the TCP peer, never a
// header) is in one of those networks, and refuses every request that
// came through a proxy, since behind one the peer says nothing about who
// asked.
func (m *Metrics) Handler(allow []netip.Prefix) http.Handler {
	h := promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})
	if len(allow) == 0 {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !peerAllowed(r, allow) {
			http.Error(w, "forbidden: /metrics is open to the networks in metrics.allow only", http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func peerAllowed(r *http.Request, allow []netip.Prefix) bool {
	for _, h := range proxyHeaders {
		if r.Header.Get(h) != "" {
			return false
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	addr = addr.Unmap()
	for _, p := range allow {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}
