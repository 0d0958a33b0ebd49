package config

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

func TestMetricsKeys(t *testing.T) {
	tests := []struct {
		name, yaml string
		env        []string
		wantErr    string // substring of the error; "" for none
		want       Metrics
		public     bool
	}{
		{name: "default: off", want: Metrics{}},
		{name: "own listener", yaml: "metrics:\n  listen: 127.0.0.1:9090\n", want: Metrics{Listen: "127.0.0.1:9090"}},
		{name: "allow on http.listen", yaml: "metrics:\n  allow: [10.0.0.0/8, 192.168.1.7]\n",
			want: Metrics{Allow: []string{"10.0.0.0/8", "192.168.1.7"}}, public: true},
		{name: "allow from env replaces the file", yaml: "metrics:\n  allow: [10.0.0.0/8]\n", env: []string{"PAPERMAIL_METRICS_ALLOW=127.0.0.1/8, ::1"},
			want: Metrics{Allow: []string{"127.0.0.1/8", "::1"}}, public: true},
		{name: "bad listen", yaml: "metrics:\n  listen: 9090\n", wantErr: `metrics.listen: want host:port`},
		{name: "same as http.listen", yaml: "http:\n  listen: 127.0.0.1:8080\nmetrics:\n  listen: 127.0.0.1:8080\n", wantErr: "metrics.listen: is the same address as http.listen"},
		{name: "bad network", yaml: "metrics:\n  allow: [10.0.0.0/33, localhost]\n", wantErr: `entry 2: want a network such as 127.0.0.1/8 or 10.0.0.0/8, or an address, got "localhost"`},
		{name: "not a list", yaml: "metrics:\n  allow: {a: b}\n", wantErr: "metrics.allow: want a list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, err := Load(writeConfig(t, tt.yaml), tt.env)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Load: %v, want an error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(c.Metrics, tt.want) {
				t.Errorf("metrics = %+v, want %+v", c.Metrics, tt.want)
			}
			if c.Metrics.OnPublicListener() != tt.public || c.Metrics.Enabled() != (tt.want.Listen != "" || len(tt.want.Allow) > 0) {
				t.Errorf("OnPublicListener %v Enabled %v", c.Metrics.OnPublicListener(), c.Metrics.Enabled())
			}
		})
	}
}

func TestMetricsNetworks(t *testing.T) {
	m := Metrics{Allow: []string{"127.0.0.1/8", "::1", "10.1.2.3/8", "nonsense"}}
	want := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128"), netip.MustParsePrefix("10.0.0.0/8")}
	if got := m.Networks(); !reflect.DeepEqual(got, want) {
		t.Errorf("Networks() = %v, want %v", got, want)
	}
}
