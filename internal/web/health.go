package web

import (
	"net/http"
)

// healthz is GET /healthz: the process is up.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	write(w, r, http.StatusOK, textPlain, []byte("ok\n"))
}

// readyz is GET /readyz: the store answers and the templates are loaded.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	switch err := s.Store.Ping(); {
	case err != nil:
		s.Log.Warn("not ready", "error", err)
		write(w, r, http.StatusServiceUnavailable, textPlain, []byte("store unavailable\n"))
	case !s.Engine.HasPage("message"):
		write(w, r, http.StatusServiceUnavailable, textPlain, []byte("templates not loaded\n"))
	default:
		write(w, r, http.StatusOK, textPlain, []byte("ready\n"))
	}
}
