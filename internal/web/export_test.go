package web

// What the tests of package web_test, which build the server through
// internal/app, need to see inside it.

const (
	CSRFTTL                 = csrfTTL
	PreviewRatePerSubscribe = previewRatePerSubscribe
)

// GoodInterests are the examples the subscribe page shows.
var GoodInterests = goodInterests

// CSRFToken is the token of a form that posts to path.
func CSRFToken(s *Server, path string) string { return s.csrfToken(path) }

// ExportData is the document of GET /preferences/{token}/export.
type ExportData = exportData
