package cli

import (
	"encoding/json"
	"github.com/papermail/papermail/internal/embeddings/embedtest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestNeverSilentlyEmpty runs the commands a reader's interests pass
// through when one matches nothing: preview names it and offers nearby
// terms, the digest run logs per subscriber what each interest matched,
// and status counts the subscribers who got nothing in the last run.
func TestNeverSilentlyEmpty(t *testing.T) {
	installEnv(t, "LOG_LEVEL", "info", "DIGEST_FALLBACK", "none")
	now := time.Now().UTC().Add(-2 * time.Hour).Format(time.RFC3339)
	old := time.Now().UTC().Add(-20 * 24 * time.Hour).Format(time.RFC3339)
	hf := `[{"paper":{"id":"2612.05001","title":"Speech Recognition for Code-Switched Conversations","summary":"A speech recognition model for conversations that switch languages.",
"authors":[{"name":"Li Na"}],"publishedAt":"` + now + `","upvotes":40},"numComments":3},
{"paper":{"id":"2612.05002","title":"Streaming Speech Recognition with Sparse Attention","summary":"Streaming speech recognition made cheaper with sparse attention.",
"authors":[{"name":"Ana Ruiz"}],"publishedAt":"` + now + `"}},
{"paper":{"id":"2612.05003","title":"Glacier Retreat Measured from Historical Photographs","summary":"Historical photographs of alpine glaciers are aligned with satellite images.",
"authors":[{"name":"Ana Ruiz"}],"publishedAt":"` + old + `"}}]`
	path := filepath.Join(t.TempDir(), "hf.json")
	if err := os.WriteFile(path, []byte(hf), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := runMain(t, "ingest", path); code != 0 {
		t.Fatalf("ingest: %s %s", out, errOut)
	}
	// Preview: the matching interest's papers, and for each interest that
	// matches nothing a line saying so, with nearby terms when any. The
	// glacier paper is older than digest.window: its words do not count.
	code, out, errOut := runMain(t, "preview", "--interests", "speech recognition; speech recognitoin; glacier retreat")
	if code != 0 {
		t.Fatalf("preview: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"Speech Recognition for Code-Switched Conversations",
		`"speech recognitoin" matches no paper of the last`, "Nearby terms in recent papers: speech recognition",
		`"glacier retreat" matches no paper of the last`, "Nothing in recent papers is close to it."} {
		if !strings.Contains(out, want) {
			t.Errorf("preview lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "Glacier") {
		t.Errorf("preview shows a paper older than digest.window:\n%s", out)
	}
	// With --format json the papers stay a JSON list; the notes go to stderr.
	code, out, errOut = runMain(t, "preview", "--interests", "glacier retreat", "--format", "json")
	var items []map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &items) != nil || len(items) != 0 || !strings.Contains(errOut, `"glacier retreat" matches no paper`) {
		t.Errorf("json preview: exit %d\nstdout %s\nstderr %s", code, out, errOut)
	}

	for _, add := range [][]string{
		{"hears@example.org", "speech recognition; glacier retreat"},
		{"nothing@example.org", "glacier retreat"},
	} {
		if code, out, errOut := runMain(t, "subscribers", "add", add[0], "--interests", add[1], "--confirmed"); code != 0 {
			t.Fatalf("add %s: %s %s", add[0], out, errOut)
		}
	}
	code, out, errOut = runMain(t, "digest")
	if code != 0 {
		t.Fatalf("digest: exit %d\n%s\n%s", code, out, errOut)
	}
	logs := out + errOut
	var lines []string
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, "digest selection") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 2 {
		t.Fatalf("%d selection log lines, want one per subscriber:\n%s", len(lines), logs)
	}
	joined := strings.Join(lines, "\n")
	for _, want := range []string{`\"speech recognition\" 2; \"glacier retreat\" 0`, `\"glacier retreat\" 0`} {
		if !strings.Contains(joined, want) {
			t.Errorf("selection logs lack %s:\n%s", want, joined)
		}
	}
	code, out, _ = runMain(t, "status")
	if code != 0 || !strings.Contains(out, "unmatched:    1 subscribers got nothing matching their interests") {
		t.Errorf("status:\n%s", out)
	}
	code, out, _ = runMain(t, "status", "--format", "json")
	var st struct {
		Unmatched *struct {
			Date              string
			Skipped, Fallback int
		} `json:"unmatched_last_run"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &st) != nil || st.Unmatched == nil || st.Unmatched.Skipped != 1 || st.Unmatched.Date == "" {
		t.Errorf("status json: %s", out)
	}
}

// TestStatusSaysEmbeddingsFellBack configures an embeddings provider that
// refuses: the digest still goes out, and status says the provider was not
// used and why.
func TestStatusSaysEmbeddingsFellBack(t *testing.T) {
	prov := embedtest.Start()
	defer prov.Close()
	prov.SetStatus(503)
	installEnv(t, "RANKING_EMBEDDINGS_URL", prov.URL+"/api/embed", "RANKING_EMBEDDINGS_MODEL", "fake-embed",
		"RANKING_EMBEDDINGS_TIMEOUT", "1s")
	now := time.Now().UTC().Add(-2 * time.Hour).Format(time.RFC3339)
	path := filepath.Join(t.TempDir(), "hf.json")
	hf := `[{"paper":{"id":"2612.06001","title":"Speech Recognition for Code-Switched Conversations","summary":"A speech recognition model.","authors":[{"name":"Li Na"}],"publishedAt":"` + now + `"}}]`
	if err := os.WriteFile(path, []byte(hf), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := runMain(t, "ingest", path); code != 0 {
		t.Fatalf("ingest with a failing provider: %s %s", out, errOut)
	}
	if code, out, errOut := runMain(t, "status"); code != 0 || !strings.Contains(out, "embeddings:   fake-embed: NOT USED, built-in ranking only (no digest run since it was configured)") {
		t.Errorf("status before any run: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, out, errOut := runMain(t, "subscribers", "add", "r@example.org", "--interests", "speech recognition", "--confirmed"); code != 0 {
		t.Fatalf("add: %s %s", out, errOut)
	}
	if code, out, errOut := runMain(t, "digest"); code != 0 || !strings.Contains(out+errOut, "1 sent") {
		t.Fatalf("digest with a failing provider: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, _ := runMain(t, "status")
	if code != 0 || !strings.Contains(out, "embeddings:   fake-embed: NOT USED, built-in ranking only") || !strings.Contains(out, "503") {
		t.Errorf("status after the run:\n%s", out)
	}
}
