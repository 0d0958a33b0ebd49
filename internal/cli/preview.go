package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/papermail/papermail/internal/address"
	"github.com/papermail/papermail/internal/digest"
	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/selection"
	"github.com/papermail/papermail/internal/subscription"
	"github.com/papermail/papermail/internal/usertext"
)

type previewItem struct {
	ID        string   `json:"id"`
	Title     string   `json:"title"`
	Score     float64  `json:"score"`
	Relevance float64  `json:"relevance"`
	Trending  float64  `json:"trending"`
	Interest  string   `json:"interest,omitempty"`
	Matched   []string `json:"matched"`
	Fallback  bool     `json:"fallback,omitempty"`
	Followed  string   `json:"followed,omitempty"`
	Like      string   `json:"like,omitempty"`
}

func cmdPreview(e *env, args []string) error {
	fs := newFlags(e, "preview", `preview [--interests "a; b"] [--authors "Name; Name"] [--categories "cs.CL" [--category-mode filter|boost]] [--library FILE] [--limit N] [--format text|json] | preview --email ADDR --out FILE.eml`)
	interests := fs.String("interests", "", "interests separated by ';'")
	followed := fs.String("authors", "", "authors to follow, separated by ';'")
	cats := fs.String("categories", "", "subject categories such as cs.CL, separated by ','")
	catMode := fs.String("category-mode", "boost", "filter (only papers in the categories) or boost")
	libFile := fs.String("library", "", "a paper library: BibTeX, RIS, CSL-JSON or a list of arXiv ids/DOIs")
	limit := fs.Int("limit", 0, "how many papers (default digest.max_papers)")
	format := fs.String("format", "text", "output format: text or json")
	email := fs.String("email", "", "a subscriber's address: write the digest they would get now")
	out := fs.String("out", "", "with --email: the .eml file to write")
	pos, err := flags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("%w: preview takes no arguments (got %q); quote the interests: --interests \"a; b\"", errUsage, pos[0])
	}
	if *format != "text" && *format != "json" {
		return fmt.Errorf("%w: --format must be text or json", errUsage)
	}
	profileGiven := *interests != "" || *followed != "" || *cats != "" || *libFile != ""
	if profileGiven == (*email != "") {
		return fmt.Errorf("%w: give either --interests (or --authors, --categories, --library) or --email", errUsage)
	}
	if *limit < 0 || *limit > 500 {
		return fmt.Errorf("%w: --limit must be 1-500", errUsage)
	}
	p, err := e.parts()
	if err != nil {
		return err
	}
	now := time.Now()
	if *email != "" {
		addr, err := address.Normalize(*email)
		if err != nil {
			return err
		}
		sub, err := p.Store.SubscriberByEmail(addr)
		if err != nil {
			return err
		}
		if *out == "" {
			return fmt.Errorf("%w: --email needs --out FILE.eml", errUsage)
		}
		f, err := os.Create(e.abs(*out))
		if err != nil {
			return err
		}
		ok, err := p.Runner.WriteDigestEML(f, &sub, now)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		if !ok {
			os.Remove(e.abs(*out))
			fmt.Fprintf(e.stdout, "%s would get no digest now: nothing new matches their interests\n", addr)
			return nil
		}
		fmt.Fprintf(e.stdout, "wrote the digest %s would get now to %s\n", addr, *out)
		return nil
	}
	var sub model.Subscriber
	if *interests != "" {
		if sub.Interests, err = selection.ValidateInterests(*interests); err != nil {
			return fmt.Errorf("%w: --interests: %v", errUsage, err)
		}
	}
	if sub.Authors, err = subscription.Authors(*followed); err != nil {
		return fmt.Errorf("%w: --authors: %v", errUsage, err)
	}
	if sub.Categories, err = subscription.Categories(*cats); err != nil {
		return fmt.Errorf("%w: --categories: %v", errUsage, err)
	}
	if len(sub.Categories) > 0 {
		if sub.CategoryMode, err = subscription.CategoryMode(*catMode); err != nil {
			return fmt.Errorf("%w: --category-mode: %v", errUsage, err)
		}
	}
	if sub.Library, err = readLibrary(e, *libFile); err != nil {
		return err
	}
	// The profile a subscriber with these settings would be ranked by.
	prof := digest.ProfileOf(&sub)
	picks, err := p.Runner.Preview(prof, *limit, now)
	if err != nil {
		return err
	}
	report, err := p.Runner.InterestReport(prof, now)
	if err != nil {
		return err
	}
	items := make([]previewItem, len(picks))
	for i, pk := range picks {
		items[i] = previewItem{ID: pk.Paper.ID, Title: pk.Paper.Title, Score: round(pk.Score), Relevance: round(pk.Relevance),
			Trending: round(pk.Trending), Interest: pk.Interest, Matched: pk.Matched, Fallback: pk.Fallback,
			Followed: pk.Followed, Like: pk.Like}
		if items[i].Matched == nil {
			items[i].Matched = []string{}
		}
	}
	// Interests that match nothing are said so, with terms to rephrase
	// them; beside json (which stays the list of papers) on stderr.
	notes := e.stdout
	if *format == "json" {
		notes = e.stderr
	}
	window := p.Runner.Config.Digest.Window
	for _, m := range report {
		if m.Papers > 0 {
			continue
		}
		fmt.Fprintf(notes, "%q matches no paper of the last %s.", m.Interest, spanText(window))
		if len(m.Nearby) > 0 {
			fmt.Fprintf(notes, " Nearby terms in recent papers: %s\n", strings.Join(m.Nearby, ", "))
		} else {
			fmt.Fprintln(notes, " Nothing in recent papers is close to it.")
		}
	}
	if *format == "json" {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(items)
	}
	if len(items) == 0 {
		fmt.Fprintln(e.stdout, "No paper in the current window matches these interests.")
		return nil
	}
	for i, it := range items {
		// Stored text is cleaned when it arrives; a store written by an
		// older version may still hold what is not text.
		fmt.Fprintf(e.stdout, "%2d. %s\n    %s  score %.3f", i+1, usertext.Printable(it.Title), usertext.Printable(it.ID), it.Score)
		switch {
		case it.Followed != "":
			fmt.Fprintf(e.stdout, "  by %s, whom you follow", usertext.Printable(it.Followed))
		case it.Like != "":
			fmt.Fprintf(e.stdout, "  like your %q", it.Like)
		case len(it.Matched) > 0:
			fmt.Fprintf(e.stdout, "  matched %q: %s", it.Interest, strings.Join(it.Matched, ", "))
		}
		fmt.Fprintln(e.stdout)
	}
	return nil
}

// spanText says a window in days or hours: "2 days", "36 hours".
func spanText(d time.Duration) string {
	switch {
	case d >= 48*time.Hour && d%(24*time.Hour) == 0:
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	case d == 24*time.Hour:
		return "day"
	case d >= time.Hour:
		return fmt.Sprintf("%d hours", int(d.Round(time.Hour)/time.Hour))
	}
	return d.String()
}

func round(f float64) float64 { return float64(int64(f*10000+0.5)) / 10000 }
