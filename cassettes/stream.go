package cassettes

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// Stream reads the cassette at path (".yaml" appended when missing) and
// calls fn with each interaction in recorded order; fn may keep it or drop
// it. The returned Cassette has Path, Torn and Warnings, and no
// Interactions.
// If fn returns an error, Stream stops and returns that error as is.
//
// Stream checks what Load checks, with the same errors: a missing file
// gives an error wrapping ErrNotFound, a file over MaxFileBytes is
// refused, the format version must be 1, and every interaction needs a
// request method and URL and a response code. A last interaction cut off
// by an interrupted write (see tornCut) is left out with a warning, and
// the file is not changed. When an error is
// returned, fn may already have been called for the interactions before
// the one in error.
//
// A cassette in the canonical layout that Writer appends is read through
// a buffer one item at a time, so the file is never wholly in memory, and
// each item is decoded by hand when it has the shape yaml.v3 writes (by
// yaml.v3 otherwise). Any other file is read whole and decoded by yaml.v3,
// as go-vcr does.
func Stream(path string, fn func(in *Interaction) error) (*Cassette, error) {
	path = Path(path)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", path, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close() // read only: a close error loses nothing
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > MaxFileBytes {
		return nil, fmt.Errorf("%s: %d bytes is over the %d-byte limit for a cassette; is it the right file? Split the recording into several cassettes", path, st.Size(), MaxFileBytes)
	}
	torn, err := stream(f, fn)
	var cb callbackError
	switch {
	case errors.As(err, &cb):
		return nil, cb.err
	case errors.As(err, new(readError)):
		return nil, errors.Unwrap(err)
	case err != nil:
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	c := &Cassette{Path: path, Torn: torn}
	if torn != nil {
		c.Warnings = []string{tornWarning(path, torn)}
	}
	return c, nil
}

// callbackError carries an error returned by the caller's function.
type callbackError struct{ err error }

func (e callbackError) Error() string { return e.err.Error() }

// readError carries an error reading the file, which names the file itself.
type readError struct{ err error }

func (e readError) Error() string { return e.err.Error() }
func (e readError) Unwrap() error { return e.err }

// stream decodes the cassette read from r as parseRecovering decodes it,
// calling fn with each interaction in order, and returns the torn end it
// left out.
// Outside the canonical layout it reads r again from its start, whole, and
// calls fn with the interactions it has not called it with yet.
func stream(r io.ReadSeeker, fn func(in *Interaction) error) (*Torn, error) {
	s := streamer{
		r:       bufio.NewReaderSize(r, 1<<16),
		recover: true,
		check:   true,
		fn:      fn,
	}
	err := s.run()
	if err == nil {
		if s.invalid != nil {
			return nil, s.invalid
		}
		return s.torn, nil
	}
	if !errors.Is(err, errNotCanonical) {
		return nil, err
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, readError{err}
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, readError{err}
	}
	c, err := parseRecovering(data)
	if err != nil {
		return nil, err
	}
	if s.delivered > len(c.Interactions) {
		// Those handed over are the first interactions of any successful
		// decoding of these bytes: fewer means the file changed between
		// the two reads.
		return nil, errors.New("cassette changed while it was being read")
	}
	for _, in := range c.Interactions[s.delivered:] {
		if err := fn(in); err != nil {
			return nil, callbackError{err}
		}
	}
	return c.Torn, nil
}

// errNotCanonical reports a cassette, or a part of one, that is not in the
// canonical layout: the caller decodes it whole instead.
var errNotCanonical = errors.New("not in the canonical layout")

// itemStartLine is the first line of every item in the canonical layout.
const itemStartLine = itemRequestLine + "\n"

// streamer splits a cassette in the canonical layout (the header, then
// one "    - request:" item per interaction, every other line of which is
// empty or indented by more than four spaces) into items while reading it,
// and decodes each item alone. It gives up with errNotCanonical on
// anything else.
//
// With recover set it matches parseRecovering: an interaction is handed
// over only once the item after it has started, and only if it ends with a
// whole duration line (where parseRecovering would cut a torn file); a
// last item that does not end so is left out as torn when tornTail says it
// is, and the whole file is decoded otherwise.
type streamer struct {
	r       *bufio.Reader
	recover bool // drop a torn last item, as parseRecovering does
	check   bool // check each interaction as Parse does
	fn      func(in *Interaction) error

	dec       itemDecoder
	off       int64  // bytes read
	count     int    // items decoded
	delivered int    // interactions handed to fn
	invalid   error  // the first failed check; nothing is handed over after it
	item      []byte // the item being read
	long      []byte // a line longer than the reader's buffer
	torn      *Torn  // the torn last item left out
}

// run reads and decodes the whole cassette.
func (s *streamer) run() error {
	h, err := s.r.Peek(len(header))
	if err != nil && !errors.Is(err, io.EOF) {
		return readError{err}
	}
	if string(h) != header {
		return errNotCanonical
	}
	s.r.Discard(len(header)) // cannot fail: the bytes are buffered
	s.off = int64(len(header))
	line, err := s.readLine()
	if err != nil {
		return err
	}
	if len(line) == 0 {
		return nil // an empty cassette, as a new Writer leaves it
	}
	if string(line) != itemStartLine {
		return errNotCanonical
	}
	// cut is where parseRecovering would cut a torn file: after the last
	// whole line starting with itemEnd, or after the header.
	cut := s.off
	for {
		start := s.off - int64(len(line))
		s.item = append(s.item[:0], line...)
		line = nil
		complete := false // the item ends with a whole duration line
		for {
			l, err := s.readLine()
			if err != nil {
				return err
			}
			if len(l) == 0 {
				break // end of file
			}
			if string(l) == itemStartLine {
				line = l
				break
			}
			if !lineInItem(l) {
				if s.recover && l[len(l)-1] != '\n' && len(l) < len(itemStartLine) && itemStartLine[:len(l)] == string(l) {
					line = l // the start of an item cut off at the end of the file
					break
				}
				return errNotCanonical
			}
			s.item = append(s.item, l...)
			complete = l[len(l)-1] == '\n' && bytes.HasPrefix(l, []byte(itemEnd))
			if complete {
				cut = s.off
			}
		}
		if line == nil && (!s.recover || complete) {
			return s.take() // the last item, whole
		}
		if line == nil {
			// A torn last item. parseRecovering keeps what precedes the cut;
			// when the cut is not where this item starts, the file is not
			// one that Writer left.
			if cut != start {
				return errNotCanonical
			}
			return s.drop(start)
		}
		if s.recover && !complete {
			return errNotCanonical
		}
		if err := s.take(); err != nil {
			return err
		}
		if line[len(line)-1] != '\n' {
			s.item = append(s.item[:0], line...)
			return s.drop(s.off - int64(len(line)))
		}
	}
}

// lineInItem reports whether l can be a line inside an item (other than
// its first) of the canonical layout: empty, or indented by more than the
// four spaces that start items. Such lines belong to the same item in the
// whole document as in the item alone.
func lineInItem(l []byte) bool {
	return l[0] == '\n' || len(l) >= 5 && string(l[:5]) == "     "
}

// readLine returns the next line with its newline (without one at the end
// of the file), or nothing at the end of the file. The line is valid until
// the next call.
func (s *streamer) readLine() ([]byte, error) {
	line, err := s.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		s.long = append(s.long[:0], line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			line, err = s.r.ReadSlice('\n')
			s.long = append(s.long, line...)
		}
		line = s.long
	}
	s.off += int64(len(line))
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, readError{err}
	}
	return line, nil
}

