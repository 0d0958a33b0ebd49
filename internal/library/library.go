// Package library reads a reader's own paper library — a BibTeX (.bib),
// RIS or Zotero CSL-JSON export, or a plain list of arXiv ids and DOIs —
// into example papers (model.LibraryEntry), and writes a paper's BibTeX
// entry for the "cite" link. Reading is all-or-nothing: a file with a
// malformed entry is refused as a whole with every problem named by its
// entry number and line, so nothing half-read is ever stored.
package library

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/papermail/papermail/internal/feeds"
	"github.com/papermail/papermail/internal/model"
)

// Formats Parse reads.
const (
	FormatAuto    = "auto"
	FormatBibTeX  = "bibtex"
	FormatRIS     = "ris"
	FormatCSLJSON = "csl-json"
	FormatIDs     = "ids"
)

// Limits.
const (
	// MaxBytes is the largest library file read.
	MaxBytes = 16 << 20
	// MaxEntries is the most entries one library may hold.
	MaxEntries = 5000
	// MaxAbstractChars is how much of an entry's abstract is kept: enough
	// for its distinctive terms, little enough that a library of
	// thousands stays small in the subscriber's record.
	MaxAbstractChars = 500
	// maxProblems is how many entry problems one error lists.
	maxProblems = 20
)

// ErrInvalid is wrapped by every error about a library's content.
var ErrInvalid = errors.New("invalid library")

// EntryError is what is wrong with one entry.
type EntryError struct {
	// Entry is the 1-based entry number, 0 for the file as a whole.
	Entry int
	// Line is the 1-based line where the entry (or the problem) is, 0 if
	// unknown.
	Line int
	// Key is the entry's citation key or id, when it has one.
	Key string
	Msg string
}

func (e EntryError) Error() string {
	var b strings.Builder
	if e.Entry > 0 {
		b.WriteString("entry " + strconv.Itoa(e.Entry))
		if e.Key != "" {
			b.WriteString(" (" + e.Key + ")")
		}
	}
	if e.Line > 0 {
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		b.WriteString("line " + strconv.Itoa(e.Line))
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Error is a refused library: its format and every problem found (up to
// maxProblems).
type Error struct {
	Format   string
	Problems []EntryError
	// More counts problems beyond those listed.
	More int
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("library (" + e.Format + ") refused, nothing imported: ")
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(p.Error())
	}
	if e.More > 0 {
		fmt.Fprintf(&b, "; and %d more", e.More)
	}
	return b.String()
}

// Unwrap makes errors.Is(err, ErrInvalid) hold.
func (e *Error) Unwrap() error { return ErrInvalid }

// problems collects the problems of one file.
type problems struct {
	format string
	list   []EntryError
	more   int
}

func (ps *problems) add(entry, line int, key, format string, args ...any) {
	if len(ps.list) == maxProblems {
		ps.more++
		return
	}
	ps.list = append(ps.list, EntryError{Entry: entry, Line: line, Key: key, Msg: fmt.Sprintf(format, args...)})
}

func (ps *problems) err() error {
	if len(ps.list) == 0 {
		return nil
	}
	return &Error{Format: ps.format, Problems: ps.list, More: ps.more}
}

// Parse reads a whole library in format (FormatAuto or "" to detect it)
// and returns its entries in file order, repeats of one paper dropped.
// Any malformed entry fails the whole file (*Error, wrapping ErrInvalid).
func Parse(r io.Reader, format string) ([]model.LibraryEntry, string, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxBytes+1))
	if err != nil {
		return nil, "", fmt.Errorf("library: read: %w", err)
	}
	if len(data) > MaxBytes {
		return nil, "", fmt.Errorf("library is larger than %d MiB: %w", MaxBytes>>20, ErrInvalid)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if format == "" || format == FormatAuto {
		format = Detect(data)
	}
	ps := &problems{format: format}
	if !utf8.Valid(data) || bytes.IndexByte(data, 0) >= 0 {
		ps.add(0, lineOfBad(data), "", "the file is not UTF-8 text")
		return nil, format, ps.err()
	}
	var entries []model.LibraryEntry
	switch format {
	case FormatBibTeX:
		entries = parseBibTeX(string(data), ps)
	case FormatRIS:
		entries = parseRIS(string(data), ps)
	case FormatCSLJSON:
		entries = parseCSL(data, ps)
	case FormatIDs:
		entries = parseIDs(string(data), ps)
	default:
		return nil, format, fmt.Errorf("unknown library format %q (want bibtex, ris, csl-json or ids): %w", format, ErrInvalid)
	}
	if err := ps.err(); err != nil {
		return nil, format, err
	}
	if len(entries) == 0 {
		ps.add(0, 0, "", "no entries found")
		return nil, format, ps.err()
	}
	if len(entries) > MaxEntries {
		ps.add(0, 0, "", "%d entries, more than the limit of %d", len(entries), MaxEntries)
		return nil, format, ps.err()
	}
	return dedupe(entries), format, nil
}

// Detect guesses a library's format from its content.
func Detect(data []byte) string {
	s := bytes.TrimLeft(data, " \t\r\n")
	switch {
	case len(s) > 0 && (s[0] == '[' || s[0] == '{'):
		return FormatCSLJSON
	case bytes.HasPrefix(s, []byte("TY  -")) || bytes.Contains(data, []byte("\nTY  -")):
		return FormatRIS
	case looksBibTeX(data):
		return FormatBibTeX
	}
	return FormatIDs
}

// looksBibTeX reports whether data holds an "@type{" entry start.
func looksBibTeX(data []byte) bool {
	for i := bytes.IndexByte(data, '@'); i >= 0; {
		j := i + 1
		for j < len(data) && (data[j] >= 'a' && data[j] <= 'z' || data[j] >= 'A' && data[j] <= 'Z') {
			j++
		}
		for j < len(data) && (data[j] == ' ' || data[j] == '\t') {
			j++
		}
		if j > i+1 && j < len(data) && (data[j] == '{' || data[j] == '(') {
			return true
		}
		k := bytes.IndexByte(data[i+1:], '@')
		if k < 0 {
			break
		}
		i += 1 + k
	}
	return false
}

func lineOfBad(data []byte) int {
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n == 1 || data[i] == 0 {
			return bytes.Count(data[:i], []byte{'\n'}) + 1
		}
		i += n
	}
	return 0
}

