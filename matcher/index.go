package matcher

import (
	"fmt"
	"hash/maphash"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/metervcr/metervcr/cassettes"
	"github.com/metervcr/metervcr/internal/hugepage"
	"github.com/metervcr/metervcr/metering"
)

// Index finds recorded interactions by lookup key in constant time,
// whatever the cassette's size. Several recordings with one key are served
// in recorded order, and the last one keeps being served. An Index is safe
// for concurrent use, once filled.
//
// Its memory is a few large blocks rather than objects per interaction:
// the keys live in shared text blocks and the bookkeeping in flat arrays,
// so that a cassette of 100,000 interactions gives the garbage collector
// little to trace while replay serves. A hit reads one slot of table, one
// or two entries and the key's text, so that a large cassette costs few
// cache and TLB misses per request.
type Index struct {
	// Once makes each recording serve at most one request: once a key's
	// recordings are used up, Lookup misses. Set it before the first Lookup.
	Once bool

	m       *Matcher
	text    textArena
	seed    maphash.Seed // of the hashes of keys
	table   []slot       // open addressing, linear probing; a power of two long, at most half full
	keys    int          // distinct keys: the slots in use
	entries []entry      // per interaction
	// legacyMatches counts the requests matched through Matcher.legacy.
	legacyMatches atomic.Int64
}

// slot is a place in Index.table for one distinct key.
type slot struct {
	hash  uint32 // the key's hash; its low bits are the slot's home
	first int32  // first interaction with the key, plus one; 0 for an empty slot
}

// entry is the bookkeeping of one interaction, all in one 32-byte record
// so that a hit reads one cache line for it.
type entry struct {
	key  textRef
	next int32 // next interaction with the same key, -1 for none
	// On a key's first interaction only:
	last   int32        // last interaction with the key
	cursor atomic.Int32 // interaction to serve next, -1 when used up (Once)
	used   atomic.Uint32
	_      [4]byte
}

// The size of entry is a divisor of a cache line: no entry straddles two.
var _ [0]struct{} = [unsafe.Sizeof(entry{}) - 32]struct{}{}

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
	ix.entries = hugepage.Grow(ix.entries, len(interactions))
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
	return &Index{m: m, seed: maphash.MakeSeed()}
}

// Add normalises the request of in and indexes it as the next interaction.
// It must not run concurrently with other methods.
func (ix *Index) Add(in *cassettes.Interaction) error {
	n, err := ix.m.Normalize(recordedRequest(in))
	if err != nil {
		return fmt.Errorf("interaction %d: %w", len(ix.entries), err)
	}
	ix.add(n.Key)
	return nil
}

// AddWith is Add, and keeps a copy of extra just after the interaction's
// key, which a hit on the interaction has just read: reading the copy
// after a hit costs few cache or TLB misses. The copy lives as long as the
// index.
func (ix *Index) AddWith(in *cassettes.Interaction, extra string) (string, error) {
	n, err := ix.m.Normalize(recordedRequest(in))
	if err != nil {
		return "", fmt.Errorf("interaction %d: %w", len(ix.entries), err)
	}
	return ix.addHashed(n.Key, extra, hash(ix, n.Key)), nil
}

func recordedRequest(in *cassettes.Interaction) Request {
	return Request{Method: in.Request.Method, URL: in.Request.URL, Header: in.Request.Headers, Body: []byte(in.Request.Body)}
}

// hash returns the hash of a key, 32 bits of it.
func hash[K string | []byte](ix *Index, key K) uint32 {
	var h uint64
	switch k := any(key).(type) {
	case string:
		h = maphash.String(ix.seed, k)
	case []byte:
		h = maphash.Bytes(ix.seed, k)
	}
	return uint32(h ^ h>>32)
}

func (ix *Index) add(key string) { ix.addHashed(key, "", hash(ix, key)) }

// addHashed indexes key, whose hash is h, as the next interaction, and
// returns the copy of extra kept after it.
func (ix *Index) addHashed(key, extra string, h uint32) string {
	i := int32(len(ix.entries))
	ref, kept := ix.text.add(key, extra)
	ix.entries = hugepage.Grow(ix.entries, 1)
	ix.entries = append(ix.entries, entry{key: ref, next: -1, last: i})
	ix.entries[i].cursor.Store(i)
	if at := slotOf(ix, key, h); at >= 0 {
		head := &ix.entries[ix.table[at].first-1]
		ix.entries[head.last].next = i
		head.last = i
		return kept
	}
	if 2*(ix.keys+1) > len(ix.table) {
		ix.grow()
	}
	mask := len(ix.table) - 1
	at := int(h) & mask
	for ix.table[at].first != 0 {
		at = (at + 1) & mask
	}
	ix.table[at] = slot{hash: h, first: i + 1}
	ix.keys++
	return kept
}

