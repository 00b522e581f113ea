package metering

import "time"

// InWindow reports whether the service, its clock at now, takes a usage
// timestamp of secs epoch seconds: at most window old (MeterUsageWindow
// or BatchMeterUsageWindow) and at most FutureSlack ahead. Both ends are
// taken to the millisecond.
func InWindow(secs float64, now time.Time, window time.Duration) bool {
	lo := float64(now.Add(-window).UnixMilli()) / 1000
	hi := float64(now.Add(FutureSlack).UnixMilli()) / 1000
	return !(secs < lo || secs > hi)
}
