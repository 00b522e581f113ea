// Package cassettes reads and writes metervcr cassettes: YAML files in go-vcr
// v2's format (version 1), so that go-vcr's own cassette.Load reads them.
//
// Writes are durable: every append rewrites the file through a temporary
// file in the same directory, synced and renamed over the old one, so a
// crash at any moment leaves either the previous or the new cassette, never
// a torn one. Redaction replaces secrets with stable keyed placeholders
// before anything reaches disk. The package never opens a socket.
package cassettes

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/dnaeon/go-vcr.v2/cassette"
	"gopkg.in/yaml.v3"
)

// FormatVersion is the go-vcr v2 cassette format version metervcr writes.
const FormatVersion = 1

// Interaction is one recorded request and response, in go-vcr v2's type.
type Interaction = cassette.Interaction

// Request is the recorded request of an Interaction.
type Request = cassette.Request

// Response is the recorded response of an Interaction.
type Response = cassette.Response

// ErrNotFound reports a cassette file that does not exist.
var ErrNotFound = errors.New("cassette not found")

// Cassette is the content of a cassette file.
type Cassette struct {
	// Path is the file the cassette was read from, with its .yaml suffix.
	Path string
	// Interactions in recorded order.
	Interactions []*Interaction
	// Warnings say what Load repaired: a last interaction cut off by an
	// interrupted write is dropped (it was never answered).
	Warnings []string
}

// file is the on-disk document: the fields go-vcr v2 writes, in its order.
type file struct {
	Version      int            `yaml:"version"`
	Interactions []*Interaction `yaml:"interactions"`
}

// Path returns the file that the cassette name p refers to: p itself when
// it exists or its base name has an extension (x.yml, /dev/fd/63), else p
// with ".yaml" appended, go-vcr's own convention for cassette names.
func Path(p string) string {
	if base := filepath.Base(p); strings.LastIndexByte(base, '.') > 0 {
		return p
	}
	if _, err := os.Stat(p); err == nil {
		return p
	}
	return p + ".yaml"
}

// MaxFileBytes is the largest cassette Load reads. A Metering cassette of a
// million interactions stays well under it; a bigger file is a mistake
// (the wrong file, or a runaway recording), not something to read into
// memory.
const MaxFileBytes = 1 << 30

// Load reads the cassette at path (".yaml" appended when missing). A missing
// file gives an error wrapping ErrNotFound. It collects what Stream reads.
func Load(path string) (*Cassette, error) {
	var ins []*Interaction
	c, err := Stream(path, func(in *Interaction) error {
		ins = append(ins, in)
		return nil
	})
	if err != nil {
		return nil, err
	}
	c.Interactions = ins
	return c, nil
}

// itemStart begins every interaction in the canonical layout; itemEnd
// begins the last line of every complete one.
const (
	itemStart = "\n    - request:\n"
	itemEnd   = "        duration: "
)

// parseRecovering parses a cassette written by Writer, which appends one
// item at a time: when the last item is torn (the process died in the
// middle of a write), it is dropped with a warning.
func parseRecovering(data []byte) (*Cassette, error) {
	c, err := Parse(data)
	if err == nil && !torn(data) {
		return c, nil
	}
	// The file is whole up to the end of the last complete item.
	end := len(header)
	for rest := data; ; {
		i := bytes.LastIndex(rest, []byte("\n"+itemEnd))
		if i < 0 {
			break
		}
		if nl := bytes.IndexByte(rest[i+1:], '\n'); nl >= 0 {
			end = i + 1 + nl + 1
			break
		}
		rest = rest[:i] // that last line is itself cut: look further back
	}
	if end > len(data) || !bytes.HasPrefix(data, []byte(header)) {
		return c, err
	}
	good, perr := Parse(data[:end])
	if perr != nil {
		if err == nil {
			return c, nil // not a torn append: keep what parsed
		}
		return nil, err
	}
	good.Warnings = append(good.Warnings, tornWarning(len(good.Interactions), int64(len(data)-end)))
	return good, nil
}

// torn reports whether data, in the canonical layout, ends inside an
// interaction rather than after its last line.
func torn(data []byte) bool {
	if !bytes.Contains(data, []byte(itemStart)) {
		return false
	}
	if !bytes.HasSuffix(data, []byte("\n")) {
		return true
	}
	last := data[bytes.LastIndexByte(data[:len(data)-1], '\n')+1:]
	return !bytes.HasPrefix(last, []byte(itemEnd))
}

// Parse decodes a cassette document and checks that it is one metervcr can
// serve: format version 1 and every interaction with a request and response.
func Parse(data []byte) (*Cassette, error) {
	f, ok := parseItems(data)
	if !ok {
		var err error
		if f, err = parseWhole(data); err != nil {
			return nil, err
		}
	}
	if f.Version != FormatVersion {
		return nil, fmt.Errorf("cassette format version %d is not supported: metervcr reads go-vcr v2 cassettes (version: %d)", f.Version, FormatVersion)
	}
	for i, in := range f.Interactions {
		if err := checkInteraction(i, in); err != nil {
			return nil, err
		}
	}
	return &Cassette{Interactions: f.Interactions}, nil
}

// checkInteraction checks that interaction i is one metervcr can serve.
func checkInteraction(i int, in *Interaction) error {
	if in == nil {
		return fmt.Errorf("interaction %d is empty", i)
	}
	if in.Request.Method == "" || in.Request.URL == "" {
		return fmt.Errorf("interaction %d has no request method or url", i)
	}
	if in.Response.Code == 0 {
		return fmt.Errorf("interaction %d has no response code", i)
	}
	return nil
}

// parseWhole decodes a cassette document in one piece.
func parseWhole(data []byte) (file, error) {
	var f file
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return f, errors.New("empty file: not a cassette")
		}
		return f, fmt.Errorf("not a valid cassette: %w", err)
	}
	return f, nil
}

// Encode returns the cassette document as metervcr and go-vcr v2 write it.
func Encode(interactions []*Interaction) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(header)
	for _, in := range interactions {
		b, err := encodeInteraction(in)
		if err != nil {
			return nil, err
		}
		buf.Write(b)
	}
	return buf.Bytes(), nil
}

// header starts every cassette: go-vcr v2 writes a document marker, then
// version and interactions (an empty list is written as "[]" by go-vcr; we
// always write the block form, which both read).
const header = "---\nversion: 1\ninteractions:\n"

// encodeInteraction returns one interaction as the lines of a block list
// item, indented as yaml.v3 indents them inside the whole document, so that
// items encoded one by one concatenate into the same bytes as one Marshal.
// appendItem writes the usual interaction directly; yaml.v3 writes any
// other.
func encodeInteraction(in *Interaction) ([]byte, error) {
	if item, ok := appendItem(make([]byte, 0, itemSizeHint(in)), in); ok {
		return item, nil
	}
	b, err := yaml.Marshal(file{Interactions: []*Interaction{in}})
	if err != nil {
		return nil, fmt.Errorf("encoding interaction: %w", err)
	}
	// b is "version: 0\ninteractions:\n    - request: ..."
	_, item, ok := bytes.Cut(b, []byte("interactions:\n"))
	if !ok {
		return nil, errors.New("encoding interaction: unexpected YAML layout")
	}
	return item, nil
}

func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }
