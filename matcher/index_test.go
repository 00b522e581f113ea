package matcher

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"github.com/metervcr/metervcr/cassettes"
)

// served takes n recordings of key and returns what was served, -1 for a
// miss.
func served(t *testing.T, ix *Index, key string, n int) []int {
	t.Helper()
	var out []int
	for range n {
		head, ok := ix.find([]byte(key))
		if !ok {
			t.Fatalf("%q not found", key)
		}
		i, ok := ix.take(head)
		if !ok {
			i = -1
		}
		out = append(out, i)
	}
	return out
}

// TestIndexKeysSharingAHash checks keys whose hashes are equal, and keys
// whose hashes differ but share a home slot, through the table's growth.
func TestIndexKeysSharingAHash(t *testing.T) {
	for _, hashOf := range []func(k int) uint32{
		func(int) uint32 { return 7 },                               // all equal
		func(k int) uint32 { return 7 | uint32(k)<<24 },             // one home slot until the table is large
		func(k int) uint32 { return ^uint32(0) - uint32(k%3)*1024 }, // wrapping past the table's end
	} {
		ix := NewEmptyIndex(nil)
		const keys = 40 // grows the table a few times
		for round := range 3 {
			for k := range keys {
				ix.addHashed(fmt.Sprintf("key %d", k), "", hashOf(k))
				if round == 0 && k == 0 {
					ix.addHashed("key 0", "", hashOf(0)) // a key's recordings need not be adjacent
				}
			}
		}
		if ix.keys != keys || len(ix.table) < 2*keys {
			t.Fatalf("%d keys in a table of %d", ix.keys, len(ix.table))
		}
		for k := range keys {
			key := fmt.Sprintf("key %d", k)
			at := slotOf(ix, key, hashOf(k))
			if at < 0 {
				t.Fatalf("%q not found", key)
			}
			first := ix.table[at].first - 1
			var want []int
			for i := first; i >= 0; i = ix.entries[i].next {
				if got := ix.text.get(ix.entries[i].key); got != key {
					t.Fatalf("%q chains to interaction %d of %q", key, i, got)
				}
				want = append(want, int(i))
			}
			if k == 0 {
				if !slices.Equal(want, []int{0, 1, keys + 1, 2*keys + 1}) {
					t.Fatalf("%q: recordings %v", key, want)
				}
			} else if len(want) != 3 {
				t.Fatalf("%q: recordings %v", key, want)
			}
		}
		if at := slotOf(ix, "key 40", hashOf(40)); at >= 0 {
			t.Fatal("found a key never added")
		}
	}
}

// TestIndexServesInOrder checks that a key's recordings are served in
// recorded order, the last one again after, and that Once uses them up.
func TestIndexServesInOrder(t *testing.T) {
	for _, once := range []bool{false, true} {
		ix := NewEmptyIndex(nil)
		ix.Once = once
		for _, k := range []string{"a", "b", "a", "c", "a", "b"} {
			ix.add("key " + k)
		}
		if got := ix.Unused(); !slices.Equal(got, []int{0, 1, 2, 3, 4, 5}) {
			t.Fatalf("unused before serving: %v", got)
		}
		last := 4
		if once {
			last = -1
		}
		if got := served(t, ix, "key a", 4); !slices.Equal(got, []int{0, 2, 4, last}) {
			t.Fatalf("once=%v: key a served %v", once, got)
		}
		if got := served(t, ix, "key b", 1); !slices.Equal(got, []int{1}) {
			t.Fatalf("once=%v: key b served %v", once, got)
		}
		if got := ix.Unused(); !slices.Equal(got, []int{3, 5}) {
			t.Fatalf("once=%v: unused %v", once, got)
		}
		if _, ok := ix.find([]byte("key d")); ok {
			t.Fatal("found a key never added")
		}
	}
}

