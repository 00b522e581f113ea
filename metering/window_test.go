package metering

import (
	"testing"
	"time"
)

func TestInWindow(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	secs := func(d time.Duration) float64 { return float64(now.Add(d).UnixMilli()) / 1000 }
	for _, c := range []struct {
		name   string
		secs   float64
		window time.Duration
		want   bool
	}{
		{"now", secs(0), MeterUsageWindow, true},
		{"oldest taken", secs(-MeterUsageWindow), MeterUsageWindow, true},
		{"a millisecond too old", secs(-MeterUsageWindow - time.Millisecond), MeterUsageWindow, false},
		{"old for MeterUsage", secs(-7 * time.Hour), MeterUsageWindow, false},
		{"not for BatchMeterUsage", secs(-7 * time.Hour), BatchMeterUsageWindow, true},
		{"furthest ahead taken", secs(FutureSlack), MeterUsageWindow, true},
		{"a millisecond too far ahead", secs(FutureSlack + time.Millisecond), MeterUsageWindow, false},
		{"epoch", 0, BatchMeterUsageWindow, false},
	} {
		if got := InWindow(c.secs, now, c.window); got != c.want {
			t.Errorf("%s: InWindow(%v, %v, %v) = %v, want %v", c.name, c.secs, now, c.window, got, c.want)
		}
	}
}
