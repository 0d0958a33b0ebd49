package lifecycle

import (
	"errors"
	"testing"
	"time"

	"github.com/papermail/papermail/internal/model"
)

var now = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)

// TestTransitions: each rule from each state.
func TestTransitions(t *testing.T) {
	all := []model.State{model.StatePending, model.StateActive, model.StatePaused, model.StateUnsubscribed, model.StateBounced}
	tests := []struct {
		name string
		do   func(*model.Subscriber) bool
		// want maps a state to the state after the rule; absent: unchanged.
		want map[model.State]model.State
	}{
		{"bounce", func(s *model.Subscriber) bool {
			return Bounce(s, model.Bounce{Reason: "550 5.1.1", Source: model.BounceSMTP})
		},
			map[model.State]model.State{model.StateActive: model.StateBounced, model.StatePaused: model.StateBounced}},
		{"complaint", func(s *model.Subscriber) bool { return Complain(s, now) },
			map[model.State]model.State{model.StateActive: model.StateUnsubscribed, model.StatePaused: model.StateUnsubscribed, model.StateBounced: model.StateUnsubscribed}},
		{"reactivate", func(s *model.Subscriber) bool { return Reactivate(s, now) },
			map[model.State]model.State{model.StatePending: model.StateActive, model.StateUnsubscribed: model.StateActive, model.StateBounced: model.StateActive}},
		{"unbounce", func(s *model.Subscriber) bool { return Unbounce(s, now) == nil },
			map[model.State]model.State{model.StateBounced: model.StateActive}},
		{"third soft day", func(s *model.Subscriber) bool {
			_, bounced := SoftBounce(s, "2026-11-20", 3, model.Bounce{Reason: "452 4.2.2 mailbox full"})
			return bounced
		}, map[model.State]model.State{model.StateActive: model.StateBounced, model.StatePaused: model.StateBounced}},
	}
	for _, tc := range tests {
		for _, from := range all {
			sub := model.Subscriber{Email: "a@example.org", State: from, SoftBounces: []string{"2026-11-18", "2026-11-19"}}
			changed := tc.do(&sub)
			want, moves := tc.want[from]
			if !moves {
				want = from
			}
			if sub.State != want || changed != moves {
				t.Errorf("%s from %s: state %s (changed %v), want %s", tc.name, from, sub.State, changed, want)
			}
			if moves && want == model.StateActive && (sub.Bounce != nil || sub.SoftBounces != nil) {
				t.Errorf("%s from %s kept the bounce record %+v %v", tc.name, from, sub.Bounce, sub.SoftBounces)
			}
			if moves && want == model.StateBounced && (sub.Bounce == nil || sub.Bounce.At.IsZero()) {
				t.Errorf("%s from %s recorded no bounce", tc.name, from)
			}
		}
	}
	sub := model.Subscriber{State: model.StateActive}
	if err := Unbounce(&sub, now); !errors.Is(err, ErrNotBounced) {
		t.Errorf("unbounce of an active subscriber: %v", err)
	}
	sub = model.Subscriber{State: model.StateActive}
	for i, day := range []string{"2026-11-01", "2026-11-01", "2026-11-02"} {
		if changed, bounced := SoftBounce(&sub, day, 3, model.Bounce{}); bounced || changed != (i != 1) {
			t.Errorf("soft day %d %s: changed %v bounced %v", i, day, changed, bounced)
		}
	}
	if _, bounced := SoftBounce(&sub, "2026-11-03", 3, model.Bounce{Reason: "452"}); !bounced || sub.Bounce.Source != model.BounceSoft {
		t.Errorf("third distinct day: %+v", sub)
	}
}
