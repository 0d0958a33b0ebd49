package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/store"
)

// openStore opens the installation's store after a command has run.
func openStore(t *testing.T, dir string) *store.Store {
	t.Helper()
	st, err := store.Open(filepath.Join(dir, "papermail.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestSubscribersAddGoesThroughTheRules: the CLI checks addresses, interests
// and zones with the same rules as the web form, a pending subscriber gets
// its confirmation mail, and adding an address that receives digests
// without --confirmed is refused and changes nothing stored about it (the
// other states are TestSubscribersAddAgainKeepsEveryField's).
func TestSubscribersAddGoesThroughTheRules(t *testing.T) {
	dir := installEnv(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"Eve <eve@example.org>", "--interests", "speech"}, `"Eve <eve@example.org>": `},
		{[]string{"a@example.org", "--interests", " ; "}, "--interests: name at least one topic"},
		{[]string{"a@example.org", "--interests", "speech", "--timezone", "Local"}, "--timezone: not a known time zone"},
		{[]string{"a@example.org", "--interests", "speech", "--timezone", "Mars/Base"}, "--timezone: not a known time zone"},
	} {
		code, _, errOut := runMain(t, append([]string{"subscribers", "add"}, tc.args...)...)
		if code == 0 || !strings.Contains(errOut, tc.want) {
			t.Errorf("add %q: exit %d, stderr %q; want failure naming %q", tc.args, code, errOut, tc.want)
		}
	}

	code, out, errOut := runMain(t, "subscribers", "add", "owner@example.org", "--interests", "speech recognition", "--timezone", "Europe/Berlin")
	if code != 0 || !strings.Contains(out, "pending") {
		t.Fatalf("add: exit %d\n%s\n%s", code, out, errOut)
	}
	mails, _ := os.ReadDir(filepath.Join(dir, "Maildir", "new"))
	if len(mails) != 1 {
		t.Errorf("%d mails in the Maildir, want the confirmation", len(mails))
	}
	st := openStore(t, dir)
	sub, err := st.SubscriberByEmail("owner@example.org")
	if err != nil || sub.State != model.StatePending || sub.Timezone != "Europe/Berlin" || sub.Hour != model.HourDefault {
		t.Fatalf("stored %+v, %v", sub, err)
	}
	if _, err := st.Confirmation(sub.ID); err != nil {
		t.Errorf("no confirmation waits: %v", err)
	}
	sub, _ = st.UpdateSubscriber(sub.ID, func(x *model.Subscriber) error { x.State = model.StateActive; return nil })
	before, _ := json.Marshal(sub)
	st.Close()

	code, _, errOut = runMain(t, "subscribers", "add", "owner@example.org", "--interests", "something else")
	if code == 0 || !strings.Contains(errOut, "already on the list") {
		t.Errorf("second add: exit %d, %q", code, errOut)
	}
	st = openStore(t, dir)
	defer st.Close()
	got, _ := st.SubscriberByEmail("owner@example.org")
	if after, _ := json.Marshal(got); string(after) != string(before) {
		t.Errorf("the refused add changed the subscriber:\n%s\n%s", before, after)
	}
}

// TestSubscribersImportReportsEveryRow: one bad row imports nothing and
// every problem is listed with its line; a clean file imports all rows
// (with the optional timezone column).
func TestSubscribersImportReportsEveryRow(t *testing.T) {
	dir := installEnv(t)
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("email,interests,timezone\na@example.org,speech,\nnot-an-address,speech,\nb@example.org,robots,Mars/Base\n"), 0o600)
	code, _, errOut := runMain(t, "subscribers", "import", bad)
	if code == 0 || !strings.Contains(errOut, "line 3") || !strings.Contains(errOut, "line 4: time zone") {
		t.Fatalf("bad import: exit %d\n%s", code, errOut)
	}
	good := filepath.Join(dir, "good.csv")
	os.WriteFile(good, []byte("email,interests,timezone\na@example.org,speech,\nb@example.org,robots,Asia/Tokyo\n"), 0o600)
	if code, out, errOut := runMain(t, "subscribers", "import", good); code != 0 || !strings.Contains(out, "imported 2") {
		t.Fatalf("good import: exit %d\n%s\n%s", code, out, errOut)
	}
	st := openStore(t, dir)
	defer st.Close()
	b, err := st.SubscriberByEmail("b@example.org")
	if err != nil || b.State != model.StateActive || b.Timezone != "Asia/Tokyo" || b.Hour != model.HourDefault || b.Source != "import" {
		t.Errorf("imported %+v, %v", b, err)
	}
}

