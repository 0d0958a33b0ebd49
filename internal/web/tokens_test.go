package web_test

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/token"
	"github.com/papermail/papermail/internal/web"
)

func TestConfirmFlow(t *testing.T) {
	e := newEnv(t)
	e.subscribe("c@example.org", "graph neural networks")
	sub, _ := e.st.SubscriberByEmail("c@example.org")
	nonce := e.confirmation(sub.ID).Nonce
	path := e.path(e.confirmURL(e.outboxItems()[0]))

	before := e.snapshot()
	r := e.get(path)
	if r.status != http.StatusOK || !strings.Contains(r.body, "Confirm your subscription") || !strings.Contains(r.body, "graph neural networks") {
		t.Fatalf("GET confirm: %d\n%s", r.status, r.body)
	}
	if e.snapshot() != before {
		t.Fatal("GET of the confirmation link changed the store")
	}
	if r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("token page Cache-Control %q", r.header.Get("Cache-Control"))
	}
	// No token, or a token for another form: refused, nothing changes.
	for _, tok := range []string{"", "bogus", web.CSRFToken(e.srv, "/subscribe")} {
		if r := e.post(path, url.Values{"csrf": {tok}}); r.status != http.StatusForbidden {
			t.Errorf("POST with csrf %q: %d", tok, r.status)
		}
	}
	if e.snapshot() != before {
		t.Fatal("refused POSTs changed the store")
	}
	e.advance(time.Hour)
	tok := e.formToken(path, path)
	r = e.post(path, url.Values{"csrf": {tok}})
	if r.status != http.StatusOK || !strings.Contains(r.body, "Welcome") || !strings.Contains(r.body, `href="/preferences/`) {
		t.Fatalf("POST confirm: %d\n%s", r.status, r.body)
	}
	got := e.sub(sub.ID)
	if got.State != model.StateActive || !got.ConfirmedAt.Equal(testStart.Add(time.Hour)) || nonce == "" {
		t.Errorf("after confirming: %+v", got)
	}
	if c, err := e.st.Confirmation(sub.ID); err == nil {
		t.Errorf("confirmation %+v kept after use", c)
	}
	// The used link no longer works, with GET or POST.
	after := e.snapshot()
	if r := e.get(path); r.status != http.StatusForbidden {
		t.Errorf("reused link GET: %d", r.status)
	}
	if r := e.post(path, url.Values{"csrf": {tok}}); r.status != http.StatusForbidden {
		t.Errorf("reused link POST: %d", r.status)
	}
	if e.snapshot() != after {
		t.Error("reused link changed the store")
	}
}

// TestConfirmAlreadyActive: a valid link of a subscriber that is no longer
// pending (activated by the operator) changes nothing.
func TestConfirmAlreadyActive(t *testing.T) {
	e := newEnv(t)
	sub := e.addSubscriber("a@example.org", model.StateActive)
	link, _ := e.links.Confirm(sub.ID, "nonce-"+sub.Email, testStart)
	before := e.snapshot()
	path := e.path(link)
	if r := e.get(path); r.status != http.StatusGone {
		t.Errorf("GET: %d", r.status)
	}
	if r := e.post(path, url.Values{"csrf": {web.CSRFToken(e.srv, path)}}); r.status != http.StatusGone {
		t.Errorf("POST: %d", r.status)
	}
	if e.snapshot() != before {
		t.Error("store changed")
	}
}

// forge changes the last byte of a token's signature (of a link's last
// path segment), keeping it well-formed base64.
func forge(tok string) string {
	prefix := ""
	if i := strings.LastIndexByte(tok, '/'); i >= 0 {
		prefix, tok = tok[:i+1], tok[i+1:]
	}
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(raw) == 0 {
		return prefix + tok + "x"
	}
	raw[len(raw)-1] ^= 0x55
	return prefix + base64.RawURLEncoding.EncodeToString(raw)
}

