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
	"runtime/debug"
	"testing"
	"time"
)

// TestGCPercentGivesHeadroom: a small live heap gets gcHeadroom to grow,
// within the bounds; a large one keeps Go's default.
func TestGCPercentGivesHeadroom(t *testing.T) {
	for _, c := range []struct {
		live uint64
		want int
	}{
		{0, 1600},       // no collection yet: the smallest heap goal, capped
		{2 << 20, 1600}, // below the runtime's smallest goal
		{5 << 20, 1280}, // 5 MiB live: 64 MiB to grow
		{16 << 20, 400}, // 16 MiB live
		{64 << 20, 100}, // as much as the default gives
		{1 << 30, 100},  // never below the default
	} {
		if got := gcPercent(c.live); got != c.want {
			t.Errorf("gcPercent(%d MiB) = %d, want %d", c.live>>20, got, c.want)
		}
	}
}

// TestSetGCHeadroomYieldsToGOGC: a GOGC set by the user is left alone;
// without one the percentage follows the live heap.
func TestSetGCHeadroomYieldsToGOGC(t *testing.T) {
	old := debug.SetGCPercent(123)
	defer debug.SetGCPercent(old)
	setGCHeadroom("50")
	if got := debug.SetGCPercent(123); got != 123 {
		t.Fatalf("with GOGC set, the percentage became %d; it must stay as the runtime read it", got)
	}
	setGCHeadroom("")
	if got, want := debug.SetGCPercent(123), gcPercent(liveHeap()); got != want {
		t.Fatalf("percentage = %d, want %d for a live heap of %d bytes", got, want, liveHeap())
	}
}

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
