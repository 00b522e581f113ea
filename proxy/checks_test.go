package proxy

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/metervcr/metervcr/metering"
)

func TestParseAmzDateAgreesWithTimeParse(t *testing.T) {
	inputs := []string{
		"20261128T045501Z", "20240229T235959Z", "20250229T000000Z", "20261131T000000Z", "20261301T000000Z",
		"20260001T000000Z", "20260100T000000Z", "20261128T245501Z", "20261128T046001Z", "20261128T045560Z",
		"2026112aT045501Z", "20261128 045501Z", "20261128T045501", "20261128T045501ZZ", "", "-0261128T045501Z",
		"00000101T000000Z", "99991231T235959Z",
	}
	rng := rand.New(rand.NewPCG(3, 4))
	const alphabet = "0123456789TZ -+"
	for range 20000 {
		b := []byte("20261128T045501Z")
		for range 1 + rng.IntN(3) {
			b[rng.IntN(len(b))] = alphabet[rng.IntN(len(alphabet))]
		}
		inputs = append(inputs, string(b))
	}
	for _, in := range inputs {
		want, werr := time.Parse("20060102T150405Z", in)
		got, gerr := parseAmzDate(in)
		if (werr == nil) != (gerr == nil) || !got.Equal(want) || (werr != nil && werr.Error() != gerr.Error()) {
			t.Fatalf("parseAmzDate(%q) = %v, %v; time.Parse gives %v, %v", in, got, gerr, want, werr)
		}
	}
}

func TestCheckMeteringNamesTheTimestamp(t *testing.T) {
	t.Parallel()
	now := time.Unix(1796630400, 0) // 2026-12-07T08:00:00Z
	tests := []struct {
		name, op, body, want string
	}{
		{"MeterUsage fraction", metering.MeterUsage, `{"Timestamp":1796608500.166}`, "2026-12-07T01:55:00.166Z"},
		{"MeterUsage exponent", metering.MeterUsage, `{"Timestamp":1.796608500166E9}`, "2026-12-07T01:55:00.166Z"},
		{"BatchMeterUsage record", metering.BatchMeterUsage, `{"UsageRecords":[{"Timestamp":1796543999.5}]}`, "2026-12-06T07:59:59.5Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := checkMetering(tt.op, []byte(tt.body), now)
			if err == nil {
				t.Fatalf("checkMetering(%s) = nil, want %s", tt.body, metering.ErrTimestampOutOfBounds)
			}
			want := "The timestamp value passed in the UsageRecord is out of allowed range: " + tt.want + "."
			if _, code, msg := statusOf(err); code != metering.ErrTimestampOutOfBounds || msg != want {
				t.Errorf("checkMetering(%s) = %s %q, want %s %q", tt.body, code, msg, metering.ErrTimestampOutOfBounds, want)
			}
		})
	}
}
