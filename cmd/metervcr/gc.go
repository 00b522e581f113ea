package main

import (
	"runtime/debug"
	"runtime/metrics"
)

// gcHeadroom is how far the heap may grow past its live part before the
// collector runs again, at least. Go's default lets a heap grow by as much
// as is live: a proxy with a small cassette would collect dozens of times
// a second under load, each collection costing CPU and tail latency. The
// headroom is used only under load; an idle proxy stays small.
const gcHeadroom = 64 << 20

// setGCHeadroom raises the collector's percentage so that, with the heap
// live once the cassette is loaded, the heap grows by gcHeadroom before a
// collection. It caps the percentage so that a heap that grows later
// (recording appends interactions) is not allowed many times its size;
// it never lowers it, and a GOGC in the environment (gogc) wins.
func setGCHeadroom(gogc string) {
	if gogc != "" {
		return
	}
	debug.SetGCPercent(gcPercent(liveHeap()))
}

// gcPercent returns the percentage that gives a heap of live bytes
// gcHeadroom to grow, within 100 (the default) and 1600.
func gcPercent(live uint64) int {
	live = max(live, 4<<20) // the smallest heap goal the runtime uses
	return int(min(max(gcHeadroom*100/live, 100), 1600))
}

// liveHeap returns the bytes of heap found live by the last collection, or
// 0 when there has been none.
func liveHeap() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}
