package config

import (
	"net/url"
	"strings"
	"time"
)

// Ranking configures optional parts of the ranking. The built-in ranker
// needs none of them.
type Ranking struct {
	Embeddings Embeddings `yaml:"embeddings"`
}

// Embeddings configures an optional embeddings provider whose vector
// similarity is blended with the built-in lexical relevance. An empty URL
// turns it off. A slow, failing or absent provider never costs a digest:
// ranking falls back to the built-in one.
type Embeddings struct {
	// URL is the provider's endpoint: an OpenAI-compatible
	// ".../v1/embeddings" or Ollama's ".../api/embed".
	URL string `yaml:"url"`
	// Model is the embedding model's name at the provider.
	Model string `yaml:"model"`
	// APIKey is sent as a bearer token; keep it out of the file with
	// PAPERMAIL_RANKING_EMBEDDINGS_API_KEY.
	APIKey string `yaml:"api_key"`
	// Timeout bounds one request to the provider.
	Timeout time.Duration `yaml:"timeout"`
	// Weight is the share of relevance given to embedding similarity.
	Weight float64 `yaml:"weight"`
}

// Defaults of the embeddings provider.
const (
	DefaultEmbeddingsTimeout = 10 * time.Second
	DefaultEmbeddingsWeight  = 0.4
)

// EmbeddingsWire names the provider wire formats.
const (
	WireOpenAI = "openai" // POST {model, input: [...]} to /v1/embeddings
	WireOllama = "ollama" // POST {model, input: [...]} to /api/embed
)

// Wire returns the wire format the URL speaks, "" when it names neither.
func (e Embeddings) Wire() string {
	u, err := url.Parse(e.URL)
	if err != nil {
		return ""
	}
	switch p := strings.TrimRight(u.Path, "/"); {
	case strings.HasSuffix(p, "/v1/embeddings"):
		return WireOpenAI
	case strings.HasSuffix(p, "/api/embed"):
		return WireOllama
	}
	return ""
}

func defaultRanking() Ranking {
	return Ranking{Embeddings: Embeddings{Timeout: DefaultEmbeddingsTimeout, Weight: DefaultEmbeddingsWeight}}
}

func checkRanking(ps *problems, r Ranking) {
	e := r.Embeddings
	if e.URL == "" {
		return
	}
	u, err := url.Parse(e.URL)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		ps.add("ranking.embeddings.url", "want an http(s) URL such as http://127.0.0.1:11434/api/embed, got %q", e.URL)
	case e.Wire() == "":
		ps.add("ranking.embeddings.url", "want a path ending in /v1/embeddings (OpenAI-compatible) or /api/embed (Ollama), got %q", u.Path)
	}
	if strings.TrimSpace(e.Model) == "" {
		ps.add("ranking.embeddings.model", "must name the embedding model when ranking.embeddings.url is set")
	}
	checkDuration(ps, "ranking.embeddings.timeout", e.Timeout, 100*time.Millisecond, 5*time.Minute)
	if e.Weight <= 0 || e.Weight > 1 {
		ps.add("ranking.embeddings.weight", "must be in (0, 1], got %g", e.Weight)
	}
}
