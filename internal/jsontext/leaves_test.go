package jsontext

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"
	"unsafe"
)

// leaf is one call of Leaves' fn.
type leaf struct {
	path     string
	v        string
	isString bool
}

// collect returns the leaves Leaves reads in text, and what it reports.
func collect(text string) ([]leaf, bool) {
	var got []leaf
	ok := Leaves(text, func(path []string, v string, isString bool) bool {
		got = append(got, leaf{strings.Join(path, "."), v, isString})
		return true
	})
	return got, ok
}

func TestLeaves(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, text string
		want       []leaf
		ok         bool
	}{
		{"object", ` {"a":"x", "b" : -1.5e3 ,"c":true,"d":null} `, []leaf{{"a", "x", true}, {"b", "-1.5e3", false}}, true},
		{"nested", `{"a":{"b":{"c":"d"}},"e":{}}`, []leaf{{"a.b.c", "d", true}}, true},
		{"list", `{"UsageRecords":[{"Dimension":"d"},{"Dimension":"e","Quantity":2}]}`,
			[]leaf{{"UsageRecords[].Dimension", "d", true}, {"UsageRecords[].Dimension", "e", true}, {"UsageRecords[].Quantity", "2", false}}, true},
		{"list in a list", `{"u":[[1],[]]}`, []leaf{{"u[][]", "1", false}}, true},
		{"list at the top", `[{"a":"b"},["c"],1]`, []leaf{{"a", "b", true}, {"", "c", true}, {"", "1", false}}, true},
		{"list name restored", `{"a":[1],"b":{"a":2}}`, []leaf{{"a[]", "1", false}, {"b.a", "2", false}}, true},
		{"string at the top", `"s"`, []leaf{{"", "s", true}}, true},
		{"same key in two objects", `{"a":{"k":1},"b":{"k":2}}`, []leaf{{"a.k", "1", false}, {"b.k", "2", false}}, true},
		{"repeated key", `{"a":1,"b":2,"a":3}`, []leaf{{"a", "1", false}, {"b", "2", false}}, false},
		{"escape", `{"a":"\u0041"}`, nil, false},
		{"escaped key", `{"\u0041":1}`, nil, false},
		{"outside ASCII", `{"a":"é"}`, nil, false},
		{"text after", `{"a":1} x`, []leaf{{"a", "1", false}}, false},
		{"two documents", `{"a":1} {"b":2}`, []leaf{{"a", "1", false}}, false},
		{"cut", `{"a":`, nil, false},
		{"trailing comma", `{"a":1,}`, []leaf{{"a", "1", false}}, false},
		{"missing comma", `[1 2]`, []leaf{{"", "1", false}}, false},
		{"bad number", `{"a":01}`, []leaf{{"a", "0", false}}, false},
		{"empty", `  `, nil, false},
	} {
		got, ok := collect(c.text)
		if !slices.Equal(got, c.want) || ok != c.ok {
			t.Errorf("%s: Leaves(%q) = %v, %v; want %v, %v", c.name, c.text, got, ok, c.want, c.ok)
		}
	}
}

func TestLeavesStopsWhenFnSaysSo(t *testing.T) {
	t.Parallel()
	var seen []string
	ok := Leaves(`{"a":"x","b":"stop","c":"y"}`, func(path []string, v string, _ bool) bool {
		seen = append(seen, v)
		return v != "stop"
	})
	if ok || !slices.Equal(seen, []string{"x", "stop"}) {
		t.Fatalf("Leaves = %v after %q; want false after [x stop]", ok, seen)
	}
}