// TestSubscribersImportNamesRepeatedAddresses: an address given again
// (in any case) is named on each later line with the line it first
// appears on, among the other problems in line order, and nothing is
// imported.
func TestSubscribersImportNamesRepeatedAddresses(t *testing.T) {
	dir := installEnv(t)
	path := filepath.Join(dir, "list.csv")
	csv := "email,interests\nb@example.org,x\na@example.org,x\nnot-an-address,x\nA@example.org,y\nc@example.org,x\nb@example.org,z\na@example.org,z\n"
	if err := os.WriteFile(path, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runMain(t, "subscribers", "import", path)
	if code == 0 {
		t.Fatal("import with repeated addresses succeeded")
	}
	var got []string
	for _, l := range strings.Split(errOut, "\n") {
		if _, after, ok := strings.Cut(l, "list.csv: "); ok {
			got = append(got, after)
		}
	}
	want := []string{"line 4:", "line 5: a@example.org already appears on line 3", "line 7: b@example.org already appears on line 2",
		"line 8: a@example.org already appears on line 3"}
	if len(got) != len(want) {
		t.Fatalf("problems %q, want %d of them", got, len(want))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("problem %d: %q, want %q...", i, got[i], want[i])
		}
	}
	st := openStore(t, dir)
	defer st.Close()
	if counts, _ := st.CountSubscribers(); counts[model.StateActive] != 0 {
		t.Errorf("%d imported, want none", counts[model.StateActive])
	}
}

// TestSubscribersImportInBatches: a file stored in several batches (out
// of address order, some addresses already on the list) stores every new
// row once with its own values, leaves the existing ones as they were and
// counts both; ids follow address order.
func TestSubscribersImportInBatches(t *testing.T) {
	dir := installEnv(t)
	defer func(n int) { importBatch = n }(importBatch)
	importBatch = 3
	if code, _, errOut := runMain(t, "subscribers", "add", "m07@example.org", "--interests", "kept as it was", "--confirmed"); code != 0 {
		t.Fatal(errOut)
	}
	var csv strings.Builder
	csv.WriteString("email,interests\n")
	const rows = 11
	for i := range rows {
		fmt.Fprintf(&csv, "m%02d@example.org,topic %d\n", (i*5)%rows, (i*5)%rows) // 0, 5, 10, 4, 9, ...
	}
	path := filepath.Join(dir, "list.csv")
	if err := os.WriteFile(path, []byte(csv.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runMain(t, "subscribers", "import", path)
	if code != 0 || !strings.Contains(out, fmt.Sprintf("imported %d subscribers", rows-1)) || !strings.Contains(out, "1 already on the list") {
		t.Fatalf("import: exit %d\n%s\n%s", code, out, errOut)
	}
	st := openStore(t, dir)
	defer st.Close()
	var last uint64
	for i := range rows {
		sub, err := st.SubscriberByEmail(fmt.Sprintf("m%02d@example.org", i))
		if err != nil {
			t.Fatalf("m%02d: %v", i, err)
		}
		want := fmt.Sprintf("topic %d", i)
		if i == 7 {
			want = "kept as it was"
		} else if sub.ID <= last {
			t.Errorf("m%02d has id %d after %d: ids do not follow address order", i, sub.ID, last)
		}
		if i != 7 {
			last = sub.ID
		}
		if len(sub.Interests) != 1 || sub.Interests[0] != want || sub.State != model.StateActive {
			t.Errorf("m%02d: %v %s, want [%s] active", i, sub.Interests, sub.State, want)
		}
	}
	counts, err := st.CountSubscribers()
	if err != nil || counts[model.StateActive] != rows {
		t.Errorf("active count %d (%v), want %d", counts[model.StateActive], err, rows)
	}
}

// TestSubscribersLinks: the operator can print a subscriber's links; the
// preferences link is the one the web pages accept.
func TestSubscribersLinks(t *testing.T) {
	installEnv(t)
	if code, _, errOut := runMain(t, "subscribers", "add", "ada@example.org", "--interests", "speech", "--confirmed"); code != 0 {
		t.Fatal(errOut)
	}
	code, out, errOut := runMain(t, "subscribers", "links", "Ada@Example.org")
	if code != 0 || !strings.Contains(out, "preferences: https://papers.example.org/preferences/") ||
		!strings.Contains(out, "unsubscribe: https://papers.example.org/unsubscribe/") || !strings.Contains(out, ".atom") {
		t.Fatalf("links: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, _, errOut := runMain(t, "subscribers", "links", "nobody@example.org"); code == 0 || !strings.Contains(errOut, "not on the list") {
		t.Errorf("unknown address: exit %d, %q", code, errOut)
	}
}
