package cassettes

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
)

// Writer appends interactions to a cassette file durably. Append returns
// only once its interaction is on disk (written and fsync'd), so a
// process killed at any moment leaves a cassette holding every interaction
// whose Append returned. Concurrent appends are committed together, one
// write and one sync for all of them (group commit), so recording many
// clients at once does not queue behind the disk. A write that fails (disk
// full, read-only folder) is cut off again and reported to every caller
// whose interaction it held; nothing committed before is touched.
//
// The file is append-only: each interaction is one YAML list item added at
// the end. A process killed in the middle of a write can leave a torn last
// item; Load leaves it out (it was never acknowledged), and OpenWriter
// keeps its bytes beside the cassette before removing them.
type Writer struct {
	path     string
	fresh    bool     // replace the file with an empty cassette on first commit
	warnings []string // what OpenWriter repaired

	mu      sync.Mutex
	f       appendFile // nil until the first Append creates or opens the file
	size    int64      // bytes committed
	n       int        // interactions committed
	cur     *batch     // appends waiting for the next commit
	writing bool       // a caller is committing batches
}

// appendFile is the part of *os.File the Writer uses; tests put a failing
// disk behind it.
type appendFile interface {
	Write([]byte) (int, error)
	Sync() error
	Truncate(size int64) error
	Close() error
}

type batch struct {
	data  []byte
	count int
	first int // index of the batch's first interaction, set at commit
	err   error
	done  chan struct{}
}

// OpenWriter prepares to append to the cassette at path (".yaml" appended
// when missing). An existing cassette is kept unless fresh is set. A torn
// last item (see tornCut) is first written to path+".torn" (or ".torn.2",
// and so on: nothing is overwritten) and then removed from the cassette. A
// cassette that is not in the canonical layout (written by hand or by
// another tool, with comments) is first copied as it is to path+".orig"
// (numbered likewise), then rewritten atomically in canonical form. The
// copies are synced before the cassette changes, and Warnings names them.
// A file that is not a valid cassette is an error and is left untouched.
// Nothing is written for a new cassette until the first Append.
func OpenWriter(path string, fresh bool) (*Writer, error) {
	w := &Writer{path: Path(path), fresh: fresh}
	if fresh {
		return w, nil
	}
	data, err := os.ReadFile(w.path)
	if errors.Is(err, os.ErrNotExist) {
		return w, nil
	}
	if err != nil {
		return nil, err
	}
	c, err := parseRecovering(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", w.path, err)
	}
	canonical, err := Encode(c.Interactions)
	if err != nil {
		return nil, err
	}
	if bytes.Equal(canonical, data) {
		w.n = len(c.Interactions)
		return w, w.open()
	}
	whole := data
	if c.Torn != nil {
		msg, err := keepTorn(w.path, c.Torn)
		if err != nil {
			return nil, err
		}
		w.warnings = append(w.warnings, msg)
		whole = data[:c.Torn.Offset]
	}
	if !bytes.Equal(canonical, whole) {
		orig, err := keepAside(w.path, origSuffix, data)
		if err != nil {
			return nil, fmt.Errorf("keeping a copy of %s before rewriting it: %w", w.path, err)
		}
		w.warnings = append(w.warnings, fmt.Sprintf("the cassette was not in the layout metervcr appends to (comments, another tool's formatting): it is rewritten in that layout, and the file as it was is kept in %s", orig))
	}
	if err := WriteFileAtomic(w.path, canonical, 0o644); err != nil {
		return nil, fmt.Errorf("rewriting %s before appending: %w", w.path, err)
	}
	w.n = len(c.Interactions)
	return w, w.open()
}

// Warnings says what OpenWriter changed in the existing cassette and where
// it kept what it removed.
func (w *Writer) Warnings() []string { return w.warnings }

