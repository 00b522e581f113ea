package matcher

import (
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/metervcr/metervcr/cassettes/redact"
)

// pathInfo is what matching does with the values at one path of one
// operation's bodies: leave them out, truncate them to the hour, and how
// to redact them.
type pathInfo struct {
	op                 string
	path               []string
	ignored, timestamp bool
	leaf               redact.LeafPlace
}

// maxCachedPaths bounds the paths remembered: the API's bodies use a few
// dozen, and a client sending made-up fields must not grow the memory
// without bound.
const maxCachedPaths = 1024

// pathCache remembers pathInfo by a hash of operation and path, which the
// one-pass reader computes as it goes. Reads take no lock and allocate
// nothing: the map is replaced, never changed.
type pathCache struct {
	m  atomic.Pointer[map[uint64]*pathInfo]
	mu sync.Mutex // serialises replacing the map
}

// FNV-1a, fed one byte at a time as the reader walks keys; every segment
// ends with a zero byte, which JSON text without escapes never holds.
const (
	hashSeed  = 14695981039346656037
	hashPrime = 1099511628211
)

func hashString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * hashPrime
	}
	return h
}

// hashSegment extends the hash h of a path by one segment.
func hashSegment(h uint64, seg string) uint64 { return hashString(h, seg) * hashPrime }

// info returns what matching does with the values at path of op's bodies;
// h is the hash of op and path (hashSegment from hashSegment(hashSeed, op)).
func (m *Matcher) info(op string, path []string, h uint64) *pathInfo {
	if known := m.paths.m.Load(); known != nil {
		if pi := (*known)[h]; pi != nil && pi.op == op && slices.Equal(pi.path, path) {
			return pi
		}
	}
	// The segments may be slices of a request body, which its owner may
	// reuse: what is kept, the place redaction computes included, is built
	// from copies.
	segs := make([]string, len(path))
	for i, seg := range path {
		segs[i] = strings.Clone(seg)
	}
	pi := m.newInfo(strings.Clone(op), segs)
	m.paths.mu.Lock()
	defer m.paths.mu.Unlock()
	known := m.paths.m.Load()
	if known != nil && (len(*known) >= maxCachedPaths || (*known)[h] != nil) {
		return pi // full, or another path with the same hash
	}
	next := make(map[uint64]*pathInfo, 1)
	if known != nil {
		next = maps.Clone(*known)
	}
	next[h] = pi
	m.paths.m.Store(&next)
	return pi
}

func (m *Matcher) newInfo(op string, path []string) *pathInfo {
	pi := &pathInfo{op: op, path: path, ignored: m.ignored(op, path), timestamp: m.timestamp(op, path)}
	if len(path) > 0 {
		pi.leaf = m.redactor.Place(op, path)
	}
	return pi
}
