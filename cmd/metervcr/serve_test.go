package main

import (
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
