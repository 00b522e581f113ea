package main

import (
	"context"
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

// TestRunLeavesGCPercentAlone: the serving commands run in-process leave
// the process's collector as it is, GOGC or not.
func TestRunLeavesGCPercentAlone(t *testing.T) {
	t.Setenv("GOGC", "")
	old := debug.SetGCPercent(42) // a percentage gcPercent never returns
	defer debug.SetGCPercent(old)
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // serve, then shut down at once
	for _, args := range [][]string{
		{"replay", "--listen", "127.0.0.1:0", "--ca-dir", t.TempDir()},
		{"mock", "--listen", "127.0.0.1:0"},
	} {
		if code, _, stderr := runAppContext(t, ctx, args...); code != exitOK {
			t.Fatalf("%v: exit %d, want %d\n%s", args, code, exitOK, stderr)
		}
		if got := debug.SetGCPercent(42); got != 42 {
			t.Fatalf("after %v, the collector's percentage = %d, want 42 as the test set it", args, got)
		}
	}
}

// TestProcessServeConfigSetsGCHeadroom: the process's serving
// configuration gives the collector its headroom before serving, unless
// GOGC is set.
func TestProcessServeConfigSetsGCHeadroom(t *testing.T) {
	old := debug.SetGCPercent(42)
	defer debug.SetGCPercent(old)
	for _, tt := range []struct {
		name    string
		gogc    string
		changed bool
	}{
		{"no GOGC", "", true},
		{"GOGC", "50", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("GOGC", tt.gogc)
			debug.SetGCPercent(42)
			processServeConfig().beforeServe()
			got := debug.SetGCPercent(42)
			if changed := got != 42; changed != tt.changed || changed && (got < 100 || got > 1600) {
				t.Fatalf("GOGC=%q: percentage %d after beforeServe; want it changed (%v) to within 100 and 1600", tt.gogc, got, tt.changed)
			}
		})
	}
}
