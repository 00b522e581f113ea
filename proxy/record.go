package proxy

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/metervcr/metervcr/cassettes"
	"github.com/metervcr/metervcr/metering"
)

// maxResponseBytes caps an upstream response body. Metering responses are
// small (at most 25 echoed records); a larger one is a fault.
const maxResponseBytes = 16 << 20

// record forwards the exchange, appends it to the cassette, then answers
// the client with the upstream response.
func (s *Server) record(w http.ResponseWriter, ex *exchange, intercepted bool) outcome {
	if !isJSONObject(ex.body) {
		return s.fail(w, errNotJSON)
	}
	if !s.canForward(intercepted) {
		return s.refuseUnsigned(w, ex)
	}
	out, err := s.outbound(ex, intercepted)
	if err != nil {
		return s.fail(w, err)
	}
	start := s.now()
	resp, err := s.transport.RoundTrip(out)
	if err != nil {
		return s.fail(w, errUpstream(out, err))
	}
	body, err := readBody(resp)
	if err != nil {
		return s.fail(w, errUpstream(out, err))
	}
	in := interaction(out, ex.body, resp, body, s.now().Sub(start))
	if !s.seal(in, ex.operation) {
		writeUpstreamResponse(w, resp, body)
		return outcome{action: "refused", status: resp.StatusCode, index: -1}
	}
	index, err := s.writer.Append(in)
	if err != nil {
		return s.fail(w, fmt.Errorf("the exchange was not recorded: %w", err))
	}
	writeUpstreamResponse(w, resp, body)
	return outcome{action: "record", status: resp.StatusCode, index: index}
}

// outbound returns the request to send upstream. An intercepted request
// was signed by the client for the real host and goes out as it came; an
// endpoint-mode request was signed for the proxy's address and is re-signed
// for the real host of the region in its credential scope.
func (s *Server) outbound(ex *exchange, intercepted bool) (*http.Request, error) {
	if intercepted {
		return s.upstream.passthrough(ex.r.Context(), ex.r, ex.body)
	}
	auth := ex.r.Header.Get(metering.HeaderAuthorization)
	if auth == "" {
		return nil, &statusError{status: http.StatusForbidden, code: metering.ErrMissingAuthenticationToken,
			msg: "Missing Authentication Token: metervcr records signed requests only; configure AWS credentials in the client (any key pair works, the proxy re-signs)"}
	}
	region := metering.RegionFromAuthorization(auth)
	if region == "" {
		region = s.region
	}
	return s.upstream.request(ex.r.Context(), ex.r, region, ex.body)
}

// canForward reports whether a request can be sent upstream: an
// intercepted one always (it keeps the client's signature), an
// endpoint-mode one only when the server has credentials to re-sign it.
func (s *Server) canForward(intercepted bool) bool {
	return intercepted || s.upstream.credentials != nil
}

// refuseUnsigned answers an endpoint-mode request that the server cannot
// re-sign, for want of credentials, with 403 NoProxyCredentials: a status
// and code that SDKs do not retry, since retrying cannot help. Nothing is
// sent upstream or recorded. The request line explains it.
func (s *Server) refuseUnsigned(w http.ResponseWriter, ex *exchange) outcome {
	var forward string
	if s.forward != nil {
		forward = fmt.Sprintf(", or reach AWS through metervcr as a forward proxy, which keeps the client's own signature: "+
			"HTTPS_PROXY=http://%s with AWS_CA_BUNDLE=%s (SSL_CERT_FILE for Go programs)", ex.r.Host, s.caFile)
	}
	msg := fmt.Sprintf("metervcr refused this %s call and recorded nothing: it came in endpoint mode, and metervcr has no AWS credentials "+
		"to re-sign it for the real host; give metervcr credentials (AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "+
		"in its environment) and restart it%s", ex.operation, forward)
	writeError(w, http.StatusForbidden, metering.ErrNoProxyCredentials, msg)
	// In replay, the request is one that matched no recording.
	p := &problem{miss: s.mode == Replay, code: metering.ErrNoProxyCredentials, reason: msg, closest: -1}
	return outcome{action: "refused", status: http.StatusForbidden, index: -1, problem: p}
}

// readBody reads an upstream response body within maxResponseBytes,
// undoing gzip when the client asked for it itself (the transport undoes
// it only when it asked).
func readBody(resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	var r io.Reader = resp.Body
	if strings.EqualFold(resp.Header.Get("Content-Encoding"), "gzip") {
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			return nil, fmt.Errorf("gzip response: %w", err)
		}
		r = zr
	}
	body, err := io.ReadAll(io.LimitReader(r, maxResponseBytes+1))
	if err == nil && len(body) > maxResponseBytes {
		err = fmt.Errorf("response body exceeds %d bytes", maxResponseBytes)
	}
	return body, err
}

// errUpstream answers a failure to reach upstream: 502 in the AWS error
// shape, which SDKs retry.
func errUpstream(out *http.Request, err error) error {
	var se *statusError
	if errors.As(err, &se) {
		return err
	}
	return &statusError{status: http.StatusBadGateway, code: metering.ErrServiceUnavailable,
		msg: fmt.Sprintf("metervcr could not reach upstream %s for %s: %v; nothing was recorded", out.URL.Host, out.Host, err)}
}

// interaction builds the cassette entry for an exchange, before redaction.
// The request is the one sent upstream, with the real host's URL, so that
// cassettes read the same whichever way the client reached the proxy. It
// takes out's headers as they are: the transport is done with out once
// the response body is closed, and nothing else uses them.
func interaction(out *http.Request, reqBody []byte, resp *http.Response, respBody []byte, took time.Duration) *cassettes.Interaction {
	reqHeader := out.Header
	reqURL := *out.URL
	reqURL.Scheme, reqURL.Host = "https", out.Host
	respHeader := resp.Header.Clone()
	respHeader.Del("Content-Encoding") // the transport decompressed the body
	if respHeader.Get("Content-Length") != "" {
		respHeader.Set("Content-Length", strconv.Itoa(len(respBody)))
	}
	return &cassettes.Interaction{
		Request: cassettes.Request{
			Body:    string(reqBody),
			Form:    map[string][]string{},
			Headers: reqHeader,
			URL:     reqURL.String(),
			Method:  out.Method,
		},
		Response: cassettes.Response{
			Body:     string(respBody),
			Headers:  respHeader,
			Status:   resp.Status,
			Code:     resp.StatusCode,
			Duration: took.Round(time.Millisecond),
		},
	}
}

// writeUpstreamResponse answers the client with resp, less its hop-by-hop
// headers, and body, which readBody has decoded.
func writeUpstreamResponse(w http.ResponseWriter, resp *http.Response, body []byte) {
	h := w.Header()
	for k, v := range resp.Header {
		h[k] = append([]string(nil), v...)
	}
	for _, k := range hopByHop {
		h.Del(k)
	}
	h.Del("Content-Encoding")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(resp.StatusCode)
	w.Write(body) // a failed write means the client left; the exchange is recorded
}
