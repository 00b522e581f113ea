package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestClientURL: a listener on every interface is reached from this host
// through the loopback address of the family asked for; any other address
// is used as it is.
func TestClientURL(t *testing.T) {
	t.Parallel()
	tcp := func(s string) net.Addr {
		a, err := net.ResolveTCPAddr("tcp", s)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	tests := []struct {
		name       string
		listen     string
		addr       net.Addr
		want       string
		everywhere bool
	}{
		{"IPv4 wildcard, dual-stack socket", "0.0.0.0:8089", tcp("[::]:8089"), "http://127.0.0.1:8089", true},
		{"IPv4 wildcard, IPv4 socket", "0.0.0.0:0", tcp("0.0.0.0:4321"), "http://127.0.0.1:4321", true},
		{"IPv6 wildcard", "[::]:8089", tcp("[::]:8089"), "http://[::1]:8089", true},
		{"no host", ":8089", tcp("[::]:8089"), "http://127.0.0.1:8089", true},
		{"IPv4 loopback", "127.0.0.1:0", tcp("127.0.0.1:5555"), "http://127.0.0.1:5555", false},
		{"IPv6 loopback", "[::1]:8089", tcp("[::1]:8089"), "http://[::1]:8089", false},
		{"one interface", "192.0.2.7:8089", tcp("192.0.2.7:8089"), "http://192.0.2.7:8089", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, everywhere := clientURL(tt.listen, tt.addr)
			if got != tt.want || everywhere != tt.everywhere {
				t.Errorf("clientURL(%q, %v) = %q, %v; want %q, %v", tt.listen, tt.addr, got, everywhere, tt.want, tt.everywhere)
			}
		})
	}
}

// TestServeConfigTimeouts: a zero timeout of serveConfig is the default
// one; any other is the server's.
func TestServeConfigTimeouts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                    string
		sc                      serveConfig
		wantHeader, wantRequest time.Duration
	}{
		{"zero", serveConfig{}, defaultReadHeaderTimeout, defaultReadTimeout},
		{"headers", serveConfig{readHeaderTimeout: time.Second}, time.Second, defaultReadTimeout},
		{"request", serveConfig{readTimeout: 2 * time.Second}, defaultReadHeaderTimeout, 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := tt.sc.httpServer(http.NotFoundHandler(), slog.New(slog.DiscardHandler))
			if srv.ReadHeaderTimeout != tt.wantHeader || srv.ReadTimeout != tt.wantRequest {
				t.Errorf("%+v: ReadHeaderTimeout, ReadTimeout = %v, %v; want %v, %v",
					tt.sc, srv.ReadHeaderTimeout, srv.ReadTimeout, tt.wantHeader, tt.wantRequest)
			}
		})
	}
}

// TestServeCutsOffSlowClients: a client that stalls in its headers, or in
// its body, is cut off once the timeout of serveConfig has passed.
func TestServeCutsOffSlowClients(t *testing.T) {
	t.Parallel()
	const timeout = 300 * time.Millisecond
	tests := []struct {
		name string
		sc   serveConfig
		sent string // and then nothing
	}{
		{"headers", serveConfig{readHeaderTimeout: timeout}, "POST / HTTP/1.1\r\nHost: x\r\n"},
		{"body", serveConfig{readTimeout: timeout}, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			bodyErr := make(chan error, 1)
			handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, err := io.ReadAll(r.Body)
				bodyErr <- err
			})
			addr := startServe(t, tt.sc, handler)
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetReadDeadline(time.Now().Add(5 * time.Second)) // the default timeouts are longer
			start := time.Now()
			if _, err := io.WriteString(c, tt.sent); err != nil {
				t.Fatal(err)
			}
			reply, _ := bufio.NewReader(c).ReadString('\n') // the server closes, or answers
			took := time.Since(start)
			if took < timeout/2 || took > 3*time.Second {
				t.Fatalf("a client stalling in its %s was cut off after %v (reply %q), want about %v", tt.name, took, reply, timeout)
			}
			if tt.name != "body" {
				return
			}
			select {
			case err := <-bodyErr:
				if !errors.Is(err, os.ErrDeadlineExceeded) {
					t.Fatalf("reading the stalled body: %v, want a timeout", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("reading the stalled body did not end")
			}
		})
	}
}

// startServe serves handler as sc says on a loopback port until the test
// ends, and returns the address.
func startServe(t *testing.T, sc serveConfig, handler http.Handler) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	addrs := make(chan string, 1)
	go func() {
		done <- sc.serve(ctx, "127.0.0.1:0", handler, slog.New(slog.DiscardHandler), io.Discard, func(u string) { addrs <- u })
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	select {
	case u := <-addrs:
		parsed, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		return parsed.Host
	case err := <-done:
		done <- err // for the cleanup
		t.Fatalf("serve ended before it was ready: %v", err)
	}
	return ""
}

// TestServingCommandsCallBeforeServe: record, replay and mock call the
// beforeServe hook of their serveConfig once, before they announce where
// they serve.
func TestServingCommandsCallBeforeServe(t *testing.T) {
	// Not parallel: running an app writes to the help flag and command that
	// urfave/cli keeps in package variables, shared by every app.
	tests := []struct {
		name string
		args func(dir string) []string // dir: the command's own directory
	}{
		{"record", func(dir string) []string {
			return []string{"record", "--listen", "127.0.0.1:0", "--ca-dir", dir, "--cassette", filepath.Join(dir, "new.yaml"), "--upstream", "http://127.0.0.1:1"}
		}},
		{"replay", func(dir string) []string { return []string{"replay", "--listen", "127.0.0.1:0", "--ca-dir", dir} }},
		{"mock", func(string) []string { return []string{"mock", "--listen", "127.0.0.1:0"} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"metervcr"}, tt.args(t.TempDir())...)
			var stderr syncBuffer
			var calls int
			var announced bool
			sc := serveConfig{beforeServe: func() {
				calls++
				announced = strings.Contains(stderr.String(), " on http://")
			}}
			ctx, cancel := context.WithCancel(context.Background())
			cancel() // serve, then shut down at once
			if code := runWith(ctx, args, io.Discard, &stderr, sc); code != exitOK {
				t.Fatalf("exit %d, want %d\n%s", code, exitOK, stderr.String())
			}
			if calls != 1 || announced {
				t.Fatalf("beforeServe called %d times, after the announcement: %v; want once, before it\n%s", calls, announced, stderr.String())
			}
		})
	}
}