// take decodes the item read, checks it and hands it to fn.
func (s *streamer) take() error {
	in, ok := s.dec.decode(s.item)
	if !ok {
		if in, ok = decodeItemYAML(s.item); !ok {
			return errNotCanonical
		}
	}
	i := s.count
	s.count++
	if s.invalid != nil {
		return nil // decoded only to learn whether the file is canonical
	}
	if s.check {
		if err := checkInteraction(i, in); err != nil {
			s.invalid = err
			return nil
		}
	}
	if err := s.fn(in); err != nil {
		return callbackError{err}
	}
	s.delivered++
	return nil
}

// drop leaves out the torn last item, which starts at offset start and is
// in s.item, as parseRecovering does.
func (s *streamer) drop(start int64) error {
	if !tornTail(s.item) {
		return errNotCanonical // not what an interrupted append leaves
	}
	if s.invalid != nil {
		// parseRecovering fails with the error of decoding the whole file:
		// the failed check when the torn item decodes, else the YAML error.
		if _, ok := s.dec.decode(s.item); !ok {
			if _, ok := decodeItemYAML(s.item); !ok {
				return errNotCanonical
			}
		}
		return nil
	}
	s.torn = &Torn{Interaction: s.count, Offset: start, Data: bytes.Clone(s.item)}
	return nil
}
