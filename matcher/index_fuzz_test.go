package matcher

import (
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"testing"
)

// indexModel is what an Index must do, written as plainly as possible: the
// interactions of each key in recorded order and the next one to serve.
type indexModel struct {
	once     bool
	recorded map[string][]int
	next     map[string]int  // position in recorded[key] of the next to serve
	usedUp   map[string]bool // under Once, a key whose recordings are used up
	served   map[int]bool
	n        int // interactions added
}

func newIndexModel(once bool) *indexModel {
	return &indexModel{once: once, recorded: map[string][]int{}, next: map[string]int{},
		usedUp: map[string]bool{}, served: map[int]bool{}}
}

func (m *indexModel) add(key string) int {
	m.recorded[key] = append(m.recorded[key], m.n)
	m.n++
	return m.n - 1
}

// take returns the interaction served for key, or -1 for a miss.
func (m *indexModel) take(key string) int {
	recs := m.recorded[key]
	if len(recs) == 0 || m.usedUp[key] {
		return -1
	}
	at := m.next[key]
	switch {
	case at+1 < len(recs):
		m.next[key] = at + 1
	case m.once:
		m.usedUp[key] = true
	} // else the last recording keeps being served
	m.served[recs[at]] = true
	return recs[at]
}

// unused returns the interactions never served, in order.
func (m *indexModel) unused() []int {
	var out []int
	for i := range m.n {
		if !m.served[i] {
			out = append(out, i)
		}
	}
	return out
}

// indexKeys is how many distinct keys the operations add (enough to grow
// the table from 16 slots to 128); lookups also ask for a few never added.
const indexKeys = 60

// indexHashes are the hashes checkIndexOps gives keys, chosen by the
// first byte of the operations: nil is the index's own hash; the others
// make many keys share a hash, or share a home slot with different
// hashes, or wrap around the end of the table.
var indexHashes = []func(k int) uint32{
	nil,
	func(int) uint32 { return 7 },
	func(k int) uint32 { return uint32(k%4) * 0x9E3779B1 },
	func(k int) uint32 { return 5 | uint32(k)<<24 },
	func(k int) uint32 { return ^uint32(0) - uint32(k%3)*1024 },
}

// checkIndexOps runs ops against an Index and against indexModel, and
// fails at the first step where they disagree. ops[0] chooses Once (its
// low bit) and the hash of keys (indexHashes); every further byte adds
// an interaction (low bit 0) or looks a key up (low bit 1), the key
// being the byte's other bits.
func checkIndexOps(t *testing.T, ops []byte) {
	t.Helper()
	if len(ops) == 0 {
		return
	}
	once := ops[0]&1 == 1
	hashOf := indexHashes[int(ops[0]>>1)%len(indexHashes)]
	ix := NewEmptyIndex(nil)
	ix.Once = once
	model := newIndexModel(once)
	keyOf := func(k int) string { return fmt.Sprintf("POST /\n\n%d", k) }
	extras := map[int]string{} // interaction → the extra text kept with it
	kept := map[int]string{}   // interaction → the copy of its extra text
	for step, op := range ops[1:] {
		k := int(op >> 1)
		if op&1 == 0 {
			k %= indexKeys
			key := keyOf(k)
			want := model.add(key)
			if hashOf == nil {
				ix.add(key)
			} else {
				extras[want] = fmt.Sprintf("extra %d", want)
				kept[want] = ix.addHashed(key, extras[want], hashOf(k))
			}
			if got := ix.Len(); got != want+1 {
				t.Fatalf("step %d: add %q: Len() = %d, want %d", step, key, got, want+1)
			}
			continue
		}
		key := keyOf(k)
		want := model.take(key)
		got := -1
		var head int32
		found := false
		if hashOf == nil {
			head, found = ix.find([]byte(key))
		} else if at := slotOf(ix, key, hashOf(k)); at >= 0 {
			head, found = ix.table[at].first-1, true
		}
		if wantFound := len(model.recorded[key]) > 0; found != wantFound {
			t.Fatalf("step %d: find %q = %v, want %v", step, key, found, wantFound)
		}
		if found {
			if i, ok := ix.take(head); ok {
				got = i
			}
		}
		if got != want {
			t.Fatalf("step %d: lookup %q (once=%v) served %d, want %d", step, key, once, got, want)
		}
	}
	if got, want := ix.keys, len(model.recorded); got != want {
		t.Fatalf("keys = %d, want %d", got, want)
	}
	if len(ix.table) < 2*ix.keys || len(ix.table)&(len(ix.table)-1) != 0 {
		t.Fatalf("table of %d slots for %d keys, want a power of two at least twice as many", len(ix.table), ix.keys)
	}
	for key, recs := range model.recorded {
		for _, i := range recs {
			if got := ix.text.get(ix.entries[i].key); got != key {
				t.Fatalf("interaction %d has key %q, want %q", i, got, key)
			}
			if got, want := kept[i], extras[i]; got != want {
				t.Fatalf("interaction %d kept %q, want %q", i, got, want)
			}
		}
	}
	if got, want := ix.Unused(), model.unused(); !slices.Equal(got, want) {
		t.Fatalf("Unused() = %v, want %v", got, want)
	}
}

// indexSeeds are operations worth trying whatever the fuzzer finds: each
// hash with and without Once, a key added, served past its end, added
// again; and enough keys to grow the table.
func indexSeeds() [][]byte {
	var seeds [][]byte
	grow := []byte{}
	for k := range byte(indexKeys) {
		grow = append(grow, k<<1, k<<1|1)
	}
	for h := range byte(len(indexHashes)) {
		for once := range byte(2) {
			first := h<<1 | once
			seeds = append(seeds,
				[]byte{first, 0, 0, 2, 1, 1, 1, 3, 0, 1, 1, 5},
				append([]byte{first}, grow...),
				append(append([]byte{first}, grow...), grow...),
			)
		}
	}
	return seeds
}

// FuzzIndex: an Index serves what a map of each key's interactions
// serves, step by step, whatever the keys, their hashes and the order of
// adds and lookups.
func FuzzIndex(f *testing.F) {
	for _, s := range indexSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ops []byte) {
		checkIndexOps(t, ops)
	})
}

// TestIndexAgreesWithMap is FuzzIndex over the seeds and over random
// operations from fixed seeds, in every run of the tests.
func TestIndexAgreesWithMap(t *testing.T) {
	t.Parallel()
	for _, ops := range indexSeeds() {
		checkIndexOps(t, ops)
	}
	rng := mrand.New(mrand.NewPCG(1, 2))
	for range 400 {
		ops := make([]byte, 1+rng.IntN(600))
		for i := range ops {
			ops[i] = byte(rng.UintN(256))
		}
		// Lookups of a small key space hit more often.
		for i := 1; i < len(ops); i++ {
			if ops[i]&1 == 1 && rng.IntN(2) == 0 {
				ops[i] = byte(rng.IntN(8))<<1 | 1
			}
		}
		checkIndexOps(t, ops)
	}
}
