// Package embedtest is an in-process embeddings provider for tests: an
// HTTP server on 127.0.0.1 speaking the OpenAI-compatible /v1/embeddings
// and Ollama /api/embed wire formats, whose vectors are hashed bags of
// words (texts sharing words are similar, as with a real model; no model
// can run here). It can be made slow or failing, and counts requests.
package embedtest

import (
	"encoding/json"
	"hash/fnv"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
)

// Server is a running fake provider.
type Server struct {
	// URL is the server's base URL (add /v1/embeddings or /api/embed).
	URL string
	srv *httptest.Server
	// Requests and Texts count the embedding requests and texts answered.
	Requests, Texts atomic.Int64
	mu              sync.Mutex
	auth            []string
	delay           time.Duration
	status          int
	aliases         map[string][]string
}

// Dims is the length of the vectors.
const Dims = 64

// Start starts a server on 127.0.0.1; Close stops it.
func Start() *Server {
	f := &Server{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/embeddings", f.handle(false))
	mux.HandleFunc("POST /api/embed", f.handle(true))
	f.srv = httptest.NewServer(mux)
	f.URL = f.srv.URL
	return f
}

// Close stops the server.
func (f *Server) Close() { f.srv.Close() }

// Client is an HTTP client for the server.
func (f *Server) Client() *http.Client { return f.srv.Client() }

// SetDelay makes every answer wait d (0: answer at once).
func (f *Server) SetDelay(d time.Duration) { f.mu.Lock(); f.delay = d; f.mu.Unlock() }

// SetStatus makes every answer an HTTP error with status (0: answer).
func (f *Server) SetStatus(status int) { f.mu.Lock(); f.status = status; f.mu.Unlock() }

// Alias makes the vector of word also carry the words it stands for, as
// a model knows that "tune" is close to "song".
func (f *Server) Alias(word string, like ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.aliases == nil {
		f.aliases = map[string][]string{}
	}
	f.aliases[word] = append(f.aliases[word], like...)
}

// Auth returns the Authorization headers received, in order.
func (f *Server) Auth() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.auth...)
}

func (f *Server) handle(ollama bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f.Requests.Add(1)
		f.mu.Lock()
		f.auth = append(f.auth, r.Header.Get("Authorization"))
		delay, status := f.delay, f.status
		f.mu.Unlock()
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
				return
			}
		}
		if status != 0 {
			http.Error(w, `{"error":"model not loaded"}`, status)
			return
		}
		var req struct {
			Model string   `json:"model"`
			Input []string `json:"input"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Model == "" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		f.Texts.Add(int64(len(req.Input)))
		vecs := make([][]float32, len(req.Input))
		for i, t := range req.Input {
			vecs[i] = f.Vector(t)
		}
		w.Header().Set("Content-Type", "application/json")
		if ollama {
			json.NewEncoder(w).Encode(map[string]any{"model": req.Model, "embeddings": vecs})
			return
		}
		type item struct {
			Object    string    `json:"object"`
			Index     int       `json:"index"`
			Embedding []float32 `json:"embedding"`
		}
		data := make([]item, len(vecs))
		// Answer out of order: the index field says which is which.
		for i := range vecs {
			j := len(vecs) - 1 - i
			data[i] = item{Object: "embedding", Index: j, Embedding: vecs[j]}
		}
		json.NewEncoder(w).Encode(map[string]any{"object": "list", "data": data, "model": req.Model})
	}
}

// Vector is the vector the server gives text.
func (f *Server) Vector(text string) []float32 {
	f.mu.Lock()
	defer f.mu.Unlock()
	v := make([]float32, Dims)
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) }) {
		for _, x := range append([]string{w}, f.aliases[w]...) {
			h := fnv.New32a()
			h.Write([]byte(strings.TrimSuffix(x, "s")))
			v[h.Sum32()%Dims] += 1
		}
	}
	var s float64
	for _, x := range v {
		s += float64(x * x)
	}
	if s == 0 {
		v[0] = 1
		return v
	}
	for i := range v {
		v[i] /= float32(math.Sqrt(s))
	}
	return v
}
