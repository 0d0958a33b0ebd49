package metrics

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

func TestHandlerAllow(t *testing.T) {
	m := New()
	m.Panics.Inc()
	loop := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	other := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	tests := []struct {
		name   string
		allow  []netip.Prefix
		header string
		want   int
	}{
		{"no list: open", nil, "", 200},
		{"peer in the list", loop, "", 200},
		{"peer outside the list", other, "", 403},
		{"through a proxy", loop, "X-Forwarded-For", 403},
		{"through a proxy (Forwarded)", loop, "Forwarded", 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A real listener on 127.0.0.1: the peer is the loopback client.
			srv := httptest.NewServer(m.Handler(tt.allow))
			defer srv.Close()
			req, _ := http.NewRequest("GET", srv.URL+"/metrics", nil)
			if tt.header != "" {
				req.Header.Set(tt.header, "for=203.0.113.9")
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.want, body)
			}
			if tt.want == 200 && !strings.Contains(string(body), "papermail_panics_total 1") {
				t.Errorf("body lacks the counter:\n%.500s", body)
			}
		})
	}
}
