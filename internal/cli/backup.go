package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/papermail/papermail/internal/store"
)

func cmdBackup(e *env, args []string) error {
	fs := newFlags(e, "backup", "backup FILE")
	file, err := oneArg(fs, args, "one FILE")
	if err != nil {
		return err
	}
	st, err := e.store()
	if err != nil {
		return err
	}
	n, err := st.BackupFile(e.abs(file))
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "wrote a consistent copy of the store (%d bytes) to %s\n", n, file)
	return nil
}

func cmdRestore(e *env, args []string) error {
	fs := newFlags(e, "restore", "restore [--force] FILE")
	force := fs.Bool("force", false, "replace an existing store (it is kept as papermail.db.replaced-<UTC time>)")
	file, err := oneArg(fs, args, "one FILE")
	if err != nil {
		return err
	}
	src := e.abs(file)
	if err := store.CheckFile(src); err != nil {
		if de, ok := errors.AsType[*store.DamageError](err); ok {
			return fmt.Errorf("%s is not a usable backup: it is damaged (%s); nothing was changed, choose another backup", file, de.Problem)
		}
		if ns, ok := errors.AsType[*store.NoStoreError](err); ok {
			what := "no such file"
			switch {
			case ns.Empty:
				what = "the file is empty"
			case ns.Dir:
				what = "it is a directory"
			}
			return fmt.Errorf("%s is not a usable backup: %s; nothing was changed", file, what)
		}
		return fmt.Errorf("%s is not a usable backup: %w; nothing was changed", file, err)
	}
	dst := e.cfg.DBPath()
	exists, damaged, pending := false, false, 0
	if _, err := os.Stat(dst); err == nil {
		exists = true
		// A read-only open takes a shared lock: it fails while a daemon
		// holds the store, and writes nothing.
		cur, err := store.Open(dst, store.Options{ReadOnly: true})
		if errors.Is(err, store.ErrLocked) {
			return fmt.Errorf("refusing to restore: the store %s is in use (stop 'papermail serve' first)", dst)
		}
		damaged = errors.Is(err, store.ErrDamaged)
		if err == nil {
			damaged = errors.Is(cur.Verify(), store.ErrDamaged)
			pending = cur.PendingOutcomes()
			cur.Close()
		}
		if !*force {
			return fmt.Errorf("refusing to restore: a store exists at %s; nothing was changed. Run 'papermail restore --force %s' to replace it (the current store is kept as %s.replaced-<UTC time>)", dst, file, filepath.Base(dst))
		}
		// Hold the exclusive lock while replacing, so no daemon starts on
		// the old file meanwhile. It is taken without reading the file:
		// restoring over a damaged store is what restore is for.
		unlock, err := store.Lock(dst)
		if errors.Is(err, store.ErrLocked) {
			return fmt.Errorf("refusing to restore: the store %s is in use (stop 'papermail serve' first)", dst)
		}
		if err != nil {
			return fmt.Errorf("restore: %w", err)
		}
		defer unlock()
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("restore: %w", err)
	}
	if err := os.MkdirAll(e.cfg.DataDir, 0o700); err != nil {
		return err
	}
	tmp := dst + ".restore"
	if err := copyFileSynced(src, tmp); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("restore: %w (the store was not changed)", err)
	}
	kept := ""
	if exists {
		kept = replacedName(dst, time.Now())
		if err := os.Rename(dst, kept); err != nil {
			os.Remove(tmp)
			return fmt.Errorf("restore: keep the current store: %w (the store was not changed)", err)
		}
	}
	if err := os.Rename(tmp, dst); err != nil {
		if kept != "" {
			os.Rename(kept, dst)
		}
		os.Remove(tmp)
		return fmt.Errorf("restore: %w (the store was not changed)", err)
	}
	syncDir(filepath.Dir(dst))
	fmt.Fprintf(e.stdout, "restored %s from %s\n", dst, file)
	switch {
	case kept != "" && damaged:
		fmt.Fprintf(e.stdout, "the replaced store was damaged; it is kept as %s (papermail export --salvage can read what is left of it)\n", kept)
	case kept != "":
		fmt.Fprintf(e.stdout, "the replaced store is kept as %s\n", kept)
	}
	if pending > 0 {
		fmt.Fprintf(e.stdout, "the replaced store was not closed cleanly: %d delivery outcomes were still in %s, not in the kept copy; they stay there and are applied to the restored store when it is next opened\n",
			pending, filepath.Base(dst)+"-journal")
	}
	return nil
}

// replacedName is where restore keeps the store it replaces:
// papermail.db.replaced-20261203T142501Z, with -2, -3... when taken.
func replacedName(dst string, now time.Time) string {
	base := dst + ".replaced-" + now.UTC().Format("20060102T150405Z")
	name := base
	for i := 2; ; i++ {
		if _, err := os.Lstat(name); errors.Is(err, os.ErrNotExist) {
			return name
		}
		name = fmt.Sprintf("%s-%d", base, i)
	}
}

// copyFileSynced copies src to a new file dst and syncs it to disk.
func copyFileSynced(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncDir makes renames in dir durable; errors are ignored (not every
// file system syncs directories).
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
