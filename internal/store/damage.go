package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// A damaged file (truncated, pages overwritten, not a bbolt file at all)
// must end a command with one line that says what is wrong and how to get
// the data back, never with a Go fault. Three defences:
//
//   - Open compares the file with its meta pages before bbolt reads any
//     other page: bbolt checks the meta checksums, and the page count the
//     meta page records must fit in the file (a truncated file would fault
//     on the first read past its end).
//   - Every transaction runs through view, update or batch, which turn a
//     panic raised inside bbolt (an assertion on a page that is not what
//     its parent says, or a memory fault) into a *DamageError.
//   - Verify (verify.go) reads every page the tree reaches and checks it,
//     for the commands that must not start on a damaged file (serve,
//     status, digest, restore of a backup...).

// ErrDamaged means the store file is damaged; the *DamageError that wraps
// it says how.
var ErrDamaged = errors.New("store is damaged")

// ErrNoStore means there is no store file where one was expected.
var ErrNoStore = errors.New("no store")

// DamageError describes a damaged store file.
type DamageError struct {
	Path    string
	Problem string
	// Unreadable is set when nothing can be read from the file at all
	// (no valid meta page), so a salvage is no help.
	Unreadable bool
}

// Error is one line: what is damaged and what to do.
func (e *DamageError) Error() string {
	if e.Unreadable {
		return fmt.Sprintf("store %s is damaged (%s); nothing in it can be read: restore a backup with 'papermail restore BACKUP'", e.Path, e.Problem)
	}
	return fmt.Sprintf("store %s is damaged (%s); restore a backup with 'papermail restore BACKUP', "+
		"or save what is still readable with 'papermail export --salvage --out DIR'", e.Path, e.Problem)
}

// Unwrap makes errors.Is(err, ErrDamaged) hold.
func (e *DamageError) Unwrap() error { return ErrDamaged }

// NoStoreError says a command that needs an existing store found none.
type NoStoreError struct {
	Path string
	// Empty is set when the file exists but holds nothing.
	Empty bool
	// Dir is set when a directory stands where the file should be.
	Dir bool
}

func (e *NoStoreError) Error() string {
	if e.Dir {
		return fmt.Sprintf("%s is a directory, not a papermail store file; data_dir names the directory that holds papermail.db", e.Path)
	}
	if e.Empty {
		return fmt.Sprintf("%s is an empty file, not a papermail store; restore a backup with 'papermail restore BACKUP' "+
			"or delete the file to start a new store", e.Path)
	}
	return fmt.Sprintf("no store at %s; run in the data directory or set data_dir", e.Path)
}

// Unwrap makes errors.Is(err, ErrNoStore) hold.
func (e *NoStoreError) Unwrap() error { return ErrNoStore }

// checkFile compares the file at path with its meta pages before it is
// opened for real: bbolt validates both meta pages' checksums on open, and
// the high-water page count of the valid one must fit in the file. It
// opens the file read-only, so a store held by a running daemon reports
// ErrLocked. A missing file is left to the caller.
func checkFile(path string, timeout time.Duration) (err error) {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return &NoStoreError{Path: path, Dir: true}
	}
	if fi.Size() == 0 {
		return &NoStoreError{Path: path, Empty: true}
	}
	defer recoverDamage(path, &err)
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: timeout})
	if err != nil {
		return openError(path, err)
	}
	defer db.Close()
	if p := metaProblem(path, db.Info().PageSize); p != "" {
		return &DamageError{Path: path, Problem: p}
	}
	return db.View(func(tx *bolt.Tx) error {
		if want := tx.Size(); want > fi.Size() {
			pageSize := int64(db.Info().PageSize)
			return &DamageError{Path: path, Problem: fmt.Sprintf("the file is %d bytes but its meta page counts %d pages of %d bytes (%d bytes): it was cut short",
				fi.Size(), want/pageSize, pageSize, want)}
		}
		return nil
	})
}

// Where bbolt keeps its meta pages: a page header of 16 bytes (page id,
// flags, count, overflow), then the meta record, whose checksum (FNV-64a
// of the bytes before it) sits at offset 56. Both are written in the
// machine's byte order.
const (
	metaHeader   = 16
	metaSumAt    = 56
	metaMagic    = 0xED0CDAED
	metaVersion  = 2
	metaPageFlag = 0x04
)

