package metering

import (
	"regexp"
	"testing"
)

// TestNewID: ids are version 4 UUIDs in lower-case hex, and differ.
func TestNewID(t *testing.T) {
	t.Parallel()
	shape := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for range 1000 {
		id := NewID()
		if !shape.MatchString(id) {
			t.Fatalf("NewID() = %q, want a version 4 UUID", id)
		}
		if seen[id] {
			t.Fatalf("NewID() = %q twice in 1000 calls", id)
		}
		seen[id] = true
	}
}
