package main

import (
	"net"
	"runtime/debug"
	"testing"
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
