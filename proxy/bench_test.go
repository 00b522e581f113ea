package proxy_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/metervcr/metervcr/cassettes"
	"github.com/metervcr/metervcr/proxy"
)

// BenchmarkReplay serves the demo cassette's first MeterUsage request
// through ServeHTTP with a request log at info level, as replay ships; run
// it with -cpuprofile and -memprofile to profile the replay path.
func BenchmarkReplay(b *testing.B) {
	demo, err := cassettes.Demo()
	if err != nil {
		b.Fatal(err)
	}
	r, err := cassettes.NewRedactor(cassettes.DemoKey, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	srv, err := proxy.New(proxy.Config{
		Mode:         proxy.Replay,
		Interactions: demo.Interactions,
		Redactor:     r,
		Log:          slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		b.Fatal(err)
	}
	in := demo.Interactions[0]
	body := []byte(in.Request.Body)
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.Header = in.Request.Headers.Clone()
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}
