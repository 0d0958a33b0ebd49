package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/papermail/papermail/internal/config"
	"github.com/papermail/papermail/internal/digest"
	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/web"
)

// prefsForm is a complete, valid preferences form.
func prefsForm(csrf string) url.Values {
	return url.Values{"csrf": {csrf}, "interests": {"speech recognition\nrobot learning"},
		"examples": {"2603.01003\nA paper title I liked"}, "frequency": {"weekly"}, "weekday": {"3"},
		"hour": {"9"}, "timezone": {"Europe/Berlin"}, "pause": {""}}
}

func TestPreferencesSave(t *testing.T) {
	e := newEnv(t)
	sub := e.addSubscriber("p@example.org", model.StateActive)
	path := e.path(e.links.Preferences(sub.ID))
	r := e.get(path)
	if r.status != http.StatusOK {
		t.Fatalf("GET: %d", r.status)
	}
	for _, want := range []string{"p@example.org", "language model inference", "Efficient Attention Kernels",
		`name="frequency" value="weekly"`, `<option value="default" selected>Default (07:00)</option>`,
		"/feed/", ".atom", path + "/export", path + "/erase", "/unsubscribe/", `for="interests"`, `for="pause"`} {
		if !strings.Contains(r.body, want) {
			t.Errorf("preferences page lacks %q", want)
		}
	}
	tok := e.formToken(path, path)
	form := prefsForm(tok)
	form.Set("pause", "2026-04-01")
	r = e.post(path, form)
	if r.status != http.StatusOK || !strings.Contains(r.body, "Saved") || !strings.Contains(r.body, "paused until Wednesday, 1 April 2026") {
		t.Fatalf("save: %d\n%s", r.status, r.body)
	}
	got := e.sub(sub.ID)
	berlin, _ := time.LoadLocation("Europe/Berlin")
	if strings.Join(got.Interests, "|") != "speech recognition|robot learning" || got.Frequency != "weekly" || got.Weekday != 3 ||
		got.Hour != 9 || got.Timezone != "Europe/Berlin" || strings.Join(got.Examples, "|") != "2603.01003|A paper title I liked" ||
		!got.PausedUntil.Equal(time.Date(2026, 4, 1, 0, 0, 0, 0, berlin)) || got.State != model.StateActive {
		t.Errorf("saved %+v", got)
	}
	// Resume: an empty pause field.
	form.Set("pause", "")
	form.Set("hour", "default")
	form.Set("frequency", "daily")
	if r := e.post(path, form); r.status != http.StatusOK {
		t.Fatalf("resume: %d", r.status)
	}
	if got := e.sub(sub.ID); !got.PausedUntil.IsZero() || got.Hour != -1 || got.Frequency != "daily" {
		t.Errorf("after resuming %+v", got)
	}
}

func TestPreferencesResumeIndefinitePause(t *testing.T) {
	e := newEnv(t)
	sub := e.addSubscriber("p@example.org", model.StatePaused)
	path := e.path(e.links.Preferences(sub.ID))
	r := e.get(path)
	if !strings.Contains(r.body, "Digests are paused.") || !strings.Contains(r.body, `name="resume"`) {
		t.Fatalf("paused page:\n%s", r.body)
	}
	form := prefsForm(e.formToken(path, path))
	e.post(path, form)
	if e.sub(sub.ID).State != model.StatePaused {
		t.Fatal("saving other settings resumed an indefinite pause")
	}
	form.Set("resume", "1")
	e.post(path, form)
	if e.sub(sub.ID).State != model.StateActive {
		t.Error("resume did not resume")
	}
}

