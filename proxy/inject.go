package proxy

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	mrand "math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/metervcr/metervcr/metering"
)

// Inject describes faults injected into a share of the requests a handler
// serves, so that clients can test their retry and backoff code offline.
// The zero Inject injects nothing. Shares are fractions from 0 to 1.
type Inject struct {
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
	// requests (faults included). ParseInject sets LatencyFraction to 1
	// when the spec names no fraction.
	Latency         time.Duration
	LatencyFraction float64
	// Log receives one line per fault injected. Nil means no log.
	Log *slog.Logger
}

// Names of the faults, as ParseInject reads them and logs show them.
const (
	faultThrottle      = "throttle"
	faultInternalError = "internal-error"
	faultReset         = "reset"
	faultUnprocessed   = "unprocessed"
	faultLatency       = "latency"
)

// injectKeys is the help ParseInject's errors end with.
const injectKeys = "accepted: throttle=FRACTION, internal-error=FRACTION, reset=FRACTION, " +
	"unprocessed=FRACTION, latency=DURATION[@FRACTION] (FRACTION from 0 to 1, or a percentage like 10%)"

// ParseInject parses a comma-separated fault list such as
// "throttle=0.1,internal-error=0.02,latency=200ms,reset=0.01". Each item is
// KEY=VALUE; fractions are decimals from 0 to 1 or percentages ("10%");
// latency is a Go duration, optionally followed by @FRACTION to delay only
// that share of the requests. An empty spec or "none" injects nothing. An
// error names the bad item and the accepted keys.
func ParseInject(spec string) (Inject, error) {
	var in Inject
	spec = strings.TrimSpace(spec)
	if spec == "" || spec == "none" {
		return in, nil
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
			return Inject{}, fmt.Errorf("item %q is not KEY=VALUE; %s", item, injectKeys)
		}
		if seen[key] {
			return Inject{}, fmt.Errorf("item %q: %s is given twice; %s", item, key, injectKeys)
		}
		seen[key] = true
		var err error
		switch key {
		case faultThrottle:
			in.Throttle, err = parseFraction(value)
		case faultInternalError:
			in.InternalError, err = parseFraction(value)
		case faultReset:
			in.Reset, err = parseFraction(value)
		case faultUnprocessed:
			in.Unprocessed, err = parseFraction(value)
		case faultLatency:
			in.Latency, in.LatencyFraction, err = parseLatency(value)
		default:
			return Inject{}, fmt.Errorf("item %q: unknown fault %q; %s", item, key, injectKeys)
		}
		if err != nil {
			return Inject{}, fmt.Errorf("item %q: %w; %s", item, err, injectKeys)
		}
	}
	// A small tolerance lets 0.7+0.2+0.1 add up to 1 despite rounding.
	if sum := in.Throttle + in.InternalError + in.Reset; sum > 1+1e-9 {
		return Inject{}, fmt.Errorf("throttle, internal-error and reset add up to %s, more than all requests; "+
			"they are shares of the requests and may add up to at most 1", formatFraction(sum))
	}
	return in, nil
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

// Enabled reports whether in injects anything.
func (in Inject) Enabled() bool {
	return in.Throttle > 0 || in.InternalError > 0 || in.Reset > 0 || in.Unprocessed > 0 ||
		(in.Latency > 0 && in.LatencyFraction > 0)
}

// String returns in as ParseInject reads it, "none" when it injects
// nothing.
func (in Inject) String() string {
	var items []string
	add := func(key string, f float64) {
		if f > 0 {
			items = append(items, key+"="+formatFraction(f))
		}
	}
	add(faultThrottle, in.Throttle)
	add(faultInternalError, in.InternalError)
	add(faultReset, in.Reset)
	add(faultUnprocessed, in.Unprocessed)
	if in.Latency > 0 && in.LatencyFraction > 0 {
		item := faultLatency + "=" + in.Latency.String()
		if in.LatencyFraction < 1 {
			item += "@" + formatFraction(in.LatencyFraction)
		}
		items = append(items, item)
	}
	if len(items) == 0 {
		return "none"
	}
	return strings.Join(items, ",")
}

// Wrap returns a handler that injects in's faults in front of next. The
// decisions are drawn from a generator seeded with seed, in the order
// requests arrive: the same seed and the same sequence of requests give the
// same faults, which makes a failing run repeatable (concurrent requests
// arrive in no fixed order, so only a sequential client sees a fixed
// sequence). CONNECT requests pass untouched: faults apply to requests, not
// to the tunnels of forward-proxy mode. When in injects nothing, Wrap
// returns next itself.
func (in Inject) Wrap(next http.Handler, seed int64) http.Handler {
	if !in.Enabled() {
		return next
	}
	return &injector{in: in, next: next, rng: mrand.New(mrand.NewPCG(uint64(seed), 0x6d6574657276_6372))}
}

