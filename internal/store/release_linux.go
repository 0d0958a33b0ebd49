//go:build linux

package store

import (
	"syscall"
	"unsafe"

	bolt "go.etcd.io/bbolt"
)

// ReleaseMemory tells the kernel this process no longer needs the pages of
// the memory-mapped file it has read so far. They stay in the page cache
// and come back on the next read; without this a run that streams a million
// subscribers would count the whole file in its resident memory. The read
// transaction keeps bbolt from remapping the file meanwhile.
func (s *Store) ReleaseMemory() {
	_ = s.view(func(tx *bolt.Tx) error {
		// In a read-only transaction the root bucket's keys (the bucket
		// names) point into the map; step back from one to the map's start.
		v, _ := tx.Cursor().First()
		info := s.db.Info()
		size := tx.Size()
		if len(v) == 0 || info == nil || size <= 0 {
			return nil
		}
		p := unsafe.Pointer(unsafe.SliceData(v))
		off := int(uintptr(p) - info.Data)
		if off < 0 || int64(off) >= size {
			return nil
		}
		region := unsafe.Slice((*byte)(unsafe.Add(p, -off)), int(size))
		return syscall.Madvise(region, syscall.MADV_DONTNEED)
	})
}
