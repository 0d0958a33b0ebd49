package backoff

import (
	"testing"
	"time"
)

func TestDelay(t *testing.T) {
	tests := []struct {
		name string
		p    Policy
		n    int
		full time.Duration // the delay before jitter
	}{
		{"first", Policy{100 * time.Millisecond, 30 * time.Second}, 1, 100 * time.Millisecond},
		{"below one", Policy{100 * time.Millisecond, 30 * time.Second}, 0, 100 * time.Millisecond},
		{"doubles", Policy{100 * time.Millisecond, 30 * time.Second}, 4, 800 * time.Millisecond},
		{"capped", Policy{100 * time.Millisecond, 30 * time.Second}, 10, 30 * time.Second},
		{"shift overflow", Policy{30 * time.Second, 8 * time.Hour}, 40, 8 * time.Hour},
		{"huge n", Policy{time.Second, time.Minute}, 1 << 20, time.Minute},
		{"zero", Policy{}, 3, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 200 {
				d := tt.p.Delay(tt.n)
				if d < tt.full/2 || d > tt.full {
					t.Fatalf("Delay(%d) = %v, want within [%v, %v]", tt.n, d, tt.full/2, tt.full)
				}
			}
		})
	}
}

// TestDelaySpreads: jitter gives many jobs failing together different
// retry times.
func TestDelaySpreads(t *testing.T) {
	p := Policy{Base: time.Second, Max: time.Hour}
	seen := map[time.Duration]bool{}
	for range 100 {
		seen[p.Delay(5)] = true
	}
	if len(seen) < 50 {
		t.Errorf("100 delays took only %d values", len(seen))
	}
}

func TestLongest(t *testing.T) {
	tests := []struct {
		name string
		p    Policy
		n    int
		want time.Duration
	}{
		{"none", Policy{time.Second, 30 * time.Second}, 0, 0},
		{"doubling", Policy{time.Second, 30 * time.Second}, 4, 15 * time.Second},
		{"capped", Policy{time.Second, 30 * time.Second}, 7, (1 + 2 + 4 + 8 + 16 + 30 + 30) * time.Second},
		{"zero", Policy{}, 3, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.Longest(tt.n); got != tt.want {
				t.Errorf("Longest(%d) = %v, want %v", tt.n, got, tt.want)
			}
		})
	}
}
