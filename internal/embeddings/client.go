// Package embeddings talks to an optional embeddings provider, an
// OpenAI-compatible /v1/embeddings endpoint or Ollama's /api/embed, and
// keeps the vectors papermail ranks with: paper vectors computed once, in
// batches, and stored (internal/store vectors bucket), interest vectors
// fetched before a digest run's per-subscriber loop and kept too. Nothing
// here is needed for ranking: when the provider is absent, slow or
// failing, callers rank with the built-in lexical ranker and say so.
package embeddings

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/papermail/papermail/internal/config"
)

// BatchSize is the most texts sent in one request.
const BatchSize = 64

// maxResponse bounds a provider's answer.
const maxResponse = 64 << 20

// ErrProvider is wrapped by every failure of the provider: refused,
// unreachable, too slow, or an answer that is not vectors.
var ErrProvider = errors.New("embeddings provider")

// Error is a provider's HTTP error answer.
type Error struct {
	Status int
	Body   string // start of the answer, for the log
}

func (e *Error) Error() string {
	return fmt.Sprintf("%v: HTTP %d: %s", ErrProvider, e.Status, e.Body)
}

func (e *Error) Unwrap() error { return ErrProvider }

// Client embeds texts with one provider and model. It is safe for
// concurrent use.
type Client struct {
	url, model, key, wire string
	timeout               time.Duration
	http                  *http.Client
}

// New returns a client for cfg, or nil when cfg has no URL (embeddings
// off). cfg must be valid (config.Validate).
func New(cfg config.Embeddings, hc *http.Client) *Client {
	if cfg.URL == "" {
		return nil
	}
	if hc == nil {
		hc = &http.Client{}
	}
	return &Client{url: cfg.URL, model: cfg.Model, key: cfg.APIKey, wire: cfg.Wire(), timeout: cfg.Timeout, http: hc}
}

// Model is the model name vectors are stored under.
func (c *Client) Model() string { return c.model }

// Embed returns one vector per text, in order, in requests of at most
// BatchSize texts, each bounded by the configured timeout.
func (c *Client) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, 0, len(texts))
	for start := 0; start < len(texts); start += BatchSize {
		batch := texts[start:min(start+BatchSize, len(texts))]
		vecs, err := c.embedBatch(ctx, batch)
		if err != nil {
			return nil, err
		}
		out = append(out, vecs...)
	}
	return out, nil
}

// request is the body both wire formats accept.
type request struct {
	Model string   `json:"model"`
	Input []string `json:"input"`
}

// openAIResponse is the OpenAI-compatible answer.
type openAIResponse struct {
	Data []struct {
		Index     int       `json:"index"`
		Embedding []float32 `json:"embedding"`
	} `json:"data"`
}

// ollamaResponse is Ollama's /api/embed answer.
type ollamaResponse struct {
	Embeddings [][]float32 `json:"embeddings"`
}

func (c *Client) embedBatch(ctx context.Context, texts []string) ([][]float32, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	body, err := json.Marshal(request{Model: c.model, Input: texts})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrProvider, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrProvider, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return nil, fmt.Errorf("%w: reading the answer: %v", ErrProvider, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, &Error{Status: resp.StatusCode, Body: strings.TrimSpace(string(raw[:min(len(raw), 200)]))}
	}
	if len(raw) > maxResponse {
		return nil, fmt.Errorf("%w: answer larger than %d bytes", ErrProvider, maxResponse)
	}
	var vecs [][]float32
	switch c.wire {
	case config.WireOllama:
		var r ollamaResponse
		if err := json.Unmarshal(raw, &r); err != nil {
			return nil, fmt.Errorf("%w: not an /api/embed answer: %v", ErrProvider, err)
		}
		vecs = r.Embeddings
	default:
		var r openAIResponse
		if err := json.Unmarshal(raw, &r); err != nil {
			return nil, fmt.Errorf("%w: not a /v1/embeddings answer: %v", ErrProvider, err)
		}
		vecs = make([][]float32, len(r.Data))
		for _, d := range r.Data {
			if d.Index < 0 || d.Index >= len(vecs) || vecs[d.Index] != nil {
				return nil, fmt.Errorf("%w: answer has a bad or repeated index %d", ErrProvider, d.Index)
			}
			vecs[d.Index] = d.Embedding
		}
	}
	if len(vecs) != len(texts) {
		return nil, fmt.Errorf("%w: %d vectors for %d texts", ErrProvider, len(vecs), len(texts))
	}
	dims := len(vecs[0])
	for i, v := range vecs {
		if len(v) == 0 || len(v) != dims {
			return nil, fmt.Errorf("%w: vector %d has %d dimensions, the first %d", ErrProvider, i, len(v), dims)
		}
	}
	return vecs, nil
}
