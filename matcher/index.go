package matcher

import (
	"fmt"
	"hash/maphash"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/metervcr/metervcr/cassettes"
	"github.com/metervcr/metervcr/cassettes/metering"
)

// Index finds recorded interactions by lookup key in constant time,
// whatever the cassette's size. Several recordings with one key are served
// in recorded order, and the last one keeps being served. An Index is safe
// for concurrent use, once filled.
//
// Its memory is a few large blocks rather than objects per interaction:
// the keys live in shared text blocks and the bookkeeping in flat arrays,
// so that a cassette of 100,000 interactions gives the garbage collector
// little to trace while replay serves.
type Index struct {
	// Once makes each recording serve at most one request: once a key's
	// recordings are used up, Lookup misses. Set it before the first Lookup.
	Once bool

	m     *Matcher
	text  textArena
	keys  []textRef        // per interaction: its lookup key
	seed  maphash.Seed     // of the hashes of keys
	heads map[uint64]int32 // hash of a key → first interaction with the first key of that hash
	// Per interaction; others, last and cursor are read on first
	// interactions of a key only.
	others []int32        // first interaction of the next key with the same hash, -1 for none
	next   []int32        // next interaction with the same key, -1 for none
	last   []int32        // last interaction with the same key
	cursor []atomic.Int32 // interaction to serve next, -1 when used up (Once)
	used   []atomic.Bool
}

// NewIndex normalises every recorded request of interactions.
func NewIndex(m *Matcher, interactions []*cassettes.Interaction) (*Index, error) {
	ix := NewEmptyIndex(m)
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
		ix.add(recorded[i].Key)
	}
	return ix, nil
}

// NewEmptyIndex returns an index of no interactions, to fill with Add as a
// cassette is read.
func NewEmptyIndex(m *Matcher) *Index {
	return &Index{m: m, heads: map[uint64]int32{}, seed: maphash.MakeSeed()}
}

// Add normalises the request of in and indexes it as the next interaction.
// It must not run concurrently with other methods.
func (ix *Index) Add(in *cassettes.Interaction) error {
	n, err := ix.m.Normalize(recordedRequest(in))
	if err != nil {
		return fmt.Errorf("interaction %d: %w", len(ix.keys), err)
	}
	ix.add(n.Key)
	return nil
}

func recordedRequest(in *cassettes.Interaction) Request {
	return Request{Method: in.Request.Method, URL: in.Request.URL, Header: in.Request.Headers, Body: []byte(in.Request.Body)}
}

func (ix *Index) add(key string) {
	i := int32(len(ix.keys))
	ix.keys = append(ix.keys, ix.text.add(key))
	ix.others = append(ix.others, -1)
	ix.next = append(ix.next, -1)
	ix.last = append(ix.last, i)
	ix.cursor = append(ix.cursor, atomic.Int32{})
	ix.cursor[i].Store(i)
	ix.used = append(ix.used, atomic.Bool{})
	h := maphash.String(ix.seed, key)
	head, ok := ix.heads[h]
	if !ok {
		ix.heads[h] = i
		return
	}
	for ix.text.get(ix.keys[head]) != key {
		if ix.others[head] < 0 {
			ix.others[head] = i // a new key with the same hash
			return
		}
		head = ix.others[head]
	}
	ix.next[ix.last[head]] = i
	ix.last[head] = i
}

// find returns the first interaction with key.
func (ix *Index) find(key []byte) (int32, bool) {
	head, ok := ix.heads[maphash.Bytes(ix.seed, key)]
	for ok && head >= 0 {
		if ix.text.get(ix.keys[head]) == string(key) {
			return head, true
		}
		head = ix.others[head]
	}
	return -1, false
}

// Len returns the number of recorded interactions.
func (ix *Index) Len() int { return len(ix.keys) }

// Lookup returns the index of the interaction that answers n, or a *Miss
// explaining why none does.
func (ix *Index) Lookup(n Normalized) (int, error) {
	if head, ok := ix.find([]byte(n.Key)); ok {
		if i, ok := ix.take(head); ok {
			return i, nil
		}
	}
	return -1, ix.miss(n)
}

var keyBuffers = sync.Pool{New: func() any { return new([]byte) }}

