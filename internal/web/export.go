package web

import (
	"cmp"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/token"
)

// exportData is everything papermail holds about one subscriber.
type exportData struct {
	Exported    time.Time        `json:"exported"`
	Subscriber  model.Subscriber `json:"subscriber"`
	SentHistory []sentPaper      `json:"sent_history"`
}

// sentPaper is one paper sent to the subscriber and the digest date.
type sentPaper struct {
	PaperID string `json:"paper_id"`
	Date    string `json:"date"`
}

// export is GET /preferences/{token}/export: a JSON file with the
// subscriber's record and sent history.
func (s *Server) export(w http.ResponseWriter, r *http.Request) {
	_, sub, ok := s.subscriberFor(w, r, token.Preferences)
	if !ok {
		return
	}
	hist, err := s.Store.SentHistory(sub.ID)
	if err != nil {
		s.internal(w, r, "export sent history", err)
		return
	}
	d := exportData{Exported: s.Now().UTC(), Subscriber: sub, SentHistory: make([]sentPaper, 0, len(hist))}
	for id, date := range hist {
		d.SentHistory = append(d.SentHistory, sentPaper{PaperID: id, Date: date})
	}
	slices.SortFunc(d.SentHistory, func(a, b sentPaper) int {
		return cmp.Or(strings.Compare(a.Date, b.Date), strings.Compare(a.PaperID, b.PaperID))
	})
	body, err := json.MarshalIndent(&d, "", "  ")
	if err != nil {
		s.internal(w, r, "export encode", err)
		return
	}
	body = append(body, '\n')
	w.Header().Set("Content-Disposition", `attachment; filename="papermail-data.json"`)
	write(w, r, http.StatusOK, "application/json; charset=utf-8", body)
}
