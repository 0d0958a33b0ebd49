package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/papermail/papermail/internal/app"
	"github.com/papermail/papermail/internal/config"
	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/store"
	"github.com/papermail/papermail/internal/subscription"
)

// The profile typed in the re-add tests, and the one the prior subscriber
// held.
const (
	readdInterests = "speech recognition; speaker diarization"
	readdAuthors   = "Yann LeCun; Bengio, Yoshua"
	readdCats      = "cs.CL, eess.AS"
	readdMode      = "filter"
)

var readdLibrary = filepath.Join("..", "library", "testdata", "speech-20.bib")

// typedRequest is the request the re-add flags parse to, as the rules
// normalize it: what must end up stored.
func typedRequest(t *testing.T, email string) subscription.Request {
	t.Helper()
	f, err := os.Open(readdLibrary)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lib, err := subscription.ParseLibrary(f)
	if err != nil {
		t.Fatal(err)
	}
	r, err := subscription.ParseRequestWith(email, readdInterests, "", "cli",
		subscription.Extras{Authors: readdAuthors, Categories: readdCats, CategoryMode: readdMode, Library: lib})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// priorSubscriber stores email in state, with an older profile; a pending
// one has a confirmation that was mailed at sent.
func priorSubscriber(t *testing.T, dir, email string, state model.State, sent time.Time) {
	t.Helper()
	st := openStore(t, dir)
	defer st.Close()
	now := time.Now().UTC().Add(-48 * time.Hour)
	sub := model.Subscriber{Email: email, Interests: []string{"graph neural networks"}, State: state, Created: now, Updated: now,
		Source: "web", Hour: model.HourDefault, Frequency: model.FrequencyDaily, Timezone: "Europe/Berlin",
		Authors: []string{"Old Author"}, Categories: []string{"cs.LG"}, CategoryMode: "boost",
		Library: []model.LibraryEntry{{Title: "An old paper", ArxivID: "2101.00001"}}}
	switch state {
	case model.StateActive:
		sub.ConfirmedAt = now
	case model.StateBounced:
		sub.ConfirmedAt = now
		sub.Bounce = &model.Bounce{At: now, Reason: "550 5.1.1 user unknown", Code: 550, Enhanced: "5.1.1"}
	case model.StateUnsubscribed:
		sub.ConfirmedAt = now
	}
	if state != model.StatePending {
		if err := st.AddSubscriber(&sub); err != nil {
			t.Fatal(err)
		}
		return
	}
	c := model.Confirmation{Nonce: "nonce-" + email, SentAt: sent.UTC(), Source: "web"}
	if err := st.Subscribe(&sub, &c, func(*model.Subscriber) (*store.OutboxItem, error) { return nil, nil }); err != nil {
		t.Fatal(err)
	}
}

// mailCount is how many mails the Maildir holds.
func mailCount(t *testing.T, dir string) int {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "Maildir", "new", "*"))
	return len(files)
}

// storedJSON is the stored subscriber email as JSON ("" when absent).
func storedJSON(t *testing.T, dir, email string) string {
	t.Helper()
	st := openStore(t, dir)
	defer st.Close()
	sub, err := st.SubscriberByEmail(email)
	if err != nil {
		return ""
	}
	sub.NextDue = time.Time{} // the schedule, which any command brings up to date
	b, _ := json.Marshal(sub)
	return string(b)
}

// hasProfile fails unless sub holds every value of r.
func hasProfile(t *testing.T, sub model.Subscriber, r subscription.Request) {
	t.Helper()
	got := [][]string{sub.Interests, sub.Authors, sub.Categories, {sub.CategoryMode}}
	want := [][]string{r.Interests, r.Authors, r.Categories, {r.CategoryMode}}
	for i, name := range []string{"interests", "authors", "categories", "category mode"} {
		if strings.Join(got[i], "|") != strings.Join(want[i], "|") {
			t.Errorf("%s: stored %q, typed %q", name, got[i], want[i])
		}
	}
	if len(sub.Library) != len(r.Library) || len(r.Library) == 0 || sub.Library[0] != r.Library[0] {
		t.Errorf("library: stored %d entries, typed %d", len(sub.Library), len(r.Library))
	}
}

