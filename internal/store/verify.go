package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// Verify reads every page of the store the way bbolt lays it out and
// checks the tree a reader would follow: each page named by its parent is
// inside the file, carries its own page number (a zeroed or overwritten
// page does not), is a branch or leaf page, is reached once and is not
// also free; keys are in order within each page and between a branch and
// its children; the freelist names each free page once; and every page
// below the high-water mark is either in use or free. It returns a
// *DamageError naming the first problems found.
//
// The file is read with pread into a few page-sized buffers, not through
// bbolt's memory map: a walk through the map would make every page of the
// file resident in this process (the whole file counted in its RSS, 200
// MiB of a 10k-subscriber bench store before the command read anything),
// while pages read with pread stay in the kernel's page cache only. The
// walk runs inside a read transaction and checks the tree of the meta
// page that transaction uses; bbolt does not reuse a page a reader's tree
// holds, so writers of the same process cannot change what it reads.
func (s *Store) Verify() error {
	return s.view(func(tx *bolt.Tx) error {
		f, err := os.Open(s.path)
		if err != nil {
			return fmt.Errorf("verify %s: %w", s.path, err)
		}
		defer f.Close()
		c := &pageCheck{f: f, pageSize: tx.DB().Info().PageSize}
		c.run(uint64(tx.ID()))
		return c.result(s.path)
	})
}

// Page layout (as bbolt writes it, in the machine's byte order): a 16-byte
// header (page id u64, flags u16, count u16, overflow u32), then count
// elements of 16 bytes. A branch element is (pos u32, key size u32, child
// page id u64), a leaf element (flags u32, pos u32, key size u32, value
// size u32); pos counts from the element's own first byte. A freelist page
// holds count page ids of 8 bytes, or, when count is 0xFFFF, the real
// count in its first 8 bytes and the ids after it. A bucket's value is
// (root page id u64, sequence u64), followed by its one leaf page when the
// root is 0 (an inline bucket).
const (
	branchPageFlag   = 0x01
	freelistPageFlag = 0x10
	elemSize         = 16
	// noFreelist is the freelist page id of a file whose freelist is not
	// written (bbolt's NoFreelistSync).
	noFreelist = math.MaxUint64
	// maxTreeDepth bounds the walk; a B+tree of 4 KiB pages holding
	// anything papermail stores is a handful of levels deep.
	maxTreeDepth = 64
	// maxProblems is how many problems are named in the message.
	maxProblems = 3
)

// pageCheck is one walk over the file.
type pageCheck struct {
	f        *os.File
	pageSize int
	// hwm is the number of pages the meta page counts.
	hwm uint64
	// used and free mark pages as reached by the walk and as named by
	// the freelist.
	used, free []uint64
	// bufs holds one page buffer per tree depth: a branch page stays in
	// its buffer while its children are read into deeper ones.
	bufs     [maxTreeDepth + 1][]byte
	problems []string
	count    int
}

func (c *pageCheck) problem(format string, args ...any) {
	if len(c.problems) < maxProblems {
		c.problems = append(c.problems, fmt.Sprintf(format, args...))
	}
	c.count++
}

func (c *pageCheck) result(path string) error {
	if c.count == 0 {
		return nil
	}
	p := strings.Join(c.problems, "; ")
	if c.count > len(c.problems) {
		p += fmt.Sprintf("; %d problems in all", c.count)
	}
	return &DamageError{Path: path, Problem: p}
}

func isSet(bits []uint64, id uint64) bool { return bits[id/64]&(1<<(id%64)) != 0 }
func set(bits []uint64, id uint64)        { bits[id/64] |= 1 << (id % 64) }

// run checks the tree of the meta page of transaction txid.
func (c *pageCheck) run(txid uint64) {
	root, freelist, ok := c.meta(txid)
	if !ok {
		return
	}
	words := (c.hwm + 63) / 64
	c.used, c.free = make([]uint64, words), make([]uint64, words)
	set(c.used, 0)
	set(c.used, 1)
	if freelist != noFreelist {
		c.freelist(freelist)
	}
	c.tree(root, nil, nil, 0)
	if freelist == noFreelist {
		return // free pages are not recorded: nothing to compare with
	}
	missing, first := 0, uint64(0)
	for id := uint64(2); id < c.hwm; id++ {
		if !isSet(c.used, id) && !isSet(c.free, id) {
			if missing == 0 {
				first = id
			}
			missing++
		}
	}
	switch {
	case missing == 1:
		c.problem("page %d is neither in use nor free", first)
	case missing > 1:
		c.problem("%d pages are neither in use nor free, the first page %d", missing, first)
	}
}

