package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/papermail/papermail/internal/library"
	"github.com/papermail/papermail/internal/store"
)

// cite is GET /cite/{id}.bib: the paper's BibTeX entry as a download. It
// is public (it names a paper, never a reader) and changes nothing.
func (s *Server) cite(w http.ResponseWriter, r *http.Request) {
	id, ok := strings.CutSuffix(r.PathValue("id"), ".bib")
	if !ok || id == "" {
		s.notFound(w, r)
		return
	}
	p, err := s.Store.Paper(id)
	if errors.Is(err, store.ErrNotFound) {
		s.message(w, r, http.StatusNotFound, "Paper not found", "papermail does not know this paper (any more).")
		return
	}
	if err != nil {
		s.internal(w, r, "cite", err)
		return
	}
	w.Header().Set("Content-Disposition", `attachment; filename="`+library.CiteKey(&p)+`.bib"`)
	w.Header().Set("Cache-Control", "public, max-age=86400")
	write(w, r, http.StatusOK, "application/x-bibtex; charset=utf-8", []byte(library.Cite(&p)))
}
