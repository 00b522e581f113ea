package proxy

import (
	"encoding/json"
	"log/slog"
	"net/http"
)

// HealthPath is the path at which metervcr answers health probes, with 200
// and a small JSON body (Health). A probe never reaches matching or the
// upstream, is never recorded nor counted as a miss, and is logged at debug
// level only. Metering requests never use it: the service's path is "/".
const HealthPath = "/_metervcr/health"

// Health is the JSON body of the answer to HealthPath.
type Health struct {
	Status string `json:"status"` // always "ok"
	Mode   string `json:"mode"`   // "record", "replay" or "mock"
	// Cassette is the cassette file, or "built-in demo"; empty for mock.
	Cassette string `json:"cassette,omitempty"`
	// Interactions is the number of recorded interactions replay serves.
	Interactions *int `json:"interactions,omitempty"`
}

// demoName names the built-in demo cassette in the health answer.
const demoName = "built-in demo"

// HealthHandler answers GET and HEAD requests for HealthPath with h and
// passes every other request to next. Probes are logged to log at debug
// level; a nil log discards them.
func HealthHandler(h Health, log *slog.Logger, next http.Handler) http.Handler {
	body := healthBody(h)
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isHealthProbe(r) {
			next.ServeHTTP(w, r)
			return
		}
		answerHealth(w, r, body, log)
	})
}

// healthBody encodes h, completing its status.
func healthBody(h Health) []byte {
	h.Status = "ok"
	b, err := json.Marshal(h)
	if err != nil {
		panic(err) // strings and an int always marshal
	}
	return append(b, '\n')
}

// isHealthProbe reports whether r asks for HealthPath of this server
// rather than of a host it proxies to.
func isHealthProbe(r *http.Request) bool {
	return r.URL.Path == HealthPath && !r.URL.IsAbs() && r.Method != http.MethodConnect
}

// answerHealth writes the health answer body, to GET and HEAD only.
func answerHealth(w http.ResponseWriter, r *http.Request, body []byte, log *slog.Logger) {
	log.Debug("health probe", "method", r.Method, "remote", r.RemoteAddr)
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "metervcr: "+HealthPath+" answers GET and HEAD only", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		w.Write(body) // a failed write means the prober left
	}
}
