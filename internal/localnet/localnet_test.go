package localnet

import (
	"net/netip"
	"testing"
)

func TestLoopbackHostPort(t *testing.T) {
	tests := []struct {
		host string
		want bool
	}{
		{"127.0.0.1", true},
		{"127.0.0.1:8080", true},
		{"127.8.9.10:1", true},
		{"localhost", true},
		{"LocalHost:8080", true},
		{"localhost.", true},
		{"[::1]:8080", true},
		{"[::1]", true},
		{"::1", true},
		{"[::ffff:127.0.0.1]:80", true},
		{"", false},
		{"localhost.attacker.example", false},
		{"127.0.0.1.nip.io", false},
		{"attacker.example:8080", false},
		{"10.0.0.1", false},
		{"0.0.0.0:8080", false},
		{"[::]:8080", false},
		{"192.168.1.1:80", false},
	}
	for _, tt := range tests {
		if got := LoopbackHostPort(tt.host); got != tt.want {
			t.Errorf("LoopbackHostPort(%q) = %v, want %v", tt.host, got, tt.want)
		}
	}
}

func TestLoopbackListenAndURL(t *testing.T) {
	for _, l := range []string{"127.0.0.1:8080", "localhost:0", "[::1]:9"} {
		if !LoopbackListen(l) {
			t.Errorf("LoopbackListen(%q) = false", l)
		}
	}
	for _, l := range []string{":8080", "0.0.0.0:8080", "192.0.2.1:80", "8080"} {
		if LoopbackListen(l) {
			t.Errorf("LoopbackListen(%q) = true", l)
		}
	}
	for _, u := range []string{"http://127.0.0.1:8080", "http://localhost/papers", "https://[::1]:8443/"} {
		if !LoopbackURL(u) {
			t.Errorf("LoopbackURL(%q) = false", u)
		}
	}
	for _, u := range []string{"https://papers.example.org", "http://127.0.0.1.nip.io", "/relative", "http://10.1.1.1"} {
		if LoopbackURL(u) {
			t.Errorf("LoopbackURL(%q) = true", u)
		}
	}
}

func TestPrivate(t *testing.T) {
	tests := []struct {
		addr string
		want bool
	}{
		{"127.0.0.1", true}, {"10.1.2.3", true}, {"172.16.0.1", true}, {"192.168.0.1", true},
		{"169.254.169.254", true}, {"100.64.0.1", true}, {"0.0.0.0", true}, {"255.255.255.255", true},
		{"224.0.0.1", true}, {"::1", true}, {"fe80::1", true}, {"fc00::1", true}, {"fd12::1", true},
		{"::ffff:10.0.0.1", true}, {"::ffff:127.0.0.1", true}, {"2002:7f00:1::", true}, {"::", true},
		{"64:ff9b::a9fe:a9fe", true}, {"64:ff9b::7f00:1", true}, {"::7f00:1", true}, {"::a9fe:a9fe", true},
		{"64:ff9b::808:808", false},
		{"8.8.8.8", false}, {"93.184.216.34", false}, {"2606:4700::1111", false}, {"::ffff:8.8.8.8", false},
	}
	for _, tt := range tests {
		if got := Private(netip.MustParseAddr(tt.addr)); got != tt.want {
			t.Errorf("Private(%s) = %v, want %v", tt.addr, got, tt.want)
		}
	}
}
