package matcher

import (
	"hash/maphash"
	"testing"
)

// TestIndexKeysSharingAHash checks the chain of keys whose hashes collide,
// by making the hash of one key point at another's first interaction.
func TestIndexKeysSharingAHash(t *testing.T) {
	ix := NewEmptyIndex(nil)
	ix.add("key a")
	ix.heads[maphash.String(ix.seed, "key b")] = ix.heads[maphash.String(ix.seed, "key a")]
	ix.add("key b")
	ix.add("key a")
	ix.add("key b")
	for _, tt := range []struct {
		key  string
		want []int // served in this order, the last again after
	}{
		{"key a", []int{0, 2, 2}},
		{"key b", []int{1, 3, 3}},
	} {
		head, ok := ix.find([]byte(tt.key))
		if !ok {
			t.Fatalf("%q not found", tt.key)
		}
		for _, want := range tt.want {
			if got, ok := ix.take(head); !ok || got != want {
				t.Fatalf("%q served %d, %v; want %d", tt.key, got, ok, want)
			}
		}
	}
	if _, ok := ix.find([]byte("key c")); ok {
		t.Fatal("found a key never added")
	}
}

func TestTextArenaKeepsStringsAcrossBlocks(t *testing.T) {
	var a textArena
	var refs []textRef
	var want []string
	for i := range 3000 {
		s := string(rune('a'+i%26)) + string(make([]byte, i%1500))
		want = append(want, s)
		refs = append(refs, a.add(s))
	}
	if len(a.blocks) < 2 {
		t.Fatalf("%d blocks; the test needs several", len(a.blocks))
	}
	for i, r := range refs {
		if a.get(r) != want[i] {
			t.Fatalf("string %d changed", i)
		}
	}
}
