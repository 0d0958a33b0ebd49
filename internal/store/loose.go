package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"io"
	"os"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/papermail/papermail/internal/model"
)

// When the tree of a damaged file cannot lead to a record (the file was
// cut before its root, or a branch page is gone), the record's leaf page
// may still be whole. The loose-page scan reads every page of the file as
// bbolt lays leaf pages out on disk (a 16-byte header: id, flags, count,
// overflow; then 16-byte elements: flags, offset, key size, value size)
// and keeps what decodes as a paper (JSON whose id is its key), a
// subscriber (JSON whose id is its 8-byte key) or the link secret. Freed
// pages hold older copies of records, so of several copies the one most
// recently updated wins, and the scan only fills in what the tree walk
// did not find.

const (
	leafPageFlag   = 0x02
	bucketLeafFlag = 0x01
	pageHeaderSize = 16
	inBucketSize   = 16
)

// looseFinds are the records the scan found, by key.
type looseFinds struct {
	papers      map[string]looseRecord
	subscribers map[string]looseRecord
	secret      []byte
}

type looseRecord struct {
	value   []byte
	updated time.Time
}

func (f *looseFinds) keep(m map[string]looseRecord, k, v []byte, updated time.Time) {
	if old, ok := m[string(k)]; ok && !updated.After(old.updated) {
		return
	}
	m[string(k)] = looseRecord{value: bytes.Clone(v), updated: updated}
}

// scanLoose reads the file at path page by page (pageSize bytes each).
func scanLoose(path string, pageSize int) (*looseFinds, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	finds := &looseFinds{papers: map[string]looseRecord{}, subscribers: map[string]looseRecord{}}
	page := make([]byte, pageSize)
	for off := int64(2 * pageSize); ; off += int64(pageSize) {
		n, err := f.ReadAt(page, off)
		if n < pageHeaderSize {
			break
		}
		flags := binary.LittleEndian.Uint16(page[8:])
		overflow := binary.LittleEndian.Uint32(page[12:])
		data := page[:n]
		if flags&leafPageFlag != 0 && overflow > 0 && overflow < 1<<16 {
			// A value longer than a page: read the whole run.
			big := make([]byte, int(overflow+1)*pageSize)
			m, _ := f.ReadAt(big, off)
			data = big[:m]
		}
		if flags&leafPageFlag != 0 {
			finds.leaf(data, nil)
			if len(data) > pageSize {
				off += int64(len(data) - pageSize) // past its overflow pages
			}
		}
		if err == io.EOF {
			break
		}
	}
	return finds, nil
}

// leaf decodes one leaf page (or an inline bucket's page); bucket names
// the bucket an inline page belongs to, nil when unknown.
func (f *looseFinds) leaf(p []byte, bucket []byte) {
	if len(p) < pageHeaderSize {
		return
	}
	count := int(binary.LittleEndian.Uint16(p[10:]))
	if count == 0 || pageHeaderSize+count*elemSize > len(p) {
		return
	}
	for i := range count {
		e := pageHeaderSize + i*elemSize
		eflags := binary.LittleEndian.Uint32(p[e:])
		pos := int(binary.LittleEndian.Uint32(p[e+4:]))
		ksize := int(binary.LittleEndian.Uint32(p[e+8:]))
		vsize := int(binary.LittleEndian.Uint32(p[e+12:]))
		start := e + pos
		if pos <= 0 || ksize <= 0 || vsize < 0 || start+ksize+vsize > len(p) || start+ksize+vsize < start {
			return // not a leaf page after all
		}
		k, v := p[start:start+ksize], p[start+ksize:start+ksize+vsize]
		if eflags&bucketLeafFlag != 0 {
			// An inline bucket (root page id 0) carries its page.
			if len(v) > inBucketSize && binary.LittleEndian.Uint64(v) == 0 {
				f.leaf(v[inBucketSize:], k)
			}
			continue
		}
		f.record(bucket, k, v)
	}
}

// record keeps k/v when it decodes as one of the records worth saving.
func (f *looseFinds) record(bucket, k, v []byte) {
	if bytes.Equal(bucket, bucketMeta) && bytes.Equal(k, keySecret) && len(v) >= 16 {
		f.secret = bytes.Clone(v)
		return
	}
	if len(v) < 2 || v[0] != '{' {
		return
	}
	if len(k) == 8 && bytes.Contains(v, []byte(`"email"`)) {
		var sub model.Subscriber
		if json.Unmarshal(v, &sub) == nil && sub.ID == btoi(k) && sub.Email != "" {
			f.keep(f.subscribers, k, v, sub.Updated)
		}
		return
	}
	if bytes.Contains(v, []byte(`"title"`)) {
		var p model.Paper
		if json.Unmarshal(v, &p) == nil && p.ID == string(k) && p.Title != "" {
			f.keep(f.papers, k, v, p.Updated)
		}
	}
}

// addLoose writes what the scan found and the store lacks. It returns how
// many papers and subscribers it added.
func (s *Store) addLoose(f *looseFinds) (papers, subs int, err error) {
	err = s.update(func(tx *bolt.Tx) error {
		papers, subs = 0, 0
		if f.secret != nil {
			if err := tx.Bucket(bucketMeta).Put(keySecret, f.secret); err != nil {
				return err
			}
		}
		pb, sb := tx.Bucket(bucketPapers), tx.Bucket(bucketSubscribers)
		for k, r := range f.papers {
			if pb.Get([]byte(k)) == nil {
				if err := pb.Put([]byte(k), r.value); err != nil {
					return err
				}
				papers++
			}
		}
		for k, r := range f.subscribers {
			if sb.Get([]byte(k)) == nil {
				if err := sb.Put([]byte(k), r.value); err != nil {
					return err
				}
				subs++
			}
		}
		// New ids must not reuse a recovered subscriber's.
		var top uint64
		c := sb.Cursor()
		if k, _ := c.Last(); len(k) == 8 {
			top = btoi(k)
		}
		if sb.Sequence() < top {
			return sb.SetSequence(top)
		}
		return nil
	})
	return papers, subs, err
}
