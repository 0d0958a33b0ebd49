package selection

import (
	"fmt"
	"testing"
	"time"

	"github.com/papermail/papermail/internal/model"
)

// benchPapers returns 500 candidate papers: the shared page twice over,
// the second copy with other ids, titles, dates and trending signals.
func benchPapers(b *testing.B) ([]model.Paper, time.Time) {
	b.Helper()
	now := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	page := loadPage(b, now.Add(-6*time.Hour))
	var out []model.Paper
	for copyNo := range 2 {
		for i, p := range page {
			if len(out) == 500 {
				return out, now
			}
			if copyNo == 1 {
				p.ID = fmt.Sprintf("copy-%03d", i)
				p.Title += " (extended version)"
			}
			p.Upvotes = (i * 37) % 120
			p.Comments = (i * 11) % 9
			p.Published = now.Add(-time.Duration(i%48) * time.Hour)
			out = append(out, p)
		}
	}
	return out, now
}

var benchProfile = Profile{
	Interests: []string{"semantic segmentation", "making LLMs decode faster", "mixture of experts"},
	Exclude:   func(id string) bool { return id == "page-001" },
}

// BenchmarkSelect is one subscriber's daily selection: 500 candidates,
// three interests, eight picks, with a compiled query.
func BenchmarkSelect(b *testing.B) {
	papers, now := benchPapers(b)
	ix := NewIndex(papers, Options{Now: now})
	q := ix.Compile(benchProfile)
	if len(ix.Select(q, 8)) != 8 {
		b.Fatal("benchmark profile does not fill 8 picks")
	}
	b.ReportAllocs()
	for b.Loop() {
		ix.Select(q, 8)
	}
}

// BenchmarkCompileSelect is Compile plus Select per subscriber with the
// interest cache warm (interests shared with earlier subscribers).
func BenchmarkCompileSelect(b *testing.B) {
	papers, now := benchPapers(b)
	ix := NewIndex(papers, Options{Now: now})
	ix.Select(ix.Compile(benchProfile), 8)
	b.ReportAllocs()
	for b.Loop() {
		ix.Select(ix.Compile(benchProfile), 8)
	}
}

// BenchmarkCompileCold compiles three interests no subscriber had before.
func BenchmarkCompileCold(b *testing.B) {
	papers, now := benchPapers(b)
	ix := NewIndex(papers, Options{Now: now})
	b.ReportAllocs()
	for b.Loop() {
		ix.cache, ix.texts = interestCache{}, interestCache{}
		ix.Compile(benchProfile)
	}
}

func BenchmarkNewIndex(b *testing.B) {
	papers, now := benchPapers(b)
	DefaultLexicon()
	b.ReportAllocs()
	for b.Loop() {
		NewIndex(papers, Options{Now: now})
	}
}

func BenchmarkHighlight(b *testing.B) {
	papers, now := benchPapers(b)
	ix := NewIndex(papers, Options{Now: now})
	picks := ix.Select(ix.Compile(benchProfile), 8)
	b.ReportAllocs()
	for b.Loop() {
		for _, p := range picks {
			h := NewHighlighter(p.Matched)
			h.Segments(p.Paper.Title)
			h.Segments(p.Paper.Abstract)
		}
	}
}

// BenchmarkHighlightAbstract marks one pick's matched words in a
// 600-character abstract, as rendering does per paper.
func BenchmarkHighlightAbstract(b *testing.B) {
	papers, now := benchPapers(b)
	ix := NewIndex(papers, Options{Now: now})
	picks := ix.Select(ix.Compile(benchProfile), 8)
	p := picks[0]
	abstract := p.Paper.Abstract
	if len(abstract) > 600 {
		abstract = abstract[:600]
	}
	b.ReportAllocs()
	for b.Loop() {
		NewHighlighter(p.Matched).Segments(abstract)
	}
}

// benchLibrary is a reader's library of n entries made from the page's
// papers (title and abstract), as an import would give them.
func benchLibrary(papers []model.Paper, n int) []LibraryEntry {
	lib := make([]LibraryEntry, 0, n)
	for i := 0; len(lib) < n; i++ {
		p := papers[i%len(papers)]
		title := fmt.Sprintf("%s (reader copy %d)", p.Title, i)
		lib = append(lib, LibraryEntry{Label: title, Text: title + "\n" + p.Abstract})
	}
	return lib
}

// BenchmarkCompileLibraryCold is the first subscriber of a run with a
// library of maxLibraryParts entries: every entry compiled against the
// day's candidates.
func BenchmarkCompileLibraryCold(b *testing.B) {
	papers, now := benchPapers(b)
	ix := NewIndex(papers, Options{Now: now})
	prof := Profile{Library: benchLibrary(papers, maxLibraryParts), Authors: []string{"Yann LeCun"}}
	b.ReportAllocs()
	for b.Loop() {
		ix.cache, ix.texts = interestCache{}, interestCache{}
		ix.Select(ix.Compile(prof), 8)
	}
}

// BenchmarkSelectLibrary is a library subscriber's selection with the
// entries compiled (a second run of the same profile).
func BenchmarkSelectLibrary(b *testing.B) {
	papers, now := benchPapers(b)
	ix := NewIndex(papers, Options{Now: now})
	prof := Profile{Library: benchLibrary(papers, maxLibraryParts)}
	ix.Select(ix.Compile(prof), 8)
	b.ReportAllocs()
	for b.Loop() {
		ix.Select(ix.Compile(prof), 8)
	}
}
