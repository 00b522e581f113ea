package matcher

import (
	"encoding/json"
	"testing"
)

// FuzzNormalize: normalisation never panics, is idempotent on its own
// output, and ignores key order.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{
		`{"ProductCode":"p","Timestamp":1767323045.123,"UsageDimension":"d","UsageQuantity":10}`,
		`{"UsageRecords":[{"Dimension":"d","Quantity":1,"Timestamp":1.7E9,"UsageAllocations":[{"AllocatedUsageQuantity":1,"Tags":[{"Key":"k","Value":"v"}]}]}]}`,
		`{"a":[1,2,{"b":null}],"c":"\u2028<&>"}`, `[]`, `{`, `{"a":1e400}`, `{"a":-0.0}`,
	} {
		f.Add("MeterUsage", []byte(s))
		f.Add("BatchMeterUsage", []byte(s))
	}
	m, err := New(Default(nil))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, op string, body []byte) {
		n, err := m.Normalize(req(op, string(body)))
		if err != nil {
			return
		}
		again, err := m.Normalize(req(op, n.Body))
		if err != nil {
			t.Fatalf("Normalize of its own output %q failed: %v", n.Body, err)
		}
		if again.Key != n.Key {
			t.Fatalf("not idempotent:\n%q\n%q", n.Key, again.Key)
		}
		var doc map[string]any
		if json.Unmarshal(body, &doc) == nil && len(doc) > 1 {
			// Re-encoding through a map reorders keys (sorted): same key.
			b, err := json.Marshal(doc)
			if err == nil {
				if other, err := m.Normalize(req(op, string(b))); err == nil && other.Key != n.Key && !lossyFloat(body) {
					t.Fatalf("key order changed the key:\n%q\n%q", n.Key, other.Key)
				}
			}
		}
	})
}

// lossyFloat reports whether encoding/json's float64 round trip may
// change a number's value (huge or very precise numbers).
func lossyFloat(body []byte) bool {
	var v any
	if json.Unmarshal(body, &v) != nil {
		return true
	}
	b, _ := json.Marshal(v)
	var w any
	json.Unmarshal(b, &w)
	b2, _ := json.Marshal(w)
	return string(b) != string(b2) || len(body) > 0 && containsExp(body)
}

func containsExp(b []byte) bool {
	for _, c := range b {
		if c == 'e' || c == 'E' {
			return true
		}
	}
	return false
}
