package cassettes

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
)

// Torn is the end of a cassette file that loading left out because an
// interrupted append wrote it: the first bytes of an interaction that was
// never answered.
type Torn struct {
	// Interaction is the index the cut-off interaction would have had,
	// which is also how many complete interactions precede it.
	Interaction int
	// Offset is where the torn bytes start in the file.
	Offset int64
	// Data holds the torn bytes, up to the end of the file.
	Data []byte
}

// ErrOnlyTorn reports a cassette whose only interaction was cut off by an
// interrupted write: it holds nothing to replay.
var ErrOnlyTorn = errors.New("no complete interaction: the only one was cut off by an interrupted write")

// tornCut returns where the torn tail of data starts, and reports whether
// data has one.
//
// Writer appends whole items ("    - request:" through the newline of the
// "        duration:" line), so a crash can leave only one kind of damage: a
// strict prefix of one canonical item at the end of the file, possibly
// followed by NUL bytes (a file system that extends a file but had not yet
// written its new blocks at the crash shows zeros). The tail is torn if
// and only if data starts with the header, the tail after the last whole
// duration line (or after the header) is not empty, and stripped of the
// NUL bytes that end it, it is such a prefix (see tornItem). The caller
// must also check that data before the cut parses as a cassette. Anything
// else (damage in the middle, a second item, lines at the top level) is
// not a torn append and must not be cut.
func tornCut(data []byte) (int, bool) {
	if !bytes.HasPrefix(data, []byte(header)) {
		return 0, false
	}
	cut := len(header)
	for rest := data; ; {
		i := bytes.LastIndex(rest, []byte("\n"+itemEnd))
		if i < 0 {
			break
		}
		if nl := bytes.IndexByte(rest[i+1:], '\n'); nl >= 0 {
			cut = i + 1 + nl + 1
			break
		}
		rest = rest[:i] // that last line is itself cut: look further back
	}
	return cut, tornTail(data[cut:])
}

// tornTail reports whether tail, all that follows the last whole item, is
// what an interrupted append leaves: not empty, and a strict prefix of one
// canonical item followed by nothing but NUL bytes.
func tornTail(tail []byte) bool {
	return len(tail) > 0 && tornItem(bytes.TrimRight(tail, "\x00"))
}

// itemKeys are the lines at the item's own levels (indented by eight
// spaces or fewer) of every canonical item, in the order Writer writes
// them; every other line of an item is empty or indented further.
var itemKeys = [...]string{
	itemRequestLine, itemBodyKey, itemFormKey, itemHeadersKey, itemURLKey, itemMethodKey,
	itemResponseLine, itemBodyKey, itemHeadersKey, itemStatusKey, itemCodeKey, itemDurationKey,
}

// tornItem reports whether b is a strict prefix of one canonical item (an
// empty b is one): its lines indented by eight spaces or fewer are the
// item's keys in order from the first, each whole line of them ends its
// value where yaml.v3 would (a quoted scalar is closed on its line), every
// other line is empty or indented further and follows a field key, and the
// duration line, the last, is not whole.
func tornItem(b []byte) bool {
	next := 0        // index in itemKeys of the key the next such line must be
	inValue := false // the last key line was a field's, whose value may go on
	for len(b) > 0 {
		line, whole := b, false
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, whole = b[:i], true
		}
		b = b[len(line):]
		if whole {
			b = b[1:]
		}
		indent := len(line) - len(bytes.TrimLeft(line, " "))
		switch {
		case indent == len(line) && (!whole || inValue):
			// Blank, or only the indentation of a line not written yet.
		case indent > itemFieldIndent:
			if !inValue {
				return false
			}
		case next == len(itemKeys):
			return false
		case !whole:
			key := itemKeys[next]
			return len(line) <= len(key) && key[:len(line)] == string(line) ||
				bytes.HasPrefix(line, []byte(key+" "))
		default:
			key := itemKeys[next]
			next++
			if !bytes.HasPrefix(line, []byte(key)) {
				return false
			}
			value := line[len(key):]
			if key == itemDurationKey {
				return false // the item is whole
			}
			inValue = key != itemRequestLine && key != itemResponseLine
			if !inValue && len(value) > 0 || inValue && len(value) > 0 && (value[0] != ' ' || !wholeScalar(value[1:])) {
				return false
			}
		}
	}
	return true
}

// wholeScalar reports whether v, the value on a key's line, is not a
// quoted scalar left open: yaml.v3 writes quoted scalars on one line.
func wholeScalar(v []byte) bool {
	switch {
	case len(v) == 0:
		return true
	case v[0] == '\'':
		// Inside single quotes a quote is written twice.
		return len(v) >= 2 && v[len(v)-1] == '\'' && bytes.Count(v, []byte("'"))%2 == 0
	case v[0] == '"':
		if len(v) < 2 || v[len(v)-1] != '"' {
			return false
		}
		escapes := 0 // backslashes before the last quote, which escape it when odd
		for i := len(v) - 2; i > 0 && v[i] == '\\'; i-- {
			escapes++
		}
		return escapes%2 == 0
	}
	return true
}

// asideName returns the first name, of path+suffix, path+suffix+".2", ...,
// that names no file yet: where keepAside would keep bytes now.
func asideName(path, suffix string) string {
	for n := 1; ; n++ {
		name := numberedAside(path, suffix, n)
		if _, err := os.Lstat(name); errors.Is(err, fs.ErrNotExist) {
			return name
		}
	}
}

func numberedAside(path, suffix string, n int) string {
	if n == 1 {
		return path + suffix
	}
	return path + suffix + "." + strconv.Itoa(n)
}

// keepAside writes data durably to a new file beside path, named
// path+suffix, or path+suffix+".2" and so on when that exists: no file is
// ever overwritten. It returns the name once the file and its directory
// are synced.
func keepAside(path, suffix string, data []byte) (string, error) {
	for n := 1; ; n++ {
		name := numberedAside(path, suffix, n)
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		_, err = f.Write(data)
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = syncDir(filepath.Dir(name))
		}
		if err != nil {
			os.Remove(name) // best effort: what it holds is still in the cassette
			return "", err
		}
		return name, nil
	}
}

// tornSuffix and origSuffix name the files beside a cassette that keep,
// before it is rewritten, its torn end and the file as it was.
const (
	tornSuffix = ".torn"
	origSuffix = ".orig"
)

// keepTorn keeps the torn end of the cassette at path beside it (see
// keepAside), before the caller writes the cassette without it, and
// returns the warning that says where.
func keepTorn(path string, t *Torn) (string, error) {
	name, err := keepAside(path, tornSuffix, t.Data)
	if err != nil {
		return "", fmt.Errorf("keeping the cut-off end of %s before removing it: %w", path, err)
	}
	return fmt.Sprintf("interaction %d was cut off by an interrupted write (it was never answered): its %d bytes at offset %d are kept in %s and removed from the cassette",
		t.Interaction, len(t.Data), t.Offset, name), nil
}

// tornWarning says that the torn end of the cassette at path is ignored,
// and where the next record keeps it.
func tornWarning(path string, t *Torn) string {
	return fmt.Sprintf("interaction %d was cut off by an interrupted write and is ignored (it was never answered): %d bytes at offset %d, left in the file; the next record keeps them in %s before removing them",
		t.Interaction, len(t.Data), t.Offset, asideName(path, tornSuffix))
}
