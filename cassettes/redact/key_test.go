package redact

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadKey(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "state")
	if _, err := LoadKey(dir, false); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("LoadKey without a key and without create = %v, want fs.ErrNotExist", err)
	}
	k, err := LoadKey(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, KeyFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, mode %v; want 0600", err, st.Mode().Perm())
	}
	again, err := LoadKey(dir, true)
	if err != nil || !bytes.Equal(again, k) {
		t.Fatalf("second LoadKey = %x, %v; want the same key", again, err)
	}
	os.Chmod(filepath.Join(dir, KeyFile), 0o644)
	if _, err := LoadKey(dir, true); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("readable key file: %v, want a refusal saying chmod 600", err)
	}
	os.WriteFile(filepath.Join(dir, KeyFile), []byte("not hex"), 0o600)
	if _, err := LoadKey(dir, true); err == nil {
		t.Fatal("a damaged key file loaded")
	}
}
