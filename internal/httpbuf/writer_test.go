package httpbuf

import (
	"io"
	"net/http"
	"testing"
)

// TestWriter: the first status wins, a Write before any status is
// a 200, and the response handed on has its length and a Date.
func TestWriter(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name       string
		write      func(w http.ResponseWriter)
		wantStatus int
		wantBody   string
	}{
		{"nothing written", func(http.ResponseWriter) {}, http.StatusOK, ""},
		{"body only", func(w http.ResponseWriter) { io.WriteString(w, "ok") }, http.StatusOK, "ok"},
		{"status then body", func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, "slow")
		}, http.StatusTooManyRequests, "slow"},
		{"first status wins", func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusBadRequest)
			w.WriteHeader(http.StatusOK)
		}, http.StatusBadRequest, ""},
		{"body before status", func(w http.ResponseWriter) {
			io.WriteString(w, "a")
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, "b")
		}, http.StatusOK, "ab"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			b := NewWriter()
			c.write(b)
			if got := b.StatusCode(); got != c.wantStatus {
				t.Fatalf("StatusCode() = %d, want %d", got, c.wantStatus)
			}
			r, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1/", nil)
			resp := b.Response(r)
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != c.wantStatus || string(body) != c.wantBody || resp.ContentLength != int64(len(c.wantBody)) {
				t.Fatalf("response: %d %q of length %d, want %d %q", resp.StatusCode, body, resp.ContentLength, c.wantStatus, c.wantBody)
			}
			if resp.Header.Get("Date") == "" || resp.Request != r || resp.ProtoMajor != 1 || resp.ProtoMinor != 1 {
				t.Fatalf("response header %v, request %v, proto %d.%d; want a Date, the request, HTTP/1.1", resp.Header, resp.Request, resp.ProtoMajor, resp.ProtoMinor)
			}
		})
	}
}
