package inject

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/metervcr/metervcr/metering"
)

// okHandler answers 200 with an empty JSON object and counts calls.
type okHandler struct{ calls atomic.Int64 }

func (h *okHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.calls.Add(1)
	w.Header().Set("Content-Type", metering.ContentType)
	io.WriteString(w, "{}")
}

// startInject serves next wrapped in the faults of spec.
func startInject(t *testing.T, spec string, seed int64, next http.Handler) *httptest.Server {
	t.Helper()
	in, err := Parse(spec)
	if err != nil {
		t.Fatalf("Parse(%q): %v", spec, err)
	}
	srv := httptest.NewServer(in.Wrap(next, seed))
	t.Cleanup(srv.Close)
	return srv
}

func post(srv *httptest.Server, op, body string) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", metering.ContentType)
	req.Header.Set(metering.HeaderTarget, metering.Target(op))
	return srv.Client().Do(req)
}

// outcomes sends n requests one after another and returns what became of
// each: the status, or "reset" when the connection dropped.
func outcomes(t *testing.T, srv *httptest.Server, n int) []string {
	t.Helper()
	var got []string
	for range n {
		resp, err := post(srv, metering.MeterUsage, "{}")
		if err != nil {
			got = append(got, "reset")
			continue
		}
		resp.Body.Close()
		got = append(got, fmt.Sprint(resp.StatusCode))
	}
	return got
}

func TestInjectSameSeedSameFaults(t *testing.T) {
	t.Parallel()
	const spec, n = "throttle=0.3,internal-error=0.2,reset=0.1", 40
	first := outcomes(t, startInject(t, spec, 7, &okHandler{}), n)
	again := outcomes(t, startInject(t, spec, 7, &okHandler{}), n)
	other := outcomes(t, startInject(t, spec, 8, &okHandler{}), n)
	if !reflect.DeepEqual(first, again) {
		t.Errorf("seed 7 twice gave different faults:\n%v\n%v", first, again)
	}
	if reflect.DeepEqual(first, other) {
		t.Errorf("seeds 7 and 8 gave the same faults: %v", first)
	}
	counts := make(map[string]int)
	for _, o := range first {
		counts[o]++
	}
	for _, o := range []string{"200", "400", "500", "reset"} {
		if counts[o] == 0 {
			t.Errorf("no %s among %d requests with %s: %v", o, n, spec, first)
		}
	}
}