func TestPreferencesRejectsBadInput(t *testing.T) {
	e := newEnv(t)
	sub := e.addSubscriber("p@example.org", model.StateActive)
	path := e.path(e.links.Preferences(sub.ID))
	tok := e.formToken(path, path)
	tests := []struct{ field, value, want string }{
		{"hour", "24", "Delivery hour"},
		{"hour", "-1", "Delivery hour"},
		{"hour", "1e1", "Delivery hour"},
		{"weekday", "7", "Weekday"},
		{"weekday", "mon", "Weekday"},
		{"frequency", "hourly", "Frequency"},
		{"timezone", "Local", "Time zone"},
		{"timezone", "/etc/passwd", "Time zone"},
		{"timezone", "Europe/../../etc/passwd", "Time zone"},
		{"pause", "2026-13-01", "Pause until"},
		{"pause", "2026-2-30", "Pause until"},
		{"pause", "2026-03-01", "in the future"},
		{"pause", "2028-01-01", "at most a year"},
		{"pause", "01/04/2026", "Pause until"},
		{"interests", "", "at least one"},
		{"examples", strings.Repeat("x", 301), "Example papers"},
		{"interests", `<script>alert(1)</script>` + strings.Repeat("y", 200), "too long"},
	}
	before := e.snapshot()
	for _, tc := range tests {
		form := prefsForm(tok)
		form.Set(tc.field, tc.value)
		r := e.post(path, form)
		if r.status != http.StatusBadRequest || !strings.Contains(r.body, tc.want) || !strings.Contains(r.body, "Nothing was saved") {
			t.Errorf("%s=%q: %d, want 400 with %q", tc.field, tc.value, r.status, tc.want)
		}
		if strings.Contains(r.body, "<script>alert") {
			t.Errorf("%s=%q echoed unescaped", tc.field, tc.value)
		}
	}
	if e.snapshot() != before {
		t.Error("refused forms changed the store")
	}
}

func TestPreferencesPreviewSavesNothing(t *testing.T) {
	e := newEnv(t)
	sub := e.addSubscriber("p@example.org", model.StateActive)
	path := e.path(e.links.Preferences(sub.ID))
	before := e.snapshot()
	q := url.Values{"preview": {"1"}, "interests": {"graph neural networks for molecules"}, "frequency": {"daily"}, "hour": {"default"}}
	r := e.get(path + "?" + q.Encode())
	if r.status != http.StatusOK || !strings.Contains(r.body, "With the edited settings") ||
		!strings.Contains(r.body, "Graph Neural Networks Predict Molecular Properties") ||
		!strings.Contains(r.body, ">graph neural networks for molecules</textarea>") {
		t.Fatalf("preview: %d\n%s", r.status, r.body)
	}
	q.Set("hour", "99")
	if r := e.get(path + "?" + q.Encode()); r.status != http.StatusBadRequest {
		t.Errorf("bad preview: %d", r.status)
	}
	if e.snapshot() != before {
		t.Error("preview changed the store")
	}
}

func TestUnsubscribePage(t *testing.T) {
	e := newEnv(t)
	sub := e.addSubscriber("u@example.org", model.StateActive)
	path := e.path(e.links.Unsubscribe(sub.ID))
	before := e.snapshot()
	r := e.get(path)
	if r.status != http.StatusOK || !strings.Contains(r.body, "Stop sending digests to <strong>u@example.org</strong>") {
		t.Fatalf("GET: %d\n%s", r.status, r.body)
	}
	if e.snapshot() != before {
		t.Fatal("GET changed the store")
	}
	if r := e.post(path, url.Values{}); r.status != http.StatusForbidden || e.sub(sub.ID).State != model.StateActive {
		t.Fatalf("POST without CSRF token: %d", r.status)
	}
	r = e.post(path, url.Values{"csrf": {e.formToken(path, path)}})
	if r.status != http.StatusOK || !strings.Contains(r.body, "You are unsubscribed") || e.sub(sub.ID).State != model.StateUnsubscribed {
		t.Fatalf("POST: %d\n%s", r.status, r.body)
	}
	// The page offers to come back.
	resub := e.path(e.links.Preferences(sub.ID)) + "/resubscribe"
	m := regexp.MustCompile(`action="` + regexp.QuoteMeta(resub) + `">\s*<input type="hidden" name="csrf" value="([^"]+)"`).FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("no resubscribe form:\n%s", r.body)
	}
	if r := e.post(resub, url.Values{"csrf": {m[1]}}); r.status != http.StatusOK || e.sub(sub.ID).State != model.StateActive {
		t.Errorf("resubscribe: %d, state %s", r.status, e.sub(sub.ID).State)
	}
}

