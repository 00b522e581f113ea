package proxy

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"time"
)

// responseBuffer is an http.ResponseWriter that keeps the whole response,
// for handing the server's answer to goproxy as an *http.Response, or for
// rewriting an answer before it is sent. The first status written wins;
// a Write before any status is a 200, as net/http's writer does.
//
// httptest.ResponseRecorder would serve less well: it sets a sniffed
// Content-Type on answers without one, panics on a status outside 100 to
// 999, and its Result leaves ContentLength unknown (-1) unless the
// handler set Content-Length.
type responseBuffer struct {
	header http.Header
	status int // 0 until written
	body   bytes.Buffer
}

func newResponseBuffer() *responseBuffer { return &responseBuffer{header: http.Header{}} }

func (b *responseBuffer) Header() http.Header { return b.header }

func (b *responseBuffer) WriteHeader(status int) {
	if b.status == 0 {
		b.status = status
	}
}

func (b *responseBuffer) Write(p []byte) (int, error) {
	b.WriteHeader(http.StatusOK)
	return b.body.Write(p)
}

// statusCode returns the status written, 200 when none was.
func (b *responseBuffer) statusCode() int {
	b.WriteHeader(http.StatusOK)
	return b.status
}

// response returns the kept response to r, with a Date header when the
// handler set none, as net/http's writer adds one.
func (b *responseBuffer) response(r *http.Request) *http.Response {
	status := b.statusCode()
	if b.header.Get("Date") == "" {
		b.header.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	}
	return newResponse(r, status, b.header, &b.body)
}

// newResponse returns an HTTP/1.1 response to r of status, header and
// body, whose length is known.
func newResponse(r *http.Request, status int, header http.Header, body *bytes.Buffer) *http.Response {
	return &http.Response{
		StatusCode:    status,
		Status:        strconv.Itoa(status) + " " + http.StatusText(status),
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        header,
		Body:          io.NopCloser(body),
		ContentLength: int64(body.Len()),
		Request:       r,
	}
}
