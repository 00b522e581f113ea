package fakeaws

import (
	"net/http"
)

// ResetPath is the path at which WithReset serves Reset over HTTP: a POST
// there forgets what the Service remembers, so that the tests of a suite
// can share one server without seeing each other's usage. It is not a
// Metering operation, and never reaches the Metering handler.
const ResetPath = "/_metervcr/reset"

// Reset forgets the usage metered so far (so an identical MeterUsage or
// batch record is new again, and a different quantity is no longer a
// duplicate), the ClientTokens used, and the requests that Requests
// returns, as if the Service had just been made by New with the same
// Config. It is safe to call while requests are in flight: each of them
// meters its usage wholly before or wholly after the Reset, and one that
// arrived before it is left out of Requests.
func (s *Service) Reset() {
	s.mu.Lock()
	s.state = newUsageState()
	s.seen = nil
	s.resets++
	s.mu.Unlock()
	if s.log != nil {
		s.log.Info("reset: metered usage, client tokens and requests forgotten")
	}
}

// WithReset returns a handler that answers requests for ResetPath itself
// and passes every other request to next, usually s or a handler that
// wraps it. A POST to ResetPath calls Reset and gets 204 No Content; any
// other method gets 405 with Allow: POST. Requests for ResetPath need no
// signature, are not Metering operations and do not appear in Requests,
// whatever next would have made of them.
func (s *Service) WithReset(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != ResetPath {
			next.ServeHTTP(w, r)
			return
		}
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method "+r.Method+" not allowed on "+ResetPath+"; send POST to reset the mock", http.StatusMethodNotAllowed)
			return
		}
		s.Reset()
		w.WriteHeader(http.StatusNoContent)
	})
}