func TestOneClickUnsubscribe(t *testing.T) {
	e := newEnv(t)
	for _, multi := range []bool{false, true} {
		sub := e.addSubscriber(map[bool]string{false: "a@example.org", true: "b@example.org"}[multi], model.StateActive)
		link := e.links.Unsubscribe(sub.ID)
		var body bytes.Buffer
		ct := "application/x-www-form-urlencoded"
		if multi {
			mw := multipart.NewWriter(&body)
			mw.WriteField("List-Unsubscribe", "One-Click")
			mw.Close()
			ct = mw.FormDataContentType()
		} else {
			body.WriteString("List-Unsubscribe=One-Click")
		}
		// A bare request: no cookies, no CSRF token, no browser headers.
		resp, err := client.Post(link, ct, &body)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Location") != "" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
			t.Errorf("multipart=%v: %d %v", multi, resp.StatusCode, resp.Header)
		}
		if got := e.sub(sub.ID).State; got != model.StateUnsubscribed {
			t.Errorf("multipart=%v: state %s", multi, got)
		}
	}
	// A forged token gets 4xx and changes nothing.
	sub := e.addSubscriber("c@example.org", model.StateActive)
	before := e.snapshot()
	r := e.post(e.path(forge(e.links.Unsubscribe(sub.ID))), url.Values{"List-Unsubscribe": {"One-Click"}})
	if r.status != http.StatusForbidden || e.snapshot() != before {
		t.Errorf("forged one-click: %d", r.status)
	}
}

func TestFeedback(t *testing.T) {
	e := newEnv(t)
	sub := e.addSubscriber("f@example.org", model.StateActive)
	more, less := e.links.FeedbackPair(sub.ID, "2603.01002")
	before := e.snapshot()
	r := e.get(e.path(more))
	if r.status != http.StatusOK || !strings.Contains(r.body, "Diffusion Models for Long Video Generation") || !strings.Contains(r.body, "Yes, more like this") {
		t.Fatalf("GET more: %d\n%s", r.status, r.body)
	}
	if r := e.get(strings.TrimSuffix(e.path(more), "?v=more") + "?v=maybe"); r.status != http.StatusBadRequest {
		t.Errorf("bad value: %d", r.status)
	}
	if e.snapshot() != before {
		t.Fatal("GET changed the store")
	}
	post := func(link, v string) {
		t.Helper()
		p, _, _ := strings.Cut(e.path(link), "?")
		if r := e.post(p, url.Values{"csrf": {e.formToken(e.path(link), p)}, "v": {v}}); r.status != http.StatusOK || !strings.Contains(r.body, "Thanks, noted") {
			t.Fatalf("POST %s: %d\n%s", v, r.status, r.body)
		}
	}
	post(more, "more")
	fb := e.sub(sub.ID).Feedback
	if len(fb) != 1 || fb[0].PaperID != "2603.01002" || fb[0].Value != 1 || fb[0].Title != "Diffusion Models for Long Video Generation" || !fb[0].At.Equal(testStart) {
		t.Fatalf("feedback %+v", fb)
	}
	post(less, "less")
	if fb := e.sub(sub.ID).Feedback; len(fb) != 1 || fb[0].Value != -1 {
		t.Fatalf("replaced feedback %+v", fb)
	}
	// The preferences page lists it with an undo button.
	prefs := e.path(e.links.Preferences(sub.ID))
	page := e.get(prefs)
	if !strings.Contains(page.body, "Less like “Diffusion Models for Long Video Generation”") || !strings.Contains(page.body, `name="paper" value="2603.01002"`) {
		t.Fatalf("preferences page lacks the feedback:\n%s", page.body)
	}
	undo := prefs + "/feedback/undo"
	r = e.post(undo, url.Values{"csrf": {e.formToken(prefs, undo)}, "paper": {"2603.01002"}})
	if r.status != http.StatusOK || len(e.sub(sub.ID).Feedback) != 0 {
		t.Errorf("undo: %d, feedback %+v", r.status, e.sub(sub.ID).Feedback)
	}
}

