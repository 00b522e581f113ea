package proxy

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/elazarl/goproxy"

	"github.com/metervcr/metervcr/internal/httpbuf"
	"github.com/metervcr/metervcr/metering"
)

// forwardProxy builds the HTTPS_PROXY front of the server with goproxy:
// CONNECTs to Metering hosts are intercepted with the server's CA and the
// requests inside run through the same handler as endpoint mode; CONNECTs
// to other hosts are tunnelled untouched while recording and refused with
// 502 while replaying.
func (s *Server) forwardProxy(ca *CA, ports []string) *goproxy.ProxyHttpServer {
	fp := goproxy.NewProxyHttpServer()
	fp.Logger = slogPrinter{s.log}
	fp.Verbose = false
	// The proxy's own environment may well hold HTTPS_PROXY pointing at the
	// proxy itself (a user who exported it in the same shell): dial
	// directly, never through the environment.
	dialer := &net.Dialer{Timeout: 10 * time.Second}
	fp.ConnectDial = dialer.Dial
	fp.Tr = &http.Transport{DialContext: dialer.DialContext, TLSHandshakeTimeout: 10 * time.Second}
	fp.NonproxyHandler = s.inner

	mitm := &goproxy.ConnectAction{Action: goproxy.ConnectMitm, TLSConfig: func(host string, _ *goproxy.ProxyCtx) (*tls.Config, error) {
		cert, err := ca.Certificate(host)
		if err != nil {
			return nil, err
		}
		return &tls.Config{Certificates: []tls.Certificate{*cert}, MinVersion: tls.VersionTLS12}, nil
	}}
	tunnel := &goproxy.ConnectAction{Action: goproxy.ConnectAccept}
	fp.OnRequest().HandleConnectFunc(func(host string, ctx *goproxy.ProxyCtx) (*goproxy.ConnectAction, string) {
		hostname, port, err := net.SplitHostPort(host)
		if err != nil {
			hostname, port = host, "443"
		}
		if !slices.Contains(ports, port) {
			// Metering is HTTPS on 443; anything else would make the proxy
			// a relay to arbitrary ports.
			ctx.Resp = textResponse(ctx.Req, http.StatusForbidden, fmt.Sprintf("metervcr tunnels only to port %s, not %s", strings.Join(ports, ", "), host))
			return rejectWithResponse, host
		}
		if _, ok := metering.ParseHost(hostname); ok {
			return mitm, host
		}
		if s.mode == Record {
			s.log.Info("tunnel", "host", host)
			return tunnel, host
		}
		s.log.Info("refused", "host", host, "status", http.StatusBadGateway)
		ctx.Resp = textResponse(ctx.Req, http.StatusBadGateway,
			fmt.Sprintf("metervcr is replaying and reaches no network: CONNECT to %s refused (only Metering hosts are served)", hostname))
		return rejectWithResponse, host
	})
	fp.OnRequest().DoFunc(func(r *http.Request, ctx *goproxy.ProxyCtx) (*http.Request, *http.Response) {
		if _, ok := metering.ParseHost(r.Host); ok {
			return r, s.serveIntercepted(r)
		}
		if s.mode == Record {
			return r, nil // plain HTTP to another host: passed on, never recorded
		}
		return r, textResponse(r, http.StatusBadGateway,
			fmt.Sprintf("metervcr is replaying and reaches no network: request to %s refused", r.Host))
	})
	return fp
}

// serveIntercepted runs an intercepted request through the same handler
// as endpoint mode and returns its answer for goproxy to write. A handler
// that aborts (a dropped connection injected as a fault) gives a response
// whose body fails, so goproxy drops the client's connection too.
func (s *Server) serveIntercepted(r *http.Request) (resp *http.Response) {
	buf := httpbuf.NewWriter()
	defer func() {
		if v := recover(); v != nil {
			if v != http.ErrAbortHandler {
				panic(v)
			}
			resp = buf.Response(r)
			resp.Body = io.NopCloser(failingReader{})
			resp.ContentLength = -1
		}
	}()
	if r.URL.Scheme == "https" {
		r = r.WithContext(context.WithValue(r.Context(), interceptedKey{}, true))
	}
	s.inner.ServeHTTP(buf, r)
	return buf.Response(r)
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errAborted }

var errAborted = errors.New("connection dropped")

var rejectWithResponse = &goproxy.ConnectAction{Action: goproxy.ConnectReject}

func textResponse(r *http.Request, status int, msg string) *http.Response {
	return httpbuf.NewResponse(r, status, http.Header{"Content-Type": {"text/plain; charset=utf-8"}}, bytes.NewBufferString(msg+"\n"))
}

// slogPrinter routes goproxy's warnings to the server's logger.
type slogPrinter struct{ log *slog.Logger }

func (p slogPrinter) Printf(format string, v ...any) {
	if p.log.Enabled(context.Background(), slog.LevelDebug) {
		p.log.Log(context.Background(), slog.LevelDebug, "goproxy: "+fmt.Sprintf(format, v...))
	}
}
