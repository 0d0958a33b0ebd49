package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/papermail/papermail/internal/config"
)

func TestNewLoggerLevel(t *testing.T) {
	tests := []struct {
		level     string
		wantDebug bool
		wantWarn  bool // the level was not understood
	}{
		{"debug", true, false},
		{"info", false, false},
		{"WARN", false, false},
		{"loud", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.level, func(t *testing.T) {
			cfg := config.Default()
			cfg.Log.Level = tt.level
			var buf bytes.Buffer
			log := newLogger(cfg, &buf)
			if got := strings.Contains(buf.String(), "log.level not understood"); got != tt.wantWarn {
				t.Errorf("warning logged = %v, want %v (%q)", got, tt.wantWarn, buf.String())
			}
			buf.Reset()
			log.Debug("a debug line")
			log.Info("an info line")
			if got := strings.Contains(buf.String(), "a debug line"); got != tt.wantDebug {
				t.Errorf("debug logged = %v, want %v", got, tt.wantDebug)
			}
			if tt.level != "WARN" && !strings.Contains(buf.String(), "an info line") {
				t.Errorf("info line missing at level %q: %q", tt.level, buf.String())
			}
		})
	}
}
