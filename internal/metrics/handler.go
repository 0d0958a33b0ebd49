package metrics

import (
	"net/http"
	"net/netip"
	"slices"

	"github.com/papermail/papermail/internal/localnet"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

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

// peerAllowed reports whether r came straight from an address in allow.
func peerAllowed(r *http.Request, allow []netip.Prefix) bool {
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil || localnet.Proxied(r.Header) {
		return false
	}
	return slices.ContainsFunc(allow, func(p netip.Prefix) bool { return p.Contains(peer.Addr().Unmap()) })
}
