package web

import (
	"bytes"
	"cmp"
	"encoding/xml"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/papermail/papermail/internal/digest"
	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/render"
	"github.com/papermail/papermail/internal/store"
	"github.com/papermail/papermail/internal/subscription"
	"github.com/papermail/papermail/internal/token"
)

// Atom 1.0 (RFC 4287) documents.
type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	ID      string      `xml:"id"`
	Title   string      `xml:"title"`
	Updated string      `xml:"updated"`
	Author  atomPerson  `xml:"author"`
	Links   []atomLink  `xml:"link"`
	Entries []atomEntry `xml:"entry"`
}

type atomPerson struct {
	Name string `xml:"name"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr,omitempty"`
	Href string `xml:"href,attr"`
	Type string `xml:"type,attr,omitempty"`
}

type atomText struct {
	Type string `xml:"type,attr"`
	Body string `xml:",chardata"`
}

type atomEntry struct {
	ID      string       `xml:"id"`
	Title   atomText     `xml:"title"`
	Updated string       `xml:"updated"`
	Authors []atomPerson `xml:"author,omitempty"`
	Links   []atomLink   `xml:"link,omitempty"`
	Summary atomText     `xml:"summary"`
}

// feed is GET /feed/{token}.atom: the subscriber's current selection as an
// Atom feed.
func (s *Server) feed(w http.ResponseWriter, r *http.Request) {
	tok, ok := strings.CutSuffix(r.PathValue("file"), ".atom")
	if !ok {
		s.notFound(w, r)
		return
	}
	r.SetPathValue("token", tok)
	_, sub, ok := s.subscriberFor(w, r, token.Feed)
	if !ok {
		return
	}
	now := s.Now().UTC()
	self := s.Links.Feed(sub.ID)
	f := atomFeed{
		ID:     "urn:papermail:feed:" + strconv.FormatUint(sub.ID, 10) + ":" + url.PathEscape(s.Links.Base),
		Title:  "papermail: papers for " + strings.Join(sub.Interests, "; "),
		Author: atomPerson{Name: "papermail"},
		Links:  []atomLink{{Rel: "self", Href: self, Type: "application/atom+xml"}},
	}
	papers, err := s.feedPapers(&sub, now)
	if err != nil {
		s.internal(w, r, "feed selection", err)
		return
	}
	var newest time.Time
	for _, fp := range papers {
		p := &fp.paper
		at := fp.at
		if at.After(newest) {
			newest = at
		}
		e := atomEntry{
			ID:      "urn:papermail:paper:" + url.PathEscape(p.ID),
			Title:   atomText{Type: "text", Body: p.Title},
			Updated: at.UTC().Format(time.RFC3339),
			Summary: atomText{Type: "text", Body: feedSummary(p)},
		}
		if l := p.Link(); l != "" {
			e.Links = append(e.Links, atomLink{Rel: "alternate", Href: l})
		}
		if l := p.PDFLink(); l != "" {
			e.Links = append(e.Links, atomLink{Rel: "related", Href: l, Type: "application/pdf"})
		}
		e.Links = append(e.Links, atomLink{Rel: "related", Href: s.Links.Cite(p.ID), Type: "application/x-bibtex"})
		for _, a := range p.Authors {
			e.Authors = append(e.Authors, atomPerson{Name: a})
		}
		f.Entries = append(f.Entries, e)
	}
	if !newest.IsZero() {
		now = newest.UTC()
	}
	f.Updated = now.Format(time.RFC3339)
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(&f); err != nil {
		s.internal(w, r, "feed encode", err)
		return
	}
	buf.WriteByte('\n')
	write(w, r, http.StatusOK, "application/atom+xml; charset=utf-8", buf.Bytes())
}

// FeedDays is how far back the personal feed keeps the papers a reader
// was sent (digest.FeedDays: the sent-papers history is pruned no
// sooner).
const FeedDays = digest.FeedDays

// feedPaper is one entry of a personal feed and its date.
type feedPaper struct {
	paper model.Paper
	at    time.Time
}

// feedPapers are the reader's picks of the last FeedDays days, newest
// first, then what the next digest would hold (not sent yet).
func (s *Server) feedPapers(sub *model.Subscriber, now time.Time) ([]feedPaper, error) {
	hist, err := s.Store.SentHistory(sub.ID)
	if err != nil {
		return nil, err
	}
	loc := sub.Location(s.Config.Location())
	local := now.In(loc)
	since := time.Date(local.Year(), local.Month(), local.Day()-FeedDays, 0, 0, 0, 0, loc)
	var out []feedPaper
	for id, date := range hist {
		day, err := time.ParseInLocation(subscription.DateLayout, date, loc)
		if err != nil || day.Before(since) {
			continue
		}
		p, err := s.Store.Paper(id)
		if errors.Is(err, store.ErrNotFound) {
			continue // pruned since
		}
		if err != nil {
			return nil, err
		}
		out = append(out, feedPaper{paper: p, at: day})
	}
	slices.SortFunc(out, func(a, b feedPaper) int {
		return cmp.Or(b.at.Compare(a.at), strings.Compare(a.paper.ID, b.paper.ID))
	})
	if s.Runner != nil {
		picks, err := s.Runner.PreviewFor(sub, now)
		if err != nil {
			return nil, err
		}
		for _, pk := range picks {
			if pk.Paper == nil {
				continue
			}
			if _, sent := hist[pk.Paper.ID]; sent {
				continue
			}
			at := pk.Paper.Date()
			if at.IsZero() {
				at = now
			}
			out = append(out, feedPaper{paper: *pk.Paper, at: at})
		}
	}
	return out, nil
}

// feedSummary is an entry's summary: the TL;DR when the source gives one,
// then the abstract.
func feedSummary(p *model.Paper) string {
	abs := render.Shorten(p.Abstract, 1200)
	if p.AISummary != "" {
		return "TL;DR: " + render.Shorten(p.AISummary, 300) + "\n\n" + abs
	}
	return abs
}
