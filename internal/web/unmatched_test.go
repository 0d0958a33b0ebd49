package web_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/papermail/papermail/internal/model"
)

// nearbyLinks returns the nearby-term links of a page, unescaped.
func nearbyLinks(body string) map[string]string {
	out := map[string]string{}
	list := regexp.MustCompile(`(?s)<ul class="nearby">(.*?)</ul>`).FindAllStringSubmatch(body, -1)
	for _, l := range list {
		for _, m := range regexp.MustCompile(`<a href="([^"]+)"[^>]*>([^<]+)</a>`).FindAllStringSubmatch(l[1], -1) {
			out[html.UnescapeString(m[2])] = html.UnescapeString(m[1])
		}
	}
	return out
}

// TestPreviewSaysWhichInterestMatchesNothing checks the subscribe page's
// preview: an interest no recent paper matches is named, with nearby terms
// recent papers use, each a preview with the interest rephrased, which
// then finds the papers; an interest nothing is close to says so.
func TestPreviewSaysWhichInterestMatchesNothing(t *testing.T) {
	e := newEnv(t)
	before := e.snapshot()
	r := e.get("/preview?" + url.Values{"email": {"p@example.org"}, "interests": {"speculative decodng\nvolcano eruptions"}}.Encode())
	if r.status != http.StatusOK {
		t.Fatalf("preview %d:\n%s", r.status, r.body)
	}
	for _, want := range []string{"No recent paper matches “speculative decodng”", "No recent paper matches “volcano eruptions”",
		"Nothing in recent papers is close to it"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("preview lacks %q:\n%s", want, r.body)
		}
	}
	links := nearbyLinks(r.body)
	link, ok := links["decoding"]
	if !ok {
		t.Fatalf("no nearby link for \"decoding\": %v", links)
	}
	u, err := url.Parse(link)
	if err != nil || u.Path != "/preview" || u.Query().Get("email") != "p@example.org" ||
		u.Query().Get("interests") != "speculative decoding\nvolcano eruptions" && u.Query().Get("interests") != "decoding\nvolcano eruptions" {
		t.Fatalf("rephrase link %q (%v)", link, err)
	}
	again := e.get(link)
	if again.status != http.StatusOK || !strings.Contains(again.body, "Faster Speculative Decoding") ||
		strings.Contains(again.body, "matches “speculative decodng”") {
		t.Errorf("rephrased preview %d:\n%s", again.status, again.body)
	}
	if e.snapshot() != before {
		t.Error("previews changed the store")
	}
}

// TestPreferencesSaysWhichInterestMatchesNothing checks the same on the
// preferences page, whose rephrase links preview the edited form and
// save nothing.
func TestPreferencesSaysWhichInterestMatchesNothing(t *testing.T) {
	e := newEnv(t)
	sub := e.addSubscriber("p@example.org", model.StateActive)
	path := e.path(e.links.Preferences(sub.ID))
	q := url.Values{"preview": {"1"}, "interests": {"speculative decodng"}, "frequency": {"daily"}, "hour": {"default"}}
	r := e.get(path + "?" + q.Encode())
	if r.status != http.StatusOK || !strings.Contains(r.body, "No recent paper matches “speculative decodng”") {
		t.Fatalf("preferences preview %d:\n%s", r.status, r.body)
	}
	link, ok := nearbyLinks(r.body)["decoding"]
	if !ok {
		t.Fatalf("no nearby link for \"decoding\":\n%s", r.body)
	}
	before := e.snapshot()
	again := e.get(link)
	if again.status != http.StatusOK || !strings.Contains(again.body, "With the edited settings") ||
		!strings.Contains(again.body, "Faster Speculative Decoding") {
		t.Errorf("rephrased preferences preview %d:\n%s", again.status, again.body)
	}
	if e.snapshot() != before {
		t.Error("the rephrase link changed the store")
	}
}
