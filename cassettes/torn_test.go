package cassettes_test

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/metervcr/metervcr/cassettes"
	"github.com/metervcr/metervcr/cassettes/redact"
)

// tinyInteraction is the smallest interaction metervcr serves: its item is
// short, so that tests can cut it at every byte.
func tinyInteraction() *cassettes.Interaction {
	return &cassettes.Interaction{
		Request:  cassettes.Request{Form: map[string][]string{}, Headers: http.Header{}, URL: "/", Method: "POST"},
		Response: cassettes.Response{Headers: http.Header{}, Code: 200},
	}
}

// tornFixture returns a cassette of two interactions, the first holding a
// secret that redaction replaces, then a tiny third one, and where the
// third one starts.
func tornFixture(t testing.TB) (full []byte, third int) {
	t.Helper()
	secret := tinyInteraction()
	secret.Request.Headers.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/aws-marketplace/aws4_request")
	two, err := cassettes.Encode([]*cassettes.Interaction{secret, tinyInteraction()})
	if err != nil {
		t.Fatal(err)
	}
	full, err = cassettes.Encode([]*cassettes.Interaction{secret, tinyInteraction(), tinyInteraction()})
	if err != nil {
		t.Fatal(err)
	}
	return full, len(two)
}

// fileRedactor returns a Redactor keyed with a test key, for rewriting
// cassette files.
func fileRedactor(t testing.TB) *redact.Redactor {
	t.Helper()
	r, err := redact.New([]byte("0123456789abcdef0123"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// writeCassette writes data as name in a new directory of its own, so that
// the files kept beside it are the test's alone.
func writeCassette(t testing.TB, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// wantFile fails unless the file at path holds want, byte for byte.
func wantFile(t testing.TB, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s holds\n%q\nwant\n%q", filepath.Base(path), got, want)
	}
}

// wantNoFile fails if a file exists at path.
func wantNoFile(t testing.TB, path string) {
	t.Helper()
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("%s exists (%v), want no such file", filepath.Base(path), err)
	}
}

// TestTornTailAtEachOffset cuts the last interaction of a cassette at every
// byte, alone and followed by NUL bytes: loading leaves it out, names it
// and changes nothing; OpenWriter and Redactor.File keep it byte for byte
// in NAME.yaml.torn before removing it, and say so.
func TestTornTailAtEachOffset(t *testing.T) {
	t.Parallel()
	full, third := tornFixture(t)
	var tails [][]byte
	for cut := third + 1; cut < len(full); cut++ {
		tails = append(tails, full[third:cut])
	}
	zeros := []byte("\x00\x00\x00\x00\x00\x00\x00\x00")
	tails = append(tails, zeros, append(bytes.Clone(full[third:third+20]), zeros...))
	for _, tail := range tails {
		t.Run(fmt.Sprintf("%d bytes %q", len(tail), tail[len(tail)-min(len(tail), 12):]), func(t *testing.T) {
			t.Parallel()
			data := append(bytes.Clone(full[:third]), tail...)
			want := &cassettes.Torn{Interaction: 2, Offset: int64(third), Data: tail}

			path := writeCassette(t, "m.yaml", data)
			c, err := cassettes.Load(path)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if len(c.Interactions) != 2 || !reflect.DeepEqual(c.Torn, want) {
				t.Fatalf("Load = %d interactions, torn %+v; want 2, %+v", len(c.Interactions), c.Torn, want)
			}
			if len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "interaction 2 was cut off") || !strings.Contains(c.Warnings[0], path+".torn") {
				t.Fatalf("Load warnings = %q, want one naming interaction 2 and %s.torn", c.Warnings, path)
			}
			wantFile(t, path, data)
			wantNoFile(t, path+".torn")

			w, err := cassettes.OpenWriter(path, false)
			if err != nil {
				t.Fatalf("OpenWriter: %v", err)
			}
			w.Close()
			if ws := w.Warnings(); len(ws) != 1 || !strings.Contains(ws[0], "kept in "+path+".torn") {
				t.Fatalf("OpenWriter warnings = %q, want one saying the bytes are kept in %s.torn", ws, path)
			}
			wantFile(t, path+".torn", tail)
			wantFile(t, path, full[:third])
			wantNoFile(t, path+".orig")

			path = writeCassette(t, "r.yaml", data)
			done, ws, err := fileRedactor(t).File(path)
			if err != nil || len(done) == 0 {
				t.Fatalf("Redactor.File = %d findings, %v; want the secret replaced", len(done), err)
			}
			if len(ws) != 1 || !strings.Contains(ws[0], "kept in "+path+".torn") {
				t.Fatalf("Redactor.File warnings = %q, want one saying the bytes are kept in %s.torn", ws, path)
			}
			wantFile(t, path+".torn", tail)
			if c, err := cassettes.Load(path); err != nil || len(c.Interactions) != 2 || c.Torn != nil {
				t.Fatalf("after Redactor.File: %v, %+v; want 2 whole interactions", err, c)
			}
		})
	}
}

// TestKeptBytesAreNeverOverwritten: a cassette torn again keeps its new
// torn end in a numbered file; the earlier ones stay as they were.
func TestKeptBytesAreNeverOverwritten(t *testing.T) {
	t.Parallel()
	full, third := tornFixture(t)
	path := writeCassette(t, "m.yaml", full[:third+5])
	earlier := []byte("kept by an earlier run")
	if err := os.WriteFile(path+".torn", earlier, 0o644); err != nil {
		t.Fatal(err)
	}
	for i, cut := range []int{third + 5, third + 40} {
		if err := os.WriteFile(path, full[:cut], 0o644); err != nil {
			t.Fatal(err)
		}
		c, err := cassettes.Load(path)
		name := fmt.Sprintf("%s.torn.%d", path, i+2)
		if err != nil || len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "keeps them in "+name) {
			t.Fatalf("Load = %v, warnings %q; want one naming %s, the next free name", err, c.Warnings, name)
		}
		w, err := cassettes.OpenWriter(path, false)
		if err != nil {
			t.Fatal(err)
		}
		w.Close()
		if ws := w.Warnings(); len(ws) != 1 || !strings.HasSuffix(ws[0], "kept in "+name+" and removed from the cassette") {
			t.Fatalf("OpenWriter warnings = %q, want the bytes kept in %s", ws, name)
		}
		wantFile(t, name, full[third:cut])
	}
	wantFile(t, path+".torn", earlier)
	wantFile(t, path, full[:third])
}

