package e2e

import (
	"fmt"
	"strings"
	"testing"

	"github.com/papermail/papermail/internal/config"
	"github.com/papermail/papermail/internal/smtptest"
)

// TestRelayLackingWhatTheConfigRequiresEndToEnd runs the real binary with
// settings the relay cannot meet: smtp.tls starttls against a relay
// without STARTTLS, and a user name against a relay without AUTH. The
// digest stops at once (no redials: at most one connection per configured
// connection), exits non-zero with one ERROR line naming the relay, what
// it lacks and the setting; status shows the run STOPPED with that
// reason; nobody is bounced; with the settings fixed the next digest
// reaches everyone once.
func TestRelayLackingWhatTheConfigRequiresEndToEnd(t *testing.T) {
	tests := []struct {
		name   string
		broken []string // settings the relay cannot meet
		fixed  []string // the operator's fix (later entries win)
		lacks  string
	}{
		{name: "no STARTTLS", broken: []string{"PAPERMAIL_SMTP_TLS=starttls"}, fixed: []string{"PAPERMAIL_SMTP_TLS=none"},
			lacks: "does not offer STARTTLS, and smtp.tls is starttls"},
		{name: "no AUTH", broken: []string{"PAPERMAIL_SMTP_USERNAME=papermail", "PAPERMAIL_SMTP_PASSWORD=secret"},
			fixed: []string{"PAPERMAIL_SMTP_USERNAME=", "PAPERMAIL_SMTP_PASSWORD="},
			lacks: "does not offer AUTH, and smtp.username is set"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := smtptest.StartT(t, smtptest.Options{})
			in := newInstance(t, srv, tc.broken...)
			emails := in.listOf(30)
			want := fmt.Sprintf("relay %s %s", srv.Addr(), tc.lacks)

			out, errOut := in.run(true, "digest")
			if !strings.Contains(errOut, want) || strings.Count(errOut, "level=ERROR") != 1 || !strings.Contains(errOut, "nobody was marked bounced") {
				t.Errorf("stderr does not name %q in one ERROR line:\n%s", want, errOut)
			}
			if n := srv.Conns(); n < 1 || n > config.DefaultConnections {
				t.Errorf("the relay saw %d connections, want 1..%d (no retries)", n, config.DefaultConnections)
			}
			if !strings.Contains(out, "0 sent") || !strings.Contains(out, "0 bounced") {
				t.Errorf("stdout: %s", out)
			}
			if list := in.ok("subscribers", "list", "--state", "bounced"); rows(list) != 0 {
				t.Errorf("subscribers bounced by the relay's shortcoming:\n%s", list)
			}
			if st := in.ok("status"); !strings.Contains(st, "STOPPED") || !strings.Contains(st, want) {
				t.Errorf("status does not show the stopped run with its reason:\n%s", st)
			}

			in.env = append(in.env, tc.fixed...)
			in.digestReachesEveryone(srv, emails)
		})
	}
}
