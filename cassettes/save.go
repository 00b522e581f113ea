package cassettes

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// Writer appends interactions to a cassette file durably. Each Append
// returns only once the new file is on disk (written to a temporary file in
// the same directory, synced, renamed over the cassette, directory synced),
// so a process killed at any moment leaves a cassette that loads and holds
// every interaction whose Append returned. A Writer is safe for concurrent
// use; appends are applied in call order.
type Writer struct {
	path string

	mu      sync.Mutex
	encoded [][]byte // one YAML list item per interaction, in order
	size    int
}

// OpenWriter prepares to append to the cassette at path (".yaml" appended
// when missing). An existing cassette is loaded and kept unless fresh is
// set; a file that is not a valid cassette is an error and is left
// untouched. Nothing is written until the first Append.
func OpenWriter(path string, fresh bool) (*Writer, error) {
	w := &Writer{path: Path(path)}
	if fresh {
		return w, nil
	}
	c, err := Load(w.path)
	switch {
	case err == nil:
	case isNotFound(err):
		return w, nil
	default:
		return nil, err
	}
	for _, in := range c.Interactions {
		b, err := encodeInteraction(in)
		if err != nil {
			return nil, err
		}
		w.encoded = append(w.encoded, b)
		w.size += len(b)
	}
	return w, nil
}

// Path returns the cassette file the Writer writes.
func (w *Writer) Path() string { return w.path }

// Len returns how many interactions the cassette holds.
func (w *Writer) Len() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.encoded)
}

// Append adds in at the end of the cassette and returns its index once it
// is durably on disk. On error the cassette on disk is unchanged.
func (w *Writer) Append(in *Interaction) (int, error) {
	b, err := encodeInteraction(in)
	if err != nil {
		return 0, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.write(b); err != nil {
		return 0, fmt.Errorf("saving cassette %s: %w", w.path, err)
	}
	w.encoded = append(w.encoded, b)
	w.size += len(b)
	return len(w.encoded) - 1, nil
}

// write replaces the file with the current interactions plus extra.
func (w *Writer) write(extra []byte) error {
	buf := make([]byte, 0, len(header)+w.size+len(extra))
	buf = append(buf, header...)
	for _, b := range w.encoded {
		buf = append(buf, b...)
	}
	buf = append(buf, extra...)
	return WriteFileAtomic(w.path, buf, 0o644)
}

// WriteFileAtomic replaces the file at path with data: a temporary file in
// the same directory is written, synced and renamed over path, and the
// directory is synced, so readers and crashes see the old or the new
// content, never a mix. Missing directories are created.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()           // already failing; the close error adds nothing
			os.Remove(tmp.Name()) // best effort: a stray temp file is harmless
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if err = tmp.Chmod(perm); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
