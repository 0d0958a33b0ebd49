package store

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/papermail/papermail/internal/model"
)

// pageKinds returns, for the file at path, the type bbolt gives each page
// that starts a page run ("meta", "freelist", "branch", "leaf", "free"),
// by page id.
func pageKinds(t *testing.T, path string) map[int]string {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{FreelistType: bolt.FreelistMapType})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	kinds := map[int]string{}
	err = db.View(func(tx *bolt.Tx) error {
		for id := 0; ; {
			info, err := tx.Page(id)
			if err != nil || info == nil {
				return err
			}
			kinds[id] = info.Type
			id++
			if info.Type != "free" {
				id += info.OverflowCount
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return kinds
}

// verifyCopy writes data with damage applied to a new file and returns
// what opening it and Verify say (Open's error when it refuses the file).
func verifyCopy(t *testing.T, data []byte, damage func([]byte)) (string, error) {
	t.Helper()
	b := append([]byte(nil), data...)
	damage(b)
	path := filepath.Join(t.TempDir(), "papermail.db")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		return path, err
	}
	defer s.Close()
	return path, s.Verify()
}

// TestVerifyFindsDamagedPages damages one page at a time, of every kind
// the file holds and spread over the whole file: zeroed, or filled with
// random bytes. Every damaged page in use is found (by Open or Verify,
// as a one-line *DamageError); a free page may hold anything.
func TestVerifyFindsDamagedPages(t *testing.T) {
	path, ps := damageFixture(t)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	kinds := pageKinds(t, path)
	byKind := map[string][]int{}
	for id, k := range kinds {
		byKind[k] = append(byKind[k], id)
	}
	for _, k := range []string{"branch", "leaf", "freelist", "free"} {
		if len(byKind[k]) == 0 {
			t.Fatalf("the fixture has no %s page (%d pages): the test would not cover it", k, len(kinds))
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for kind, ids := range byKind {
		if kind == "meta" {
			continue // TestOpenRefusesOneOverwrittenMetaPage
		}
		// Up to 12 pages of each kind, spread over the file.
		step := max(1, len(ids)/12)
		for i := 0; i < len(ids); i += step {
			id := ids[i]
			for _, how := range []string{"zeroed", "random"} {
				_, err := verifyCopy(t, data, func(b []byte) {
					p := b[id*ps : (id+1)*ps]
					if how == "zeroed" {
						clear(p)
					} else {
						for j := range p {
							p[j] = byte(rng.Uint32())
						}
					}
				})
				what := fmt.Sprintf("%s page %d %s", kind, id, how)
				if kind == "free" {
					if err != nil {
						t.Errorf("%s: %v, want no damage (the page is free)", what, err)
					}
					continue
				}
				var de *DamageError
				if !errors.As(err, &de) || strings.Contains(err.Error(), "\n") {
					t.Errorf("%s: %v, want a one-line *DamageError", what, err)
				}
			}
		}
	}
}

// TestVerifyFindsKeysOutOfOrder raises the first byte of the first key of
// a leaf page: the page stays well-formed, but its keys are no longer in
// order (within it or against its parent), which a lookup would follow to
// the wrong place.
func TestVerifyFindsKeysOutOfOrder(t *testing.T) {
	path, ps := damageFixture(t)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	kinds := pageKinds(t, path)
	damaged := 0
	for id, k := range kinds {
		p := data[id*ps : (id+1)*ps]
		if k != "leaf" || binary.NativeEndian.Uint16(p[10:]) < 3 || damaged >= 5 {
			continue
		}
		pos := int(binary.NativeEndian.Uint32(p[pageHeaderSize+4:]))
		path, err := verifyCopy(t, data, func(b []byte) { b[id*ps+pageHeaderSize+pos] = 0xff })
		checkDamage(t, fmt.Sprintf("leaf page %d with its first key raised", id), err, path)
		if err != nil && !strings.Contains(err.Error(), "key") {
			t.Errorf("leaf page %d: %q does not name a key", id, err)
		}
		damaged++
	}
	if damaged == 0 {
		t.Fatal("no leaf page with 3 keys in the fixture")
	}
}

// TestVerifyAgreesWithBolt: on stores written in many transactions
// (updates free and reuse pages), Verify finds nothing and bbolt's own
// check agrees.
func TestVerifyAgreesWithBolt(t *testing.T) {
	path, _ := damageFixture(t)
	s, err := Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Date(2026, 11, 28, 6, 0, 0, 0, time.UTC)
	for round := range 5 {
		papers := make([]model.Paper, 300)
		for i := range papers {
			papers[i] = model.Paper{ID: fmt.Sprintf("2411.%05d", i*7+round), Title: fmt.Sprintf("Paper %d, round %d", i, round),
				Abstract: strings.Repeat("changed. ", 50*round), Source: "hf", TrendingAt: now}
		}
		if _, err := s.PutPapers(papers, now); err != nil {
			t.Fatal(err)
		}
		if err := s.Verify(); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if err := s.db.View(func(tx *bolt.Tx) error {
			for err := range tx.Check() {
				return err
			}
			return nil
		}); err != nil {
			t.Fatalf("round %d: bbolt's check: %v", round, err)
		}
	}
}

// TestVerifyLeavesTheMapAlone: Verify reads the file without its memory
// map, so the pages it reads are not counted in the process's resident
// file-backed memory.
func TestVerifyLeavesTheMapAlone(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads RssFile from /proc/self/status, which only Linux has")
	}
	path, _ := damageFixture(t)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	before := rssFile(t)
	if err := s.Verify(); err != nil {
		t.Fatal(err)
	}
	if grew := rssFile(t) - before; grew > fi.Size()/4 {
		t.Errorf("Verify of a %d-byte store made %d bytes of file-backed memory resident", fi.Size(), grew)
	}
}

// rssFile is the process's resident file-backed memory in bytes.
func rssFile(t *testing.T) int64 {
	t.Helper()
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "RssFile:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no RssFile in /proc/self/status")
	return 0
}

// BenchmarkVerify measures Verify of the damage fixture's store.
func BenchmarkVerify(b *testing.B) {
	path, _ := damageFixture(b)
	s, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	fi, _ := os.Stat(path)
	for b.Loop() {
		if err := s.Verify(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(fi.Size())/(1<<20), "MiB")
}
