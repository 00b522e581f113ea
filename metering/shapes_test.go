package metering

import (
	"encoding/json"
	"math"
	"strings"
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

func TestFormatTimestamp(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		secs float64
		want string
	}{
		{"fraction", 1796608500.166, "2026-12-07T01:55:00.166Z"},
		{"fraction a float cannot hold exactly", 1795835861.645, "2026-11-28T03:17:41.645Z"},
		{"whole second", 1796608500, "2026-12-07T01:55:00Z"},
		{"epoch", 0, "1970-01-01T00:00:00Z"},
		{"before the epoch", -1.5, "1969-12-31T23:59:58.5Z"},
		{"past year 9999", 1e12, "1000000000000"},
		{"far too large", 1.5e300, "15" + strings.Repeat("0", 299)},
		{"not a number", math.NaN(), "NaN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := FormatTimestamp(tt.secs); got != tt.want {
				t.Errorf("FormatTimestamp(%v) = %q, want %q", tt.secs, got, tt.want)
			}
		})
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