func TestBadTokens(t *testing.T) {
	e := newEnv(t)
	sub := e.addSubscriber("t@example.org", model.StatePending)
	active := e.addSubscriber("u@example.org", model.StateActive)
	sign := func(p token.Purpose, id uint64, exp time.Time, extra, bind string) string {
		return e.signer.Sign(token.Claims{Purpose: p, ID: id, Expires: exp, Extra: extra}, bind)
	}
	past := testStart.Add(-time.Minute)
	good := map[token.Purpose]string{
		token.Confirm:     sign(token.Confirm, sub.ID, testStart.Add(time.Hour), "", "nonce-"+sub.Email),
		token.Preferences: sign(token.Preferences, active.ID, time.Time{}, "", ""),
		token.Unsubscribe: sign(token.Unsubscribe, active.ID, time.Time{}, "", ""),
		token.Feedback:    sign(token.Feedback, active.ID, time.Time{}, "2603.01001", ""),
		token.Feed:        sign(token.Feed, active.ID, time.Time{}, "", ""),
	}
	bad := func(p token.Purpose, id uint64, bind string) map[string]string {
		other := token.Unsubscribe
		if p == token.Unsubscribe {
			other = token.Preferences
		}
		return map[string]string{
			"malformed":     "not-a-token",
			"truncated":     good[p][:len(good[p])/2],
			"forged":        forge(good[p]),
			"expired":       sign(p, id, past, "2603.01001", bind),
			"wrong purpose": good[other],
			"reused":        sign(p, id, testStart.Add(time.Hour), "", "old-nonce"),
		}
	}
	type endpoint struct {
		method, prefix, suffix string
		purpose                token.Purpose
		id                     uint64
		bind                   string
		form                   url.Values
	}
	endpoints := []endpoint{
		{"GET", "/confirm/", "", token.Confirm, sub.ID, "nonce-" + sub.Email, nil},
		{"POST", "/confirm/", "", token.Confirm, sub.ID, "nonce-" + sub.Email, url.Values{}},
		{"GET", "/preferences/", "", token.Preferences, active.ID, "", nil},
		{"POST", "/preferences/", "", token.Preferences, active.ID, "", url.Values{"interests": {"x"}}},
		{"GET", "/preferences/", "/export", token.Preferences, active.ID, "", nil},
		{"GET", "/preferences/", "/erase", token.Preferences, active.ID, "", nil},
		{"POST", "/preferences/", "/erase", token.Preferences, active.ID, "", url.Values{"confirm": {"yes"}}},
		{"POST", "/preferences/", "/feedback/undo", token.Preferences, active.ID, "", url.Values{"paper": {"x"}}},
		{"POST", "/preferences/", "/resubscribe", token.Preferences, active.ID, "", url.Values{}},
		{"GET", "/unsubscribe/", "", token.Unsubscribe, active.ID, "", nil},
		{"POST", "/unsubscribe/", "", token.Unsubscribe, active.ID, "", url.Values{}},
		{"POST", "/unsubscribe/", "", token.Unsubscribe, active.ID, "", url.Values{"List-Unsubscribe": {"One-Click"}}},
		{"GET", "/feedback/", "?v=more", token.Feedback, active.ID, "", nil},
		{"POST", "/feedback/", "", token.Feedback, active.ID, "", url.Values{"v": {"less"}}},
		{"GET", "/feed/", ".atom", token.Feed, active.ID, "", nil},
	}
	before := e.snapshot()
	for _, ep := range endpoints {
		for kind, tok := range bad(ep.purpose, ep.id, ep.bind) {
			if kind == "reused" && ep.purpose != token.Confirm {
				continue // only confirmation tokens are bound to a nonce
			}
			path := ep.prefix + tok + ep.suffix
			var r response
			if ep.form != nil {
				form := url.Values{}
				for k, v := range ep.form {
					form[k] = v
				}
				form.Set("csrf", web.CSRFToken(e.srv, path))
				r = e.post(path, form)
			} else {
				r = e.get(path)
			}
			if r.status < 400 || r.status > 499 {
				t.Errorf("%s %s… (%s): status %d", ep.method, ep.prefix+ep.suffix, kind, r.status)
			}
			if strings.Contains(r.body, "t@example.org") || strings.Contains(r.body, "u@example.org") {
				t.Errorf("%s %s (%s) shows a subscriber's address", ep.method, ep.prefix, kind)
			}
		}
	}
	if after := e.snapshot(); after != before {
		t.Errorf("bad tokens changed the store:\n%s\n%s", before, after)
	}
	// The statuses say what went wrong.
	for kind, want := range map[string]int{"malformed": 400, "forged": 403, "expired": 410, "wrong purpose": 400, "reused": 403} {
		if r := e.get("/confirm/" + bad(token.Confirm, sub.ID, "nonce-"+sub.Email)[kind]); r.status != want {
			t.Errorf("confirm link %s: %d, want %d", kind, r.status, want)
		}
	}
	// A link of a subscriber erased since answers 404.
	gone := e.addSubscriber("gone@example.org", model.StateActive)
	if err := e.st.DeleteSubscriber(gone.ID); err != nil {
		t.Fatal(err)
	}
	if r := e.get(e.path(e.links.Preferences(gone.ID))); r.status != http.StatusNotFound {
		t.Errorf("erased subscriber's preferences: %d", r.status)
	}
}

