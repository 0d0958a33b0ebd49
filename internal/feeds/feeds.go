// Package feeds turns paper sources into model.Paper values and fetches
// them. It owns the list of feed formats (Formats): Hugging Face daily
// papers JSON (hf), arXiv Atom and RSS feeds (arxiv), the bioRxiv and
// medRxiv details API JSON (biorxiv), journal table-of-contents feeds in
// RSS 2.0, RSS 1.0 or Atom (rss), scraped listing pages saved as text
// (page) and papermail's own one-paper-per-line JSON (jsonl).
//
// Parsing is all-or-nothing: a source either yields every paper in it or
// an error that names the source and the place (line, byte offset, entry)
// where it went wrong, so callers never store half a feed.
package feeds

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/papermail/papermail/internal/model"
	"github.com/papermail/papermail/internal/usertext"
)

// Format names accepted by Parse and Load.
const (
	// FormatAuto lets Detect pick the format.
	FormatAuto = "auto"
	// FormatHF is the Hugging Face daily papers JSON array.
	FormatHF = "hf"
	// FormatArxiv is an arXiv API Atom feed or an rss.arxiv.org RSS/Atom feed.
	FormatArxiv = "arxiv"
	// FormatBiorxiv is the JSON of the bioRxiv / medRxiv details API
	// (api.biorxiv.org/details/biorxiv/..., .../details/medrxiv/...).
	FormatBiorxiv = "biorxiv"
	// FormatRSS is a journal's table-of-contents feed: RSS 2.0, RSS 1.0
	// (RDF, with Dublin Core and PRISM fields) or Atom.
	FormatRSS = "rss"
	// FormatPage is a listing page saved as text: title lines, each
	// followed by an abstract line, with page chrome skipped. A title that
	// appears twice yields two papers with the same id in source order,
	// so the later one wins when stored.
	FormatPage = "page"
	// FormatJSONL is one model.Paper JSON object per line.
	FormatJSONL = "jsonl"
)

// Formats lists the concrete formats, for flags and messages.
var Formats = []string{FormatHF, FormatArxiv, FormatBiorxiv, FormatRSS, FormatPage, FormatJSONL}

// FormatNames lists FormatAuto and then Formats, for flags and
// configuration checks.
func FormatNames() []string { return append([]string{FormatAuto}, Formats...) }

// Limits on sources and fields; exceeding one is an error.
const (
	// MaxSourceBytes is the largest source Open, Parse and Load read:
	// room for a jsonl export of well over 100k papers.
	MaxSourceBytes = 256 << 20
	// MaxFetchBytes is the largest body an HTTP fetch reads, after
	// decompression: many times the largest real feed (an arXiv listing
	// is a few MB), small enough that a hostile endless or compressed
	// body is refused before it costs much memory. Larger exports are
	// ingested from files.
	MaxFetchBytes = 32 << 20
	// MaxLineBytes is the longest line in the line-based formats (page,
	// jsonl).
	MaxLineBytes = 1 << 20
	// MaxTitleChars is the longest title, in characters, after cleaning.
	MaxTitleChars = 1000
	// MaxAbstractChars is the longest abstract, in characters, after
	// cleaning.
	MaxAbstractChars = 20000
)

// ParseError says where in which source parsing failed.
type ParseError struct {
	// Source is the name the source was parsed under.
	Source string
	// Line is the 1-based line, 0 if unknown.
	Line int
	// Offset is the byte offset, -1 if unknown.
	Offset int64
	// Entry is the 1-based index of the paper entry, 0 if none.
	Entry int
	// Err is what was wrong.
	Err error
}