// grow doubles the table and places its keys again.
func (ix *Index) grow() {
	old := ix.table
	ix.table = hugepage.Make[slot](max(16, 2*len(old)))
	mask := len(ix.table) - 1
	for _, s := range old {
		if s.first == 0 {
			continue
		}
		at := int(s.hash) & mask
		for ix.table[at].first != 0 {
			at = (at + 1) & mask
		}
		ix.table[at] = s
	}
}

// slotOf returns the place in ix's table of key, whose hash is h, or -1.
func slotOf[K string | []byte](ix *Index, key K, h uint32) int {
	if len(ix.table) == 0 {
		return -1
	}
	mask := len(ix.table) - 1
	for at := int(h) & mask; ; at = (at + 1) & mask {
		s := ix.table[at]
		if s.first == 0 {
			return -1
		}
		if s.hash == h && ix.text.get(ix.entries[s.first-1].key) == string(key) {
			return at
		}
	}
}

// find returns the first interaction with key.
func (ix *Index) find(key []byte) (int32, bool) {
	at := slotOf(ix, key, hash(ix, key))
	if at < 0 {
		return -1, false
	}
	return ix.table[at].first - 1, true
}

// Len returns the number of recorded interactions.
func (ix *Index) Len() int { return len(ix.entries) }

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
	// written; of a repeated member, the last's, which decoding keeps.
	Text     string
	IsString bool
	Found    bool // the member is there, a string or a number
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
	if ix.m.legacy != nil {
		if key, err := ix.m.legacy.appendKey(nil, &n, r.Body); err == nil {
			if head, found := ix.find(key); found {
				if i, ok := ix.take(head); ok {
					ix.legacyMatches.Add(1)
					return i, nil
				}
			}
		}
	}
	if n, err = ix.m.Normalize(r); err != nil {
		return -1, err
	}
	return -1, ix.miss(n)
}

// LegacyMatches returns how many requests matched only through the keyed
// placeholder of a token, as metervcr wrote them before placeholders of
// tokens were keyless: such cassettes replay only where their key is.
func (ix *Index) LegacyMatches() int64 { return ix.legacyMatches.Load() }

// take serves the next recording of the key whose first interaction is
// head, if any is left.
func (ix *Index) take(head int32) (int, bool) {
	c := &ix.entries[head].cursor
	for {
		cur := c.Load()
		if cur < 0 {
			return -1, false
		}
		e := &ix.entries[cur]
		switch next := e.next; {
		case next >= 0:
			if !c.CompareAndSwap(cur, next) {
				continue
			}
		case ix.Once:
			if !c.CompareAndSwap(cur, -1) {
				continue
			}
		} // else the last recording keeps being served
		if e.used.Load() == 0 { // read first: a served entry's line stays clean
			e.used.Store(1)
		}
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
	for i := range ix.entries {
		if ix.entries[i].used.Load() == 0 {
			out = append(out, i)
		}
	}
	return out
}

// Recorded returns the normalised form of interaction i, read back from
// its key.
func (ix *Index) Recorded(i int) Normalized {
	k := ix.text.get(ix.entries[i].key)
	n := Normalized{Key: k}
	n.Method, k, _ = strings.Cut(k, " ")
	n.Path, k, _ = strings.Cut(k, "?")
	n.Query, k, _ = strings.Cut(k, "\n")
	n.Target, n.Body, _ = strings.Cut(k, "\n")
	n.Operation, _ = metering.OperationFromTarget(n.Target)
	return n
}

// textArena keeps many strings in a few large blocks, which hold no
// pointers for the garbage collector to trace. Blocks grow with the arena
// up to a size where huge pages back them.
type textArena struct {
	blocks []string
	block  []byte // the block being filled: the bytes of the last of blocks
	full   int    // bytes in the blocks before it
}

// textRef is where textArena keeps a string.
type textRef struct{ block, start, end uint32 }

// The smallest and largest sizes of a text block.
const (
	textBlock    = 1 << 20
	maxTextBlock = 8 << 20
)

// add copies s, then extra, into the arena, next to each other. It
// returns where s is and the copy of extra.
func (a *textArena) add(s, extra string) (textRef, string) {
	n := len(s) + len(extra)
	if len(a.blocks) == 0 || cap(a.block)-len(a.block) < n {
		// Start a new block; the full one stays as it is.
		a.full += len(a.block)
		a.block = hugepage.Make[byte](max(min(max(textBlock, a.full), maxTextBlock), n))[:0]
		a.blocks = append(a.blocks, "")
	}
	start := len(a.block)
	a.block = append(a.block, s...)
	end := len(a.block)
	a.block = append(a.block, extra...)
	// The same bytes, now longer: bytes once added are never written again.
	last := a.blocks[len(a.blocks)-1 : len(a.blocks)]
	last[0] = unsafe.String(unsafe.SliceData(a.block), len(a.block))
	return textRef{uint32(len(a.blocks) - 1), uint32(start), uint32(end)}, last[0][end:]
}

// get returns the string at r.
func (a *textArena) get(r textRef) string { return a.blocks[r.block][r.start:r.end] }