// meta reads the meta page of transaction txid: the root bucket's page,
// the freelist's page and the page count.
func (c *pageCheck) meta(txid uint64) (root, freelist uint64, ok bool) {
	b := make([]byte, pageHeaderSize+64)
	for id := range 2 {
		if _, err := c.f.ReadAt(b, int64(id*c.pageSize)); err != nil {
			continue
		}
		m := b[pageHeaderSize:]
		if binary.NativeEndian.Uint32(m[0:]) != metaMagic || binary.NativeEndian.Uint64(m[48:]) != txid {
			continue
		}
		c.hwm = binary.NativeEndian.Uint64(m[40:])
		return binary.NativeEndian.Uint64(m[16:]), binary.NativeEndian.Uint64(m[32:]), true
	}
	c.problem("neither meta page names transaction %d, the one bbolt opened", txid)
	return 0, 0, false
}

// read reads page id, with its overflow pages, into the buffer of depth
// and returns it, or nil after naming the problem. what says who names
// the page, for the message.
func (c *pageCheck) read(id uint64, depth int, what string) []byte {
	if id < 2 || id >= c.hwm {
		c.problem("%s names page %d, outside the file's %d pages", what, id, c.hwm)
		return nil
	}
	buf := c.bufs[depth]
	if len(buf) < c.pageSize {
		buf = make([]byte, c.pageSize)
	}
	buf = buf[:c.pageSize]
	if _, err := c.f.ReadAt(buf, int64(id)*int64(c.pageSize)); err != nil {
		c.problem("page %d cannot be read: %v", id, err)
		return nil
	}
	switch got := binary.NativeEndian.Uint64(buf); {
	case got == id:
	case got == 0:
		c.problem("page %d, named by %s, is zeroed or overwritten (its header names page 0)", id, what)
		return nil
	case got < c.hwm:
		c.problem("page %d, named by %s, holds page %d instead (overwritten)", id, what, got)
		return nil
	default:
		c.problem("page %d, named by %s, is overwritten (no page header)", id, what)
		return nil
	}
	if over := uint64(binary.NativeEndian.Uint32(buf[12:])); over > 0 {
		if id+over >= c.hwm {
			c.problem("page %d runs %d pages past the end of the file", id, id+over+1-c.hwm)
			return nil
		}
		n := int(over+1) * c.pageSize
		if cap(buf) < n {
			buf = append(buf[:cap(buf)], make([]byte, n-cap(buf))...)
		}
		buf = buf[:n]
		if _, err := c.f.ReadAt(buf, int64(id)*int64(c.pageSize)); err != nil {
			c.problem("page %d cannot be read: %v", id, err)
			return nil
		}
	}
	c.bufs[depth] = buf
	return buf
}

// freelist reads the freelist page and marks the pages it names free.
func (c *pageCheck) freelist(id uint64) {
	p := c.read(id, 0, "the meta page as its freelist")
	if p == nil {
		return
	}
	if binary.NativeEndian.Uint16(p[8:])&freelistPageFlag == 0 {
		c.problem("page %d should be the freelist but is of type %#x", id, binary.NativeEndian.Uint16(p[8:]))
		return
	}
	c.markUsed(id, len(p)/c.pageSize)
	n, at := uint64(binary.NativeEndian.Uint16(p[10:])), pageHeaderSize
	if n == 0xFFFF {
		n, at = binary.NativeEndian.Uint64(p[pageHeaderSize:]), pageHeaderSize+8
	}
	if n > uint64(len(p)-at)/8 {
		c.problem("freelist page %d counts %d ids, more than it holds", id, n)
		return
	}
	for i := range n {
		f := binary.NativeEndian.Uint64(p[at+int(i)*8:])
		switch {
		case f < 2 || f >= c.hwm:
			c.problem("the freelist names page %d, outside the file's %d pages", f, c.hwm)
		case isSet(c.free, f):
			c.problem("the freelist names page %d twice", f)
		default:
			set(c.free, f)
		}
	}
}

// markUsed marks n pages from id as reached by the walk.
func (c *pageCheck) markUsed(id uint64, n int) {
	for i := range uint64(n) {
		switch {
		case isSet(c.used, id+i):
			c.problem("page %d is reached twice", id+i)
		case isSet(c.free, id+i):
			c.problem("page %d is in use and also on the freelist", id+i)
		}
		set(c.used, id+i)
	}
}

