package proxy

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

// TestHopByHopHeadersStayBehind: connection-level headers go neither
// upstream, intercepted or re-signed, nor back to the client; other
// headers do.
func TestHopByHopHeadersStayBehind(t *testing.T) {
	t.Parallel()
	base, _ := url.Parse("http://127.0.0.1:9000/base")
	u := &upstream{base: base}
	for _, name := range hopByHop {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			client := httptest.NewRequest(http.MethodPost, "https://metering.marketplace.us-east-1.amazonaws.com/?a=b", nil)
			client.Header.Set(name, "x")
			client.Header.Set("X-Custom", "kept")
			out, err := u.passthrough(context.Background(), client, []byte("{}"))
			if err != nil {
				t.Fatal(err)
			}
			if got := out.Header.Get(name); got != "" {
				t.Errorf("passthrough: %s = %q, want it left out", name, got)
			}
			if got := out.Header.Get("X-Custom"); got != "kept" {
				t.Errorf("passthrough: X-Custom = %q, want %q", got, "kept")
			}
			if got, want := out.URL.String(), "http://127.0.0.1:9000/base/?a=b"; got != want {
				t.Errorf("passthrough: URL %s, want %s", got, want)
			}
			if got, want := out.Host, "metering.marketplace.us-east-1.amazonaws.com"; got != want {
				t.Errorf("passthrough: Host %s, want %s", got, want)
			}

			resp := &http.Response{StatusCode: http.StatusOK, Header: http.Header{}}
			resp.Header.Set(name, "x")
			resp.Header.Set("X-Custom", "kept")
			resp.Header.Set("Content-Encoding", "gzip")
			w := httptest.NewRecorder()
			writeUpstreamResponse(w, resp, []byte("{}"))
			for _, h := range []string{name, "Content-Encoding"} {
				if got := w.Header().Get(h); got != "" {
					t.Errorf("response: %s = %q, want it left out", h, got)
				}
			}
			if got := w.Header().Get("X-Custom"); got != "kept" {
				t.Errorf("response: X-Custom = %q, want %q", got, "kept")
			}
			if got := w.Header().Get("Content-Length"); got != "2" {
				t.Errorf("response: Content-Length = %q, want %q", got, "2")
			}
		})
	}
}
