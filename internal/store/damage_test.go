package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/papermail/papermail/internal/model"
)

const (
	damagePapers      = 3000
	damageSubscribers = 400
)

// damageFixture writes a closed store holding damagePapers papers and
// damageSubscribers subscribers (a file of a few MB) and returns its path
// and page size.
func damageFixture(t testing.TB) (string, int) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "papermail.db")
	s, err := Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 27, 6, 0, 0, 0, time.UTC)
	papers := make([]model.Paper, damagePapers)
	for i := range papers {
		papers[i] = model.Paper{ID: fmt.Sprintf("2411.%05d", i), Title: fmt.Sprintf("Paper %d", i),
			Abstract: strings.Repeat(fmt.Sprintf("abstract of paper %d. ", i), 30), Source: "hf",
			TrendingAt: now.Add(-time.Duration(i) * time.Minute)}
	}
	if _, err := s.PutPapers(papers, now); err != nil {
		t.Fatal(err)
	}
	subs := make([]model.Subscriber, damageSubscribers)
	for i := range subs {
		subs[i] = model.Subscriber{Email: fmt.Sprintf("reader%d@example.org", i), Interests: []string{"graph neural networks"},
			State: model.StateActive, Created: now, Updated: now, Hour: -1}
	}
	if _, err := s.AddSubscribers(subs); err != nil {
		t.Fatal(err)
	}
	pageSize := s.db.Info().PageSize
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return path, pageSize
}

// truncate cuts the file to size bytes.
func truncate(t *testing.T, path string, size int64) {
	t.Helper()
	if err := os.Truncate(path, size); err != nil {
		t.Fatal(err)
	}
}

// zeroPages overwrites n pages from page first with zeros.
func zeroPages(t *testing.T, path string, pageSize, first, n int) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(make([]byte, n*pageSize), int64(first*pageSize)); err != nil {
		t.Fatal(err)
	}
}

// pageCount is the number of pages in the file.
func pageCount(t *testing.T, path string, pageSize int) int {
	t.Helper()
	// The pages in use: bbolt grows a small file to its memory map's
	// size, so the file may be up to twice as long, and zeroes past the
	// last page in use damage nothing.
	s, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var n int
	s.db.View(func(tx *bolt.Tx) error { n = int(tx.Size()) / pageSize; return nil })
	return n
}

// checkDamage fails unless err is a one-line *DamageError for path that
// names the restore command.
func checkDamage(t *testing.T, what string, err error, path string) {
	t.Helper()
	var de *DamageError
	if !errors.As(err, &de) || !errors.Is(err, ErrDamaged) {
		t.Fatalf("%s: %v, want a *DamageError", what, err)
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") || !strings.Contains(msg, path) || !strings.Contains(msg, "papermail restore BACKUP") {
		t.Errorf("%s: message %q: want one line naming %s and 'papermail restore BACKUP'", what, msg, path)
	}
}

func TestOpenRefusesTruncatedStore(t *testing.T) {
	path, _ := damageFixture(t)
	truncate(t, path, 100<<10)
	for _, opts := range []Options{{}, {ReadOnly: true}, {MustExist: true}} {
		_, err := Open(path, opts)
		checkDamage(t, fmt.Sprintf("Open(%+v)", opts), err, path)
		if !strings.Contains(err.Error(), "102400 bytes") || !strings.Contains(err.Error(), "cut short") {
			t.Errorf("Open: %q does not say the file is cut short at 102400 bytes", err)
		}
	}
	if err := CheckFile(path); !errors.Is(err, ErrDamaged) {
		t.Errorf("CheckFile: %v", err)
	}
	if fi, _ := os.Stat(path); fi.Size() != 100<<10 {
		t.Errorf("Open changed the damaged file: %d bytes", fi.Size())
	}
}

