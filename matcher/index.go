package matcher

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/metervcr/metervcr/cassettes"
)

// Index finds recorded interactions by lookup key in constant time,
// whatever the cassette's size. Several recordings with one key are served
// in recorded order, and the last one keeps being served. An Index is safe
// for concurrent use.
type Index struct {
	// Once makes each recording serve at most one request: once a key's
	// recordings are used up, Lookup misses. Set it before the first Lookup.
	Once bool

	m        *Matcher
	byKey    map[string]*slot
	recorded []Normalized // per interaction, for explaining misses
	used     []atomic.Bool
}

type slot struct {
	indexes []int
	next    atomic.Int64
}

// NewIndex normalises every recorded request of interactions.
func NewIndex(m *Matcher, interactions []*cassettes.Interaction) (*Index, error) {
	ix := &Index{
		m:        m,
		byKey:    make(map[string]*slot, len(interactions)),
		recorded: make([]Normalized, 0, len(interactions)),
		used:     make([]atomic.Bool, 0, len(interactions)),
	}
	// Normalising is the bulk of indexing a large cassette, and each
	// interaction is independent: spread it over the cores.
	recorded := make([]Normalized, len(interactions))
	errs := make([]error, len(interactions))
	workers := max(1, min(runtime.GOMAXPROCS(0), len(interactions)))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(interactions); i += workers {
				recorded[i], errs[i] = m.Normalize(recordedRequest(interactions[i]))
			}
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("interaction %d: %w", i, err)
		}
		ix.add(recorded[i])
	}
	return ix, nil
}

// NewEmptyIndex returns an index of no interactions, to fill with Add as a
// cassette is read.
func NewEmptyIndex(m *Matcher) *Index {
	return &Index{m: m, byKey: map[string]*slot{}}
}

// Add normalises the request of in and indexes it as the next interaction.
// It must not run concurrently with other methods.
func (ix *Index) Add(in *cassettes.Interaction) error {
	n, err := ix.m.Normalize(recordedRequest(in))
	if err != nil {
		return fmt.Errorf("interaction %d: %w", len(ix.recorded), err)
	}
	ix.add(n)
	return nil
}

func recordedRequest(in *cassettes.Interaction) Request {
	return Request{Method: in.Request.Method, URL: in.Request.URL, Header: in.Request.Headers, Body: []byte(in.Request.Body)}
}

func (ix *Index) add(n Normalized) {
	i := len(ix.recorded)
	ix.recorded = append(ix.recorded, n)
	ix.used = append(ix.used, atomic.Bool{})
	s := ix.byKey[n.Key]
	if s == nil {
		s = &slot{}
		ix.byKey[n.Key] = s
	}
	s.indexes = append(s.indexes, i)
}

// Len returns the number of recorded interactions.
func (ix *Index) Len() int { return len(ix.recorded) }

// Lookup returns the index of the interaction that answers n, or a *Miss
// explaining why none does.
func (ix *Index) Lookup(n Normalized) (int, error) {
	if i, ok := ix.take(ix.byKey[n.Key]); ok {
		return i, nil
	}
	return -1, ix.miss(n)
}

var keyBuffers = sync.Pool{New: func() any { return new([]byte) }}

// Match normalises r and returns the index of the interaction that answers
// it, or a *Miss explaining why none does. The lookup key is built in a
// pooled buffer: a request that matches allocates little.
func (ix *Index) Match(r Request) (int, error) {
	n, err := ix.m.head(r)
	if err != nil {
		return -1, err
	}
	buf := keyBuffers.Get().(*[]byte)
	key, err := ix.m.appendKey((*buf)[:0], &n, r.Body)
	if err != nil {
		keyBuffers.Put(buf)
		return -1, err
	}
	i, ok := ix.take(ix.byKey[string(key)])
	*buf = key
	keyBuffers.Put(buf)
	if ok {
		return i, nil
	}
	if n, err = ix.m.Normalize(r); err != nil {
		return -1, err
	}
	return -1, ix.miss(n)
}

// take serves the next recording of slot s, if any is left.
func (ix *Index) take(s *slot) (int, bool) {
	if s == nil {
		return -1, false
	}
	k := int(s.next.Add(1) - 1)
	if k >= len(s.indexes) && ix.Once {
		s.next.Store(int64(len(s.indexes)))
		return -1, false
	}
	if k >= len(s.indexes) {
		k = len(s.indexes) - 1
		s.next.Store(int64(len(s.indexes))) // keep the counter from growing without bound
	}
	i := s.indexes[k]
	ix.used[i].Store(true)
	return i, true
}

// miss explains why n found no recording to serve.
func (ix *Index) miss(n Normalized) *Miss {
	miss := ix.explain(n)
	if ix.Once && ix.byKey[n.Key] != nil {
		miss.UsedUp = true
	}
	return miss
}

// Unused returns the indexes of recorded interactions never served.
func (ix *Index) Unused() []int {
	var out []int
	for i := range ix.used {
		if !ix.used[i].Load() {
			out = append(out, i)
		}
	}
	return out
}

// Recorded returns the normalised form of interaction i.
func (ix *Index) Recorded(i int) Normalized { return ix.recorded[i] }