func TestExport(t *testing.T) {
	e := newEnv(t)
	sub := e.addSubscriber("x@example.org", model.StateActive, "speculative decoding")
	ctx := context.Background()
	if _, err := e.runner.Run(ctx, digest.Spec{Now: testStart, Date: "2026-03-10", Only: sub.ID}); err != nil {
		t.Fatal(err)
	}
	r := e.get(e.path(e.links.Preferences(sub.ID)) + "/export")
	if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Disposition"), "attachment;") ||
		!strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
		t.Fatalf("export: %d %v", r.status, r.header)
	}
	var got web.ExportData
	if err := json.Unmarshal([]byte(r.body), &got); err != nil {
		t.Fatal(err)
	}
	if got.Subscriber.Email != "x@example.org" || got.Subscriber.ID != sub.ID || len(got.SentHistory) == 0 ||
		got.SentHistory[0].Date != "2026-03-10" {
		t.Errorf("export %+v", got)
	}
}

func TestErase(t *testing.T) {
	e := newEnv(t)
	sub := e.addSubscriber("x@example.org", model.StateActive)
	path := e.path(e.links.Preferences(sub.ID)) + "/erase"
	before := e.snapshot()
	r := e.get(path)
	if r.status != http.StatusOK || !strings.Contains(r.body, "Erase everything for good") {
		t.Fatalf("GET: %d", r.status)
	}
	tok := e.formToken(path, path)
	if r := e.post(path, url.Values{"csrf": {tok}}); r.status != http.StatusOK || !strings.Contains(r.body, "Erase everything for good") {
		t.Errorf("POST without confirm: %d", r.status)
	}
	if r := e.post(path, url.Values{"confirm": {"yes"}}); r.status != http.StatusForbidden {
		t.Errorf("POST without CSRF: %d", r.status)
	}
	if e.snapshot() != before {
		t.Fatal("store changed before the confirmed erase")
	}
	r = e.post(path, url.Values{"csrf": {tok}, "confirm": {"yes"}})
	if r.status != http.StatusOK || !strings.Contains(r.body, "Everything is erased") {
		t.Fatalf("erase: %d", r.status)
	}
	if _, err := e.st.Subscriber(sub.ID); err == nil {
		t.Error("subscriber still stored")
	}
	if _, err := e.st.SubscriberByEmail("x@example.org"); err == nil {
		t.Error("address still stored")
	}
	if r := e.get(e.path(e.links.Preferences(sub.ID))); r.status != http.StatusNotFound {
		t.Errorf("preferences after erase: %d", r.status)
	}
}

func TestFeed(t *testing.T) {
	e := newEnv(t)
	sub := e.addSubscriber("x@example.org", model.StateActive, "language model inference", "robot learning")
	r := e.get(e.path(e.links.Feed(sub.ID)))
	if r.status != http.StatusOK || r.header.Get("Content-Type") != "application/atom+xml; charset=utf-8" {
		t.Fatalf("feed: %d %q\n%s", r.status, r.header.Get("Content-Type"), r.body)
	}
	var f struct {
		XMLName xml.Name `xml:"http://www.w3.org/2005/Atom feed"`
		ID      string   `xml:"id"`
		Title   string   `xml:"title"`
		Updated string   `xml:"updated"`
		Author  string   `xml:"author>name"`
		Links   []struct {
			Rel  string `xml:"rel,attr"`
			Href string `xml:"href,attr"`
		} `xml:"link"`
		Entries []struct {
			ID      string `xml:"id"`
			Title   string `xml:"title"`
			Updated string `xml:"updated"`
			Summary string `xml:"summary"`
			Link    struct {
				Href string `xml:"href,attr"`
			} `xml:"link"`
		} `xml:"entry"`
	}
	if err := xml.Unmarshal([]byte(r.body), &f); err != nil {
		t.Fatal(err)
	}
	if f.ID == "" || f.Title == "" || f.Author == "" || len(f.Links) != 1 || f.Links[0].Rel != "self" || len(f.Entries) < 2 {
		t.Fatalf("feed %+v", f)
	}
	if _, err := time.Parse(time.RFC3339, f.Updated); err != nil {
		t.Error(err)
	}
	titles := ""
	for _, en := range f.Entries {
		if en.ID == "" || en.Title == "" || en.Summary == "" || en.Link.Href == "" {
			t.Errorf("incomplete entry %+v", en)
		}
		if _, err := time.Parse(time.RFC3339, en.Updated); err != nil {
			t.Errorf("entry updated %q", en.Updated)
		}
		titles += en.Title + "\n"
	}
	if !strings.Contains(titles, "Robot Learning from Human Demonstrations <script>") {
		t.Errorf("titles %q", titles)
	}
	if strings.Contains(r.body, "<script>") {
		t.Error("markup in a title is not escaped in the XML")
	}
	// Without the .atom suffix there is no feed.
	if r := e.get(strings.TrimSuffix(e.path(e.links.Feed(sub.ID)), ".atom")); r.status != http.StatusNotFound {
		t.Errorf("feed without .atom: %d", r.status)
	}
}