func TestOpenRefusesEmptyAndMissingStore(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "papermail.db")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, opts := range []Options{{}, {ReadOnly: true}, {MustExist: true}} {
		_, err := Open(empty, opts)
		var ne *NoStoreError
		if !errors.As(err, &ne) || !ne.Empty || !strings.Contains(err.Error(), "empty file") {
			t.Errorf("Open(empty, %+v) = %v, want an empty-file *NoStoreError", opts, err)
		}
	}
	if fi, _ := os.Stat(empty); fi.Size() != 0 {
		t.Errorf("Open wrote into the empty file: %d bytes", fi.Size())
	}
	missing := filepath.Join(dir, "typo", "papermail.db")
	_, err := Open(missing, Options{MustExist: true})
	if !errors.Is(err, ErrNoStore) || err.Error() != "no store at "+missing+"; run in the data directory or set data_dir" {
		t.Errorf("Open(missing, MustExist) = %v", err)
	}
	if _, err := os.Stat(filepath.Dir(missing)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Open(missing, MustExist) created the folder: %v", err)
	}
	s, err := Open(missing, Options{})
	if err != nil {
		t.Fatalf("Open(missing) without MustExist creates the store: %v", err)
	}
	s.Close()
}

// TestZeroedPages overwrites 20 pages at several places: the meta pages,
// the middle and the end. Open refuses the file or every read that meets
// a damaged page comes back as a *DamageError; Verify finds the damage in
// any case; nothing panics.
func TestZeroedPages(t *testing.T) {
	for _, where := range []string{"start", "after meta", "middle", "end"} {
		t.Run(where, func(t *testing.T) {
			path, ps := damageFixture(t)
			n := pageCount(t, path, ps)
			first := map[string]int{"start": 0, "after meta": 2, "middle": n / 2, "end": n - 20}[where]
			zeroPages(t, path, ps, first, 20)
			s, err := Open(path, Options{})
			if err != nil {
				checkDamage(t, "Open", err, path)
				return
			}
			defer s.Close()
			checkDamage(t, "Verify", s.Verify(), path)
			// Every reader either works or says the store is damaged.
			reads := map[string]func() error{
				"ForEachPaper":      func() error { return s.ForEachPaper(func(*model.Paper) error { return nil }) },
				"ForEachSubscriber": func() error { return s.ForEachSubscriber(100, func([]model.Subscriber) error { return nil }) },
				"CountSubscribers":  func() error { _, err := s.CountSubscribers(); return err },
				"CountPapers":       func() error { _, err := s.CountPapers(); return err },
				"PapersSince":       func() error { _, err := s.PapersSince(time.Time{}); return err },
			}
			damaged := 0
			for name, read := range reads {
				if err := read(); err != nil {
					checkDamage(t, name, err, path)
					damaged++
				}
			}
			if damaged == 0 {
				t.Error("no read met the zeroed pages")
			}
		})
	}
}

// TestPanicOutsideBoltIsNotDamage: a panic in our own code inside a
// transaction is a bug and keeps panicking; only bbolt's panics become
// damage.
func TestPanicOutsideBoltIsNotDamage(t *testing.T) {
	s := openT(t)
	defer func() {
		if r := recover(); r != "our bug" {
			t.Errorf("recovered %v, want our own panic to go on", r)
		}
	}()
	s.view(func(*bolt.Tx) error { panic("our bug") })
	t.Error("view returned")
}

