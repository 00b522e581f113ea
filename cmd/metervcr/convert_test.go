package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConvertCommand converts the demo cassette to version 2 on stdout and
// with -o, and back to version 1, which must give the original bytes.
func TestConvertCommand(t *testing.T) {
	demo, err := os.ReadFile("../../cassettes/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "metering.yaml")
	if err := os.WriteFile(src, demo, 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runApp(t, "convert", "--format-version", "2", filepath.Join(dir, "metering")) // .yaml appended
	if code != 0 || !strings.HasPrefix(stdout, "---\nversion: 2\n") {
		t.Fatalf("convert --format-version 2: exit %d, stderr %q, stdout starts %.40q; want a version 2 cassette", code, stderr, stdout)
	}
	v2 := filepath.Join(dir, "v2.yaml")
	code, _, stderr = runApp(t, "convert", "--format-version", "2", src, "-o", v2)
	if got, _ := os.ReadFile(v2); code != 0 || string(got) != stdout || !strings.Contains(stderr, "wrote "+v2) {
		t.Fatalf("convert -o %s: exit %d, stderr %q; want the stdout cassette in the file", v2, code, stderr)
	}
	code, back, stderr := runApp(t, "convert", "--format-version", "1", v2)
	if code != 0 || !bytes.Equal([]byte(back), demo) {
		t.Fatalf("convert back to version 1: exit %d, stderr %q; want demo.yaml byte for byte, got\n%s", code, stderr, back)
	}
}

func TestConvertCommandBadInput(t *testing.T) {
	dir := t.TempDir()
	v1 := filepath.Join(dir, "ok.yaml")
	os.WriteFile(v1, []byte("version: 1\ninteractions: []\n"), 0o644)
	future := filepath.Join(dir, "future.yaml")
	os.WriteFile(future, []byte("version: 7\ninteractions: []\n"), 0o644)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no version", []string{"convert", v1}, "format-version"},
		{"bad version", []string{"convert", "--format-version", "3", v1}, "want 1 (go-vcr v2, metervcr) or 2"},
		{"no path", []string{"convert", "--format-version", "2"}, "one cassette PATH"},
		{"missing file", []string{"convert", "--format-version", "2", filepath.Join(dir, "none")}, "none.yaml not found"},
		{"-o without a file", []string{"convert", "--format-version", "2", v1, "-o"}, "-o needs a value"},
		{"unknown source version", []string{"convert", "--format-version", "2", future}, "version 7 is unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runApp(t, tt.args...)
			if code != exitUsage || !strings.Contains(stderr, tt.want) {
				t.Fatalf("metervcr %v: exit %d, stderr %q; want exit 2 and %q", tt.args, code, stderr, tt.want)
			}
		})
	}
}
