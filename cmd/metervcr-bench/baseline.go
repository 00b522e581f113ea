package main

import (
	"net/http"
	"strconv"

	"github.com/metervcr/metervcr/metering"
)

// baselineBody is the fixed MeterUsage answer of the baseline server.
var baselineBody = []byte(responseBody(0))

// baseline is the bar replay is measured against: a minimal net/http
// server that answers every request with a fixed MeterUsage response,
// after reading the request body as any server must. It is also the
// upstream that recording is measured against. With a certificate and key
// (PEM files) it serves HTTPS instead, the bar of forward-proxy replay.
func baseline(addr, certFile, keyFile string) error {
	if certFile != "" {
		return http.ListenAndServeTLS(addr, certFile, keyFile, baselineHandler())
	}
	return http.ListenAndServe(addr, baselineHandler())
}

// baselineHandler answers every request with baselineBody.
func baselineHandler() http.Handler {
	length := strconv.Itoa(len(baselineBody))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var buf [4096]byte
		for {
			if _, err := r.Body.Read(buf[:]); err != nil {
				break
			}
		}
		hd := w.Header()
		hd["Content-Type"] = []string{"application/x-amz-json-1.1"}
		hd["Content-Length"] = []string{length}
		hd[metering.HeaderRequestID] = []string{"3c0d2ee0-7f57-4b84-9bfd-2c7a3c9b4d11"}
		w.Write(baselineBody)
	})
}