// Error formats the error as "source: line 3, byte offset 40: entry 2: what".
func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString(e.Source)
	sep := ": "
	if e.Line > 0 {
		b.WriteString(sep + "line " + strconv.Itoa(e.Line))
		sep = ", "
	}
	if e.Offset >= 0 {
		b.WriteString(sep + "byte offset " + strconv.FormatInt(e.Offset, 10))
	}
	if e.Entry > 0 {
		b.WriteString(": entry " + strconv.Itoa(e.Entry))
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the underlying error.
func (e *ParseError) Unwrap() error { return e.Err }

// ErrTooLarge is wrapped by errors about sources, lines or fields over a
// limit.
var ErrTooLarge = errors.New("over the size limit")

// Parse reads one whole source in the given format (FormatAuto or "" to
// detect it) and returns its papers in source order. name appears in
// error messages. Papers without an ingestion time get now as Ingested;
// no other date is invented. Titles, abstracts and author names go
// through CleanText, ids are folded by NormalizeArxivID or made by
// TitleID. Any problem fails the whole source with an error naming it (a
// *ParseError saying where when the content is at fault).
func Parse(r io.Reader, format, name string, now time.Time) ([]model.Paper, error) {
	data, err := readLimited(r, name)
	if err != nil {
		return nil, err
	}
	papers, _, err := parseBytes(data, format, name, now)
	return papers, err
}

// Load opens source (a file path or http(s) URL, see Open), detects the
// format when format is FormatAuto or "", and parses it. It returns the
// papers and the format used.
func Load(ctx context.Context, source, format string, now time.Time) ([]model.Paper, string, error) {
	if err := checkFormat(format, source); err != nil {
		return nil, "", err
	}
	rc, err := Open(ctx, source)
	if err != nil {
		return nil, "", err
	}
	defer rc.Close()
	data, err := readLimited(rc, source)
	if err != nil {
		return nil, "", err
	}
	return parseBytes(data, format, source, now)
}

func parseBytes(data []byte, format, name string, now time.Time) ([]model.Paper, string, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if err := checkFormat(format, name); err != nil {
		return nil, "", err
	}
	detected := format == "" || format == FormatAuto
	if detected {
		format = Detect(data[:min(len(data), 512)], name)
	}
	if err := checkText(data, name); err != nil {
		return nil, format, err
	}
	p := parser{name: name, now: now, format: format, data: data, base: baseURL(name)}
	var err error
	switch format {
	case FormatHF:
		err = p.hf()
	case FormatArxiv, FormatRSS:
		err = p.arxiv()
	case FormatBiorxiv:
		err = p.biorxiv()
	case FormatPage:
		err = p.page()
	case FormatJSONL:
		err = p.jsonl()
	}
	if err != nil {
		return nil, format, err
	}
	if detected && format == FormatArxiv && len(p.papers) > 0 && !slices.ContainsFunc(p.papers, func(pp model.Paper) bool { return pp.ArxivID() != "" }) {
		// An XML feed without a single arXiv paper is a journal's table
		// of contents: read it as such (DOIs, HTML text, the journal).
		p = parser{name: name, now: now, format: FormatRSS, data: data, base: baseURL(name)}
		if err := p.arxiv(); err != nil {
			return nil, FormatRSS, err
		}
		return p.papers, FormatRSS, nil
	}
	return p.papers, format, nil
}

// checkFormat rejects unknown format names.
func checkFormat(format, name string) error {
	if format == "" || format == FormatAuto || slices.Contains(Formats, format) {
		return nil
	}
	return fmt.Errorf("%s: unknown feed format %q (want %s or %s)", name, format, strings.Join(Formats, ", "), FormatAuto)
}

// readLimited reads all of r, failing when it holds more than
// MaxSourceBytes. It reads in pieces and joins them once: memory grows
// with what was read, never with what a source claims or sends beyond
// the limit, and a refused source costs at most the limit.
func readLimited(r io.Reader, name string) ([]byte, error) {
	var pieces [][]byte
	total, size := 0, 64<<10
	for {
		buf := make([]byte, size)
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			pieces = append(pieces, buf[:n])
			total += n
		}
		if total > MaxSourceBytes {
			return nil, fmt.Errorf("%s: source is larger than %d MiB: %w", name, MaxSourceBytes>>20, ErrTooLarge)
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if errors.Is(err, ErrTooLarge) {
			return nil, err // from Open's reader, which names the source
		}
		if err != nil {
			return nil, fmt.Errorf("%s: read: %w", name, err)
		}
		size = min(size*2, 4<<20)
	}
	if len(pieces) == 1 {
		return pieces[0], nil
	}
	return bytes.Join(pieces, nil), nil
}

// checkText rejects sources that are not valid UTF-8 or hold NUL bytes.
func checkText(data []byte, name string) error {
	if bytes.IndexByte(data, 0) < 0 && utf8.Valid(data) {
		return nil
	}
	for i := 0; i < len(data); {
		if data[i] == 0 {
			return &ParseError{Source: name, Line: lineAt(data, i), Offset: int64(i), Err: errors.New("NUL byte (binary data?)")}
		}
		if data[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size == 1 {
			return &ParseError{Source: name, Line: lineAt(data, i), Offset: int64(i), Err: errors.New("invalid UTF-8 (the source must be UTF-8 text)")}
		}
		i += size
	}
	return nil
}

// lineAt returns the 1-based line of byte offset off.
func lineAt(data []byte, off int) int {
	off = min(max(off, 0), len(data))
	return bytes.Count(data[:off], []byte{'\n'}) + 1
}

// Detect guesses the format of a source from its first bytes, using the
// name's extension when the bytes say nothing: a JSON array is hf, XML is
// arxiv, a JSON object whose first key is "messages" or "collection" is
// biorxiv, other JSON objects are jsonl, other text is page. Journal feeds
// (rss) look like arXiv's from their first bytes: Parse and Load read an
// auto-detected XML feed without any arXiv paper as rss.
func Detect(head []byte, name string) string {
	head = bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\xef\xbb\xbf")), " \t\r\n")
	if len(head) == 0 {
		switch strings.ToLower(filepath.Ext(stripQuery(name))) {
		case ".json":
			return FormatHF
		case ".jsonl", ".ndjson":
			return FormatJSONL
		case ".xml", ".atom", ".rss":
			return FormatArxiv
		}
		return FormatPage
	}
	switch head[0] {
	case '[':
		rest := bytes.TrimLeft(head[1:], " \t\r\n")
		if len(rest) == 0 || rest[0] == '{' || rest[0] == ']' {
			return FormatHF
		}
	case '<':
		return FormatArxiv
	case '{':
		rest := bytes.TrimLeft(head[1:], " \t\r\n")
		if bytes.HasPrefix(rest, []byte(`"messages"`)) || bytes.HasPrefix(rest, []byte(`"collection"`)) {
			return FormatBiorxiv
		}
		return FormatJSONL
	}
	return FormatPage
}

// stripQuery drops a URL's query and fragment so the extension shows.
func stripQuery(name string) string {
	if i := strings.IndexAny(name, "?#"); i >= 0 && strings.Contains(name, "://") {
		return name[:i]
	}
	return name
}

// parser collects the papers of one source.
type parser struct {
	name   string
	now    time.Time
	format string
	data   []byte
	papers []model.Paper
	// base resolves relative links: the feed's URL when it was fetched,
	// else the channel's own link; nil leaves relative links out.
	base *url.URL
}

// baseURL returns source as a base for relative links when it is an
// absolute http(s) URL, else nil.
func baseURL(source string) *url.URL {
	if WebURL(source) == "" {
		return nil
	}
	u, err := url.Parse(strings.TrimSpace(source))
	if err != nil {
		return nil
	}
	return u
}

// resolve makes a relative link absolute against p.base; absolute links
// (javascript: included, for WebURL to refuse) and links without a base
// are returned as they are.
func (p *parser) resolve(s string) string {
	s = strings.TrimSpace(s)
	if p.base == nil || s == "" {
		return s
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "" {
		return s
	}
	return p.base.ResolveReference(u).String()
}

// errAt builds a *ParseError at a line and entry (0 if unknown).
func (p *parser) errAt(line, entry int, format string, args ...any) error {
	return &ParseError{Source: p.name, Line: line, Offset: -1, Entry: entry, Err: fmt.Errorf(format, args...)}
}

// add cleans and checks one paper and appends it. line and entry place
// it for error messages.
func (p *parser) add(pp model.Paper, line, entry int) error {
	pp.Title = CleanText(pp.Title)
	if pp.Title == "" {
		return p.errAt(line, entry, "paper has no title")
	}
	if n := utf8.RuneCountInString(pp.Title); n > MaxTitleChars {
		return p.errAt(line, entry, "title has %d characters, more than the limit of %d: %w", n, MaxTitleChars, ErrTooLarge)
	}
	pp.Abstract = CleanText(pp.Abstract)
	if n := utf8.RuneCountInString(pp.Abstract); n > MaxAbstractChars {
		return p.errAt(line, entry, "abstract of %q has %d characters, more than the limit of %d: %w", short(pp.Title), n, MaxAbstractChars, ErrTooLarge)
	}
	pp.AISummary = CleanText(pp.AISummary)
	if n := utf8.RuneCountInString(pp.AISummary); n > MaxAbstractChars {
		return p.errAt(line, entry, "ai summary of %q has %d characters, more than the limit of %d: %w", short(pp.Title), n, MaxAbstractChars, ErrTooLarge)
	}
	pp.Authors = cleanList(pp.Authors)
	pp.Categories = cleanList(pp.Categories)
	pp.Affiliations = cleanList(pp.Affiliations)
	pp.PrimaryCategory = CleanText(pp.PrimaryCategory)
	pp.Venue = CleanText(pp.Venue)
	pp.Keywords = cleanList(pp.Keywords)
	// A DOI becomes a https://doi.org/ link and a citation field: keep
	// the DOI the field holds, nothing else.
	if pp.DOI != "" {
		pp.DOI = NormalizeDOI(usertext.Line(pp.DOI))
	}
	// Links go into mails and pages: only web addresses, never
	// javascript:, data: or other schemes a feed may hold.
	pp.PDFURL = WebURL(p.resolve(pp.PDFURL))
	pp.URL = WebURL(p.resolve(pp.URL))
	pp.GitHubRepo = WebURL(p.resolve(pp.GitHubRepo))
	pp.ProjectPage = WebURL(p.resolve(pp.ProjectPage))
	pp.Thumbnail = WebURL(p.resolve(pp.Thumbnail))
	if pp.ID == "" {
		pp.ID = TitleID(pp.Title)
	}
	if pp.Ingested.IsZero() {
		pp.Ingested = p.now
	}
	pp.Source = cmp.Or(pp.Source, p.format)
	p.papers = append(p.papers, pp)
	return nil
}

// WebURL returns s, trimmed, when it is an absolute http or https URL
// with a host and no user name or control characters; else "" (the link
// is left out). A feed's javascript:, data:, vbscript: or file: link, or
// a relative one the parser could not resolve, never reaches a mail.
func WebURL(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f || r == ' ' }) {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.Opaque != "" {
		return ""
	}
	return s
}

// cleanList cleans each item and drops empty ones and repeats, in place.
func cleanList(list []string) []string {
	out := list[:0]
	var seen map[string]bool
	if len(list) > 16 {
		seen = make(map[string]bool, len(list))
	}
	for _, s := range list {
		s = CleanText(s)
		if s == "" {
			continue
		}
		if seen != nil {
			if seen[s] {
				continue
			}
			seen[s] = true
		} else if slices.Contains(out, s) {
			continue
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// short shortens a title for messages.
func short(s string) string {
	if utf8.RuneCountInString(s) <= 60 {
		return s
	}
	r := []rune(s)
	return string(r[:57]) + "..."
}

// dateLayouts are the date formats feeds write: RFC 3339 and its
// variants (arXiv, Hugging Face, Atom), RFC 822/1123 with or without the
// weekday, seconds or a leading zero (RSS 2.0), and the plain dates of
// Dublin Core, PRISM and bioRxiv.
var dateLayouts = []string{
	time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02T15:04Z07:00", "2006-01-02T15:04:05", "2006-01-02 15:04:05",
	"2006-01-02 15:04:05 -0700", "2006-01-02",
	time.RFC1123Z, time.RFC1123, "Mon, 2 Jan 2006 15:04:05 -0700", "Mon, 2 Jan 2006 15:04:05 MST",
	"Mon, 2 Jan 2006 15:04 -0700", "Mon, 2 Jan 2006 15:04 MST", "Mon, _2 Jan 2006 15:04:05 -0700",
	"2 Jan 2006 15:04:05 -0700", "2 Jan 2006 15:04:05 MST", "Mon, 2 Jan 2006", "2 Jan 2006", "2 January 2006",
	"January 2, 2006", "Jan 2, 2006", "Monday, January 2, 2006", time.RFC850, time.ANSIC, "2006-01", "2006",
}

// parseTime reads the date formats feeds use; "" is the zero time.
func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("cannot read date %q", s)
}
