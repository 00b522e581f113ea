package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/metervcr/metervcr/cassettes"
	"github.com/metervcr/metervcr/cassettes/redact"
	"github.com/metervcr/metervcr/metering"
)

// benchKey keys the placeholders of generated cassettes; replay is given
// the same key, as it would be after a real recording.
const benchKey = "6d657465727663722062656e6368206b6579203031323334353637"

// productCode is a product the fake service knows, so that the same
// requests can be recorded against it.
const productCode = "prodcode123example"

// dimension returns the usage dimension of interaction i: each
// interaction of a generated cassette answers one dimension.
func dimension(i int) string { return fmt.Sprintf("dimension-%06d", i) }

// id returns a UUID-shaped identifier derived from seed and i.
func id(seed string, i int) string {
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s-%d", seed, i)))
	h := hex.EncodeToString(sum[:16])
	return h[:8] + "-" + h[8:12] + "-4" + h[13:16] + "-8" + h[17:20] + "-" + h[20:32]
}

// meterUsageBody is a MeterUsage request body as the Go SDK serialises it.
func meterUsageBody(i, n int, ts time.Time) string {
	return fmt.Sprintf(`{"ClientToken":"%s","ProductCode":"%s","Timestamp":%d.%03d,"UsageDimension":"%s","UsageQuantity":%d}`,
		id("token", n), productCode, ts.Unix(), ts.Nanosecond()/1e6, dimension(i), 1+i%100)
}

// recorded returns interaction i as recording stores it before redaction:
// the request re-signed for the real host with the proxy's credentials,
// the response as the service sends it.
func recorded(i int, at time.Time) *cassettes.Interaction {
	amzDate := at.UTC().Format("20060102T150405Z")
	sig := sha256.Sum256([]byte(fmt.Sprint("signature", i)))
	req := http.Header{}
	req.Set("Amz-Sdk-Invocation-Id", id("invocation", i))
	req.Set("Amz-Sdk-Request", "attempt=1; max=3")
	req.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/"+amzDate[:8]+"/us-east-1/"+metering.SigningName+
		"/aws4_request, SignedHeaders=amz-sdk-invocation-id;amz-sdk-request;content-length;content-type;host;x-amz-date;x-amz-target, Signature="+hex.EncodeToString(sig[:]))
	req.Set("Content-Type", "application/x-amz-json-1.1")
	req.Set("User-Agent", userAgent)
	req.Set(metering.HeaderDate, amzDate)
	req.Set(metering.HeaderTarget, metering.TargetPrefix+metering.MeterUsage)
	body := responseBody(i)
	resp := http.Header{}
	resp.Set("Content-Length", fmt.Sprint(len(body)))
	resp.Set("Content-Type", "application/x-amz-json-1.1")
	resp.Set("Date", at.UTC().Format(http.TimeFormat))
	resp.Set(metering.HeaderRequestID, id("request", i))
	return &cassettes.Interaction{
		Request: cassettes.Request{
			Body:    meterUsageBody(i, i, at),
			Form:    map[string][]string{},
			Headers: req,
			URL:     "https://" + metering.Host("us-east-1") + "/",
			Method:  http.MethodPost,
		},
		Response: cassettes.Response{
			Body:     body,
			Headers:  resp,
			Status:   "200 OK",
			Code:     http.StatusOK,
			Duration: time.Duration(3+i%5) * time.Millisecond,
		},
	}
}

func responseBody(i int) string {
	return `{"MeteringRecordId":"` + id("record", i) + `"}`
}

const userAgent = "aws-sdk-go-v2/1.48.0 ua/2.1 os/linux lang/go#1.26 md/GOOS#linux md/GOARCH#amd64 api/marketplacemetering#1.45.0 m/E"

// generate writes a cassette of n interactions to path: built as recording
// builds them, sealed by the Redactor as recording seals them, encoded by
// cassettes.Encode. Interactions are sealed and encoded in parallel chunks;
// the concatenation is what one Encode of them all writes.
func generate(path string, n int, r *redact.Redactor) error {
	at := time.Now()
	workers := runtime.GOMAXPROCS(0)
	chunk := (n + workers - 1) / workers
	parts := make([][]byte, workers)
	errs := make([]error, workers)
	header, _ := cassettes.Encode(nil)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := w*chunk, min((w+1)*chunk, n)
		if lo >= hi {
			continue
		}
		wg.Go(func() {
			ins := make([]*cassettes.Interaction, 0, hi-lo)
			for i := lo; i < hi; i++ {
				in := recorded(i, at)
				if _, err := r.Seal(in); err != nil {
					errs[w] = fmt.Errorf("interaction %d: %w", i, err)
					return
				}
				ins = append(ins, in)
			}
			b, err := cassettes.Encode(ins)
			if err != nil {
				errs[w] = err
				return
			}
			parts[w] = b[len(header):]
		})
	}
	wg.Wait()
	var b strings.Builder
	b.Write(header)
	for w := range workers {
		if errs[w] != nil {
			return errs[w]
		}
		b.Write(parts[w])
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}
