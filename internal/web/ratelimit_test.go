package web

import (
	"fmt"
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	l := newLimiter(3, time.Minute)
	t0 := time.Date(2026, 3, 10, 8, 0, 0, 0, time.UTC)
	for i := range 3 {
		if !l.allow("a", t0.Add(time.Duration(i)*time.Second)) {
			t.Fatalf("event %d refused", i+1)
		}
	}
	if l.allow("a", t0.Add(10*time.Second)) {
		t.Error("4th event in a minute allowed")
	}
	if !l.allow("b", t0.Add(10*time.Second)) {
		t.Error("another key refused")
	}
	// A token bucket: one event back every 20 s (a minute over 3), a
	// whole burst of 3 after a quiet minute.
	if !l.allow("a", t0.Add(22*time.Second)) {
		t.Error("event after a token came back refused")
	}
	if l.allow("a", t0.Add(22*time.Second)) {
		t.Error("two events on one returned token")
	}
	later := t0.Add(22*time.Second + time.Minute)
	for i := range 3 {
		if !l.allow("a", later) {
			t.Errorf("event %d after a quiet minute refused", i+1)
		}
	}
	if l.allow("a", later) {
		t.Error("burst larger than 3")
	}
	if !newLimiter(0, time.Minute).allow("a", t0) {
		t.Error("a limit of 0 refuses")
	}
}

// TestLimiterMemoryBounded: the limiter tracks at most maxKeys clients,
// however many addresses send.
func TestLimiterMemoryBounded(t *testing.T) {
	l := newLimiter(5, time.Minute)
	now := time.Date(2026, 3, 10, 8, 0, 0, 0, time.UTC)
	for i := range 3 * maxKeys {
		l.allow(fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255), now)
		now = now.Add(time.Millisecond)
	}
	if n := len(l.clients); n > maxKeys {
		t.Errorf("limiter tracks %d clients, want at most %d", n, maxKeys)
	}
	for i := range 5 {
		if !l.allow("192.0.2.1", now) {
			t.Fatalf("event %d refused", i+1)
		}
	}
	if l.allow("192.0.2.1", now) {
		t.Error("6th event in a minute allowed")
	}
	if !l.allow("192.0.2.1", now.Add(12*time.Second)) {
		t.Error("no token back after a fifth of the minute")
	}
}