func TestClickTracking(t *testing.T) {
	target := "https://arxiv.org/abs/2603.01001"
	e := newEnv(t, func(c *config.Config) { c.Tracking.Clicks = true })
	link := e.path(e.links.Click("2603.01001", target))
	r := e.get(link)
	if r.status != http.StatusFound || r.header.Get("Location") != target {
		t.Fatalf("click: %d %q", r.status, r.header.Get("Location"))
	}
	if p, _ := e.st.Paper("2603.01001"); p.Clicks != 1 {
		t.Errorf("clicks %d", p.Clicks)
	}
	tok, _, _ := strings.Cut(strings.TrimPrefix(link, "/c/"), "?")
	before := e.snapshot()
	for name, path := range map[string]string{
		"other target":      "/c/" + tok + "?u=" + url.QueryEscape("https://evil.example/"),
		"no target":         "/c/" + tok,
		"javascript target": "/c/" + tok + "?u=" + url.QueryEscape("javascript:alert(1)"),
		"forged":            "/c/" + forge(tok) + "?u=" + url.QueryEscape(target),
		"garbage":           "/c/xyz?u=" + url.QueryEscape(target),
	} {
		r := e.get(path)
		if r.status != http.StatusBadRequest || r.header.Get("Location") != "" {
			t.Errorf("%s: %d %q", name, r.status, r.header.Get("Location"))
		}
	}
	if e.snapshot() != before {
		t.Error("refused clicks changed the store")
	}
	off := newEnv(t)
	if r := off.get(link); r.status != http.StatusNotFound {
		t.Errorf("click tracking off: %d", r.status)
	}
}

// TestMetricsAllow: with metrics.allow (and no metrics.listen) /metrics is
// served on the public listener to those networks only.
func TestMetricsAllow(t *testing.T) {
	tests := []struct {
		allow []string
		want  int
	}{
		{[]string{"127.0.0.1/8", "::1"}, http.StatusOK},
		{[]string{"10.0.0.0/8"}, http.StatusForbidden},
	}
	for _, tt := range tests {
		e := newEnv(t, func(c *config.Config) { c.Metrics.Allow = tt.allow })
		r := e.get("/metrics")
		if r.status != tt.want {
			t.Errorf("allow %v: status %d, want %d", tt.allow, r.status, tt.want)
		}
		if tt.want == http.StatusOK && !strings.Contains(r.body, "go_goroutines") {
			t.Errorf("allow %v: body\n%.300s", tt.allow, r.body)
		}
	}
	// A separate metrics.listen keeps it off the public listener.
	e := newEnv(t, func(c *config.Config) { c.Metrics.Listen = "127.0.0.1:0"; c.Metrics.Allow = []string{"127.0.0.1/8"} })
	if r := e.get("/metrics"); r.status != http.StatusNotFound {
		t.Errorf("with metrics.listen, /metrics on the public listener: %d", r.status)
	}
}

func TestHealthAndMetrics(t *testing.T) {
	e := newEnv(t)
	if r := e.get("/healthz"); r.status != 200 || r.body != "ok\n" {
		t.Errorf("healthz %d %q", r.status, r.body)
	}
	if r := e.get("/readyz"); r.status != 200 {
		t.Errorf("readyz %d %q", r.status, r.body)
	}
	// /metrics is not on the public listener by default (see
	// TestMetricsAllow).
	if r := e.get("/metrics"); r.status != http.StatusNotFound {
		t.Errorf("metrics on the public listener by default: %d\n%.300s", r.status, r.body)
	}
	e.st.Close()
	if r := e.get("/readyz"); r.status != http.StatusServiceUnavailable {
		t.Errorf("readyz with the store closed: %d", r.status)
	}
	if r := e.get("/healthz"); r.status != 200 {
		t.Errorf("healthz with the store closed: %d", r.status)
	}
}

