package cassettes

import "testing"

func TestParseFieldPath(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"Timestamp", "MeterUsage.", "A..B", "A.B[]", "A.[]"} {
		if _, err := ParseFieldPath(bad); err == nil {
			t.Errorf("ParseFieldPath(%q) succeeded, want an error", bad)
		}
	}
	p := MustFieldPath("BatchMeterUsage.UsageRecords[].Timestamp")
	doc, _ := DecodeJSON([]byte(`{"UsageRecords":[{"Timestamp":1,"A":1},{"Timestamp":2}]}`))
	p.Visit(doc, func(obj map[string]any, f string) { delete(obj, f) })
	got, _ := EncodeJSON(doc)
	if string(got) != `{"UsageRecords":[{"A":1},{}]}` {
		t.Fatalf("Visit delete = %s", got)
	}
}
