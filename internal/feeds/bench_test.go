package feeds

import (
	"context"
	"testing"
)

// BenchmarkParsePage parses the real 252-entry listing page.
func BenchmarkParsePage(b *testing.B) {
	path := samplePage(b)
	for range b.N {
		if _, _, err := Load(context.Background(), path, FormatPage, testNow); err != nil {
			b.Fatal(err)
		}
	}
}
