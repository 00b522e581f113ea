package metering

import (
	"encoding/json"
	"testing"
)

func TestParseTimestamp(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   json.Number
		want string
		ok   bool
	}{
		{"1795835861.645", "2026-11-28T03:17:41.645Z", true},
		{"1.795835861645E9", "2026-11-28T03:17:41.645Z", true},
		{"1795835861", "2026-11-28T03:17:41Z", true},
		{"", "", false},
		{"1e300", "", false},
	}
	for _, tt := range tests {
		got, ok := ParseTimestamp(tt.in)
		if ok != tt.ok || (ok && got.Format("2006-01-02T15:04:05.999Z07:00") != tt.want) {
			t.Errorf("ParseTimestamp(%q) = %v, %v, want %s, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestUsageRecordSame(t *testing.T) {
	t.Parallel()
	sent := UsageRecord{Timestamp: "1795835861.645", CustomerIdentifier: "c", Dimension: "d", Quantity: "3"}
	echoed := UsageRecord{Timestamp: "1.795835861645E9", CustomerIdentifier: "c", Dimension: "d", Quantity: "3.0"}
	if !sent.Same(echoed) {
		t.Errorf("%+v.Same(%+v) = false, want true: numbers compare as numbers", sent, echoed)
	}
	echoed.Quantity = "4"
	if sent.Same(echoed) {
		t.Errorf("records with quantities 3 and 4 are the same")
	}
	if got := (UsageRecord{CustomerAWSAccountID: "000011112222"}).Customer(); got != "000011112222" {
		t.Errorf("Customer() = %q, want the account id when no identifier", got)
	}
}