func TestCSRF(t *testing.T) {
	e := newEnv(t)
	sub := e.addSubscriber("p@example.org", model.StateActive)
	path := e.path(e.links.Preferences(sub.ID))
	tok := e.formToken(path, path)
	form := func(csrf string) url.Values {
		return url.Values{"csrf": {csrf}, "interests": {"robots"}, "frequency": {"daily"}, "hour": {"default"}}
	}
	other := e.path(e.links.Preferences(e.addSubscriber("q@example.org", model.StateActive).ID))
	tests := []struct {
		name    string
		csrf    string
		headers []string
	}{
		{"missing", "", nil},
		{"garbage", "xyz", nil},
		{"other form", web.CSRFToken(e.srv, "/subscribe"), nil},
		{"other subscriber's form", web.CSRFToken(e.srv, other), nil},
		{"tampered", forge(tok), nil},
		{"cross-site fetch", tok, []string{"Sec-Fetch-Site", "cross-site"}},
		{"foreign origin", tok, []string{"Origin", "https://evil.example"}},
	}
	before := e.snapshot()
	for _, tc := range tests {
		r := e.post(path, form(tc.csrf), tc.headers...)
		if r.status != http.StatusForbidden || !strings.Contains(r.body, "Nothing was changed") {
			t.Errorf("%s: %d", tc.name, r.status)
		}
	}
	// Tokens expire after a day.
	e.advance(web.CSRFTTL + time.Minute)
	if r := e.post(path, form(tok)); r.status != http.StatusForbidden {
		t.Errorf("day-old token: %d", r.status)
	}
	if e.snapshot() != before {
		t.Fatal("refused posts changed the store")
	}
	// A fresh token works, also when the browser sends Origin: null (it
	// does under Referrer-Policy: no-referrer) or same-origin metadata.
	tok = e.formToken(path, path)
	r := e.post(path, form(tok), "Origin", "null", "Sec-Fetch-Site", "same-origin")
	if r.status != http.StatusOK || e.sub(sub.ID).Interests[0] != "robots" {
		t.Errorf("valid post: %d\n%s", r.status, r.body)
	}
	r = e.post(path, form(tok), "Origin", e.ts.URL)
	if r.status != http.StatusOK {
		t.Errorf("same origin: %d", r.status)
	}
}

func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t)
	sub := e.addSubscriber("h@example.org", model.StateActive)
	paths := []string{"/", "/preview?interests=speech", "/healthz", "/readyz", "/metrics", "/nope",
		e.path(e.links.Preferences(sub.ID)), e.path(e.links.Unsubscribe(sub.ID)), e.path(e.links.Feed(sub.ID)),
		"/confirm/garbage", "/mailbox"}
	for _, p := range paths {
		r := e.get(p)
		h := r.header
		csp := h.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "img-src 'self' data:", "form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'", "style-src 'nonce-"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", p, csp, want)
			}
		}
		for name, want := range map[string]string{"X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer",
			"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"} {
			if got := h.Get(name); got != want {
				t.Errorf("%s: %s %q, want %q", p, name, got, want)
			}
		}
	}
	// Bodies are limited.
	big := url.Values{"email": {"a@example.org"}, "interests": {strings.Repeat("x", web.MaxBody)}}
	if r := e.post("/subscribe", big); r.status != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized body: %d", r.status)
	}
}
