// Package sample ships papermail's demo papers, written by the papermail authors (fictional research summaries for trying papermail out).
package sample

import _ "embed"

// PapersJSONL holds the demo papers in papermail's jsonl feed format, one
// paper per line, without dates (the demo dates them when it loads them).
//
//go:embed papers.jsonl
var PapersJSONL []byte