// TestOnlyTornInteraction: a cassette whose only interaction is torn loads
// empty, with the torn bytes as interaction 0.
func TestOnlyTornInteraction(t *testing.T) {
	t.Parallel()
	item, err := cassettes.EncodeInteraction(tinyInteraction())
	if err != nil {
		t.Fatal(err)
	}
	data := append([]byte(cassettes.Header), item[:len(item)-1]...)
	c, err := cassettes.Load(writeCassette(t, "m.yaml", data))
	want := &cassettes.Torn{Interaction: 0, Offset: int64(len(cassettes.Header)), Data: item[:len(item)-1]}
	if err != nil || len(c.Interactions) != 0 || !reflect.DeepEqual(c.Torn, want) {
		t.Fatalf("Load = %v, %+v; want no interactions and torn %+v", err, c, want)
	}
}

// TestDamageIsRefused: damage other than a torn last append fails to load
// with an error naming the file (and the line, for YAML errors), and
// neither OpenWriter nor Redactor.File changes the file or keeps anything
// beside it.
func TestDamageIsRefused(t *testing.T) {
	t.Parallel()
	full, third := tornFixture(t)
	two, rest := string(full[:third]), string(full[third:])
	firstBody := strings.Index(two, `body: ""`)
	lastBody := strings.LastIndex(two, `body: ""`)
	tests := []struct {
		name, data string
		line       bool // the error names a line
	}{
		{"unterminated double quote in the first interaction, to the end of the file", two[:firstBody] + `body: "abc` + two[firstBody+len(`body: ""`):], true},
		{"unterminated single quote in the first interaction, to the end of the file", two[:firstBody] + `body: 'abc` + two[firstBody+len(`body: ""`):], true},
		{"unterminated double quote in a complete last interaction", two[:lastBody] + `body: "abc` + two[lastBody+len(`body: ""`):], true},
		{"unterminated quote in a whole line of the last item", two + strings.Replace(rest[:80], `body: ""`, `body: "x`, 1), true},
		{"git conflict markers around the last interaction", two + "<<<<<<< HEAD\n" + rest + "=======\n" + rest + ">>>>>>> other\n", true},
		{"git conflict marker after the interactions", two + "<<<<<<< HEAD\n", true},
		{"git conflict markers in the middle", strings.Replace(two, "    - request:", "<<<<<<< HEAD\n    - request:", 2) + "=======\n>>>>>>> other\n" + rest, true},
		{"garbage at the top level", two + "oops: [\n", true},
		{"a line missing in the middle", strings.Replace(two, "      response:\n", "", 1) + rest, false},
		{"two items in the tail", two + rest[:60] + rest[:30], false},
		{"NUL bytes in the middle", strings.Replace(two, "method: POST", "method: \x00\x00\x00", 1), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data := []byte(tt.data)
			path := writeCassette(t, "m.yaml", data)
			_, err := cassettes.Load(path)
			if err == nil || !strings.HasPrefix(err.Error(), path+": ") {
				t.Fatalf("Load = %v, want an error naming %s", err, path)
			}
			if tt.line && !strings.Contains(err.Error(), "line ") {
				t.Fatalf("Load = %v, want it to name the line", err)
			}
			if _, err := cassettes.OpenWriter(path, false); err == nil || !strings.Contains(err.Error(), path) {
				t.Fatalf("OpenWriter = %v, want an error naming %s", err, path)
			}
			if _, _, err := fileRedactor(t).File(path); err == nil || !strings.Contains(err.Error(), path) {
				t.Fatalf("Redactor.File = %v, want an error naming %s", err, path)
			}
			wantFile(t, path, data)
			if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
				t.Fatalf("the directory holds %d files, want the cassette alone", len(entries))
			}
		})
	}
}

