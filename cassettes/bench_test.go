package cassettes

import (
	"path/filepath"
	"testing"
)

// BenchmarkAppend measures one durable append (encode, write, fsync,
// rename) to a cassette that already holds 100 interactions.
func BenchmarkAppend(b *testing.B) {
	w, err := OpenWriter(filepath.Join(b.TempDir(), "bench"), true)
	if err != nil {
		b.Fatal(err)
	}
	for i := range 100 {
		if _, err := w.Append(sample(i % 10)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := w.Append(sample(1)); err != nil {
			b.Fatal(err)
		}
	}
}
