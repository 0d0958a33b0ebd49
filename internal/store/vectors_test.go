package store

import (
	"path/filepath"
	"slices"
	"testing"
)

func TestVectors(t *testing.T) {
	st, err := Open(filepath.Join(t.TempDir(), "p.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if got, err := st.Vectors("m", []string{"a"}); err != nil || len(got) != 0 {
		t.Fatalf("empty store: %v %v", got, err)
	}
	if err := st.PutVectors("m", map[string][]float32{"a": {1, 2.5, -3}, "b": {0.25}}); err != nil {
		t.Fatal(err)
	}
	if err := st.PutVectors("other", map[string][]float32{"a": {9}}); err != nil {
		t.Fatal(err)
	}
	got, err := st.Vectors("m", []string{"a", "b", "c"})
	if err != nil || !slices.Equal(got["a"], []float32{1, 2.5, -3}) || !slices.Equal(got["b"], []float32{0.25}) || got["c"] != nil {
		t.Fatalf("vectors %v %v", got, err)
	}
	if n, err := st.CountVectors("m"); err != nil || n != 2 {
		t.Errorf("count %d %v", n, err)
	}
	// Bad input is refused whole: nothing of it is stored.
	if err := st.PutVectors("m", map[string][]float32{"c": {1}, "d": {}}); err == nil {
		t.Error("an empty vector was accepted")
	}
	if got, _ := st.Vectors("m", []string{"c"}); len(got) != 0 {
		t.Errorf("a refused batch stored %v", got)
	}
}