// TestMailLinksChangeNothing sends a real digest and a confirmation, then
// GETs every link in them: nothing in the store may change.
func TestMailLinksChangeNothing(t *testing.T) {
	e := newEnv(t)
	e.subscribe("new@example.org", "speech recognition")
	e.flushOutbox()
	sub := e.addSubscriber("d@example.org", model.StateActive, "language model inference", "robot learning")
	if _, err := e.runner.Run(context.Background(), digest.Spec{Now: testStart, Date: "2026-03-10", Only: sub.ID}); err != nil {
		t.Fatal(err)
	}
	var urls []string
	for _, name := range e.maildirFiles() {
		f, err := os.Open(filepath.Join(e.cfg.MaildirPath(), "new", name))
		if err != nil {
			t.Fatal(err)
		}
		m, err := readMail(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range textURLs(m.Text) {
			if strings.HasPrefix(u, e.ts.URL) {
				urls = append(urls, u)
			}
		}
		for _, h := range regexp.MustCompile(`href="([^"]+)"`).FindAllStringSubmatch(m.HTML, -1) {
			if u := strings.ReplaceAll(h[1], "&amp;", "&"); strings.HasPrefix(u, e.ts.URL) {
				urls = append(urls, u)
			}
		}
	}
	kinds := map[string]bool{}
	for _, u := range urls {
		kinds[strings.SplitN(strings.TrimPrefix(e.path(u), "/"), "/", 2)[0]] = true
	}
	for _, k := range []string{"confirm", "preferences", "unsubscribe", "feedback"} {
		if !kinds[k] {
			t.Errorf("no %s link found in the mails (found %v)", k, kinds)
		}
	}
	before := e.snapshot()
	for _, u := range urls {
		r := e.get(u)
		if r.status != http.StatusOK {
			t.Errorf("GET %s: %d", u, r.status)
		}
	}
	if after := e.snapshot(); after != before {
		t.Errorf("GETs of mail links changed the store:\n%s\n%s", before, after)
	}
}

// TestBasePathPrefix runs papermail behind a proxy that strips the path of
// base_url: every form and link of the pages must carry that path.
func TestBasePathPrefix(t *testing.T) {
	e := newEnv(t, func(c *config.Config) { c.BaseURL = "/pm" })
	home := e.get("/pm/")
	if home.status != http.StatusOK || !strings.Contains(home.body, `action="/pm/subscribe"`) ||
		!strings.Contains(home.body, `formaction="/pm/preview"`) || !strings.Contains(home.body, `href="/pm/"`) {
		t.Fatalf("home: %d\n%s", home.status, home.body)
	}
	tok := csrfInput.FindStringSubmatch(home.body)[1]
	if r := e.post("/pm/subscribe", url.Values{"csrf": {tok}, "email": {"pm@example.org"}, "interests": {"speech"}}); r.status != http.StatusOK {
		t.Fatalf("subscribe: %d\n%s", r.status, r.body)
	}
	path := e.path(e.confirmURL(e.outboxItems()[0]))
	if !strings.HasPrefix(path, "/pm/confirm/") {
		t.Fatalf("confirmation link %s", path)
	}
	r := e.post(path, url.Values{"csrf": {e.formToken(path, path)}})
	if r.status != http.StatusOK || !strings.Contains(r.body, `href="/pm/preferences/`) {
		t.Fatalf("confirm: %d\n%s", r.status, r.body)
	}
	sub, _ := e.st.SubscriberByEmail("pm@example.org")
	prefs := e.path(e.links.Preferences(sub.ID))
	page := e.get(prefs)
	for _, want := range []string{`action="` + prefs + `"`, `href="` + prefs + `/erase"`, `href="` + prefs + `/export"`, `href="/pm/unsubscribe/`} {
		if !strings.Contains(page.body, want) {
			t.Errorf("preferences page lacks %q", want)
		}
	}
	form := prefsForm(e.formToken(prefs, prefs))
	if r := e.post(prefs, form); r.status != http.StatusOK || e.sub(sub.ID).Interests[0] != "speech recognition" {
		t.Errorf("save: %d", r.status)
	}
}