// TestSalvage damages a store in the middle and at the end and salvages
// it: every paper and subscriber whose page is intact comes back, the new
// file passes CheckFile, and it keeps the link secret.
func TestSalvage(t *testing.T) {
	var cutPapers int // the least number of papers a salvage must recover
	tests := []struct {
		name   string
		damage func(t *testing.T, path string, ps int)
		// minPapers and minSubs are the least a salvage must recover.
		minPapers, minSubs int
	}{
		{"intact", func(*testing.T, string, int) {}, damagePapers, damageSubscribers},
		{"20 pages zeroed in the middle", func(t *testing.T, path string, ps int) {
			zeroPages(t, path, ps, pageCount(t, path, ps)/2, 20)
		}, damagePapers * 8 / 10, damageSubscribers * 8 / 10},
		// The root pages lie past the cut: bbolt's tree reaches nothing,
		// and the papers come from the leaf pages before the cut. bbolt
		// lays pages out in an order that varies from run to run (its
		// buckets spill in map order), so the first 100 KB may hold only
		// index pages: the cut goes on until 20 papers lie before it, and
		// every paper on a page before it must come back (minPapers is
		// set by the damage).
		{"truncated to 100 KB", func(t *testing.T, path string, ps int) {
			cut, papers := paperCut(t, path, ps, 100<<10, 20)
			truncate(t, path, cut)
			cutPapers = papers
		}, 20, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cutPapers = tc.minPapers
			path, ps := damageFixture(t)
			orig, err := Open(path, Options{ReadOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			secret := string(orig.Secret())
			orig.Close()
			tc.damage(t, path, ps)
			dst := filepath.Join(t.TempDir(), "salvaged.db")
			rep, err := Salvage(path, dst)
			if err != nil {
				t.Fatalf("Salvage: %v", err)
			}
			t.Logf("%s: %+v", tc.name, rep)
			if rep.Papers < cutPapers || rep.Subscribers < tc.minSubs {
				t.Errorf("salvaged %d papers and %d subscribers, want at least %d and %d", rep.Papers, rep.Subscribers, cutPapers, tc.minSubs)
			}
			if tc.name == "intact" && rep.Damaged != 0 {
				t.Errorf("intact store: %d damaged stretches", rep.Damaged)
			}
			if tc.name != "intact" && rep.Damaged == 0 {
				t.Error("damaged store: no damage reported")
			}
			if err := CheckFile(dst); err != nil {
				t.Fatalf("salvaged file: %v", err)
			}
			s, err := Open(dst, Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if tc.name == "truncated to 100 KB" {
				t.Logf("link secret kept: %v", string(s.Secret()) == secret)
			} else if string(s.Secret()) != secret {
				t.Error("salvaged store has a new link secret")
			}
			// What came back is whole: each paper by id, each subscriber by address.
			n := 0
			err = s.ForEachPaper(func(p *model.Paper) error {
				n++
				if !strings.HasPrefix(p.Abstract, "abstract of paper ") {
					return fmt.Errorf("paper %s: abstract %.30q", p.ID, p.Abstract)
				}
				return nil
			})
			if err != nil || n != rep.Papers {
				t.Errorf("papers: %d read, %v; report says %d", n, err, rep.Papers)
			}
			if got, err := s.PapersSince(time.Time{}); err != nil || len(got) != rep.Papers {
				t.Errorf("date index: %d papers, %v; want %d", len(got), err, rep.Papers)
			}
			err = s.ForEachSubscriber(100, func(b []model.Subscriber) error {
				for _, sub := range b {
					got, err := s.SubscriberByEmail(sub.Email)
					if err != nil || got.ID != sub.ID {
						return fmt.Errorf("%s: %v", sub.Email, err)
					}
				}
				return nil
			})
			if err != nil {
				t.Error(err)
			}
			if _, err := Salvage(path, dst); err == nil {
				t.Error("Salvage over an existing file succeeded")
			}
		})
	}
}

// FuzzLooseLeaf: the loose-page reader takes any bytes as a page without
// panicking, and keeps only records that decode and match their keys.
func FuzzLooseLeaf(f *testing.F) {
	page := make([]byte, 64)
	page[8], page[10] = leafPageFlag, 1
	f.Add(page)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, p []byte) {
		finds := &looseFinds{papers: map[string]looseRecord{}, subscribers: map[string]looseRecord{}}
		finds.leaf(p, nil)
		for k, r := range finds.papers {
			var paper model.Paper
			if err := json.Unmarshal(r.value, &paper); err != nil || paper.ID != k {
				t.Fatalf("kept paper %q: %s", k, r.value)
			}
		}
	})
}

