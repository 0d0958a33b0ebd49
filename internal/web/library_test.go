package web_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/papermail/papermail/internal/model"
)

// upload posts a library file to the preferences page's library form as
// a browser does (multipart/form-data).
func (e *env) upload(prefs, filename string, data []byte, fields map[string]string) response {
	e.t.Helper()
	action := prefs + "/library"
	tok := e.formToken(prefs, action)
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("csrf", tok)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	if filename != "" {
		fw, err := mw.CreateFormFile("file", filename)
		if err != nil {
			e.t.Fatal(err)
		}
		fw.Write(data)
	}
	mw.Close()
	req, err := http.NewRequest("POST", e.ts.URL+action, &buf)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

func libraryFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "library", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestLibraryUpload: a BibTeX library uploads over real HTTP and is
// stored whole; a malformed one is refused naming the entry, leaving the
// stored library as it was; a pasted id list replaces it; clear removes it.
func TestLibraryUpload(t *testing.T) {
	e := newEnv(t)
	sub := e.addSubscriber("lib@example.org", model.StateActive, "speech recognition")
	prefs := e.path(e.links.Preferences(sub.ID))

	r := e.upload(prefs, "speech-20.bib", libraryFile(t, "speech-20.bib"), nil)
	if r.status != http.StatusOK || !strings.Contains(r.body, "Library imported: 20 papers") {
		t.Fatalf("upload: %d\n%s", r.status, r.body)
	}
	if got := e.sub(sub.ID); len(got.Library) != 20 || got.Library[0].ArxivID != "2301.00101" {
		t.Fatalf("stored library: %d entries", len(got.Library))
	}
	if r := e.get(prefs); !strings.Contains(r.body, "20 papers") || !strings.Contains(r.body, "Streaming End-to-End Speech Recognition") {
		t.Errorf("the page does not show the library")
	}

	before := e.snapshot()
	r = e.upload(prefs, "malformed.bib", libraryFile(t, "malformed.bib"), nil)
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, "Entry 3 (broken3), line 12") || !strings.Contains(r.body, "refused as a whole") {
		t.Errorf("malformed upload: %d\n%s", r.status, r.body)
	}
	if after := e.snapshot(); after != before {
		t.Error("a refused library changed the store")
	}

	r = e.upload(prefs, "", nil, map[string]string{"library": "1706.03762\n10.1109/CVPR.2016.90\n"})
	if r.status != http.StatusOK || len(e.sub(sub.ID).Library) != 2 {
		t.Errorf("pasted ids: %d, %d entries", r.status, len(e.sub(sub.ID).Library))
	}
	r = e.upload(prefs, "", nil, map[string]string{"clear": "1"})
	if r.status != http.StatusOK || len(e.sub(sub.ID).Library) != 0 {
		t.Errorf("clear: %d, %d entries", r.status, len(e.sub(sub.ID).Library))
	}
	// A forged post (no CSRF token) changes nothing.
	if r := e.post(prefs+"/library", url.Values{"library": {"1706.03762"}}); r.status == http.StatusOK || len(e.sub(sub.ID).Library) != 0 {
		t.Errorf("post without a CSRF token: %d", r.status)
	}
}

// TestPreferencesAuthorsAndCategories: the preferences form saves
// followed authors and categories picked from those the store has seen.
func TestPreferencesAuthorsAndCategories(t *testing.T) {
	e := newEnv(t)
	sub := e.addSubscriber("a@example.org", model.StateActive, "speech recognition")
	prefs := e.path(e.links.Preferences(sub.ID))
	page := e.get(prefs)
	cats, err := e.st.Categories()
	if err != nil {
		t.Fatal(err)
	}
	if len(cats) == 0 {
		t.Fatal("the fixture papers name no category")
	}
	if !strings.Contains(page.body, `name="category" value="`+cats[0].Name+`"`) {
		t.Fatalf("the page does not offer the store's category %s", cats[0].Name)
	}
	tok := e.formToken(prefs, prefs)
	form := url.Values{"csrf": {tok}, "interests": {""}, "authors": {"LeCun, Yann\nY. Bengio"}, "category": {cats[0].Name},
		"category_mode": {"filter"}, "frequency": {"daily"}, "hour": {"default"}}
	r := e.post(prefs, form)
	if r.status != http.StatusOK || !strings.Contains(r.body, "Saved") {
		t.Fatalf("save: %d\n%s", r.status, r.body)
	}
	got := e.sub(sub.ID)
	if strings.Join(got.Authors, "|") != "LeCun, Yann|Y. Bengio" || len(got.Categories) != 1 || got.Categories[0] != cats[0].Name ||
		got.CategoryMode != model.CategoryFilter || len(got.Interests) != 0 {
		t.Errorf("stored %+v", got)
	}
	form.Set("authors", "Bengio")
	form.Set("csrf", e.formToken(prefs, prefs))
	if r := e.post(prefs, form); r.status != http.StatusBadRequest || !strings.Contains(r.body, "Followed authors: author 1") {
		t.Errorf("a bare surname: %d\n%s", r.status, r.body)
	}
}

// TestSubscribeWithAuthorsOnly: the subscribe form takes followed authors,
// and interests may then be empty.
func TestSubscribeWithAuthorsOnly(t *testing.T) {
	e := newEnv(t, noRateLimit)
	tok := e.formToken("/", "/subscribe")
	r := e.post("/subscribe", url.Values{"csrf": {tok}, "email": {"fan@example.org"}, "interests": {""}, "authors": {"Yann LeCun"}})
	if r.status != http.StatusOK {
		t.Fatalf("subscribe: %d\n%s", r.status, r.body)
	}
	sub, err := e.st.SubscriberByEmail("fan@example.org")
	if err != nil || sub.State != model.StatePending || len(sub.Authors) != 1 || sub.Authors[0] != "Yann LeCun" {
		t.Fatalf("stored %+v, %v", sub, err)
	}
	tok = e.formToken("/", "/subscribe")
	if r := e.post("/subscribe", url.Values{"csrf": {tok}, "email": {"none@example.org"}, "interests": {""}}); r.status != http.StatusBadRequest {
		t.Errorf("nothing to match: %d", r.status)
	}
}
