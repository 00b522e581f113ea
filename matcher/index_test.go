package matcher

import (
	"errors"
	"hash/maphash"
	"testing"

	"github.com/metervcr/metervcr/cassettes"
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