// tree checks the B+tree whose root is page id: every key k in it must
// satisfy lo <= k < hi (nil for no bound).
func (c *pageCheck) tree(id uint64, lo, hi []byte, depth int) {
	if depth > maxTreeDepth {
		c.problem("the tree through page %d is more than %d levels deep", id, maxTreeDepth)
		return
	}
	if id >= 2 && id < c.hwm && isSet(c.used, id) {
		c.problem("page %d is reached twice", id)
		return
	}
	p := c.read(id, depth, "its parent")
	if p == nil {
		if id >= 2 && id < c.hwm {
			set(c.used, id) // named, if not readable: not a lost page too
		}
		return
	}
	c.markUsed(id, len(p)/c.pageSize)
	c.page(id, p, lo, hi, depth)
}

// page checks the elements of a branch or leaf page p (page id; 0 for an
// inline bucket's page) and walks on into its children and buckets.
func (c *pageCheck) page(id uint64, p, lo, hi []byte, depth int) {
	pflags := binary.NativeEndian.Uint16(p[8:])
	count := int(binary.NativeEndian.Uint16(p[10:]))
	if pageHeaderSize+count*elemSize > len(p) {
		c.problem("page %d counts %d elements, more than it holds", id, count)
		return
	}
	// elem returns element i's key and value (child page id for a branch).
	elem := func(i int) (eflags uint32, key, value []byte, child uint64, ok bool) {
		at := pageHeaderSize + i*elemSize
		e := p[at : at+elemSize]
		var pos, ksize, vsize uint64
		if pflags&branchPageFlag != 0 {
			pos, ksize, child = uint64(binary.NativeEndian.Uint32(e)), uint64(binary.NativeEndian.Uint32(e[4:])), binary.NativeEndian.Uint64(e[8:])
		} else {
			eflags = binary.NativeEndian.Uint32(e)
			pos, ksize, vsize = uint64(binary.NativeEndian.Uint32(e[4:])), uint64(binary.NativeEndian.Uint32(e[8:])), uint64(binary.NativeEndian.Uint32(e[12:]))
		}
		start := uint64(at) + pos
		if start+ksize+vsize > uint64(len(p)) {
			c.problem("element %d of page %d lies past the end of the page", i, id)
			return 0, nil, nil, 0, false
		}
		return eflags, p[start : start+ksize], p[start+ksize : start+ksize+vsize], child, true
	}
	// inOrder checks key i against the one before it and the bounds.
	var prev []byte
	inOrder := func(i int, key []byte) bool {
		switch {
		case i > 0 && bytes.Compare(prev, key) >= 0:
			c.problem("key %d of page %d is not after the key before it", i, id)
		case lo != nil && bytes.Compare(key, lo) < 0, hi != nil && bytes.Compare(key, hi) >= 0:
			c.problem("key %d of page %d is outside the range its parent gives the page", i, id)
		default:
			prev = key
			return true
		}
		return false
	}
	switch {
	case pflags&branchPageFlag != 0:
		if count == 0 {
			c.problem("branch page %d has no elements", id)
			return
		}
		for i := range count {
			_, key, _, child, ok := elem(i)
			if !ok || !inOrder(i, key) {
				return
			}
			next := hi
			if i+1 < count {
				if _, k, _, _, ok := elem(i + 1); ok {
					next = k
				}
			}
			c.tree(child, key, next, depth+1)
		}
	case pflags&leafPageFlag != 0:
		for i := range count {
			eflags, key, value, _, ok := elem(i)
			if !ok || !inOrder(i, key) {
				return
			}
			if eflags&bucketLeafFlag != 0 {
				c.bucket(id, i, value, depth)
			}
		}
	default:
		c.problem("page %d is of type %#x where a branch or leaf page belongs", id, pflags)
	}
}

// bucket checks the nested bucket whose value is v (element i of page id).
func (c *pageCheck) bucket(id uint64, i int, v []byte, depth int) {
	if len(v) < inBucketSize {
		c.problem("element %d of page %d is a bucket with a %d-byte header", i, id, len(v))
		return
	}
	root := binary.NativeEndian.Uint64(v)
	if root != 0 {
		c.tree(root, nil, nil, depth+1)
		return
	}
	inline := v[inBucketSize:]
	if len(inline) < pageHeaderSize || binary.NativeEndian.Uint16(inline[8:])&leafPageFlag == 0 {
		c.problem("element %d of page %d is an inline bucket without a leaf page", i, id)
		return
	}
	c.page(0, inline, nil, nil, depth)
}
