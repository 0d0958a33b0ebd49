package feeds

import (
	"strings"
	"testing"

	"github.com/papermail/papermail/internal/model"
)

func TestParseJournalFeeds(t *testing.T) {
	tests := []struct {
		file string
		want []model.Paper
	}{
		{"journal-rss2.xml", []model.Paper{
			{
				ID:         TitleID("Cross-lingual transfer of morphological taggers with 100 sentences"),
				Title:      "Cross-lingual transfer of morphological taggers with 100 sentences",
				Abstract:   "We show that a tagger trained on a high-resource language reaches 91% accuracy on a related low-resource language after fine-tuning on 100 annotated sentences, and that the gain holds for 12 language pairs.",
				Authors:    []string{"Amara Nwosu", "Jonas Weber"},
				Categories: []string{"Machine translation"},
				URL:        "https://journals.example.org/jclr/article/10.5555/jclr.2024.0012",
				DOI:        "10.5555/jclr.2024.0012",
				Venue:      "Journal of Computational Linguistics Research: Table of Contents",
				Published:  utc(2024, 1, 9, 0, 0, 0, 0),
				Ingested:   testNow,
				Source:     FormatRSS,
			},
			{
				ID:        TitleID("Editorial: a year of open reviewing"),
				Title:     "Editorial: a year of open reviewing",
				Abstract:  "Twelve months after moving to open reviewing, we report on reviewer uptake & turnaround.",
				Authors:   []string{"M. Rossi"},
				URL:       "https://journals.example.org/jclr/article/10.5555/jclr.2024.0001",
				DOI:       "10.5555/jclr.2024.0001",
				Venue:     "Journal of Computational Linguistics Research: Table of Contents",
				Published: utc(2024, 1, 8, 9, 30, 0, 0),
				Ingested:  testNow,
				Source:    FormatRSS,
			},
		}},
		{"journal-atom.xml", []model.Paper{{
			ID:         TitleID("Depth from defocus with a single phone camera"),
			Title:      "Depth from defocus with a single phone camera",
			Abstract:   "Recovering depth from the defocus blur of two exposures, taken 40 ms apart, gives errors within 4% at up to 3 m.",
			Authors:    []string{"Chen Wei", "Sofia Álvarez"},
			Categories: []string{"computer vision"},
			URL:        "https://vision-letters.example.net/articles/avl.2024.3",
			PDFURL:     "https://vision-letters.example.net/articles/avl.2024.3.pdf",
			DOI:        "10.5556/avl.2024.3",
			Venue:      "Proceedings of Applied Vision Letters",
			Published:  utc(2024, 1, 9, 5, 0, 0, 0),
			Ingested:   testNow,
			Source:     FormatRSS,
		}}},
		{"journal-rdf.xml", []model.Paper{{
			ID:        TitleID("A room-temperature sodium battery anode that survives 5,000 cycles"),
			Title:     "A room-temperature sodium battery anode that survives 5,000 cycles",
			Abstract:  "A layered hard-carbon anode keeps 92% of its capacity after 5,000 cycles.",
			Authors:   []string{"Ingrid Halvorsen", "Rahul Mehta"},
			URL:       "https://science-weekly.example.com/articles/s12345-024-0007-2",
			DOI:       "10.5557/s12345-024-0007-2",
			Venue:     "Science Weekly Example",
			Published: utc(2024, 1, 9, 0, 0, 0, 0),
			Ingested:  testNow,
			Source:    FormatRSS,
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			checkPapers(t, parseFixture(t, tt.file, FormatRSS), tt.want)
		})
	}
}

// TestParseRSSErrors: broken or hostile journal feeds fail as a whole and
// say where.
func TestParseRSSErrors(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string
	}{
		{"no title", "<rss><channel><title>J</title>\n<item><title>A</title></item>\n<item><description>x</description></item></channel></rss>", []string{"src: line 3: entry 2: paper has no title"}},
		{"html page", "<!DOCTYPE html>\n<html><body>Moved</body></html>", []string{"line 2: want an Atom or RSS feed, found root element <html>"}},
		{"entity bomb", "<!DOCTYPE r [<!ENTITY a \"aaaa\"><!ENTITY b \"&a;&a;&a;\">]><rss><channel><item><title>&b;</title></item></channel></rss>", []string{"src: ", "invalid XML"}},
		{"truncated", "<rss><channel><title>J</title>\n<item><title>A</title>", []string{"src: line 2", "unexpected end of input"}},
		{"bad date", "<rss><channel><item><title>A</title><pubDate>next week</pubDate></item></channel></rss>", []string{"entry 1: date: cannot read date \"next week\""}},
		{"title only tags", "<rss><channel><item><title>&lt;i&gt;&lt;/i&gt;</title></item></channel></rss>", []string{"entry 1: paper has no title"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			papers, err := parseString(tt.src, FormatRSS)
			if err == nil {
				t.Fatalf("parsed %+v, want an error", papers)
			}
			if papers != nil {
				t.Errorf("error with %d papers", len(papers))
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestStripHTML(t *testing.T) {
	tests := []struct{ in, want string }{
		{"<p>A <i>p</i>-value</p>", " A p-value "},
		{"p<0.05 and q>1", "p<0.05 and q>1"},
		{"x &lt; y &amp; z", "x < y & z"},
		{"<p>Nature, Published online: 9 January 2024; <a href=\"https://doi.org/10.1/x\">doi:10.1/x</a></p>Real abstract.", "Real abstract."},
		{"<p>Only a doi:10.1/x paragraph</p>", " Only a doi:10.1/x paragraph "},
		{"H<sub>2</sub>O<br/>next", "H2O next"},
		{"<jats:p>Text with <jats:italic>in vivo</jats:italic></jats:p>", " Text with in vivo "},
	}
	for _, tt := range tests {
		if got := stripHTML(tt.in); got != tt.want {
			t.Errorf("stripHTML(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestNormalizeDOI(t *testing.T) {
	tests := []struct{ in, want string }{
		{"10.1101/2024.01.05.574321", "10.1101/2024.01.05.574321"},
		{"doi:10.5557/S12345-024-0007-2", "10.5557/s12345-024-0007-2"},
		{"https://doi.org/10.1000/xyz%3C1%3E", "10.1000/xyz<1>"},
		{"https://doi.org/10.1000/abc(1).", "10.1000/abc(1)"},
		{"(see doi:10.1000/abc.)", "10.1000/abc"},
		{"https://dx.doi.org/10.1093/bioinformatics/btae001", "10.1093/bioinformatics/btae001"},
		{"https://journals.example.org/article/10.5555/jclr.2024.0012", "10.5555/jclr.2024.0012"},
		{"http://arxiv.org/abs/2401.01234v2", ""},
		{"10.1/x", ""},
		{"version 10.2", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := NormalizeDOI(tt.in); got != tt.want {
			t.Errorf("NormalizeDOI(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestJournalDates(t *testing.T) {
	for _, d := range []string{"Tue, 9 Jan 2024 00:00:00 GMT", "Tue, 09 Jan 2024 10:30 +0100", "09 Jan 2024", "January 9, 2024", "2024-01-09T10:30:00+0100", "2024-01-09 10:30:00", "Tue, 9 Jan 2024"} {
		src := "<rss><channel><item><title>A</title><pubDate>" + d + "</pubDate></item></channel></rss>"
		papers, err := parseString(src, FormatRSS)
		if err != nil || len(papers) != 1 || papers[0].Published.Year() != 2024 || papers[0].Published.Day() != 9 {
			t.Errorf("date %q: %v %+v", d, err, papers)
		}
	}
	src := `<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" xmlns:prism="http://prismstandard.org/namespaces/basic/2.0/"><item rdf:about="https://j.example/a"><title>A</title><prism:publicationDate>2024-01-09</prism:publicationDate></item></rdf:RDF>`
	papers, err := parseString(src, FormatRSS)
	if err != nil || len(papers) != 1 || !papers[0].Published.Equal(utc(2024, 1, 9, 0, 0, 0, 0)) || papers[0].URL != "https://j.example/a" {
		t.Errorf("prism:publicationDate: %v %+v", err, papers)
	}
}

// TestJournalFeedAutoDetected: with format auto, a journal feed (no arXiv
// paper in it) is read as rss; an arXiv feed stays arxiv.
func TestJournalFeedAutoDetected(t *testing.T) {
	for file, want := range map[string]string{"journal-rss2.xml": FormatRSS, "journal-atom.xml": FormatRSS, "journal-rdf.xml": FormatRSS,
		"arxiv-api.xml": FormatArxiv, "arxiv-rss.xml": FormatArxiv} {
		papers := parseFixture(t, file, FormatAuto)
		if papers[0].Source != want {
			t.Errorf("%s: read as %s, want %s", file, papers[0].Source, want)
		}
	}
	if got := parseFixture(t, "journal-rss2.xml", FormatAuto); got[0].DOI != "10.5555/jclr.2024.0012" || got[0].Venue == "" {
		t.Errorf("auto-detected journal feed lost its DOI or venue: %+v", got[0])
	}
}

// TestJournalAbstractFromContent: when a journal's description is a
// teaser and content:encoded (or Atom content) holds the abstract, the
// abstract is kept; a whole article in content longer than the abstract
// limit leaves the description in place instead of refusing the feed.
func TestJournalAbstractFromContent(t *testing.T) {
	article := strings.Repeat("Body text of the whole article. ", MaxAbstractChars/16)
	rss := `<?xml version="1.0"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>J</title>
<item><title>Teaser first</title><link>https://j.example.org/1</link><description>Short teaser.</description>
<content:encoded><![CDATA[<p>We study <b>machine translation</b> for low-resource languages by pivoting.</p>]]></content:encoded></item>
<item><title>Whole article</title><link>https://j.example.org/2</link><description>The real abstract, in a sentence.</description>
<content:encoded><![CDATA[<p>` + article + `</p>]]></content:encoded></item>
<item><title>Content only</title><link>https://j.example.org/3</link><content:encoded>&lt;p&gt;Only here.&lt;/p&gt;</content:encoded></item>
</channel></rss>`
	papers, _, err := parseBytes([]byte(rss), FormatRSS, "j.xml", testNow)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"We study machine translation for low-resource languages by pivoting.", "The real abstract, in a sentence.", "Only here."}
	if len(papers) != len(want) {
		t.Fatalf("%d papers", len(papers))
	}
	for i, p := range papers {
		if p.Abstract != want[i] {
			t.Errorf("%q: abstract %.80q, want %q", p.Title, p.Abstract, want[i])
		}
	}
}