func TestInjectErrorsAsTheServiceSendsThem(t *testing.T) {
	t.Parallel()
	tests := []struct {
		spec, code, errorType, typ string
		status                     int
	}{
		{"throttle=1", metering.ErrThrottling,
			"ThrottlingException:http://internal.amazon.com/coral/com.amazonaws.marketplacemetering/",
			"com.amazonaws.marketplacemetering#ThrottlingException", http.StatusBadRequest},
		{"internal-error=1", metering.ErrInternalServiceError,
			"InternalServiceErrorException:http://internal.amazon.com/coral/com.amazonaws.marketplacemetering/",
			"com.amazonaws.marketplacemetering#InternalServiceErrorException", http.StatusInternalServerError},
	}
	for _, tt := range tests {
		next := &okHandler{}
		resp, err := post(startInject(t, tt.spec, 1, next), metering.MeterUsage, "{}")
		if err != nil {
			t.Fatalf("%s: %v", tt.spec, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var body metering.ErrorBody
		if err := json.Unmarshal(b, &body); err != nil {
			t.Fatalf("%s: body %q is not JSON: %v", tt.spec, b, err)
		}
		if resp.StatusCode != tt.status || resp.Header.Get(metering.HeaderErrorType) != tt.errorType || body.Type != tt.typ || body.Message == "" {
			t.Errorf("%s: status %d, X-Amzn-Errortype %q, body %s; want %d, %q, __type %q and a message",
				tt.spec, resp.StatusCode, resp.Header.Get(metering.HeaderErrorType), b, tt.status, tt.errorType, tt.typ)
		}
		if resp.Header.Get("Content-Type") != metering.ContentType || resp.Header.Get(metering.HeaderRequestID) == "" {
			t.Errorf("%s: headers %v lack the JSON 1.1 content type or a request id", tt.spec, resp.Header)
		}
		if n := next.calls.Load(); n != 0 {
			t.Errorf("%s: the handler was called %d times, want 0", tt.spec, n)
		}
	}
}

func TestInjectResetDropsTheConnection(t *testing.T) {
	t.Parallel()
	next := &okHandler{}
	srv := startInject(t, "reset=1", 1, next)
	resp, err := post(srv, metering.MeterUsage, "{}")
	if err == nil {
		resp.Body.Close()
		t.Fatalf("reset=1 answered %d, want a dropped connection", resp.StatusCode)
	}
	if next.calls.Load() != 0 {
		t.Errorf("the handler was called, want the request dropped before it")
	}
}

func TestInjectLatency(t *testing.T) {
	t.Parallel()
	const latency = 60 * time.Millisecond
	next := &okHandler{}
	srv := startInject(t, "latency=60ms", 1, next)
	start := time.Now()
	got := outcomes(t, srv, 2)
	if elapsed := time.Since(start); elapsed < 2*latency {
		t.Errorf("2 requests with latency=60ms took %v, want at least %v", elapsed, 2*latency)
	}
	if !reflect.DeepEqual(got, []string{"200", "200"}) || next.calls.Load() != 2 {
		t.Errorf("outcomes %v after %d calls, want two 200s from the handler", got, next.calls.Load())
	}
}

func TestInjectPassesConnectThrough(t *testing.T) {
	t.Parallel()
	in, _ := Parse("throttle=1")
	next := &okHandler{}
	rec := httptest.NewRecorder()
	in.Wrap(next, 1).ServeHTTP(rec, httptest.NewRequest(http.MethodConnect, "http://metering.marketplace.us-east-1.amazonaws.com:443", nil))
	if rec.Code != http.StatusOK || next.calls.Load() != 1 {
		t.Errorf("CONNECT with throttle=1: status %d, handler calls %d; want 200 from the handler", rec.Code, next.calls.Load())
	}
}

func TestWrapWithoutFaultsReturnsTheHandler(t *testing.T) {
	t.Parallel()
	next := &okHandler{}
	if got := (Faults{}).Wrap(next, 1); got != http.Handler(next) {
		t.Errorf("Faults{}.Wrap(h) = %T, want h itself", got)
	}
}

// batchAnswer is a BatchMeterUsage answer with four results.
const batchAnswer = `{"Results":[` +
	`{"MeteringRecordId":"a","Status":"Success","UsageRecord":{"CustomerIdentifier":"c1","Dimension":"d","Quantity":1,"Timestamp":1767323045.123}},` +
	`{"MeteringRecordId":"b","Status":"Success","UsageRecord":{"CustomerIdentifier":"c2","Dimension":"d","Quantity":2,"Timestamp":1767323045}},` +
	`{"Status":"CustomerNotSubscribed","UsageRecord":{"CustomerIdentifier":"c3","Dimension":"d","Quantity":3,"Timestamp":1.767323045E9}},` +
	`{"MeteringRecordId":"d","Status":"Success","UsageRecord":{"CustomerIdentifier":"c4","Dimension":"d","Quantity":4,"Timestamp":1767323046}}` +
	`],"UnprocessedRecords":[]}`

type batchBody struct {
	Results            []map[string]any
	UnprocessedRecords []map[string]json.RawMessage
}

func batch(t *testing.T, srv *httptest.Server) batchBody {
	t.Helper()
	resp, err := post(srv, metering.BatchMeterUsage, `{"UsageRecords":[]}`)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out batchBody
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &out) != nil {
		t.Fatalf("BatchMeterUsage: %d %s, want 200 and a batch answer", resp.StatusCode, b)
	}
	return out
}

func TestInjectUnprocessedMovesBatchRecords(t *testing.T) {
	t.Parallel()
	answer := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", metering.ContentType)
		w.Header().Set("Content-Length", fmt.Sprint(len(batchAnswer)))
		io.WriteString(w, batchAnswer)
	})
	all := batch(t, startInject(t, "unprocessed=1", 1, answer))
	if len(all.Results) != 0 || len(all.UnprocessedRecords) != 4 {
		t.Fatalf("unprocessed=1: %d results and %d unprocessed, want 0 and 4", len(all.Results), len(all.UnprocessedRecords))
	}
	// Timestamps keep the form they were sent in.
	for i, want := range []string{"1767323045.123", "1767323045", "1.767323045E9", "1767323046"} {
		if got := string(all.UnprocessedRecords[i]["Timestamp"]); got != want {
			t.Errorf("unprocessed record %d Timestamp = %s, want %s", i, got, want)
		}
	}
	none := batch(t, startInject(t, "unprocessed=0,throttle=0", 1, answer))
	if len(none.Results) != 4 || len(none.UnprocessedRecords) != 0 {
		t.Errorf("unprocessed=0: %d results and %d unprocessed, want 4 and 0", len(none.Results), len(none.UnprocessedRecords))
	}
	half := startInject(t, "unprocessed=0.5", 3, answer)
	moved := 0
	for range 10 {
		b := batch(t, half)
		if len(b.Results)+len(b.UnprocessedRecords) != 4 {
			t.Fatalf("unprocessed=0.5: %d results and %d unprocessed, want 4 records in all", len(b.Results), len(b.UnprocessedRecords))
		}
		moved += len(b.UnprocessedRecords)
	}
	if moved == 0 || moved == 40 {
		t.Errorf("unprocessed=0.5 moved %d of 40 records, want some but not all", moved)
	}
}
