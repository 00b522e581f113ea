package proxy_test

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/metervcr/metervcr/cassettes"
	"github.com/metervcr/metervcr/cassettes/redact"
	"github.com/metervcr/metervcr/proxy"
)

// BenchmarkReplay serves the demo cassette's first MeterUsage request
// through ServeHTTP with a request log at info level, as replay ships; run
// it with -cpuprofile and -memprofile to profile the replay path.
func BenchmarkReplay(b *testing.B) {
	b.Run("checks=off", func(b *testing.B) { benchmarkReplay(b, proxy.ChecksOff) })
	b.Run("checks=all", func(b *testing.B) { benchmarkReplay(b, proxy.ChecksAll) })
}

func benchmarkReplay(b *testing.B, checks proxy.Checks) {
	demo, err := cassettes.Demo()
	if err != nil {
		b.Fatal(err)
	}
	// The checks see the request at the time it was signed.
	signedAt, err := time.Parse("20060102T150405Z", demo.Interactions[0].Request.Headers.Get("X-Amz-Date"))
	if err != nil {
		b.Fatal(err)
	}
	r, err := redact.New(redact.DemoKey(), nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	srv, err := proxy.New(proxy.Config{
		Mode:         proxy.Replay,
		Interactions: demo.Interactions,
		Redactor:     r,
		Log:          slog.New(slog.NewTextHandler(io.Discard, nil)),
		Checks:       checks,
		Now:          func() time.Time { return signedAt },
	})
	if err != nil {
		b.Fatal(err)
	}
	in := demo.Interactions[0]
	body := []byte(in.Request.Body)
	// A signature of the shape the SDK sends, in place of the recorded
	// placeholder.
	header := in.Request.Headers.Clone()
	header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"+signedAt.Format("20060102")+
		"/us-east-1/aws-marketplace/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature="+strings.Repeat("0f", 32))
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.Header = header.Clone()
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}

// BenchmarkRecord records MeterUsage calls from parallel clients through
// ServeHTTP against an in-process upstream that answers at once: the cost
// of re-signing, redaction, encoding and the durable append.
func BenchmarkRecord(b *testing.B) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		io.WriteString(w, `{"MeteringRecordId":"ee4d6217-b54c-4c9e-96a1-86270379d18e"}`)
	}))
	defer upstream.Close()
	u, _ := url.Parse(upstream.URL)
	r, _ := redact.New(redact.DemoKey(), nil, nil)
	srv, err := proxy.New(proxy.Config{
		Mode:        proxy.Record,
		Cassette:    filepath.Join(b.TempDir(), "bench.yaml"),
		Upstream:    u,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		Redactor:    r,
		Log:         slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		b.Fatal(err)
	}
	demo, _ := cassettes.Demo()
	in := demo.Interactions[0]
	body := []byte(in.Request.Body)
	b.ReportAllocs()
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
			req.Header = in.Request.Headers.Clone()
			req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDCLIENT/20260102/us-east-1/aws-marketplace/aws4_request, SignedHeaders=host;x-amz-date, Signature=00")
			w := httptest.NewRecorder()
			srv.ServeHTTP(w, req)
			if w.Code != http.StatusOK {
				b.Fatalf("status %d: %s", w.Code, w.Body)
			}
		}
	})
}

// BenchmarkReplaySize serves MeterUsage requests naming interactions at
// random from cassettes of 10 and of 100,000 interactions: the cost of a
// large cassette per request, garbage collection of what it keeps in
// memory included.
func BenchmarkReplaySize(b *testing.B) {
	for _, size := range []int{10, 100_000} {
		b.Run(fmt.Sprintf("interactions=%d", size), func(b *testing.B) {
			r, _ := redact.New(redact.DemoKey(), nil, nil)
			ins := make([]*cassettes.Interaction, size)
			bodies := make([][]byte, size)
			for i := range ins {
				body := fmt.Sprintf(`{"ClientToken":"%08d-0000-4000-8000-000000000000","ProductCode":"prodcode123example","Timestamp":1795835861.645,"UsageDimension":"dimension-%06d","UsageQuantity":%d}`, i, i, i%100)
				bodies[i] = []byte(body)
				ins[i] = &cassettes.Interaction{
					Request: cassettes.Request{Method: http.MethodPost, URL: "https://metering.marketplace.us-east-1.amazonaws.com/", Body: body,
						Headers: http.Header{"X-Amz-Target": {"AWSMPMeteringService.MeterUsage"}, "Content-Type": {"application/x-amz-json-1.1"}}},
					Response: cassettes.Response{Code: http.StatusOK, Body: fmt.Sprintf(`{"MeteringRecordId":"%08d-1111-4000-8000-000000000000"}`, i),
						Headers: http.Header{"Content-Type": {"application/x-amz-json-1.1"}, "X-Amzn-Requestid": {fmt.Sprintf("%08d-2222-4000-8000-000000000000", i)}}},
				}
			}
			srv, err := proxy.New(proxy.Config{Mode: proxy.Replay, Interactions: ins, Redactor: r, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				b.Fatal(err)
			}
			ins = nil
			runtime.GC()
			header := http.Header{"X-Amz-Target": {"AWSMPMeteringService.MeterUsage"}, "Content-Type": {"application/x-amz-json-1.1"}}
			rng := rand.New(rand.NewPCG(1, uint64(size)))
			b.ReportAllocs()
			gc0 := gcCPU()
			defer func() { b.ReportMetric(float64((gcCPU()-gc0).Nanoseconds())/float64(b.N), "gc-ns/op") }()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(bodies[rng.IntN(size)]))
				req.Header = header.Clone()
				w := httptest.NewRecorder()
				srv.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d: %s", w.Code, w.Body)
				}
			}
		})
	}
}

// gcCPU returns the CPU time the garbage collector has used so far.
func gcCPU() time.Duration {
	sample := []metrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}}
	metrics.Read(sample)
	return time.Duration(sample[0].Value.Float64() * float64(time.Second))
}
