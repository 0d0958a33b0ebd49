//go:build !unix

package store

// Lock is a no-op where bbolt's flock is not available.
func Lock(path string) (unlock func(), err error) { return func() {}, nil }