// byDecoding is what Leaves must give for text, from encoding/json: for
// each path, the last value there in document order.
func byDecoding(t *testing.T, text string) map[string]leaf {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(text))
	d.UseNumber()
	var doc any
	if err := d.Decode(&doc); err != nil {
		t.Fatalf("Leaves read %q, which encoding/json rejects: %v", text, err)
	}
	out := map[string]leaf{}
	var walk func(path []string, v any)
	walk = func(path []string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				walk(append(path[:len(path):len(path)], k), e)
			}
		case []any:
			inner := path
			if len(path) > 0 {
				inner = append(path[:len(path)-1:len(path)-1], path[len(path)-1]+"[]")
			}
			for _, e := range v {
				walk(inner, e) // the last element is the last call
			}
		case string:
			p := strings.Join(path, ".")
			out[p] = leaf{p, v, true}
		case json.Number:
			p := strings.Join(path, ".")
			out[p] = leaf{p, string(v), false}
		}
	}
	walk(nil, doc)
	return out
}

// checkLeaves fails when Leaves reads text that encoding/json rejects, or
// gives a path a last value other than decoding gives it.
func checkLeaves(t *testing.T, text string) (read bool) {
	t.Helper()
	got, ok := collect(text)
	if !ok {
		return false
	}
	if !json.Valid([]byte(text)) {
		t.Fatalf("Leaves read %q, which json.Valid rejects", text)
	}
	last := map[string]leaf{}
	for _, l := range got {
		last[l.path] = l
	}
	if want := byDecoding(t, text); !maps.Equal(last, want) {
		t.Fatalf("Leaves(%q) last values\n%v\nwant %v", text, last, want)
	}
	return true
}

var leavesSeeds = []string{
	`{"ProductCode":"p","Timestamp":1767323045.123,"UsageDimension":"d","UsageQuantity":10}`,
	`{"UsageRecords":[{"Dimension":"d","Quantity":1,"Timestamp":1.7E9,"UsageAllocations":[{"AllocatedUsageQuantity":1,"Tags":[{"Key":"k","Value":"v"}]}]}]}`,
	`{"z":true,"y":false,"x":null,"w":[],"v":{},"u":[[1,2],[3]],"t":{"s":{"r":"q"}}}`,
	`[{"a":"b"},["c"],[[-0.0e-1]]]`, ` {"a" : [ 1 , 2 ] } `, `"s"`, `0`, `{"a":1,"a":2}`, `{"a":"\u0041"}`, `[1,]`, `{"a":1}]`,
}

func TestLeavesAgreeWithDecoding(t *testing.T) {
	t.Parallel()
	read := 0
	for _, text := range leavesSeeds {
		if checkLeaves(t, text) {
			read++
		}
	}
	if read < len(leavesSeeds)/2 {
		t.Fatalf("Leaves read %d of %d seeds, want at least half", read, len(leavesSeeds))
	}
}

func FuzzLeaves(f *testing.F) {
	for _, s := range leavesSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		checkLeaves(t, text)
	})
}

// TestListsSegment: a name seen before costs nothing, even when the first
// was a slice of a buffer since reused, and the names kept are bounded.
func TestListsSegment(t *testing.T) {
	var l Lists
	buf := []byte("Usage")
	name := unsafe.String(&buf[0], len(buf)) // as a body read in place is
	if got := l.Segment(name); got != "Usage[]" {
		t.Fatalf("Segment(%q) = %q, want %q", name, got, "Usage[]")
	}
	copy(buf, "XXXXX")
	for k, v := range l.names {
		if k+"[]" != v {
			t.Errorf("Lists keeps %q under %q after its buffer changed, want it under %q", v, k, strings.TrimSuffix(v, "[]"))
		}
	}
	var got string
	if allocs := testing.AllocsPerRun(10, func() { got = l.Segment("Usage") }); allocs != 0 || got != "Usage[]" {
		t.Errorf("Segment(%q) again = %q with %v allocations, want %q with 0", "Usage", got, allocs, "Usage[]")
	}
	for i := range maxLists * 2 {
		l.Segment(strings.Repeat("x", i+1))
	}
	if n := len(l.names); n > maxLists {
		t.Errorf("Lists keeps %d names, want at most %d", n, maxLists)
	}
}
