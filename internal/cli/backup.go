package cli

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/papermail/papermail/internal/store"
)

func cmdBackup(e *env, args []string) error {
	fs := newFlags(e, "backup", "backup FILE")
	pos, err := flags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: backup needs one FILE", errUsage)
	}
	st, err := e.store()
	if err != nil {
		return err
	}
	n, err := st.BackupFile(e.abs(pos[0]))
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "wrote a consistent copy of the store (%d bytes) to %s\n", n, pos[0])
	return nil
}

func cmdRestore(e *env, args []string) error {
	fs := newFlags(e, "restore", "restore FILE")
	pos, err := flags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: restore needs one FILE", errUsage)
	}
	src := e.abs(pos[0])
	if err := store.CheckFile(src); err != nil {
		return fmt.Errorf("%s is not a usable backup: %w", pos[0], err)
	}
	dst := e.cfg.DBPath()
	// Holding the lock on the current store proves no daemon uses it.
	if _, err := os.Stat(dst); err == nil {
		cur, err := store.Open(dst, store.Options{})
		if errors.Is(err, store.ErrLocked) {
			return fmt.Errorf("refusing to restore: the store %s is in use (stop 'papermail serve' first)", dst)
		}
		if err != nil {
			return err
		}
		defer cur.Close()
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.MkdirAll(e.cfg.DataDir, 0o700); err != nil {
		return err
	}
	tmp := dst + ".restore"
	out, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
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
	if err == nil {
		err = os.Rename(tmp, dst)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("restore: %w", err)
	}
	fmt.Fprintf(e.stdout, "restored %s from %s\n", dst, pos[0])
	return nil
}
