package redact

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/metervcr/metervcr/cassettes"
)

// KeyFile is the name of the placeholder key file in metervcr's state
// directory (--ca-dir).
const KeyFile = "redaction.key"

// DemoKey returns the key of the placeholders of the embedded demo
// cassette. It is public, so it must never key a real recording.
func DemoKey() []byte { return []byte("metervcr demo cassette key, public") }

// ParseKey decodes a placeholder key written as hex.
func ParseKey(s string) ([]byte, error) {
	k, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("placeholder key is not hex: %w", err)
	}
	if len(k) < 16 {
		return nil, fmt.Errorf("placeholder key is %d bytes, want at least 16", len(k))
	}
	return k, nil
}

// LoadKey reads the placeholder key from dir. When the file is missing and
// create is set, a new random key is written there with mode 0600; when it
// is missing and create is not set, the error wraps fs.ErrNotExist. A key
// file that others can read is refused.
func LoadKey(dir string, create bool) ([]byte, error) {
	path := filepath.Join(dir, KeyFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && create {
		return createKey(dir, path)
	}
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%s is readable by others (mode %v); run: chmod 600 %s", path, st.Mode().Perm(), path)
	}
	k, err := ParseKey(string(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

func createKey(dir, path string) ([]byte, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return nil, err
	}
	if err := cassettes.WriteFileAtomic(path, []byte(hex.EncodeToString(k)+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("writing placeholder key: %w", err)
	}
	return k, nil
}
