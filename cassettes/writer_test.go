package cassettes

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// TestWriterConcurrentAppends: every interaction appended concurrently is
// in the file exactly once, at the index Append returned.
func TestWriterConcurrentAppends(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "concurrent.yaml")
	w, err := OpenWriter(path, false)
	if err != nil {
		t.Fatal(err)
	}
	const n = 200
	idx := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in := sample(0)
			in.Request.Body = fmt.Sprintf(`{"n":%d}`, i)
			var err error
			if idx[i], err = w.Append(in); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Interactions) != n {
		t.Fatalf("cassette holds %d interactions, want %d", len(c.Interactions), n)
	}
	seen := map[int]bool{}
	for i := range n {
		if seen[idx[i]] {
			t.Fatalf("index %d returned twice", idx[i])
		}
		seen[idx[i]] = true
		if got, want := c.Interactions[idx[i]].Request.Body, fmt.Sprintf(`{"n":%d}`, i); got != want {
			t.Fatalf("interaction %d holds %s, want %s (the one appended with that index)", idx[i], got, want)
		}
	}
}

// TestTornTailIsDroppedAndRepaired cuts a cassette at every byte of its
// last interaction: Load keeps the complete ones and warns, and a Writer
// repairs the file before appending.
func TestTornTailIsDroppedAndRepaired(t *testing.T) {
	t.Parallel()
	full, err := Encode([]*Interaction{sample(0), sample(1), sample(2)})
	if err != nil {
		t.Fatal(err)
	}
	two, _ := Encode([]*Interaction{sample(0), sample(1)})
	dir := t.TempDir()
	for cut := len(two) + 1; cut < len(full); cut++ {
		path := filepath.Join(dir, fmt.Sprintf("cut%d.yaml", cut))
		if err := os.WriteFile(path, full[:cut], 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := Load(path)
		if err != nil {
			t.Fatalf("cut at %d/%d: Load: %v", cut, len(full), err)
		}
		if len(c.Interactions) != 2 || len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "interaction 2 was cut off") {
			t.Fatalf("cut at %d/%d: %d interactions, warnings %q; want 2 and one warning", cut, len(full), len(c.Interactions), c.Warnings)
		}
	}
	path := filepath.Join(dir, "repair.yaml")
	os.WriteFile(path, full[:len(full)-3], 0o644)
	w, err := OpenWriter(path, false)
	if err != nil {
		t.Fatal(err)
	}
	if i, err := w.Append(sample(3)); err != nil || i != 2 {
		t.Fatalf("Append after repair = %d, %v; want index 2", i, err)
	}
	c, err := Load(path)
	if err != nil || len(c.Interactions) != 3 || len(c.Warnings) != 0 {
		t.Fatalf("repaired cassette: %v, %d interactions, warnings %q", err, len(c.Interactions), c.Warnings)
	}
	if complete, _ := Load(filepath.Join(dir, "cut"+fmt.Sprint(len(two)+1))); complete != nil && len(complete.Warnings) == 0 {
		t.Fatal("a torn cassette loaded without a warning")
	}
}

// failingFile writes half of what it is given, then fails as a full disk.
type failingFile struct {
	*os.File
	fail bool
}

func (f *failingFile) Write(p []byte) (int, error) {
	if !f.fail {
		return f.File.Write(p)
	}
	n, _ := f.File.Write(p[:len(p)/2])
	return n, syscall.ENOSPC
}

func TestWriterDiskFullLosesNothing(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "full.yaml")
	w, err := OpenWriter(path, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Append(sample(0)); err != nil {
		t.Fatal(err)
	}
	ff := &failingFile{File: w.f.(*os.File), fail: true}
	w.f = ff
	if _, err := w.Append(sample(1)); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Append on a full disk = %v, want ENOSPC", err)
	}
	c, err := Load(path)
	if err != nil || len(c.Interactions) != 1 || len(c.Warnings) != 0 {
		t.Fatalf("after a failed append: %v, %d interactions, warnings %q; want the 1 committed and no torn tail", err, len(c.Interactions), c.Warnings)
	}
	ff.fail = false
	if i, err := w.Append(sample(2)); err != nil || i != 1 {
		t.Fatalf("Append once space is back = %d, %v; want index 1", i, err)
	}
	if c, _ := Load(path); len(c.Interactions) != 2 {
		t.Fatalf("cassette holds %d interactions, want 2", len(c.Interactions))
	}
}
