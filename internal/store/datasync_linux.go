package store

import (
	"os"
	"syscall"
)

// datasync flushes f's data and only the metadata needed to read it
// (fdatasync): an overwrite of blocks already written skips the
// filesystem's journal commit that fsync makes for the file's times.
func datasync(f *os.File) error { return syscall.Fdatasync(int(f.Fd())) }
