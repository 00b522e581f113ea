package cassettes

import (
	"bytes"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/dnaeon/go-vcr.v2/cassette"
)

func sample(i int) *Interaction {
	return &Interaction{
		Request: Request{
			Body:    `{"ProductCode":"p","UsageDimension":"d","UsageQuantity":` + string(rune('0'+i)) + `}`,
			Form:    map[string][]string{},
			Headers: http.Header{"X-Amz-Target": {"AWSMPMeteringService.MeterUsage"}, "Content-Type": {"application/x-amz-json-1.1"}},
			URL:     "https://metering.marketplace.us-east-1.amazonaws.com/",
			Method:  "POST",
		},
		Response: Response{
			Body:     `{"MeteringRecordId":"r"}`,
			Headers:  http.Header{"Content-Type": {"application/x-amz-json-1.1"}},
			Status:   "200 OK",
			Code:     200,
			Duration: 12 * time.Millisecond,
		},
	}
}

// TestEncodeIsGoVCRFormat proves that metervcr writes byte for byte what
// go-vcr v2's own Save writes, and that go-vcr's Load reads it back.
func TestEncodeIsGoVCRFormat(t *testing.T) {
	dir := t.TempDir()
	vcr := cassette.New(filepath.Join(dir, "govcr"))
	for i := range 3 {
		vcr.AddInteraction(sample(i))
	}
	if err := vcr.Save(); err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(vcr.File)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Encode([]*Interaction{sample(0), sample(1), sample(2)})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("Encode =\n%s\nwant (go-vcr Save)\n%s", got, want)
	}
	path := filepath.Join(dir, "ours.yaml")
	if err := WriteFileAtomic(path, got, 0o644); err != nil {
		t.Fatal(err)
	}
	loaded, err := cassette.Load(strings.TrimSuffix(path, ".yaml"))
	if err != nil {
		t.Fatalf("go-vcr Load: %v", err)
	}
	if len(loaded.Interactions) != 3 || loaded.Interactions[2].Request.Body != sample(2).Request.Body {
		t.Fatalf("go-vcr Load read %d interactions, want 3 with the same bodies", len(loaded.Interactions))
	}
}

func TestWriterAppendsDurablyAndReopens(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "sub", "m") // no .yaml: appended
	w, err := OpenWriter(path, false)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		idx, err := w.Append(sample(i))
		if err != nil {
			t.Fatal(err)
		}
		if idx != i {
			t.Fatalf("Append index = %d, want %d", idx, i)
		}
		c, err := Load(path)
		if err != nil {
			t.Fatalf("Load after %d appends: %v", i+1, err)
		}
		if len(c.Interactions) != i+1 {
			t.Fatalf("after %d appends the file holds %d interactions", i+1, len(c.Interactions))
		}
	}
	w2, err := OpenWriter(path, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w2.Append(sample(3)); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path + ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Interactions) != 4 {
		t.Fatalf("reopened writer: %d interactions, want 4 (appending keeps earlier ones)", len(c.Interactions))
	}
	// Save(Load(file)) is byte-identical.
	data, _ := os.ReadFile(c.Path)
	again, err := Encode(c.Interactions)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, again) {
		t.Fatalf("Encode(Load(file)) differs from file:\n%s\nvs\n%s", again, data)
	}
	fresh, err := OpenWriter(path, true)
	if err != nil {
		t.Fatal(err)
	}
	if fresh.Len() != 0 {
		t.Fatalf("fresh writer Len = %d, want 0", fresh.Len())
	}
	if entries, _ := os.ReadDir(filepath.Dir(c.Path)); len(entries) != 1 {
		t.Fatalf("directory holds %d entries, want only the cassette (no temp files left)", len(entries))
	}
}

func TestOpenWriterLeavesABadFileAlone(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "bad.yaml")
	orig := []byte("this: [is not: a cassette\n")
	if err := os.WriteFile(path, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenWriter(path, false); err == nil {
		t.Fatal("OpenWriter on a non-cassette succeeded, want an error")
	}
	got, _ := os.ReadFile(path)
	if !bytes.Equal(got, orig) {
		t.Fatal("OpenWriter changed a file it could not read")
	}
}

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name, path, want string
	}{
		{"missing", filepath.Join(dir, "nope.yaml"), "cassette not found"},
		{"empty", write("empty.yaml", ""), "empty file"},
		{"bad yaml", write("bad.yaml", "version: 1\ninteractions: [\n"), "line"},
		{"wrong version", write("v2.yaml", "version: 2\ninteractions: []\n"), "version 2 is not supported"},
		{"no request", write("noreq.yaml", "version: 1\ninteractions:\n- response: {code: 200}\n"), "interaction 0 has no request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(tt.path)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Load(%s) error = %v, want it to mention %q", tt.name, err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.path) {
				t.Fatalf("Load error %q does not name the file", err)
			}
		})
	}
	if _, err := Load(filepath.Join(dir, "nope")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Load(missing) = %v, want ErrNotFound", err)
	}
}

func TestDemoCassetteLoads(t *testing.T) {
	t.Parallel()
	c, err := Demo()
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Interactions) == 0 {
		t.Fatal("demo cassette is empty; regenerate it with make demo")
	}
}