// Match normalises r and returns the index of the interaction that answers
// it, or a *Miss explaining why none does. The lookup key is built in a
// pooled buffer: a request that matches allocates little.
func (ix *Index) Match(r Request) (int, error) {
	return ix.MatchChecked(r, "", nil)
}

// Field is what Index.MatchChecked reports of one top-level member of a
// request body, read in the same pass over the body as the lookup key.
type Field struct {
	// Text is the value's text: a string's without quotes, a number's as
	// written; of a repeated member, the last, which decoding keeps.
	Text     string
	IsString bool
	Found    bool // the body has the member
	// Read is false when the one-pass reader left the body to the general
	// path (escapes, text outside ASCII, a compared key repeated): the
	// other fields then say nothing, and the caller reads the body itself.
	Read bool
}

// MatchChecked is Match for a caller that checks the top-level member
// field of the request body, which the pass that builds the lookup key
// reads on the way: check, when not nil, gets it once the key is built
// and before a recording is taken. An error from check is returned as it
// is, and nothing is taken.
func (ix *Index) MatchChecked(r Request, field string, check func(Field) error) (int, error) {
	n, err := ix.m.head(r)
	if err != nil {
		return -1, err
	}
	buf := keyBuffers.Get().(*[]byte)
	key, f, err := ix.m.appendKeyField((*buf)[:0], &n, r.Body, field)
	if err == nil && check != nil {
		err = check(f)
	}
	if err != nil {
		keyBuffers.Put(buf)
		return -1, err
	}
	head, found := ix.find(key)
	*buf = key
	keyBuffers.Put(buf)
	if found {
		if i, ok := ix.take(head); ok {
			return i, nil
		}
	}
	if n, err = ix.m.Normalize(r); err != nil {
		return -1, err
	}
	return -1, ix.miss(n)
}

// take serves the next recording of the key whose first interaction is
// head, if any is left.
func (ix *Index) take(head int32) (int, bool) {
	c := &ix.cursor[head]
	for {
		cur := c.Load()
		if cur < 0 {
			return -1, false
		}
		next := ix.next[cur]
		switch {
		case next >= 0:
			if !c.CompareAndSwap(cur, next) {
				continue
			}
		case ix.Once:
			if !c.CompareAndSwap(cur, -1) {
				continue
			}
		} // else the last recording keeps being served
		ix.used[cur].Store(true)
		return int(cur), true
	}
}

// miss explains why n found no recording to serve.
func (ix *Index) miss(n Normalized) *Miss {
	miss := ix.explain(n)
	if _, ok := ix.find([]byte(n.Key)); ok && ix.Once {
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

// Recorded returns the normalised form of interaction i, read back from
// its key.
func (ix *Index) Recorded(i int) Normalized {
	k := ix.text.get(ix.keys[i])
	n := Normalized{Key: k}
	n.Method, k, _ = strings.Cut(k, " ")
	n.Path, k, _ = strings.Cut(k, "?")
	n.Query, k, _ = strings.Cut(k, "\n")
	n.Target, n.Body, _ = strings.Cut(k, "\n")
	n.Operation, _ = metering.OperationFromTarget(n.Target)
	return n
}

// textArena keeps many strings in a few large blocks, which hold no
// pointers for the garbage collector to trace.
type textArena struct {
	blocks []string
	block  strings.Builder // the block being filled: the last of blocks
}

// textRef is where textArena keeps a string.
type textRef struct{ block, start, end uint32 }

const textBlock = 1 << 20

// add copies s into the arena.
func (a *textArena) add(s string) textRef {
	if len(a.blocks) == 0 || a.block.Cap()-a.block.Len() < len(s) {
		// Start a new block; the full one stays as it is.
		a.block = strings.Builder{}
		a.block.Grow(max(textBlock, len(s)))
		a.blocks = append(a.blocks, "")
	}
	start := a.block.Len()
	a.block.WriteString(s)
	last := len(a.blocks) - 1
	a.blocks[last] = a.block.String() // the same bytes, now longer
	return textRef{uint32(last), uint32(start), uint32(a.block.Len())}
}

// get returns the string at r.
func (a *textArena) get(r textRef) string { return a.blocks[r.block][r.start:r.end] }