// TestSubscribersAddAgainKeepsEveryField: `subscribers add` with the whole
// profile, for an address in each state, with and without --confirmed,
// stores every value typed (at once with --confirmed; on confirmation
// otherwise, with the mail sent) or, for an address that gets digests or
// was mailed a confirmation moments ago, says clearly why nothing changed.
func TestSubscribersAddAgainKeepsEveryField(t *testing.T) {
	const absent model.State = ""
	for _, tc := range []struct {
		name      string
		prior     model.State
		sentAgo   time.Duration // of a pending subscriber's confirmation
		confirmed bool
		// mail: a confirmation mail is sent and the values wait for it;
		// refuse: the command fails with these words and nothing changes.
		mail   bool
		refuse string
	}{
		{name: "new", prior: absent, mail: true},
		{name: "pending", prior: model.StatePending, sentAgo: time.Hour, mail: true},
		{name: "pending mailed just now", prior: model.StatePending, sentAgo: time.Minute, refuse: "less than 15m0s ago"},
		{name: "active", prior: model.StateActive, refuse: "receives digests: nothing changed"},
		{name: "paused", prior: model.StatePaused, refuse: "receives digests: nothing changed"},
		{name: "unsubscribed", prior: model.StateUnsubscribed, mail: true},
		{name: "bounced", prior: model.StateBounced, mail: true},
		{name: "new confirmed", prior: absent, confirmed: true},
		{name: "pending confirmed", prior: model.StatePending, sentAgo: time.Minute, confirmed: true},
		{name: "active confirmed", prior: model.StateActive, confirmed: true, refuse: "receives digests: nothing changed"},
		{name: "paused confirmed", prior: model.StatePaused, confirmed: true, refuse: "receives digests: nothing changed"},
		{name: "unsubscribed confirmed", prior: model.StateUnsubscribed, confirmed: true},
		{name: "bounced confirmed", prior: model.StateBounced, confirmed: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := installEnv(t)
			const email = "reader@example.org"
			if tc.prior != absent {
				priorSubscriber(t, dir, email, tc.prior, time.Now().Add(-tc.sentAgo))
			}
			before := storedJSON(t, dir, email)
			args := []string{"subscribers", "add", email, "--interests", readdInterests, "--authors", readdAuthors,
				"--categories", readdCats, "--category-mode", readdMode, "--library", readdLibrary}
			if tc.confirmed {
				args = append(args, "--confirmed")
			}
			code, out, errOut := runMain(t, args...)
			want := typedRequest(t, email)
			if tc.refuse != "" {
				if code == 0 || !strings.Contains(errOut, tc.refuse) {
					t.Fatalf("exit %d, stderr %q; want a refusal saying %q", code, errOut, tc.refuse)
				}
				if after := storedJSON(t, dir, email); after != before {
					t.Errorf("the refused add changed the subscriber:\n%s\n%s", before, after)
				}
				if n := mailCount(t, dir); n != 0 {
					t.Errorf("%d mails sent by a refused add", n)
				}
				return
			}
			if code != 0 {
				t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
			}
			st := openStore(t, dir)
			defer st.Close()
			sub, err := st.SubscriberByEmail(email)
			if err != nil {
				t.Fatal(err)
			}
			if !tc.mail {
				if n := mailCount(t, dir); n != 0 {
					t.Errorf("%d mails sent with --confirmed", n)
				}
				if sub.State != model.StateActive || sub.Bounce != nil {
					t.Errorf("state %s, bounce %v; want active and no bounce", sub.State, sub.Bounce)
				}
				hasProfile(t, sub, want)
				return
			}
			if n := mailCount(t, dir); n != 1 {
				t.Fatalf("%d mails in the Maildir, want the confirmation", n)
			}
			if tc.prior == absent {
				if sub.State != model.StatePending {
					t.Errorf("state %s, want pending", sub.State)
				}
				hasProfile(t, sub, want)
			} else if sub.NextDue = (time.Time{}); mustJSON(sub) != before {
				t.Errorf("the subscriber changed before confirming:\n%s\n%s", before, mustJSON(sub))
			}
			c, err := st.Confirmation(sub.ID)
			if err != nil {
				t.Fatalf("no confirmation waits: %v", err)
			}
			if tc.prior == model.StatePending && c.Nonce == "nonce-"+email {
				t.Errorf("new values kept the nonce of the earlier mail, whose link would confirm them")
			}
			cfg, _, err := config.Load("", os.Environ())
			if err != nil {
				t.Fatal(err)
			}
			parts, err := app.Build(cfg, st, app.Options{})
			if err != nil {
				t.Fatal(err)
			}
			got, err := parts.Subscriptions.Confirm(sub.ID, c.Nonce)
			if err != nil {
				t.Fatal(err)
			}
			if got.State != model.StateActive || got.Bounce != nil {
				t.Errorf("confirmed: state %s, bounce %v", got.State, got.Bounce)
			}
			hasProfile(t, got, want)
		})
	}
}

// TestSubscribersAddAgainRefusesBadInput: an unknown category mode or an
// unreadable library fails naming the flag, for an address in any state,
// and leaves the stored subscriber as it was with no mail sent.
func TestSubscribersAddAgainRefusesBadInput(t *testing.T) {
	for _, state := range []model.State{model.StatePending, model.StateActive, model.StateUnsubscribed, model.StateBounced} {
		for _, bad := range []struct {
			args []string
			want string
		}{
			{[]string{"--categories", readdCats, "--category-mode", "sideways"}, "--category-mode"},
			{[]string{"--library", filepath.Join("testdata", "no-such-library.bib")}, "--library"},
			{[]string{"--library", filepath.Join("..", "library", "testdata", "malformed.bib")}, "nothing was stored"},
		} {
			for _, confirmed := range []bool{false, true} {
				dir := installEnv(t)
				const email = "reader@example.org"
				priorSubscriber(t, dir, email, state, time.Now().Add(-time.Hour))
				before := storedJSON(t, dir, email)
				args := append([]string{"subscribers", "add", email, "--interests", readdInterests}, bad.args...)
				if confirmed {
					args = append(args, "--confirmed")
				}
				code, _, errOut := runMain(t, args...)
				if code == 0 || !strings.Contains(errOut, bad.want) {
					t.Errorf("%s %q: exit %d, stderr %q; want a failure naming %s", state, args, code, errOut, bad.want)
				}
				if after := storedJSON(t, dir, email); after != before {
					t.Errorf("%s %q changed the subscriber:\n%s\n%s", state, args, before, after)
				}
				if n := mailCount(t, dir); n != 0 {
					t.Errorf("%s %q: %d mails sent", state, args, n)
				}
			}
		}
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