// TestOpenRefusesOneOverwrittenMetaPage overwrites one of the two meta
// pages of a store whose last write added the subscribers. bbolt alone
// would open it from the other meta page, as it was before that write:
// the store is refused as damaged instead (nothing written), and a
// salvage gets the subscribers of the last write back from their pages.
func TestOpenRefusesOneOverwrittenMetaPage(t *testing.T) {
	for _, page := range []int{0, 1} {
		for _, how := range []string{"zeroed", "one byte flipped"} {
			t.Run(fmt.Sprintf("meta page %d %s", page, how), func(t *testing.T) {
				path, ps := damageFixture(t)
				switch how {
				case "zeroed":
					zeroPages(t, path, ps, page, 1)
				default:
					f, err := os.OpenFile(path, os.O_RDWR, 0)
					if err != nil {
						t.Fatal(err)
					}
					b := make([]byte, 1)
					off := int64(page*ps + 16 + 40) // the meta page's high-water page count
					f.ReadAt(b, off)
					b[0] ^= 0x01
					f.WriteAt(b, off)
					f.Close()
				}
				before, _ := os.ReadFile(path)
				for _, opts := range []Options{{}, {ReadOnly: true}, {MustExist: true}} {
					_, err := Open(path, opts)
					checkDamage(t, fmt.Sprintf("Open(%+v)", opts), err, path)
					if err != nil && (!strings.Contains(err.Error(), fmt.Sprintf("meta page %d", page)) || strings.Contains(err.Error(), "panic")) {
						t.Errorf("Open: %q does not name meta page %d plainly", err, page)
					}
				}
				if err := CheckFile(path); !errors.Is(err, ErrDamaged) {
					t.Errorf("CheckFile: %v", err)
				}
				if now, _ := os.ReadFile(path); string(now) != string(before) {
					t.Error("Open changed the damaged file")
				}
				rep, err := Salvage(path, filepath.Join(t.TempDir(), "salvaged.db"))
				if err != nil {
					t.Fatalf("Salvage: %v", err)
				}
				if rep.Papers != damagePapers || rep.Subscribers != damageSubscribers || rep.Damaged == 0 {
					t.Errorf("salvage: %+v, want %d papers, %d subscribers and the damage reported", rep, damagePapers, damageSubscribers)
				}
			})
		}
	}
}

func TestOpenNamesADirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "papermail.db")
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, opts := range []Options{{}, {ReadOnly: true}, {MustExist: true}} {
		_, err := Open(path, opts)
		if err == nil || !strings.Contains(err.Error(), "is a directory, not a papermail store") || errors.Is(err, ErrDamaged) {
			t.Errorf("Open(%+v) of a directory: %v", opts, err)
		}
	}
	if _, err := Salvage(path, filepath.Join(t.TempDir(), "s.db")); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("Salvage of a directory: %v", err)
	}
}

// paperCut returns where to cut the file at path so that at least want
// papers lie on whole leaf pages before the cut, and no earlier than
// least bytes, with the number of distinct papers on the pages before it.
// It reads bbolt's page layout (16-byte page header: id, flags, count,
// overflow; 16-byte leaf elements: flags, pos, key size, value size) on
// its own, and fails the test if the tree's root would lie before the cut.
func paperCut(t *testing.T, path string, ps int, least int64, want int) (int64, int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// The current meta page (the higher txid) names the root page.
	var root uint64
	var txid uint64
	for m := 0; m < 2; m++ {
		meta := b[m*ps:]
		if id := binary.LittleEndian.Uint64(meta[64:]); id >= txid {
			txid, root = id, binary.LittleEndian.Uint64(meta[32:])
		}
	}
	papers := map[string]bool{}
	cut := least
	for p := 2; (p+1)*ps <= len(b); p++ {
		if int64(p*ps) >= cut && len(papers) >= want {
			break
		}
		pg := b[p*ps : (p+1)*ps]
		flags, count := binary.LittleEndian.Uint16(pg[8:]), int(binary.LittleEndian.Uint16(pg[10:]))
		overflow := int(binary.LittleEndian.Uint32(pg[12:]))
		if flags == 0x02 && overflow == 0 {
			for i := range count {
				e := 16 + i*16
				if e+16 > len(pg) {
					break
				}
				pos, ksz, vsz := int(binary.LittleEndian.Uint32(pg[e+4:])), int(binary.LittleEndian.Uint32(pg[e+8:])), int(binary.LittleEndian.Uint32(pg[e+12:]))
				k := e + pos
				if binary.LittleEndian.Uint32(pg[e:]) != 0 || k+ksz+vsz > len(pg) {
					continue
				}
				var paper model.Paper
				if json.Unmarshal(pg[k+ksz:k+ksz+vsz], &paper) == nil && paper.ID == string(pg[k:k+ksz]) {
					papers[paper.ID] = true
				}
			}
		}
		cut = max(cut, int64((p+1)*ps))
		p += overflow
	}
	if len(papers) < want {
		t.Fatalf("the fixture has %d papers on leaf pages in all, want %d", len(papers), want)
	}
	if root*uint64(ps) < uint64(cut) {
		t.Fatalf("the root page %d lies before the cut at %d bytes: the test cannot cut the tree off", root, cut)
	}
	return cut, len(papers)
}