// injector is the handler Wrap returns.
type injector struct {
	in   Inject
	next http.Handler

	mu  sync.Mutex
	rng *mrand.Rand
}

// decision is what becomes of one request.
type decision struct {
	fault string        // "" to pass the request on
	delay time.Duration // latency to add first
	rng   *mrand.Rand   // for decisions about the answer's contents
}

// ServeHTTP delays the request if so decided, then answers it with its
// fault or passes it on.
func (h *injector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodConnect {
		h.next.ServeHTTP(w, r)
		return
	}
	d := h.decide()
	if d.delay > 0 && !sleep(r.Context(), d.delay) {
		return // the client has gone; there is no one to answer
	}
	op, _ := metering.OperationFromTarget(r.Header.Get(metering.HeaderTarget))
	switch d.fault {
	case faultThrottle:
		h.logFault(r, op, d.fault, http.StatusBadRequest)
		writeServiceError(w, http.StatusBadRequest, metering.ErrThrottling, "Rate exceeded")
	case faultInternalError:
		h.logFault(r, op, d.fault, http.StatusInternalServerError)
		writeServiceError(w, http.StatusInternalServerError, metering.ErrInternalServiceError,
			"An internal error has occurred. Try your request again.")
	case faultReset:
		h.logFault(r, op, d.fault, 0)
		dropConnection(w)
	default:
		if h.in.Unprocessed > 0 && op == metering.BatchMeterUsage {
			h.serveUnprocessed(w, r, d.rng)
			return
		}
		h.next.ServeHTTP(w, r)
	}
}

// decide draws the fate of the next request. It always draws the same
// three values, whatever in holds, so that the sequence of decisions for a
// seed depends only on the order of requests.
func (h *injector) decide() decision {
	h.mu.Lock()
	u, v, s1, s2 := h.rng.Float64(), h.rng.Float64(), h.rng.Uint64(), h.rng.Uint64()
	h.mu.Unlock()
	d := decision{rng: mrand.New(mrand.NewPCG(s1, s2))}
	switch in := h.in; {
	case u < in.Throttle:
		d.fault = faultThrottle
	case u < in.Throttle+in.InternalError:
		d.fault = faultInternalError
	case u < in.Throttle+in.InternalError+in.Reset:
		d.fault = faultReset
	}
	if v < h.in.LatencyFraction {
		d.delay = h.in.Latency
	}
	return d
}

func (h *injector) logFault(r *http.Request, op, fault string, status int) {
	if h.in.Log == nil {
		return
	}
	if op == "" {
		op = "-"
	}
	attrs := []any{"op", op, "action", "inject", "fault", fault}
	if status != 0 {
		attrs = append(attrs, "status", status)
	}
	h.in.Log.Log(r.Context(), slog.LevelWarn, "request", attrs...)
}

// sleep waits for d and reports whether ctx was still live when it ended.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// writeServiceError answers one of the service's own errors exactly as the
// service sends it: its namespaced X-Amzn-Errortype and
// __type, and a request id, so that SDKs decode and retry it as they would
// against AWS.
func writeServiceError(w http.ResponseWriter, status int, code, msg string) {
	h := w.Header()
	h.Set("Content-Type", metering.ContentType)
	h.Set(metering.HeaderErrorType, metering.ErrorType(code))
	h.Set(metering.HeaderRequestID, metering.NewID())
	w.WriteHeader(status)
	w.Write(metering.ErrorJSON(code, msg)) // a failed write means the client left; nothing to do
}

// dropConnection closes the client's connection without an answer. A
// linger of zero makes the close a TCP reset, what a client sees when a
// load balancer drops it ("connection reset by peer").
func dropConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// HTTP/2, or a writer that cannot hand over its connection: abort
		// the response, which net/http documents for exactly this and
		// which the client sees as a broken stream.
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(interface{ SetLinger(sec int) error }); ok {
		// A *net.TCPConn, or a listener's wrapper of one. A failure only
		// turns the reset into an orderly close, which the client sees as
		// a dropped connection all the same.
		_ = tc.SetLinger(0)
	}
	conn.Close() // nothing more is sent on it; a close error changes nothing
}