// entry builds a LibraryEntry from raw fields, cleaning them; it reports
// false when the entry names no paper at all.
func entry(title, abstract, arxiv, doi, url string) (model.LibraryEntry, bool) {
	e := model.LibraryEntry{
		Title:    braces.Replace(feeds.CleanText(title)),
		Abstract: shorten(feeds.CleanText(abstract), MaxAbstractChars),
		ArxivID:  cmp.Or(feeds.NormalizeArxivID(arxiv), feeds.NormalizeArxivID(url)),
		DOI:      feeds.NormalizeDOI(doi),
	}
	if e.ArxivID == "" && strings.HasPrefix(e.DOI, "10.48550/arxiv.") {
		e.ArxivID = feeds.NormalizeArxivID(strings.TrimPrefix(e.DOI, "10.48550/arxiv."))
	}
	e.DOI = cmp.Or(e.DOI, feeds.NormalizeDOI(url))
	if utf8.RuneCountInString(e.Title) > feeds.MaxTitleChars {
		e.Title = shorten(e.Title, feeds.MaxTitleChars)
	}
	return e, e.Title != "" || e.ArxivID != "" || e.DOI != ""
}

// braces removes the protective braces BibTeX titles keep ("{S}peech").
var braces = strings.NewReplacer("{", "", "}", "")

// dedupe drops later entries for a paper already listed (same arXiv id,
// DOI or title).
func dedupe(in []model.LibraryEntry) []model.LibraryEntry {
	seen := make(map[string]bool, len(in))
	out := in[:0]
	for _, e := range in {
		keys := []string{}
		if e.ArxivID != "" {
			keys = append(keys, "a:"+e.ArxivID)
		}
		if e.DOI != "" {
			keys = append(keys, "d:"+e.DOI)
		}
		if e.Title != "" {
			keys = append(keys, "t:"+strings.ToLower(e.Title))
		}
		dup := false
		for _, k := range keys {
			dup = dup || seen[k]
		}
		if dup {
			continue
		}
		for _, k := range keys {
			seen[k] = true
		}
		out = append(out, e)
	}
	return out
}

// shorten cuts s to at most n characters at a space.
func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)[:n]
	cut := string(r)
	if i := strings.LastIndexByte(cut, ' '); i > len(cut)/2 {
		cut = cut[:i]
	}
	return cut + "…"
}
