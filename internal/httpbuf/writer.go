// Package httpbuf keeps an HTTP answer in memory: a ResponseWriter that
// holds the whole response, and the *http.Response made from it.
package httpbuf

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"time"
)

// Writer is an http.ResponseWriter that keeps the whole response, for
// handing a handler's answer to goproxy as an *http.Response, or for
// rewriting an answer before it is sent. The first status written wins;
// a Write before any status is a 200, as net/http's writer does.
//
// httptest.ResponseRecorder would serve less well: it sets a sniffed
// Content-Type on answers without one, panics on a status outside 100 to
// 999, and its Result leaves ContentLength unknown (-1) unless the
// handler set Content-Length.
type Writer struct {
	header http.Header
	status int // 0 until written
	body   bytes.Buffer
}

// NewWriter returns an empty Writer.
func NewWriter() *Writer { return &Writer{header: http.Header{}} }

// Header returns the header the handler sets.
func (w *Writer) Header() http.Header { return w.header }

// WriteHeader keeps status unless one was written before.
func (w *Writer) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

// Write appends p to the body, writing a 200 status first if none was.
func (w *Writer) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(p)
}

// StatusCode returns the status written, 200 when none was.
func (w *Writer) StatusCode() int {
	w.WriteHeader(http.StatusOK)
	return w.status
}

// Bytes returns the body written so far.
func (w *Writer) Bytes() []byte { return w.body.Bytes() }

// Response returns the kept response to r, with a Date header when the
// handler set none, as net/http's writer adds one.
func (w *Writer) Response(r *http.Request) *http.Response {
	status := w.StatusCode()
	if w.header.Get("Date") == "" {
		w.header.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	}
	return NewResponse(r, status, w.header, &w.body)
}

// NewResponse returns an HTTP/1.1 response to r of status, header and
// body, whose length is known.
func NewResponse(r *http.Request, status int, header http.Header, body *bytes.Buffer) *http.Response {
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
