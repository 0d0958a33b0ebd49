// Package maildir lists the messages of a Maildir folder, the one reader
// of its new/ and cur/ folders (the mailbox page, bounce reports and the
// deliverability checks). Delivering into a Maildir is the mailer's.
package maildir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// ErrNotMaildir is returned for a folder with neither new/ nor cur/.
var ErrNotMaildir = errors.New("not a Maildir (no new/ or cur/)")

// Entry is one message file.
type Entry struct {
	// Path is the file's path: the folder, "new" or "cur", and Name.
	Path string
	Name string
	// New reports a message in new/: delivered, not yet seen.
	New bool
	fs.DirEntry
}

// List returns the regular files in dir/new and, when cur is set, in
// dir/cur: new/'s first, each folder's in name order. A missing new/ or
// cur/ holds nothing; when both are missing the error is ErrNotMaildir.
func List(dir string, cur bool) ([]Entry, error) {
	var out []Entry
	found := false
	for _, sub := range []string{"new", "cur"} {
		entries, err := os.ReadDir(filepath.Join(dir, sub))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		found = true
		if sub == "cur" && !cur {
			continue
		}
		for _, e := range entries {
			if e.Type().IsRegular() {
				out = append(out, Entry{Path: filepath.Join(dir, sub, e.Name()), Name: e.Name(), New: sub == "new", DirEntry: e})
			}
		}
	}
	if !found {
		return nil, fmt.Errorf("%s: %w", dir, ErrNotMaildir)
	}
	return out, nil
}
