package subscription

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/papermail/papermail/internal/authors"
	"github.com/papermail/papermail/internal/library"
	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/usertext"
)

// Fields of the reader-side profile (issue 13).
const (
	FieldAuthors      Field = "followed authors"
	FieldCategories   Field = "categories"
	FieldCategoryMode Field = "category mode"
	FieldLibrary      Field = "library"
)

// Limits of the reader-side profile.
const (
	MaxCategories   = 30
	MaxCategoryLen  = 64
	MaxLibraryBytes = library.MaxBytes
)

// Extras are the parts of a profile beside interests, as typed or read:
// followed authors ("Yann LeCun; Y. Bengio"), categories ("cs.CL, cs.CV")
// with their mode, and a library already parsed (ParseLibrary).
type Extras struct {
	Authors, Categories, CategoryMode string
	Library                           []model.LibraryEntry
}

// has reports whether x names anything to match papers by.
func (x *Extras) has() bool {
	return strings.TrimSpace(x.Authors) != "" || strings.TrimSpace(x.Categories) != "" || len(x.Library) > 0
}

// Authors checks a list of followed authors (see authors.ParseList),
// from the web, the command line or an imported file; what is not text
// (see usertext) is dropped first, as for interests.
func Authors(text string) ([]string, error) {
	names, err := authors.ParseList(usertext.Clean(text))
	if err != nil {
		return nil, &Problem{FieldAuthors, err.Error()}
	}
	return names, nil
}

// Categories splits categories separated by commas, semicolons, spaces or
// lines ("cs.CL, stat.ML"), dropping repeats; each is at most
// MaxCategoryLen letters, digits and . - _ (the store's names may hold
// spaces: "infectious diseases" is written with a comma or line between
// categories, so spaces inside a line without commas split it only when
// every part looks like an arXiv category).
func Categories(text string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	var ps Problems
	for _, part := range splitCategories(usertext.Clean(text)) {
		c := strings.Join(strings.Fields(part), " ")
		if c == "" || seen[strings.ToLower(c)] {
			continue
		}
		seen[strings.ToLower(c)] = true
		if len(c) > MaxCategoryLen || strings.ContainsFunc(c, func(r rune) bool {
			return r < ' ' || strings.ContainsRune("<>\"'&{}\\", r)
		}) {
			ps = append(ps, &Problem{FieldCategories, fmt.Sprintf("%q is not a category name (like cs.CL)", short(c))})
			continue
		}
		out = append(out, c)
	}
	if len(out) > MaxCategories {
		ps = append(ps, &Problem{FieldCategories, fmt.Sprintf("%d given, at most %d are allowed", len(out), MaxCategories)})
	}
	return out, ps.err()
}

func splitCategories(text string) []string {
	var out []string
	for _, line := range strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == ';' || r == '\n' }) {
		fields := strings.Fields(line)
		dotted := len(fields) > 1
		for _, f := range fields {
			dotted = dotted && strings.ContainsAny(f, ".-")
		}
		if dotted {
			out = append(out, fields...) // "cs.CL cs.CV"
		} else {
			out = append(out, line)
		}
	}
	return out
}

// CategoryMode checks how categories count: "filter", "boost" or "" (boost).
func CategoryMode(s string) (string, error) {
	switch s = strings.TrimSpace(strings.ToLower(s)); s {
	case "", model.CategoryBoost:
		return model.CategoryBoost, nil
	case model.CategoryFilter, "only":
		return model.CategoryFilter, nil
	}
	return "", &Problem{FieldCategoryMode, fmt.Sprintf("want filter (only these categories) or boost, got %q", short(s))}
}

// ParseLibrary reads a library file (BibTeX, RIS, CSL-JSON or a list of
// arXiv ids and DOIs). A file with any malformed entry is refused as a
// whole; the Problem lists each entry's number and what is wrong.
func ParseLibrary(r io.Reader) ([]model.LibraryEntry, error) {
	entries, _, err := library.Parse(r, library.FormatAuto)
	if err != nil {
		return nil, &Problem{FieldLibrary, err.Error()}
	}
	return entries, nil
}

// parseExtras checks x into the request fields.
func parseExtras(x Extras, r *Request) Problems {
	var ps Problems
	var err error
	r.Authors, err = Authors(x.Authors)
	ps.add(err)
	r.Categories, err = Categories(x.Categories)
	ps.add(err)
	r.CategoryMode, err = CategoryMode(x.CategoryMode)
	ps.add(err)
	if len(r.Categories) == 0 {
		r.CategoryMode = ""
	}
	r.Library = x.Library
	return ps
}

// ParseRequestWith is ParseRequest with the reader-side profile: followed
// authors, categories and a library. Free-text interests may then be
// empty: any of these is a profile papers can be matched against.
func ParseRequestWith(email, interests, zone, source string, x Extras) (Request, error) {
	var ps Problems
	r := Request{Source: source}
	var err error
	r.Email, err = Email(email)
	ps.add(err)
	if strings.TrimSpace(interests) != "" || !x.has() {
		r.Interests, err = Interests(interests)
		ps.add(err)
	}
	r.Timezone = strings.TrimSpace(zone)
	ps.add(Zone(r.Timezone))
	ps = append(ps, parseExtras(x, &r)...)
	return r, ps.err()
}

// short cuts what a message quotes to 40 characters (never inside one).
func short(s string) string {
	if utf8.RuneCountInString(s) > 40 {
		return string([]rune(s)[:40]) + "…"
	}
	return s
}