// TestIndexManyKeys checks every key of a large index, and that
// recordings served concurrently under Once are each served exactly once.
func TestIndexManyKeys(t *testing.T) {
	ix := NewEmptyIndex(nil)
	ix.Once = true
	const keys, recordings = 5000, 3
	for range recordings {
		for k := range keys {
			ix.add(fmt.Sprintf("key %d", k))
		}
	}
	if len(ix.table)&(len(ix.table)-1) != 0 || len(ix.table) < 2*keys {
		t.Fatalf("table of %d for %d keys", len(ix.table), keys)
	}
	count := make([]int, ix.Len())
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for k := range keys {
				head, ok := ix.find([]byte(fmt.Sprintf("key %d", k)))
				if !ok || head != int32(k) {
					t.Errorf("key %d: first interaction %d, %v", k, head, ok)
					return
				}
				if i, ok := ix.take(head); ok {
					mu.Lock()
					count[i]++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	for k := range keys {
		for r := range recordings {
			if i := r*keys + k; count[i] != 1 {
				t.Fatalf("interaction %d served %d times", i, count[i])
			}
		}
	}
	if u := ix.Unused(); len(u) != 0 { // 4 takers of 3 recordings: all served
		t.Fatalf("%d unused", len(u))
	}
}

func TestTextArenaKeepsStringsAcrossBlocks(t *testing.T) {
	var a textArena
	var refs []textRef
	var want, extras, wantExtras []string
	for i := range 3000 {
		s := string(rune('a'+i%26)) + string(make([]byte, i%1500))
		extra := fmt.Sprint(i) + strings.Repeat("x", i%700)
		want = append(want, s)
		wantExtras = append(wantExtras, extra)
		ref, kept := a.add(s, extra)
		refs = append(refs, ref)
		extras = append(extras, kept)
	}
	if len(a.blocks) < 2 {
		t.Fatalf("%d blocks; the test needs several", len(a.blocks))
	}
	for i, r := range refs {
		if a.get(r) != want[i] || extras[i] != wantExtras[i] {
			t.Fatalf("string %d changed", i)
		}
		if extras[i] != "" && unsafe.StringData(extras[i]) != unsafe.StringData(a.blocks[r.block][r.end:]) {
			t.Fatalf("extra %d is not next to its string", i)
		}
	}
}

// TestMatchCheckedReportsTheField: the member is read in the key's pass
// where that pass takes the body, and a failed check takes nothing.
func TestMatchCheckedReportsTheField(t *testing.T) {
	m := newMatcher(t, Default(testRedactor(t)))
	recorded := `{"ProductCode":"p","Timestamp":1767323045,"UsageDimension":"d","UsageQuantity":1}`
	ix, err := NewIndex(m, []*cassettes.Interaction{interaction("MeterUsage", recorded)})
	if err != nil {
		t.Fatal(err)
	}
	ix.Once = true
	for _, c := range []struct {
		body string
		want Field
	}{
		{recorded, Field{Text: "1767323045", Found: true, Read: true}},
		{`{"ProductCode":"p","Timestamp":"soon","x":{"Timestamp":1}}`, Field{Text: "soon", IsString: true, Found: true, Read: true}},
		{`{"ProductCode":"p","x":{"Timestamp":1},"y":[{"Timestamp":2}]}`, Field{Read: true}},
		{`{"ProductCode":"p","Timestamp":[1]}`, Field{Read: true}},
		{`{"Product\u0043ode":"p","Timestamp":1}`, Field{}},                          // escapes: left to decoding
		{`{"Timestamp":1,"Timestamp":2}`, Field{Text: "2", Found: true, Read: true}}, // the last, as decoding keeps
		{`{"Timestamp":1,"Timestamp":{"a":2}}`, Field{Read: true}},                   // the last is no string or number
		{`{"Timestamp":1,"ProductCode":"p","ProductCode":"q"}`, Field{}},             // a compared key repeated: left to decoding
	} {
		var got Field
		calls := 0
		refused := errors.New("refused")
		_, err := ix.MatchChecked(req("MeterUsage", c.body), "Timestamp", func(f Field) error {
			got, calls = f, calls+1
			return refused
		})
		if calls != 1 || got != c.want || err != refused {
			t.Errorf("%s: check called %d times with %+v, returned %v; want once with %+v, and its error", c.body, calls, got, err, c.want)
		}
	}
	// Nothing was taken by the refused requests: the recording serves once.
	for _, want := range []bool{true, false} {
		_, err := ix.MatchChecked(req("MeterUsage", recorded), "Timestamp", func(Field) error { return nil })
		if (err == nil) != want {
			t.Fatalf("match after refusals: %v, want served %v", err, want)
		}
	}
}

// TestMatchKeepsNothingOfTheBody: the body is read in place, so what the
// matcher remembers of a body's paths must be copies: a caller reusing
// its buffer changes nothing for later requests.
func TestMatchKeepsNothingOfTheBody(t *testing.T) {
	const body = `{"ProductCode":"p","Timestamp":1,"UsageDimension":"d","UsageQuantity":1,"mySecretField":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}`
	want, err := newMatcher(t, Default(testRedactor(t))).Normalize(req("MeterUsage", body))
	if err != nil {
		t.Fatal(err)
	}
	m := newMatcher(t, Default(testRedactor(t)))
	first := req("MeterUsage", "")
	first.Body = []byte(body) // the paths are first seen in this buffer
	if _, err := m.Normalize(first); err != nil {
		t.Fatal(err)
	}
	for i, c := range first.Body {
		if c >= 'a' && c <= 'z' {
			first.Body[i] = 'x'
		}
	}
	got, err := m.Normalize(req("MeterUsage", body))
	if err != nil || got.Key != want.Key {
		t.Fatalf("after the first body's buffer changed: key %q (%v), want %q", got.Key, err, want.Key)
	}
}
