package cassettes

import (
	"bufio"
	"bytes"
)

// parseItems decodes a cassette in the canonical layout that Writer
// appends (the header, then one "    - request:" item per interaction)
// item by item, each by hand when it has the shape yaml.v3 writes and by
// yaml.v3 otherwise. Decoding the whole document at once builds a node
// tree of the entire file, many times its size. It reports false for
// anything else (another layout, an item yaml.v3 cannot decode alone),
// which the caller then decodes whole, so errors and their line numbers
// come from one place. It does not check the interactions.
func parseItems(data []byte) (file, bool) {
	f := file{Version: FormatVersion}
	s := streamer{
		r: bufio.NewReaderSize(bytes.NewReader(data), 1<<16),
		fn: func(in *Interaction) error {
			f.Interactions = append(f.Interactions, in)
			return nil
		},
	}
	if err := s.run(); err != nil {
		return file{}, false
	}
	return f, true
}
