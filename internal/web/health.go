package web

import (
	"net/http"
)

// healthz is GET /healthz: the process is up.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}

// readyz is GET /readyz: the store answers and the templates are loaded.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := s.Store.Ping(); err != nil {
		s.Log.Warn("not ready", "error", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("store unavailable\n"))
		return
	}
	if !s.Engine.HasPage("message") {
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("templates not loaded\n"))
		return
	}
	w.Write([]byte("ready\n"))
}