// TestOpenWriterKeepsTheOriginalLayout: a cassette written by hand, with
// comments, is copied as it was to NAME.yaml.orig before OpenWriter
// rewrites it in the layout it appends to.
func TestOpenWriterKeepsTheOriginalLayout(t *testing.T) {
	t.Parallel()
	hand := []byte("# recorded by hand\nversion: 1\ninteractions:\n  - request: {method: POST, url: /}  # the only call\n    response: {code: 200}\n")
	path := writeCassette(t, "hand.yaml", hand)
	if err := os.WriteFile(path+".orig", []byte("older"), 0o644); err != nil {
		t.Fatal(err)
	}
	w, err := cassettes.OpenWriter(path, false)
	if err != nil {
		t.Fatal(err)
	}
	if ws := w.Warnings(); len(ws) != 1 || !strings.Contains(ws[0], "kept in "+path+".orig.2") {
		t.Fatalf("OpenWriter warnings = %q, want one naming %s.orig.2", ws, path)
	}
	wantFile(t, path+".orig.2", hand)
	wantFile(t, path+".orig", []byte("older"))
	if i, err := w.Append(tinyInteraction()); err != nil || i != 1 {
		t.Fatalf("Append = %d, %v; want index 1", i, err)
	}
	w.Close()
	c, err := cassettes.Load(path)
	if err != nil || len(c.Interactions) != 2 || c.Interactions[0].Request.URL != "/" {
		t.Fatalf("Load after the rewrite = %v, %+v; want the hand-written interaction and the appended one", err, c)
	}

	// Now canonical: a second writer changes and keeps nothing.
	w, err = cassettes.OpenWriter(path, false)
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	if ws := w.Warnings(); len(ws) != 0 {
		t.Fatalf("OpenWriter on a canonical cassette warns %q, want nothing", ws)
	}
	wantNoFile(t, path+".orig.3")
}
