package feeds

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"reflect"

	"github.com/papermail/papermail/internal/model"
)

// hfItem is one element of the Hugging Face daily papers array. Fields the
// paper object and the outer object both may carry are read from the paper
// first.
type hfItem struct {
	Paper struct {
		ID      string `json:"id"`
		Title   string `json:"title"`
		Summary string `json:"summary"`
		Authors []struct {
			Name string `json:"name"`
		} `json:"authors"`
		Upvotes            int      `json:"upvotes"`
		PublishedAt        string   `json:"publishedAt"`
		SubmittedOnDailyAt string   `json:"submittedOnDailyAt"`
		AISummary          string   `json:"ai_summary"`
		AIKeywords         []string `json:"ai_keywords"`
		GithubRepo         string   `json:"githubRepo"`
		ProjectPage        string   `json:"projectPage"`
	} `json:"paper"`
	Title              string `json:"title"`
	Summary            string `json:"summary"`
	PublishedAt        string `json:"publishedAt"`
	SubmittedOnDailyAt string `json:"submittedOnDailyAt"`
	Thumbnail          string `json:"thumbnail"`
	NumComments        int    `json:"numComments"`
}

// hf parses a Hugging Face daily papers array.
func (p *parser) hf() error {
	dec := json.NewDecoder(bytes.NewReader(p.data))
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			return nil // an empty source holds no papers
		}
		return p.jsonError(err, 1, 0)
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return &ParseError{Source: p.name, Line: 1, Offset: 0, Err: fmt.Errorf("want a JSON array of Hugging Face daily papers, found %s", jsonKind(tok))}
	}
	if err := jsonEntries[hfItem](p, dec); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		off := int(dec.InputOffset())
		return &ParseError{Source: p.name, Line: lineAt(p.data, off), Offset: int64(off), Err: errors.New("data after the end of the JSON array")}
	}
	return nil
}

// paper maps one item to a model.Paper.
func (it *hfItem) paper() (model.Paper, error) {
	ip := &it.Paper
	pp := model.Paper{
		Title:       cmp.Or(ip.Title, it.Title),
		Abstract:    cmp.Or(ip.Summary, it.Summary),
		Keywords:    ip.AIKeywords,
		AISummary:   ip.AISummary,
		GitHubRepo:  ip.GithubRepo,
		ProjectPage: ip.ProjectPage,
		Thumbnail:   it.Thumbnail,
		Upvotes:     max(ip.Upvotes, 0),
		Comments:    max(it.NumComments, 0),
		Source:      FormatHF,
	}
	for _, a := range ip.Authors {
		pp.Authors = append(pp.Authors, a.Name)
	}
	var err error
	if pp.Published, err = parseTime(cmp.Or(ip.PublishedAt, it.PublishedAt)); err != nil {
		return pp, fmt.Errorf("publishedAt: %w", err)
	}
	if pp.TrendingAt, err = parseTime(cmp.Or(it.SubmittedOnDailyAt, ip.SubmittedOnDailyAt)); err != nil {
		return pp, fmt.Errorf("submittedOnDailyAt: %w", err)
	}
	if id := NormalizeArxivID(ip.ID); id != "" {
		pp.ID = id
		pp.URL = "https://huggingface.co/papers/" + id
	} else if ip.ID != "" {
		pp.URL = "https://huggingface.co/papers/" + url.PathEscape(ip.ID)
	}
	return pp, nil
}

// jsonError turns a decoding error into a *ParseError with the position:
// syntax errors are located by re-scanning the whole source, type errors
// name the entry (starting at line) and the field.
func (p *parser) jsonError(err error, line, entry int) error {
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		msg := fmt.Errorf("entry is a JSON %s, want %s", te.Value, goKindJSON(te.Type))
		if te.Field != "" {
			msg = fmt.Errorf("field %s holds a JSON %s, want %s", te.Field, te.Value, goKindJSON(te.Type))
		}
		return &ParseError{Source: p.name, Line: line, Offset: -1, Entry: entry, Err: msg}
	}
	var se *json.SyntaxError
	if err2 := json.Unmarshal(p.data, new(json.RawMessage)); errors.As(err2, &se) {
		return &ParseError{Source: p.name, Line: lineAt(p.data, int(se.Offset)), Offset: se.Offset, Entry: entry, Err: fmt.Errorf("invalid JSON: %w", se)}
	}
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return &ParseError{Source: p.name, Line: lineAt(p.data, len(p.data)), Offset: int64(len(p.data)), Entry: entry, Err: errors.New("invalid JSON: unexpected end of input (truncated?)")}
	}
	return &ParseError{Source: p.name, Line: line, Offset: -1, Entry: entry, Err: fmt.Errorf("invalid JSON: %w", err)}
}

// jsonKind names a JSON token for messages.
func jsonKind(tok json.Token) string {
	switch t := tok.(type) {
	case json.Delim:
		if t == '{' {
			return "an object"
		}
		return "'" + t.String() + "'"
	case string:
		return "a string"
	case float64, json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return fmt.Sprint(tok)
}

// goKindJSON names the JSON type a Go type decodes from.
func goKindJSON(t reflect.Type) string {
	if t == nil {
		return "another type"
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return t.String()
}

// jsonEntries reads the entries of the JSON array dec has just opened, one
// at a time, as T, adds each as a paper (errors name its line and entry
// number) and reads the closing ']'.
func jsonEntries[T any, PT interface {
	*T
	paper() (model.Paper, error)
}](p *parser, dec *json.Decoder) error {
	for entry := 1; dec.More(); entry++ {
		start := int(dec.InputOffset())
		for start < len(p.data) && (isSpaceByte(p.data[start]) || p.data[start] == ',') {
			start++
		}
		line := lineAt(p.data, start)
		var it T
		if err := dec.Decode(&it); err != nil {
			return p.jsonError(err, line, entry)
		}
		pp, err := PT(&it).paper()
		if err != nil {
			return p.errAt(line, entry, "%w", err)
		}
		if err := p.add(pp, line, entry); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing ']'
		return p.jsonError(err, 0, 0)
	}
	return nil
}
