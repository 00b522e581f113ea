package cassettes

import (
	"strings"
	"testing"
)

// TestTornItem: which tails are a strict prefix of one canonical item.
func TestTornItem(t *testing.T) {
	t.Parallel()
	item, err := encodeInteraction(sample(0))
	if err != nil {
		t.Fatal(err)
	}
	s := string(item)
	tests := []struct {
		name, tail string
		want       bool
	}{
		{"the first byte", " ", true},
		{"all but the last newline", s[:len(s)-1], true},
		{"cut inside a quoted body", s[:strings.Index(s, "UsageQuantity")], true},
		{"only NUL bytes", "\x00\x00", true},
		{"a prefix, then NUL bytes", s[:30] + "\x00\x00\x00", true},
		{"empty", "", false},
		{"the whole item", s, false},
		{"a blank line", "\n", false},
		{"a comment", "    # note\n", false},
		{"a second item", s[:40] + "    - request:\n", false},
		{"a key out of order", "    - request:\n        form: {}\n", false},
		{"a key that is not one", "    - request:\n        bodies: x\n", false},
		{"an open double quote on a whole line", "    - request:\n        body: \"x\n", false},
		{"an escaped closing quote", "    - request:\n        body: \"x\\\"\n", false},
		{"an open single quote on a whole line", "    - request:\n        body: 'it''\n", false},
		{"a closed single quote with a doubled one", "    - request:\n        body: 'it''s'\n", true},
		{"a value line before any field", "    - request:\n            x\n", false},
		{"a top-level line", "    - request:\nversion: 2\n", false},
		{"a conflict marker", "    - request:\n=======\n", false},
		{"NUL bytes, then text", "\x00    - request:\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tornTail([]byte(tt.tail)); got != tt.want {
				t.Fatalf("tornTail(%q) = %v, want %v", tt.tail, got, tt.want)
			}
		})
	}
}
