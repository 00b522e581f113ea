package inject

import (
	"context"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/metervcr/metervcr/metering"
)

// Wrap returns a handler that injects f's faults in front of next. The
// decisions are drawn from a generator seeded with seed, in the order
// requests arrive: the same seed and the same sequence of requests give the
// same faults, which makes a failing run repeatable (concurrent requests
// arrive in no fixed order, so only a sequential client sees a fixed
// sequence). CONNECT requests pass untouched: faults apply to requests, not
// to the tunnels of forward-proxy mode. When f injects nothing, Wrap
// returns next itself.
func (f Faults) Wrap(next http.Handler, seed int64) http.Handler {
	if !f.Enabled() {
		return next
	}
	return &injector{faults: f, next: next, rng: mrand.New(mrand.NewPCG(uint64(seed), 0x6d6574657276_6372))}
}

// injector is the handler Wrap returns.
type injector struct {
	faults Faults
	next   http.Handler

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
		if h.faults.Unprocessed > 0 && op == metering.BatchMeterUsage {
			h.serveUnprocessed(w, r, d.rng)
			return
		}
		h.next.ServeHTTP(w, r)
	}
}

// decide draws the fate of the next request. It always draws the same
// three values, whatever the faults are, so that the sequence of decisions for a
// seed depends only on the order of requests.
func (h *injector) decide() decision {
	h.mu.Lock()
	u, v, s1, s2 := h.rng.Float64(), h.rng.Float64(), h.rng.Uint64(), h.rng.Uint64()
	h.mu.Unlock()
	d := decision{rng: mrand.New(mrand.NewPCG(s1, s2))}
	switch f := h.faults; {
	case u < f.Throttle:
		d.fault = faultThrottle
	case u < f.Throttle+f.InternalError:
		d.fault = faultInternalError
	case u < f.Throttle+f.InternalError+f.Reset:
		d.fault = faultReset
	}
	if v < h.faults.LatencyFraction {
		d.delay = h.faults.Latency
	}
	return d
}

func (h *injector) logFault(r *http.Request, op, fault string, status int) {
	if h.faults.Log == nil {
		return
	}
	if op == "" {
		op = "-"
	}
	attrs := []any{"op", op, "action", "inject", "fault", fault}
	if status != 0 {
		attrs = append(attrs, "status", status)
	}
	h.faults.Log.Log(r.Context(), slog.LevelWarn, "request", attrs...)
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
