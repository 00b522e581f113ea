package main

import (
	"bufio"
	"crypto/tls"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/metervcr/metervcr/metering"
)

// tlsBaseline starts the baseline handler over HTTPS with a certificate
// from selfSigned for hosts, and returns it with a client configuration
// trusting only that certificate for serverName, and a count of the
// connections it accepted.
func tlsBaseline(t *testing.T, serverName string, hosts ...string) (*httptest.Server, *tls.Config, *atomic.Int64) {
	t.Helper()
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := selfSigned(certFile, keyFile, hosts...); err != nil {
		t.Fatalf("selfSigned: %v", err)
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatalf("LoadX509KeyPair: %v", err)
	}
	conns := new(atomic.Int64)
	srv := httptest.NewUnstartedServer(baselineHandler())
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // handshakes that tests make fail on purpose
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	client, err := clientTLS(certFile, serverName)
	if err != nil {
		t.Fatalf("clientTLS: %v", err)
	}
	return srv, client, conns
}

// tunnelProxy starts a minimal HTTPS_PROXY on loopback: it answers a
// CONNECT to want with 200 and then relays bytes to backend, and refuses
// any other CONNECT with 502, as metervcr replay does.
func tunnelProxy(t *testing.T, want, backend string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { tunnel(c, want, backend) })
		}
	})
	return ln.Addr().String()
}

func tunnel(c net.Conn, want, backend string) {
	defer c.Close()
	req, err := http.ReadRequest(bufio.NewReader(c))
	if err != nil {
		return
	}
	if req.Method != http.MethodConnect || req.Host != want {
		io.WriteString(c, "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 20\r\n\r\nrefused: not served\n")
		return
	}
	up, err := net.Dial("tcp", backend)
	if err != nil {
		return
	}
	defer up.Close()
	io.WriteString(c, "HTTP/1.1 200 OK\r\n\r\n")
	go func() {
		io.Copy(up, c)
		up.(*net.TCPConn).CloseWrite()
	}()
	io.Copy(c, up)
}

func TestDriveTLS(t *testing.T) {
	t.Parallel()
	host := metering.Host("us-east-1")
	tests := []struct {
		name   string
		tunnel bool // CONNECT through a proxy, then TLS with the Metering host
	}{
		{"direct", false},
		{"CONNECT then TLS", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			name := "127.0.0.1"
			if tt.tunnel {
				name = host
			}
			srv, client, conns := tlsBaseline(t, name, name)
			backend := srv.Listener.Addr().String()
			e := endpoint{addr: backend, tls: client, host: backend}
			if tt.tunnel {
				e = endpoint{addr: tunnelProxy(t, host+":443", backend), connect: host + ":443", tls: client, host: host}
			}
			// Long enough for two TLS handshakes and a request each under
			// the race detector on a loaded machine.
			res, err := drive(e, 10, 2, 500*time.Millisecond)
			if err != nil {
				t.Fatalf("drive: %v", err)
			}
			if res.failures != 0 || res.requests < 2 {
				t.Errorf("drive: %d requests, %d failures, want some requests and no failure", res.requests, res.failures)
			}
			// Keep-alive: one TLS connection per load connection.
			if got := conns.Load(); got != 2 {
				t.Errorf("server accepted %d connections for %d requests, want 2", got, res.requests)
			}
		})
	}
}

func TestDialErrors(t *testing.T) {
	t.Parallel()
	host := metering.Host("us-east-1")
	srv, client, _ := tlsBaseline(t, host, host)
	backend := srv.Listener.Addr().String()
	proxyAddr := tunnelProxy(t, host+":443", backend)
	_, otherClient, _ := tlsBaseline(t, host, host) // trusts another certificate
	tests := []struct {
		name string
		e    endpoint
		want string
	}{
		{"refused CONNECT", endpoint{addr: proxyAddr, connect: "example.com:443", tls: client, host: host}, "502 Bad Gateway: refused: not served"},
		{"untrusted certificate", endpoint{addr: proxyAddr, connect: host + ":443", tls: otherClient, host: host}, "TLS handshake with " + host},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := tt.e.dial()
			if err == nil {
				c.Close()
				t.Fatalf("dial() succeeded, want an error containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("dial() = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}
