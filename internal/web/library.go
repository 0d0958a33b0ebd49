package web

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/subscription"
	"github.com/papermail/papermail/internal/token"
)

// MaxLibraryUpload is the largest request POST /preferences/{token}/library
// reads: room for a library of a few thousand entries with abstracts.
const MaxLibraryUpload = 8 << 20

// bodyLimit is the most a request's body may hold: MaxBody, or
// MaxLibraryUpload for a library import.
func bodyLimit(r *http.Request) int64 {
	if r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/preferences/") && strings.HasSuffix(r.URL.Path, "/library") {
		return MaxLibraryUpload
	}
	return MaxBody
}

// saveLibrary is POST /preferences/{token}/library: it replaces the
// reader's library with an uploaded or pasted file (or removes it, with
// "clear"). A file with any malformed entry is refused as a whole, naming
// each entry, and the stored library stays as it was.
func (s *Server) saveLibrary(w http.ResponseWriter, r *http.Request) {
	var err error
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		err = r.ParseMultipartForm(1 << 20)
		if r.MultipartForm != nil {
			defer r.MultipartForm.RemoveAll()
		}
	} else {
		err = r.ParseForm()
	}
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			s.message(w, r, http.StatusRequestEntityTooLarge, "Library too large",
				fmt.Sprintf("The library is larger than %d MiB. Nothing was changed. Export a collection of it instead.", MaxLibraryUpload>>20))
			return
		}
		s.message(w, r, http.StatusBadRequest, "Unreadable form", "papermail could not read what you sent. Nothing was changed.")
		return
	}
	pasted := r.PostForm.Get("library")
	cleanValues(r.PostForm)
	cleanValues(r.Form)
	if !s.csrfOK(r) {
		s.csrfFailed(w, r)
		return
	}
	_, sub, ok := s.subscriberFor(w, r, token.Preferences)
	if !ok {
		return
	}
	if r.PostForm.Has("clear") {
		sub, err = s.Subscriptions.SetLibrary(sub.ID, nil)
		if err != nil {
			s.internal(w, r, "remove library", err)
			return
		}
		s.libraryPage(w, r, &sub, http.StatusOK, "Your library is removed.", nil)
		return
	}
	var src io.Reader = strings.NewReader(pasted)
	name := "the pasted library"
	if r.MultipartForm != nil {
		if fhs := r.MultipartForm.File["file"]; len(fhs) > 0 && fhs[0].Size > 0 {
			f, err := fhs[0].Open()
			if err != nil {
				s.internal(w, r, "library upload", err)
				return
			}
			defer f.Close()
			src, name = f, fhs[0].Filename
		}
	}
	if name == "the pasted library" && strings.TrimSpace(pasted) == "" {
		s.libraryPage(w, r, &sub, http.StatusBadRequest, "", []string{"Library: choose a file or paste one. Nothing was changed."})
		return
	}
	entries, err := subscription.ParseLibrary(src)
	if err != nil {
		s.libraryPage(w, r, &sub, http.StatusBadRequest, "", libraryProblems(name, err))
		return
	}
	sub, err = s.Subscriptions.SetLibrary(sub.ID, entries)
	if err != nil {
		s.internal(w, r, "save library", err)
		return
	}
	s.libraryPage(w, r, &sub, http.StatusOK, fmt.Sprintf("Library imported: %d papers. Papers like them now rank up.", len(entries)), nil)
}

// libraryProblems words a refused library for the page, one line per
// problem.
func libraryProblems(name string, err error) []string {
	msg := err.Error()
	if _, rest, ok := strings.Cut(msg, "nothing imported: "); ok {
		msg = rest
	} else {
		msg = strings.TrimPrefix(msg, string(subscription.FieldLibrary)+": ")
	}
	out := []string{fmt.Sprintf("Library: %s was refused as a whole and nothing was changed.", name)}
	for p := range strings.SplitSeq(msg, "; ") {
		out = append(out, strings.ToUpper(p[:1])+p[1:]+".")
	}
	return out
}

// libraryPage shows the preferences page after a library change.
func (s *Server) libraryPage(w http.ResponseWriter, r *http.Request, sub *model.Subscriber, status int, notice string, errs []string) {
	v := s.prefsView(r, sub, nil)
	v.Notice, v.Errors = notice, errs
	s.prefsPage(w, r, sub, status, v)
}
