package maildir

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// folder makes a Maildir in a temporary directory with the given files
// ("new/a"); a name ending in "/" is made a directory.
func folder(t *testing.T, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, n := range names {
		p := filepath.Join(dir, n)
		if n[len(n)-1] == '/' {
			if err := os.MkdirAll(p, 0o700); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("Subject: x\r\n\r\nbody\r\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestList(t *testing.T) {
	tests := []struct {
		name    string
		files   []string
		cur     bool
		want    []string // "new/NAME" or "cur/NAME", in order
		wantErr error
	}{
		{"new in name order", []string{"new/2", "new/1", "cur/3"}, false, []string{"new/1", "new/2"}, nil},
		{"new then cur", []string{"cur/1:2,S", "new/2", "new/1"}, true, []string{"new/1", "new/2", "cur/1:2,S"}, nil},
		{"only cur", []string{"cur/1:2,S"}, true, []string{"cur/1:2,S"}, nil},
		{"only cur unread", []string{"cur/1:2,S"}, false, nil, nil},
		{"empty folders", []string{"new/", "cur/", "tmp/"}, true, nil, nil},
		{"directories skipped", []string{"new/a/", "new/b"}, false, []string{"new/b"}, nil},
		{"tmp is not read", []string{"tmp/1", "new/"}, true, nil, nil},
		{"no maildir", []string{"other/1"}, true, nil, ErrNotMaildir},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := folder(t, tt.files...)
			entries, err := List(dir, tt.cur)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("List: error %v, want %v", err, tt.wantErr)
			}
			var got []string
			for _, e := range entries {
				sub := filepath.Base(filepath.Dir(e.Path))
				if e.New != (sub == "new") || e.Name != filepath.Base(e.Path) || filepath.Dir(filepath.Dir(e.Path)) != dir {
					t.Errorf("entry %+v: Path, Name and New disagree", e)
				}
				if _, err := os.Stat(e.Path); err != nil {
					t.Errorf("entry %s: %v", e.Path, err)
				}
				got = append(got, sub+"/"+e.Name)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("List = %q, want %q", got, tt.want)
			}
		})
	}
}