// open opens the cassette for appending, creating it with its header when
// missing or fresh.
func (w *Writer) open() error {
	if _, err := os.Stat(w.path); w.fresh || errors.Is(err, os.ErrNotExist) {
		if err := WriteFileAtomic(w.path, []byte(header), 0o644); err != nil {
			return fmt.Errorf("creating cassette %s: %w", w.path, err)
		}
		w.fresh = false
	}
	f, err := os.OpenFile(w.path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("opening cassette %s: %w", w.path, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	w.f, w.size = f, st.Size()
	return nil
}

// Path returns the cassette file the Writer writes.
func (w *Writer) Path() string { return w.path }

// Len returns how many interactions the cassette holds.
func (w *Writer) Len() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.n
}

// Append adds in at the end of the cassette and returns its index once it
// is durably on disk. On error the cassette on disk holds what it held.
func (w *Writer) Append(in *Interaction) (int, error) {
	buf := itemBufs.Get().(*[]byte)
	defer putBuf(&itemBufs, buf)
	item, ok := appendItem((*buf)[:0], in)
	*buf = item[:0]
	if !ok {
		var err error
		if item, err = encodeInteraction(in); err != nil {
			return 0, err
		}
	}
	w.mu.Lock()
	if w.cur == nil {
		w.cur = &batch{data: (*batchBufs.Get().(*[]byte))[:0], done: make(chan struct{})}
	}
	b := w.cur
	offset := b.count
	b.data = append(b.data, item...)
	b.count++
	if !w.writing {
		// Commits run on their own goroutine, so that no caller's answer
		// waits for batches after its own while appends keep coming.
		w.writing = true
		go w.commitAll()
	}
	w.mu.Unlock()

	<-b.done
	if b.err != nil {
		return 0, fmt.Errorf("saving cassette %s: %w", w.path, b.err)
	}
	return b.first + offset, nil
}

// itemBufs and batchBufs hold buffers for encoded items and for batches,
// reused from one append or commit to the next.
var (
	itemBufs  = sync.Pool{New: func() any { return new([]byte) }}
	batchBufs = sync.Pool{New: func() any { return new([]byte) }}
)

// putBuf returns buf to pool, unless it grew for an exceptionally large
// interaction: it is not worth keeping.
func putBuf(pool *sync.Pool, buf *[]byte) {
	if cap(*buf) <= 1<<16 {
		pool.Put(buf)
	}
}

// commitAll commits batches until none is waiting, then returns. Only one
// goroutine runs it at a time; appenders wait on their batch.
func (w *Writer) commitAll() {
	for {
		// Let goroutines that are ready to run go first: those about to
		// append join this batch rather than wait for the next sync. An
		// idle process has none, and loses nothing; a busy one syncs
		// less often, and a sync costs the kernel far more CPU than
		// the wait costs the batch.
		runtime.Gosched()
		w.mu.Lock()
		b := w.cur
		w.cur = nil
		if b == nil {
			w.writing = false
			w.mu.Unlock()
			return
		}
		b.first = w.n
		w.mu.Unlock()

		b.err = w.commit(b.data)
		data := b.data[:0]
		b.data = nil

		w.mu.Lock()
		if b.err == nil {
			w.n += b.count
		}
		w.mu.Unlock()
		close(b.done)
		putBuf(&batchBufs, &data)
	}
}

// commit writes data at the end of the file and syncs it. On failure it
// cuts the file back to its committed size, so that no partial item stays.
func (w *Writer) commit(data []byte) error {
	if w.f == nil {
		if err := w.open(); err != nil {
			return err
		}
	}
	if _, err := w.f.Write(data); err != nil {
		return w.rollback(err)
	}
	if err := w.f.Sync(); err != nil {
		return w.rollback(err)
	}
	w.size += int64(len(data))
	return nil
}

func (w *Writer) rollback(err error) error {
	if terr := w.f.Truncate(w.size); terr != nil {
		// The torn item stays; Load drops it and OpenWriter repairs it.
		return fmt.Errorf("%w (and cutting back the partial write failed: %v)", err, terr)
	}
	return err
}

// Close closes the cassette file. Appends after Close fail.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	return err
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

// Rewrite replaces the file of c with its interactions, atomically and
// keeping the file's mode. A torn last item, which the new file leaves out,
// is first kept beside it as OpenWriter keeps it. Rewrite returns the
// warnings of loading c and of keeping its torn item.
func (c *Cassette) Rewrite() ([]string, error) {
	data, err := Encode(c.Interactions)
	if err != nil {
		return nil, err
	}
	warnings := c.Warnings
	if c.Torn != nil {
		msg, err := keepTorn(c.Path, c.Torn)
		if err != nil {
			return nil, err
		}
		warnings = []string{msg}
	}
	mode := os.FileMode(0o644)
	if st, err := os.Stat(c.Path); err == nil {
		mode = st.Mode().Perm()
	}
	if err := WriteFileAtomic(c.Path, data, mode); err != nil {
		return nil, err
	}
	return warnings, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
