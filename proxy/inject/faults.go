// Package inject makes a Metering endpoint fail as AWS sometimes does:
// throttling, internal errors, latency, dropped connections and
// unprocessed batch records.
package inject

import (
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"time"
)

// Faults describes faults injected into a share of the requests a handler
// serves, so that clients can test their retry and backoff code offline.
// The zero Faults injects nothing. Shares are fractions from 0 to 1.
type Faults struct {
	// Throttle, InternalError and Reset are the shares of requests
	// answered, instead of by the handler, with ThrottlingException (HTTP
	// 400, as the service sends it), with InternalServiceErrorException
	// (HTTP 500), or by dropping the connection without an answer. They
	// add up to at most 1.
	Throttle, InternalError, Reset float64
	// Unprocessed is the share of BatchMeterUsage records that a 200
	// answer moves from Results to UnprocessedRecords, the service's way
	// of reporting records that failed transiently and must be sent again.
	Unprocessed float64
	// Latency is added before answering a share LatencyFraction of the
	// requests (faults included). Parse sets LatencyFraction to 1
	// when the spec names no fraction.
	Latency         time.Duration
	LatencyFraction float64
	// Log receives one line per fault injected. Nil means no log.
	Log *slog.Logger
}

// Names of the faults, as Parse reads them and logs show them.
const (
	faultThrottle      = "throttle"
	faultInternalError = "internal-error"
	faultReset         = "reset"
	faultUnprocessed   = "unprocessed"
	faultLatency       = "latency"
)

// acceptedKeys is the help Parse's errors end with.
const acceptedKeys = "accepted: throttle=FRACTION, internal-error=FRACTION, reset=FRACTION, " +
	"unprocessed=FRACTION, latency=DURATION[@FRACTION] (FRACTION from 0 to 1, or a percentage like 10%)"

// Parse parses a comma-separated fault list such as
// "throttle=0.1,internal-error=0.02,latency=200ms,reset=0.01". Each item is
// KEY=VALUE; fractions are decimals from 0 to 1 or percentages ("10%");
// latency is a Go duration, optionally followed by @FRACTION to delay only
// that share of the requests. An empty spec or "none" injects nothing. An
// error names the bad item and the accepted keys.
func Parse(spec string) (Faults, error) {
	var f Faults
	spec = strings.TrimSpace(spec)
	if spec == "" || spec == "none" {
		return f, nil
	}
	seen := make(map[string]bool)
	for _, item := range strings.Split(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		key, value, ok := strings.Cut(item, "=")
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		if !ok {
			return Faults{}, fmt.Errorf("item %q is not KEY=VALUE; %s", item, acceptedKeys)
		}
		if seen[key] {
			return Faults{}, fmt.Errorf("item %q: %s is given twice; %s", item, key, acceptedKeys)
		}
		seen[key] = true
		var err error
		switch key {
		case faultThrottle:
			f.Throttle, err = parseFraction(value)
		case faultInternalError:
			f.InternalError, err = parseFraction(value)
		case faultReset:
			f.Reset, err = parseFraction(value)
		case faultUnprocessed:
			f.Unprocessed, err = parseFraction(value)
		case faultLatency:
			f.Latency, f.LatencyFraction, err = parseLatency(value)
		default:
			return Faults{}, fmt.Errorf("item %q: unknown fault %q; %s", item, key, acceptedKeys)
		}
		if err != nil {
			return Faults{}, fmt.Errorf("item %q: %w; %s", item, err, acceptedKeys)
		}
	}
	// A small tolerance lets 0.7+0.2+0.1 add up to 1 despite rounding.
	if sum := f.Throttle + f.InternalError + f.Reset; sum > 1+1e-9 {
		return Faults{}, fmt.Errorf("throttle, internal-error and reset add up to %s, more than all requests; "+
			"they are shares of the requests and may add up to at most 1", formatFraction(sum))
	}
	return f, nil
}

// parseFraction reads "0.1" or "10%".
func parseFraction(s string) (float64, error) {
	scale := 1.0
	if t, ok := strings.CutSuffix(s, "%"); ok {
		s, scale = t, 100
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) {
		return 0, fmt.Errorf("%q is not a fraction", s)
	}
	f /= scale
	if f < 0 || f > 1 {
		return 0, fmt.Errorf("%s is not between 0 and 1", formatFraction(f))
	}
	return f, nil
}

// parseLatency reads "200ms" or "200ms@0.5".
func parseLatency(s string) (time.Duration, float64, error) {
	d, frac, hasFrac := strings.Cut(s, "@")
	latency, err := time.ParseDuration(strings.TrimSpace(d))
	if err != nil || latency < 0 {
		return 0, 0, fmt.Errorf("%q is not a duration such as 200ms or 1.5s", d)
	}
	fraction := 1.0
	if hasFrac {
		if fraction, err = parseFraction(strings.TrimSpace(frac)); err != nil {
			return 0, 0, err
		}
	}
	return latency, fraction, nil
}

func formatFraction(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// Enabled reports whether f injects anything.
func (f Faults) Enabled() bool {
	return f.Throttle > 0 || f.InternalError > 0 || f.Reset > 0 || f.Unprocessed > 0 ||
		(f.Latency > 0 && f.LatencyFraction > 0)
}

// String returns f as Parse reads it, "none" when it injects nothing.
func (f Faults) String() string {
	var items []string
	add := func(key string, f float64) {
		if f > 0 {
			items = append(items, key+"="+formatFraction(f))
		}
	}
	add(faultThrottle, f.Throttle)
	add(faultInternalError, f.InternalError)
	add(faultReset, f.Reset)
	add(faultUnprocessed, f.Unprocessed)
	if f.Latency > 0 && f.LatencyFraction > 0 {
		item := faultLatency + "=" + f.Latency.String()
		if f.LatencyFraction < 1 {
			item += "@" + formatFraction(f.LatencyFraction)
		}
		items = append(items, item)
	}
	if len(items) == 0 {
		return "none"
	}
	return strings.Join(items, ",")
}
