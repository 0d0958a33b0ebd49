package web

import (
	"net/http"
)

// routes registers every endpoint. GET patterns also answer HEAD; nothing
// served on GET changes state.
func (s *Server) routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", s.subscribePage)
	mux.HandleFunc("GET /preview", s.subscribePreview)
	mux.HandleFunc("POST /subscribe", s.subscribe)
	mux.HandleFunc("GET /link", s.linkPage)
	mux.HandleFunc("POST /link", s.sendLink)

	mux.HandleFunc("GET /confirm/{token}", s.confirmPage)
	mux.HandleFunc("POST /confirm/{token}", s.confirm)

	mux.HandleFunc("GET /preferences/{token}", s.preferencesPage)
	mux.HandleFunc("POST /preferences/{token}", s.savePreferences)
	mux.HandleFunc("GET /preferences/{token}/export", s.export)
	mux.HandleFunc("GET /preferences/{token}/erase", s.erasePage)
	mux.HandleFunc("POST /preferences/{token}/erase", s.erase)
	mux.HandleFunc("POST /preferences/{token}/feedback/undo", s.undoFeedback)
	mux.HandleFunc("POST /preferences/{token}/resubscribe", s.resubscribe)
	mux.HandleFunc("POST /preferences/{token}/library", s.saveLibrary)

	mux.HandleFunc("GET /unsubscribe/{token}", s.unsubscribePage)
	mux.HandleFunc("POST /unsubscribe/{token}", s.unsubscribe)

	mux.HandleFunc("GET /feedback/{token}", s.feedbackPage)
	mux.HandleFunc("POST /feedback/{token}", s.feedback)

	mux.HandleFunc("GET /feed/{file}", s.feed)
	mux.HandleFunc("GET /cite/{id...}", s.cite)
	mux.HandleFunc("GET /view/{token}", s.viewDigest)

	if s.Config.Tracking.Clicks {
		mux.HandleFunc("GET /c/{token}", s.click)
	}

	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	// /metrics is on the public listener only for the networks of
	// metrics.allow (with metrics.listen the daemon serves it apart).
	if s.Metrics != nil && s.Config.Metrics.OnPublicListener() {
		mux.Handle("GET /metrics", s.Metrics.Handler(s.Config.Metrics.Networks()))
	}

	if s.mailbox {
		mux.HandleFunc("GET /mailbox", s.localOnly(s.mailboxList))
		mux.HandleFunc("GET /mailbox/{name}", s.localOnly(s.mailboxMessage))
		mux.HandleFunc("GET /mailbox/{name}/html", s.localOnly(s.mailboxHTML))
		mux.HandleFunc("POST /mailbox/send-now", s.localOnly(s.sendNow))
	}

	mux.HandleFunc("/", s.notFound)
}

// notFound answers every path no route takes, with the site's page.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	s.message(w, r, http.StatusNotFound, "Page not found", "There is no page at this address.")
}
