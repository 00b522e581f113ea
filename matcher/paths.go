package matcher

import (
	"maps"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/metervcr/metervcr/cassettes"
)

// pathInfo is what matching does with the values at one path of one
// operation's bodies: leave them out, truncate them to the hour, and how
// to redact them.
type pathInfo struct {
	ignored, timestamp bool
	leaf               cassettes.LeafPlace
}

// Paths up to this deep are remembered, up to this many of them: the
// API's bodies are a few levels deep and use a few dozen paths, and a
// client sending made-up fields cannot grow the memory without bound.
const (
	maxCachedDepth = 4
	maxCachedPaths = 1024
)

type pathKey struct {
	op   string
	n    int
	segs [maxCachedDepth]string
}

// pathCache remembers pathInfo per operation and path. Reads take no lock
// and allocate nothing: the map is replaced, never changed.
type pathCache struct {
	m  atomic.Pointer[map[pathKey]*pathInfo]
	mu sync.Mutex // serialises replacing the map
}

// info returns what matching does with the values at path of op's bodies.
func (m *Matcher) info(op string, path []string) *pathInfo {
	if len(path) > maxCachedDepth {
		return m.newInfo(op, path)
	}
	k := pathKey{op: op, n: len(path)}
	copy(k.segs[:], path)
	if known := m.paths.m.Load(); known != nil {
		if pi := (*known)[k]; pi != nil {
			return pi
		}
	}
	pi := m.newInfo(op, path)
	m.paths.mu.Lock()
	defer m.paths.mu.Unlock()
	known := m.paths.m.Load()
	if known != nil && len(*known) >= maxCachedPaths {
		return pi
	}
	next := make(map[pathKey]*pathInfo, 1)
	if known != nil {
		next = maps.Clone(*known)
	}
	// The segments may be slices of a request body: keep copies, not the
	// body.
	k.op = strings.Clone(k.op)
	for i := range k.segs {
		k.segs[i] = strings.Clone(k.segs[i])
	}
	next[k] = pi
	m.paths.m.Store(&next)
	return pi
}

func (m *Matcher) newInfo(op string, path []string) *pathInfo {
	pi := &pathInfo{ignored: m.ignored(op, path), timestamp: m.timestamp(op, path)}
	if m.redactor != nil && len(path) > 0 {
		pi.leaf = m.redactor.Place(op, path)
	}
	return pi
}
