// Package cassettes reads and writes metervcr cassettes, YAML files in
// go-vcr v2's format that go-vcr's own cassette.Load reads.
package cassettes

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
	"gopkg.in/dnaeon/go-vcr.v2/cassette"
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
	// Torn is the end of the file that an interrupted write left and that
	// loading left out: the start of an interaction that was never
	// answered. It is nil when the file has none.
	Torn *Torn
	// Warnings say what loading left out, for people.
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
// item at a time: when the file ends in a torn item (see tornCut) and
// everything before it parses, the torn item is left out and returned as
// the cassette's Torn. Any other damage is an error, Parse's.
func parseRecovering(data []byte) (*Cassette, error) {
	if cut, ok := tornCut(data); ok {
		if c, err := Parse(data[:cut]); err == nil {
			c.Torn = &Torn{Interaction: len(c.Interactions), Offset: int64(cut), Data: bytes.Clone(data[cut:])}
			return c, nil
		}
	}
	return Parse(data)
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
		if line := unreadableLine(data); line > 0 && !strings.Contains(err.Error(), "line ") {
			// yaml.v3 names no line for characters YAML does not allow.
			return f, fmt.Errorf("not a valid cassette: %w (line %d)", err, line)
		}
		return f, fmt.Errorf("not a valid cassette: %w", err)
	}
	return f, nil
}

// unreadableLine returns the line of the first character in data that YAML
// does not allow in a document (a control character, a NUL, invalid
// UTF-8), or 0 when there is none.
func unreadableLine(data []byte) int {
	line := 1
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		switch {
		case r == '\n':
			line++
		case r == '\t' || r == '\r' || r >= 0x20 && r <= 0x7e || r == 0x85 || r >= 0xa0 && r <= 0xd7ff ||
			r >= 0xe000 && r <= 0xfffd && !(r == utf8.RuneError && n == 1) || r >= 0x10000 && r <= 0x10ffff:
		default:
			return line
		}
		i += n
	}
	return 0
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
