package cassettes

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

func TestPath(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, name := range []string{"noext", "metering.yaml", "old.yml"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(header), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	fd := "/dev/fd/" + strconv.Itoa(int(r.Fd()))
	in := func(name string) string { return filepath.Join(dir, name) }
	tests := []struct {
		name string
		p    string
		want string
	}{
		{"missing, no extension: go-vcr's .yaml", in("metering"), in("metering.yaml")},
		{"existing .yaml", in("metering.yaml"), in("metering.yaml")},
		{"missing .yaml", in("new.yaml"), in("new.yaml")},
		{"existing .yml", in("old.yml"), in("old.yml")},
		{"missing .yml is created as named", in("new.yml"), in("new.yml")},
		{"any other extension", in("cassette.json"), in("cassette.json")},
		{"existing file without extension", in("noext"), in("noext")},
		{"directory", in("sub"), in("sub")},
		{"dot in a directory name only", in("v1.2/metering"), in("v1.2/metering.yaml")},
		{"hidden name without extension", in(".cassette"), in(".cassette.yaml")},
		{"process substitution", fd, fd},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Path(tt.p); got != tt.want {
				t.Errorf("Path(%q) = %q, want %q", tt.p, got, tt.want)
			}
			if got := Path(Path(tt.p)); got != tt.want {
				t.Errorf("Path(Path(%q)) = %q, want %q (Path is idempotent)", tt.p, got, tt.want)
			}
		})
	}
}
