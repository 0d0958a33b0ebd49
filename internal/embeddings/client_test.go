package embeddings

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/papermail/papermail/internal/config"
	"github.com/papermail/papermail/internal/embeddings/embedtest"
)

func clientFor(f *embedtest.Server, path string, timeout time.Duration) *Client {
	return New(config.Embeddings{URL: f.URL + path, Model: "test-embed", APIKey: "sk-test", Timeout: timeout, Weight: 0.4}, f.Client())
}

func TestEmbedBothWireFormats(t *testing.T) {
	f := embedtest.Start()
	defer f.Close()
	texts := make([]string, BatchSize+5)
	for i := range texts {
		texts[i] = fmt.Sprintf("paper number %d about speech", i)
	}
	for _, path := range []string{"/v1/embeddings", "/api/embed"} {
		t.Run(path, func(t *testing.T) {
			before := f.Requests.Load()
			vecs, err := clientFor(f, path, 5*time.Second).Embed(context.Background(), texts)
			if err != nil {
				t.Fatal(err)
			}
			if len(vecs) != len(texts) {
				t.Fatalf("%d vectors for %d texts", len(vecs), len(texts))
			}
			for i, v := range vecs {
				if !slices.Equal(v, f.Vector(texts[i])) {
					t.Fatalf("vector %d is not the one for its text (order lost)", i)
				}
			}
			if n := f.Requests.Load() - before; n != 2 {
				t.Errorf("%d requests for %d texts, want 2 batches", n, len(texts))
			}
		})
	}
	for _, a := range f.Auth() {
		if a != "Bearer sk-test" {
			t.Errorf("Authorization %q", a)
		}
	}
}

func TestEmbedFailures(t *testing.T) {
	t.Run("error status", func(t *testing.T) {
		f := embedtest.Start()
		defer f.Close()
		f.SetStatus(503)
		_, err := clientFor(f, "/api/embed", time.Second).Embed(context.Background(), []string{"a"})
		var pe *Error
		if !errors.As(err, &pe) || pe.Status != 503 || !errors.Is(err, ErrProvider) {
			t.Fatalf("error %v, want a 503 *Error wrapping ErrProvider", err)
		}
	})
	t.Run("slow", func(t *testing.T) {
		f := embedtest.Start()
		defer f.Close()
		f.SetDelay(2 * time.Second)
		start := time.Now()
		_, err := clientFor(f, "/v1/embeddings", 200*time.Millisecond).Embed(context.Background(), []string{"a"})
		if !errors.Is(err, ErrProvider) {
			t.Fatalf("error %v, want ErrProvider", err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("a slow provider held Embed for %v", d)
		}
	})
	t.Run("unreachable", func(t *testing.T) {
		f := embedtest.Start()
		f.Close()
		if _, err := clientFor(f, "/v1/embeddings", time.Second).Embed(context.Background(), []string{"a"}); !errors.Is(err, ErrProvider) {
			t.Fatalf("error %v, want ErrProvider", err)
		}
	})
	t.Run("not vectors", func(t *testing.T) {
		f := embedtest.Start()
		defer f.Close()
		// The OpenAI path asked of an Ollama-only answer shape is refused.
		c := New(config.Embeddings{URL: f.URL + "/api/embed", Model: "m", Timeout: time.Second, Weight: 0.4}, nil)
		c.wire = config.WireOpenAI
		if _, err := c.Embed(context.Background(), []string{"a"}); !errors.Is(err, ErrProvider) {
			t.Fatalf("error %v, want ErrProvider", err)
		}
	})
	if New(config.Embeddings{}, nil) != nil {
		t.Error("New without a URL is not nil (embeddings off)")
	}
}
