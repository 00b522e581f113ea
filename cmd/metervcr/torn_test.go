package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/metervcr/metervcr/cassettes"
)

// tornCLIFixture returns a cassette of the demo's first two interactions,
// the first with an Authorization header that redact replaces, then the
// demo's third, and where that third one starts.
func tornCLIFixture(t *testing.T) (full []byte, third int) {
	t.Helper()
	demo, err := cassettes.Demo()
	if err != nil {
		t.Fatal(err)
	}
	ins := demo.Interactions[:3]
	first := *ins[0]
	first.Request.Headers = first.Request.Headers.Clone()
	first.Request.Headers.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/aws-marketplace/aws4_request, Signature=abc")
	ins = append([]*cassettes.Interaction{&first}, ins[1:]...)
	two, err := cassettes.Encode(ins[:2])
	if err != nil {
		t.Fatal(err)
	}
	full, err = cassettes.Encode(ins)
	if err != nil {
		t.Fatal(err)
	}
	return full, len(two)
}

// setRecordEnv gives record, run in-process, credentials and a CA folder
// of its own, and no AWS configuration of the machine.
func setRecordEnv(t *testing.T) {
	for _, kv := range recordEnv(t) {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
}

// TestDamagedCassetteIsLeftAlone: record, redact and replay refuse a
// cassette damaged other than by a torn last write, exit 2 naming the file
// and the line, and leave it as it was, byte for byte, with nothing beside.
func TestDamagedCassetteIsLeftAlone(t *testing.T) {
	setRecordEnv(t)
	full, third := tornCLIFixture(t)
	two, rest := string(full[:third]), string(full[third:])
	at := strings.Index(two, "        body: '")
	tests := []struct{ name, data string }{
		{"unterminated quote running to the end of the file", two[:at] + `        body: "` + two[at+len("        body: '"):]},
		{"git conflict markers", two + "<<<<<<< HEAD\n" + rest + "=======\n" + rest + ">>>>>>> other\n"},
		{"a top-level line after the interactions", two + "oops: [\n" + rest[:40]},
	}
	for _, tt := range tests {
		for _, args := range [][]string{
			{"record", "--listen", "127.0.0.1:0", "--upstream", "http://127.0.0.1:1", "--cassette"},
			{"redact", "--ca-dir", t.TempDir()},
			{"replay", "--listen", "127.0.0.1:0", "--ca-dir", t.TempDir(), "--cassette"},
		} {
			t.Run(tt.name+"/"+args[0], func(t *testing.T) {
				dir := t.TempDir()
				path := filepath.Join(dir, "m.yaml")
				if err := os.WriteFile(path, []byte(tt.data), 0o644); err != nil {
					t.Fatal(err)
				}
				code, stderr := runAppFor(t, 10*time.Second, append(args, path)...)
				if code != exitUsage || !strings.Contains(stderr, path) || !strings.Contains(stderr, "line ") {
					t.Fatalf("%s: exit %d, want 2 and an error naming %s and the line; stderr:\n%s", args[0], code, path, stderr)
				}
				if got, _ := os.ReadFile(path); !bytes.Equal(got, []byte(tt.data)) {
					t.Fatalf("%s changed the damaged cassette", args[0])
				}
				if entries, _ := os.ReadDir(dir); len(entries) != 1 {
					t.Fatalf("%s left %d files beside the cassette, want none", args[0], len(entries)-1)
				}
			})
		}
	}
}

// TestTornCassetteCLI cuts the last interaction at a few places: replay
// serves the others, warns and writes nothing; record and redact keep the
// torn bytes in NAME.yaml.torn before removing them, and say so.
func TestTornCassetteCLI(t *testing.T) {
	setRecordEnv(t)
	full, third := tornCLIFixture(t)
	for _, cut := range []int{third + 1, third + 15, (third + len(full)) / 2, len(full) - 1} {
		data, tail := full[:cut], full[third:cut]
		write := func(t *testing.T) string {
			path := filepath.Join(t.TempDir(), "m.yaml")
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			return path
		}
		t.Run("replay", func(t *testing.T) {
			path := write(t)
			code, stderr := runAppFor(t, 300*time.Millisecond, "replay", "--listen", "127.0.0.1:0", "--ca-dir", t.TempDir(), "--cassette", path)
			if code != 0 || !strings.Contains(stderr, "interaction 2 was cut off") || !strings.Contains(stderr, path+".torn") {
				t.Fatalf("replay: exit %d, want 0 and a warning naming %s.torn; stderr:\n%s", code, path, stderr)
			}
			if got, _ := os.ReadFile(path); !bytes.Equal(got, data) {
				t.Fatal("replay changed the cassette")
			}
			if _, err := os.Stat(path + ".torn"); err == nil {
				t.Fatal("replay wrote a .torn file; replay only reads")
			}
		})
		for _, args := range [][]string{
			{"record", "--listen", "127.0.0.1:0", "--upstream", "http://127.0.0.1:1", "--cassette"},
			{"redact", "--ca-dir", t.TempDir()},
		} {
			t.Run(args[0], func(t *testing.T) {
				path := write(t)
				code, stderr := runAppFor(t, 300*time.Millisecond, append(args, path)...)
				if code != 0 || !strings.Contains(stderr, "kept in "+path+".torn") {
					t.Fatalf("%s: exit %d, want 0 and a warning that the bytes are kept in %s.torn; stderr:\n%s", args[0], code, path, stderr)
				}
				if got, _ := os.ReadFile(path + ".torn"); !bytes.Equal(got, tail) {
					t.Fatalf("%s kept %q, want the torn bytes %q", args[0], got, tail)
				}
				c, err := cassettes.Load(path)
				if err != nil || len(c.Interactions) != 2 || c.Torn != nil {
					t.Fatalf("after %s: %v, %+v; want the 2 whole interactions", args[0], err, c)
				}
			})
		}
	}
}

// TestReplayOfOnlyTornInteractionFails: nothing could be read, so replay
// has nothing to serve: an error, exit 2, saying what to run.
func TestReplayOfOnlyTornInteractionFails(t *testing.T) {
	full, third := tornCLIFixture(t)
	data := append([]byte("---\nversion: 1\ninteractions:\n"), full[third:len(full)-1]...)
	path := filepath.Join(t.TempDir(), "m.yaml")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	code, stderr := runAppFor(t, 10*time.Second, "replay", "--listen", "127.0.0.1:0", "--ca-dir", t.TempDir(), "--cassette", path)
	for _, want := range []string{path, "no complete interaction", "metervcr record --cassette " + path} {
		if code != exitUsage || !strings.Contains(stderr, want) {
			t.Fatalf("replay: exit %d, want 2 and stderr with %q; stderr:\n%s", code, want, stderr)
		}
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, data) {
		t.Fatal("replay changed the cassette")
	}
}
