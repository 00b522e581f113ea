package cassettes

import (
	"bytes"
	"testing"
)

// FuzzParse: loading never panics, what it leaves out as torn is exactly
// the end of the file and a torn tail, and what loads survives
// encode-then-load unchanged.
func FuzzParse(f *testing.F) {
	good, _ := Encode([]*Interaction{sample(0), sample(1)})
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add(append(good[:len(good)-3:len(good)-3], 0, 0, 0))
	f.Add(append(good[:len(good)/2:len(good)/2], "\n<<<<<<< HEAD\n"...))
	f.Add([]byte("version: 1\ninteractions: []\n"))
	f.Add([]byte("version: 2\n"))
	f.Add([]byte("- a\n- b\n"))
	f.Add([]byte("version: 1\ninteractions:\n  - request: {method: POST, url: /}\n    response: {code: 200}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := parseRecovering(data)
		if err != nil {
			return
		}
		if tn := c.Torn; tn != nil && (tn.Offset > int64(len(data)) || !bytes.Equal(tn.Data, data[tn.Offset:]) || !tornTail(tn.Data) || tn.Interaction != len(c.Interactions)) {
			t.Fatalf("torn %+v is not the end of the file, or not a torn tail, after %d interactions:\n%q", tn, len(c.Interactions), data)
		}
		enc, err := Encode(c.Interactions)
		if err != nil {
			t.Fatalf("Encode of a loaded cassette: %v", err)
		}
		c2, err := Parse(enc)
		if err != nil {
			t.Fatalf("Parse(Encode(Load(x))): %v\n%s", err, enc)
		}
		enc2, _ := Encode(c2.Interactions)
		if !bytes.Equal(enc, enc2) {
			t.Fatalf("encode, load, encode is not stable:\n%s\n---\n%s", enc, enc2)
		}
	})
}
