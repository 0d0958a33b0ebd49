package feeds

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// proxyChildEnv marks the child process of TestEnvProxyJudgesRedirect.
const proxyChildEnv = "PAPERMAIL_TEST_PROXY_CHILD"

// TestEnvProxyJudgesRedirect fetches through a real proxy on 127.0.0.1
// named by HTTP_PROXY, as an operator's network sets it. The proxy answers
// the feed's public address with a redirect to the link-local metadata
// address: the fetch must refuse it before asking the proxy for it. The
// fetch runs in a child process, since http.ProxyFromEnvironment reads the
// environment once per process.
func TestEnvProxyJudgesRedirect(t *testing.T) {
	if os.Getenv(proxyChildEnv) != "" {
		_, _, err := Load(context.Background(), "http://93.184.216.34/papers.json", FormatHF, time.Now())
		os.Stdout.WriteString("child fetch: " + errText(err) + "\n")
		return
	}
	var mu sync.Mutex
	var asked []string
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asked = append(asked, r.URL.String())
		mu.Unlock()
		if r.URL.Host == "93.184.216.34" {
			http.Redirect(w, r, "http://169.254.169.254/latest/meta-data", http.StatusFound)
			return
		}
		w.Write([]byte("[]"))
	}))
	defer proxy.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^TestEnvProxyJudgesRedirect$", "-test.count=1")
	cmd.Env = append(os.Environ(), proxyChildEnv+"=1", "HTTP_PROXY="+proxy.URL, "http_proxy="+proxy.URL, "NO_PROXY=", "no_proxy=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(asked) != 1 || asked[0] != "http://93.184.216.34/papers.json" {
		t.Errorf("the proxy was asked for %q, want only the feed (never the metadata address)", asked)
	}
	if !strings.Contains(string(out), "refusing to connect to 169.254.169.254") {
		t.Errorf("the redirect was not refused:\n%s", out)
	}
}

func errText(err error) string {
	if err == nil {
		return "no error"
	}
	return err.Error()
}
