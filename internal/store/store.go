// Package store owns papermail's single bbolt file: papers, subscribers,
// what each subscriber has been sent, digest runs with their delivery
// ledger, and the outbox of transactional mail. One Store type, one file per
// entity; every method is one short transaction unless it says otherwise.
package store

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/papermail/papermail/internal/due"
)

// SchemaVersion is the layout this build reads and writes. A file written by
// a newer version is refused.
// Older layouts are migrated when a file is opened for writing (see
// migrate.go).
const SchemaVersion = 3

// Errors callers test with errors.Is.
var (
	// ErrNotFound means the requested record does not exist.
	ErrNotFound = errors.New("not found")
	// ErrExists means a record with the same key (an email address) exists.
	ErrExists = errors.New("already exists")
	// ErrNewerSchema means the file was written by a newer papermail.
	ErrNewerSchema = errors.New("store written by a newer papermail")
	// ErrLocked means another process (usually `papermail serve`) holds the file.
	ErrLocked = errors.New("store is in use by another papermail process")
)

var (
	bucketMeta        = []byte("meta")
	bucketPapers      = []byte("papers")
	bucketPaperDates  = []byte("paper_dates")
	bucketSubscribers = []byte("subscribers")
	bucketEmails      = []byte("subscriber_emails")
	bucketSent        = []byte("sent")
	bucketRuns        = []byte("runs")
	bucketLedger      = []byte("ledger")
	bucketOutbox      = []byte("outbox")
	bucketConfirm     = []byte("confirmations")
	bucketDelivery    = []byte("delivery")
	bucketDue         = []byte("due")

	keySchema = []byte("schema_version")
	keySecret = []byte("secret")
)

var allBuckets = [][]byte{bucketMeta, bucketPapers, bucketPaperDates, bucketSubscribers,
	bucketEmails, bucketSent, bucketRuns, bucketLedger, bucketOutbox, bucketConfirm, bucketCategories, bucketDelivery, bucketDue}

// Options tune Open.
type Options struct {
	// Timeout is how long to wait for the file lock; 0 means 250ms.
	Timeout time.Duration
	// ReadOnly opens the file without writing (shared lock).
	ReadOnly bool
	// NoSync skips fsync; only for benchmarks of the non-durable path.
	NoSync bool
	// MustExist refuses to create a store: a missing file is a
	// *NoStoreError (a mistyped data_dir must not become a new, empty
	// store with a new link secret).
	MustExist bool
}

// Store is the bbolt-backed database.
type Store struct {
	db     *bolt.DB
	path   string
	secret []byte
	// pol is the default delivery time the due index is kept with.
	pol atomic.Pointer[due.Policy]
	// kick is signalled when the due index changed (DueChanged).
	kick     chan struct{}
	readOnly bool
	// journal holds outcomes written with Journal until they are
	// folded; nil when the store is read-only.
	journal *journal
	// pending counts, in a read-only store, the outcomes left unfolded
	// in the journal (PendingOutcomes).
	pending int
}

// Open opens or creates the store at path, checking its schema version.
// A file that is damaged (see checkFile) is a *DamageError, an empty
// file a *NoStoreError: neither is ever replaced by a new store.
func Open(path string, opts Options) (*Store, error) {
	if opts.Timeout == 0 {
		opts.Timeout = 250 * time.Millisecond
	}
	switch err := checkFile(path, opts.Timeout); {
	case errors.Is(err, os.ErrNotExist):
		if opts.MustExist || opts.ReadOnly {
			return nil, &NoStoreError{Path: path}
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("store: create folder: %w", err)
		}
	case err != nil:
		return nil, err
	}
	db, err := openBolt(path, opts)
	if err != nil {
		return nil, err
	}
	// Concurrent writers (the web pages, the outbox) share a commit
	// closed after 2 ms or 1,000 writes (bbolt's default size). Measured
	// for POST /subscribe in the bench harness (16 connections): a median
	// 1,848 req/s against 1,357 with a batch of 4, and 38 against 112 us
	// of commit CPU a request.
	db.MaxBatchDelay = 2 * time.Millisecond
	s := &Store{db: db, path: path, kick: make(chan struct{}, 1), readOnly: opts.ReadOnly}
	if err := s.init(opts.ReadOnly); err != nil {
		db.Close()
		var de *DamageError
		if errors.As(err, &de) {
			return nil, err
		}
		return nil, fmt.Errorf("store %s: %w", path, err)
	}
	if opts.ReadOnly {
		if err := s.countPending(); err != nil {
			db.Close()
			return nil, fmt.Errorf("store %s: %w", path, err)
		}
	} else {
		err := s.migrate()
		if err == nil {
			err = s.countAll()
		}
		if err == nil {
			err = s.openJournal()
		}
		if err != nil {
			if s.journal != nil {
				s.journal.f.Close()
			}
			db.Close()
			return nil, fmt.Errorf("store %s: %w", path, err)
		}
	}
	return s, nil
}

