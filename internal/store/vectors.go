package store

import (
	"encoding/binary"
	"fmt"
	"math"

	bolt "go.etcd.io/bbolt"
)

// bucketVectors holds paper embedding vectors from the optional embeddings
// provider: a nested bucket per model name, keyed by paper id, each value
// the vector as little-endian float32s. Vectors of another model are kept
// apart, so changing the model never mixes spaces.
var bucketVectors = []byte("vectors")

// maxVectorDims bounds a stored vector; longer ones are refused.
const maxVectorDims = 16384

// PutVectors stores paper vectors for model, replacing earlier ones of
// the same papers. Empty vectors and over-long ones are an error and
// nothing is stored.
func (s *Store) PutVectors(model string, vecs map[string][]float32) error {
	if model == "" {
		return fmt.Errorf("put vectors: empty model name")
	}
	for id, v := range vecs {
		if id == "" || len(v) == 0 || len(v) > maxVectorDims {
			return fmt.Errorf("put vectors: paper %q: %d dimensions (want 1-%d)", id, len(v), maxVectorDims)
		}
	}
	if len(vecs) == 0 {
		return nil
	}
	return s.update(func(tx *bolt.Tx) error {
		root, err := tx.CreateBucketIfNotExists(bucketVectors)
		if err != nil {
			return err
		}
		b, err := root.CreateBucketIfNotExists([]byte(model))
		if err != nil {
			return err
		}
		for id, v := range vecs {
			if err := b.Put([]byte(id), encodeVector(v)); err != nil {
				return err
			}
		}
		return nil
	})
}

// Vectors returns the stored vectors of model for the given paper ids;
// papers without one are absent from the map.
func (s *Store) Vectors(model string, ids []string) (map[string][]float32, error) {
	out := make(map[string][]float32, len(ids))
	err := s.view(func(tx *bolt.Tx) error {
		root := tx.Bucket(bucketVectors)
		if root == nil {
			return nil
		}
		b := root.Bucket([]byte(model))
		if b == nil {
			return nil
		}
		for _, id := range ids {
			if v := b.Get([]byte(id)); v != nil {
				vec, err := decodeVector(v)
				if err != nil {
					return fmt.Errorf("vector of %s (%s): %w", id, model, err)
				}
				out[id] = vec
			}
		}
		return nil
	})
	return out, err
}

// CountVectors returns how many paper vectors are stored for model.
func (s *Store) CountVectors(model string) (int, error) {
	n := 0
	err := s.view(func(tx *bolt.Tx) error {
		if root := tx.Bucket(bucketVectors); root != nil {
			if b := root.Bucket([]byte(model)); b != nil {
				n = b.Stats().KeyN
			}
		}
		return nil
	})
	return n, err
}

func encodeVector(v []float32) []byte {
	buf := make([]byte, 4*len(v))
	for i, f := range v {
		binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(f))
	}
	return buf
}

func decodeVector(b []byte) ([]float32, error) {
	if len(b) == 0 || len(b)%4 != 0 {
		return nil, fmt.Errorf("%d bytes is not a vector of float32s", len(b))
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v, nil
}

// keyVectorStatus holds, in the vectors bucket, the embeddings provider's
// state after the last digest run (JSON, written by internal/digest).
var keyVectorStatus = []byte("\x00status")

// PutVectorStatus records the embeddings provider's last state.
func (s *Store) PutVectorStatus(b []byte) error {
	return s.update(func(tx *bolt.Tx) error {
		root, err := tx.CreateBucketIfNotExists(bucketVectors)
		if err != nil {
			return err
		}
		return root.Put(keyVectorStatus, b)
	})
}

// VectorStatus returns the recorded state, or ErrNotFound.
func (s *Store) VectorStatus() ([]byte, error) {
	var out []byte
	err := s.view(func(tx *bolt.Tx) error {
		if root := tx.Bucket(bucketVectors); root != nil {
			if v := root.Get(keyVectorStatus); v != nil {
				out = append([]byte(nil), v...)
				return nil
			}
		}
		return fmt.Errorf("embeddings status: %w", ErrNotFound)
	})
	return out, err
}
