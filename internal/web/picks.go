package web

import (
	"strings"

	"github.com/papermail/papermail/internal/render"
	"github.com/papermail/papermail/internal/selection"
)

// pickView is one paper of a preview.
type pickView struct {
	Title, Link, Authors, Abstract string
	// Why says why the paper is here: which interest matched and with
	// which words, the followed author, or the library paper it is like.
	Why      string
	Fallback bool
}

// previewLimit is how many papers a preview shows.
const previewLimit = 5

func pickViews(picks []selection.Pick) []pickView {
	out := make([]pickView, 0, len(picks))
	for _, pk := range picks {
		p := pk.Paper
		if p == nil {
			continue
		}
		v := pickView{Title: p.Title, Link: p.Link(), Abstract: render.Shorten(p.Abstract, 280), Fallback: pk.Fallback}
		if len(p.Authors) > 3 {
			v.Authors = strings.Join(p.Authors[:3], ", ") + " et al."
		} else {
			v.Authors = strings.Join(p.Authors, ", ")
		}
		switch {
		case pk.Fallback:
			v.Why = "Matched: trending"
		case pk.Followed != "":
			v.Why = "By " + pk.Followed + ", whom you follow"
		case pk.Like != "":
			v.Why = "Like your “" + pk.Like + "”"
		case len(pk.Matched) > 0:
			v.Why = "Matched: " + pk.Interest + " (" + strings.Join(pk.Matched, ", ") + ")"
		case pk.Interest != "":
			v.Why = "Matched: " + pk.Interest
		}
		out = append(out, v)
	}
	return out
}
