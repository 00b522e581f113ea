package inject

import (
	"errors"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"

	"github.com/metervcr/metervcr/cassettes"
	"github.com/metervcr/metervcr/internal/httpbuf"
	"github.com/metervcr/metervcr/metering"
)

// This file injects partial BatchMeterUsage failures: the service answers
// 200 and lists records that failed transiently in UnprocessedRecords, not
// in Results, and the caller must send them again.

// serveUnprocessed passes a BatchMeterUsage request on and moves a share of
// the records of a 200 answer from Results to UnprocessedRecords. Any other
// answer is passed back unchanged.
func (h *injector) serveUnprocessed(w http.ResponseWriter, r *http.Request, rng *mrand.Rand) {
	buf := httpbuf.NewWriter()
	h.next.ServeHTTP(buf, r)
	body := buf.Bytes()
	status := buf.StatusCode()
	if status == http.StatusOK {
		// An answer that is not a batch result is passed back as it is:
		// the client then sees what the handler meant it to see.
		if b, moved, err := moveUnprocessed(body, h.faults.Unprocessed, rng); err == nil && moved > 0 {
			body = b
			if h.faults.Log != nil {
				h.faults.Log.Log(r.Context(), slog.LevelInfo, "request", "op", metering.BatchMeterUsage,
					"action", "inject", "fault", faultUnprocessed, "records", moved)
			}
		}
	}
	for k, v := range buf.Header() {
		w.Header()[k] = v
	}
	w.Header().Del("Content-Length") // the body may have changed length
	w.WriteHeader(status)
	w.Write(body) // a failed write means the client left; nothing to do
}

// errNotBatchAnswer reports an answer without a Results list.
var errNotBatchAnswer = errors.New("not a BatchMeterUsage answer with Results")

// moveUnprocessed moves each result's UsageRecord to UnprocessedRecords
// with probability share, in order, and returns the new body and the number
// of records moved. Numbers keep the form they were sent in, timestamps
// included.
func moveUnprocessed(body []byte, share float64, rng *mrand.Rand) ([]byte, int, error) {
	doc, err := cassettes.DecodeJSON(body)
	if err != nil {
		return nil, 0, err
	}
	out, ok := doc.(map[string]any)
	if !ok {
		return nil, 0, errNotBatchAnswer
	}
	results, ok := out["Results"].([]any)
	if !ok {
		return nil, 0, errNotBatchAnswer
	}
	unprocessed, _ := out["UnprocessedRecords"].([]any)
	if unprocessed == nil {
		unprocessed = []any{}
	}
	kept := make([]any, 0, len(results))
	moved := 0
	for _, res := range results {
		m, _ := res.(map[string]any)
		rec, hasRecord := m["UsageRecord"]
		// One draw per result, moved or not, keeps the sequence stable.
		if rng.Float64() < share && hasRecord {
			unprocessed = append(unprocessed, rec)
			moved++
			continue
		}
		kept = append(kept, res)
	}
	out["Results"], out["UnprocessedRecords"] = kept, unprocessed
	b, err := cassettes.EncodeJSON(out)
	return b, moved, err
}