// metaProblem names a meta page of the file at path that is not whole,
// or returns "". bbolt opens a file whose newer meta page is overwritten
// by falling back to the older one without a word: the store then looks
// as it was before its last write (an import, a confirmation...), and the
// next write would make that loss final. Called once bbolt has found at
// least one valid meta page, so pageSize is known.
func metaProblem(path string, pageSize int) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	for id := range 2 {
		b := make([]byte, metaHeader+metaSumAt+8)
		if _, err := f.ReadAt(b, int64(id*pageSize)); err != nil {
			return fmt.Sprintf("meta page %d cannot be read: %v", id, err)
		}
		m := b[metaHeader:]
		h := fnv.New64a()
		h.Write(m[:metaSumAt])
		ok := binary.NativeEndian.Uint64(b[0:8]) == uint64(id) && binary.NativeEndian.Uint16(b[8:10])&metaPageFlag != 0 &&
			binary.NativeEndian.Uint32(m[0:4]) == metaMagic && binary.NativeEndian.Uint32(m[4:8]) == metaVersion &&
			binary.NativeEndian.Uint64(m[metaSumAt:]) == h.Sum64()
		if !ok {
			return fmt.Sprintf("meta page %d of 2 is overwritten; the other one shows the store as it was before a later write, so recent changes may be missing", id)
		}
	}
	return ""
}

// openError turns an error of bolt.Open into the store's.
func openError(path string, err error) error {
	switch {
	case errors.Is(err, bolterrors.ErrTimeout):
		return fmt.Errorf("store %s: %w", path, ErrLocked)
	case errors.Is(err, bolterrors.ErrChecksum):
		return &DamageError{Path: path, Problem: "both meta pages fail their checksum", Unreadable: true}
	case errors.Is(err, bolterrors.ErrInvalid):
		return &DamageError{Path: path, Problem: "no valid meta page: the file is not a bbolt database or its first pages were overwritten", Unreadable: true}
	case errors.Is(err, bolterrors.ErrVersionMismatch):
		return &DamageError{Path: path, Problem: "the meta pages name an unknown bbolt file version", Unreadable: true}
	case strings.Contains(err.Error(), "file size too small"):
		return &DamageError{Path: path, Problem: "the file is smaller than its two meta pages", Unreadable: true}
	}
	return fmt.Errorf("store %s: %w", path, err)
}

// recoverDamage, deferred, turns a panic raised inside bbolt into a
// *DamageError in *err. A panic raised anywhere else is a bug of ours and
// goes on.
func recoverDamage(path string, err *error) {
	r := recover()
	if r == nil {
		return
	}
	if !panicInBolt() {
		panic(r)
	}
	*err = &DamageError{Path: path, Problem: "reading it failed: " + firstLine(fmt.Sprint(r))}
}

// panicInBolt reports whether the panic being recovered was raised by code
// of the bbolt module: the first frame below the runtime's panic machinery
// is bbolt's.
func panicInBolt() bool {
	pcs := make([]uintptr, 64)
	n := runtime.Callers(3, pcs)
	frames := runtime.CallersFrames(pcs[:n])
	panicking := false
	for {
		f, more := frames.Next()
		switch {
		case f.Function == "runtime.gopanic":
			panicking = true
		case panicking && !strings.HasPrefix(f.Function, "runtime."):
			return strings.HasPrefix(f.Function, "go.etcd.io/bbolt")
		}
		if !more {
			return false
		}
	}
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// guard runs fn, a transaction body, with memory faults turned into
// panics and bbolt's panics into a *DamageError.
func (s *Store) guard(fn func(*bolt.Tx) error) func(*bolt.Tx) error {
	return func(tx *bolt.Tx) (err error) {
		defer recoverDamage(s.path, &err)
		defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
		return fn(tx)
	}
}

// view runs fn in a read transaction; damage comes back as an error.
func (s *Store) view(fn func(*bolt.Tx) error) (err error) {
	defer recoverDamage(s.path, &err)
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	return s.db.View(s.guard(fn))
}

// update runs fn in a write transaction; damage comes back as an error
// and nothing is written.
func (s *Store) update(fn func(*bolt.Tx) error) (err error) {
	defer recoverDamage(s.path, &err)
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	return s.db.Update(s.guard(fn))
}

// batch runs fn in a shared write transaction (bolt.DB.Batch); damage
// comes back as an error. A failing fn is re-run alone by bbolt, in the
// caller's goroutine.
func (s *Store) batch(fn func(*bolt.Tx) error) (err error) {
	defer recoverDamage(s.path, &err)
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	return s.db.Batch(s.guard(fn))
}
