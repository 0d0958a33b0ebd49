//go:build !linux

package store

// ReleaseMemory is a no-op where madvise is not used.
func (s *Store) ReleaseMemory() {}
