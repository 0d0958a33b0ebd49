package feeds

import (
	"github.com/papermail/papermail/internal/testutil"

	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/papermail/papermail/internal/model"
)

// testNow is the ingestion time the tests parse with.
var testNow = time.Date(2024, 1, 10, 7, 0, 0, 0, time.UTC)

// samplePage is the real scraped page shared by the project.
func samplePage(t testing.TB) string {
	t.Helper()
	return testutil.SharedData(t, "papers-page.txt")
}

// parseFixture parses testdata/name in format.
func parseFixture(t testing.TB, name, format string) []model.Paper {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	papers, err := Parse(f, format, name, testNow)
	if err != nil {
		t.Fatalf("Parse(%s): %v", name, err)
	}
	return papers
}

// parseString parses src in format, named "src".
func parseString(src, format string) ([]model.Paper, error) {
	return Parse(strings.NewReader(src), format, "src", testNow)
}

// utc builds a UTC time.
func utc(y int, mo time.Month, d, h, mi, s, ns int) time.Time {
	return time.Date(y, mo, d, h, mi, s, ns, time.UTC)
}

// checkPapers compares papers field by field, times by instant.
func checkPapers(t *testing.T, got, want []model.Paper) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d papers, want %d:\n%+v", len(got), len(want), got)
	}
	for i := range want {
		g, w := got[i], want[i]
		for _, tp := range []*time.Time{&g.Published, &g.TrendingAt, &g.Ingested, &g.Updated, &w.Published, &w.TrendingAt, &w.Ingested, &w.Updated} {
			*tp = tp.UTC()
		}
		if !reflect.DeepEqual(g, w) {
			gv, wv := reflect.ValueOf(g), reflect.ValueOf(w)
			for f := 0; f < gv.NumField(); f++ {
				if !reflect.DeepEqual(gv.Field(f).Interface(), wv.Field(f).Interface()) {
					t.Errorf("paper %d %s:\n got %#v\nwant %#v", i+1, gv.Type().Field(f).Name, gv.Field(f).Interface(), wv.Field(f).Interface())
				}
			}
		}
	}
}