// openBolt opens the file with bbolt, which in write mode reads the
// freelist page: a damaged one panics, and that becomes a *DamageError.
func openBolt(path string, opts Options) (db *bolt.DB, err error) {
	defer recoverDamage(path, &err)
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	db, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.Timeout, ReadOnly: opts.ReadOnly, NoSync: opts.NoSync, FreelistType: bolt.FreelistMapType})
	if err != nil {
		return nil, openError(path, err)
	}
	return db, nil
}

func (s *Store) init(readOnly bool) error {
	check := func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			return nil
		}
		if v := meta.Get(keySchema); v != nil {
			n, err := strconv.Atoi(string(v))
			if err != nil {
				return fmt.Errorf("unreadable schema version %q", v)
			}
			if n > SchemaVersion {
				return fmt.Errorf("%w: schema version %d, this build reads up to %d; upgrade papermail or restore a backup", ErrNewerSchema, n, SchemaVersion)
			}
		}
		if sec := meta.Get(keySecret); sec != nil {
			s.secret = append([]byte(nil), sec...)
		}
		s.loadPolicy(tx)
		return nil
	}
	if readOnly {
		return s.view(check)
	}
	// A store that has everything is only read: opening it writes
	// nothing (a damaged store must stay as it was for a salvage).
	complete := false
	if err := s.view(func(tx *bolt.Tx) error {
		if err := check(tx); err != nil {
			return err
		}
		complete = s.secret != nil && tx.Bucket(bucketMeta).Get(keySchema) != nil
		for _, name := range allBuckets {
			complete = complete && tx.Bucket(name) != nil
		}
		return nil
	}); err != nil || complete {
		return err
	}
	return s.update(func(tx *bolt.Tx) error {
		if err := check(tx); err != nil {
			return err
		}
		newCategories := tx.Bucket(bucketCategories) == nil
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		if newCategories {
			if err := backfillCategories(tx); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketMeta)
		if meta.Get(keySchema) == nil {
			if err := meta.Put(keySchema, []byte(strconv.Itoa(SchemaVersion))); err != nil {
				return err
			}
		}
		if s.secret == nil {
			sec := make([]byte, 32)
			if _, err := rand.Read(sec); err != nil {
				return err
			}
			if err := meta.Put(keySecret, sec); err != nil {
				return err
			}
			s.secret = sec
		}
		return nil
	})
}

// Close folds the journal (Flush) and closes the files.
func (s *Store) Close() error {
	var err error
	if s.journal != nil {
		err = errors.Join(s.Flush(), s.journal.f.Close())
	}
	return errors.Join(err, s.db.Close())
}

// Path is the file's path.
func (s *Store) Path() string { return s.path }

// Secret is the token-signing secret generated once and kept in the store.
func (s *Store) Secret() []byte { return s.secret }

// Ping checks the file is open and readable (for /readyz).
func (s *Store) Ping() error {
	return s.view(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketMeta) == nil {
			return errors.New("store: meta bucket missing")
		}
		return nil
	})
}

// Backup writes a consistent copy of the whole store to w while others keep
// using it.
func (s *Store) Backup(w io.Writer) (int64, error) {
	if err := s.Flush(); err != nil {
		return 0, err
	}
	var n int64
	err := s.view(func(tx *bolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	return n, err
}

// BackupFile writes a consistent copy to path (via a temporary file renamed into place).
func (s *Store) BackupFile(path string) (int64, error) {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	n, err := s.Backup(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return 0, fmt.Errorf("backup to %s: %w", path, err)
	}
	return n, nil
}

// CheckFile checks that path holds a whole, undamaged papermail store of
// a schema this build reads (before restore puts it in place): the meta
// pages and file size at open, then every page (Verify).
func CheckFile(path string) error {
	s, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.Verify(); err != nil {
		return err
	}
	return s.view(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketMeta) == nil || tx.Bucket(bucketMeta).Get(keySchema) == nil {
			return fmt.Errorf("%s is not a papermail store", path)
		}
		return nil
	})
}

func u64(n uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, n)
	return b
}

func btoi(b []byte) uint64 { return binary.BigEndian.Uint64(b) }
