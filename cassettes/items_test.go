package cassettes

import (
	"reflect"
	"testing"
)

// TestParseItemsAgreesWithWholeDecode: the item-by-item decoder gives what
// the whole-document decoder gives, and declines layouts it does not know.
func TestParseItemsAgreesWithWholeDecode(t *testing.T) {
	t.Parallel()
	data, err := Encode([]*Interaction{sample(0), sample(1), sample(2)})
	if err != nil {
		t.Fatal(err)
	}
	fast, ok := parseItems(data)
	if !ok {
		t.Fatal("parseItems declined the canonical layout")
	}
	whole, err := parseWhole(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fast, whole) {
		t.Fatalf("parseItems = %+v\nwant %+v", fast, whole)
	}
	for _, other := range []string{
		"version: 1\ninteractions:\n  - request: {method: POST, url: /}\n    response: {code: 200}\n",
		"---\nversion: 1\ninteractions:\n    - request:\n        method: [\n",
	} {
		if _, ok := parseItems([]byte(other)); ok {
			t.Errorf("parseItems accepted %q", other)
		}
	}
}
