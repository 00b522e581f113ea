package matcher

import (
	"math"
	"strconv"
	"sync"

	"github.com/metervcr/metervcr/internal/jsontext"
)

// canon writes the canonical form of a JSON body in one pass over its
// text, without decoding it into maps: the same bytes as the general path
// (decode, drop ignored fields, truncate timestamps, redact, rewrite
// numbers, encode with sorted keys), which FuzzCanonical checks. It
// handles the bodies SDKs send: ASCII strings without escapes, no repeated
// keys. For anything else it gives up, and the caller takes the general
// path, which also reports errors, so they come from one place.
type canon struct {
	jsontext.Reader
	m     *Matcher
	op    string
	out   []byte
	tmp   []byte
	path  []string
	hash  []uint64 // hash of op and path[:i+1], for the path cache
	lists jsontext.Lists
	skip  int    // > 0 inside an ignored field: read, not written
	seed  uint64 // hash of op
	mem   []member
	// field, when set, names a top-level member whose value the pass
	// reports in got (see Index.MatchChecked).
	field string
	got   Field
}

// member is one written member of an object being canonicalised: its key
// and where `"key":value` sits in out.
type member struct {
	key        string
	start, end int
}

var canonPool = sync.Pool{New: func() any { return new(canon) }}

// appendCanonical appends the canonical form of body to dst. ok is false
// when the fast path gives up.
func (m *Matcher) appendCanonical(dst []byte, op, body string) (out []byte, ok bool) {
	out, _, ok = m.appendCanonicalField(dst, op, body, "")
	return out, ok
}

// appendCanonicalField is appendCanonical that also reports the top-level
// member field of the body, when field is not "".
func (m *Matcher) appendCanonicalField(dst []byte, op, body, field string) (out []byte, f Field, ok bool) {
	c := canonPool.Get().(*canon)
	c.Reset(body)
	c.m, c.op, c.out = m, op, dst
	c.path, c.hash, c.mem, c.skip = c.path[:0], c.hash[:0], c.mem[:0], 0
	c.seed = hashSegment(hashSeed, op)
	c.field, c.got = field, Field{}
	ok = c.document()
	out, f = c.out, c.got
	c.Reset("")
	c.m, c.out, c.field, c.got = nil, nil, "", Field{}
	canonPool.Put(c)
	f.Read = ok
	if !ok {
		f = Field{}
	}
	return out, f, ok
}

// BodyField reads the top-level member name of the JSON object body, as
// Index.MatchChecked reports it, without building a lookup key. Its Read
// is false when body is not an object or holds what the one-pass reader
// leaves to a full decoder (escapes, text outside ASCII, any repeated
// key); the caller then decodes the body itself.
func BodyField(body []byte, name string) Field {
	return visitLeaves(body, name, func([]string, string, bool) {})
}

// visitLeaves calls fn with the path (as FieldPath names it) and the text
// of every string and number of the JSON object body, in document order,
// without decoding it into maps, and returns the top-level member field,
// when field is not "", as BodyField does. Read is false, perhaps after
// some calls, when body is not an object or holds what the one-pass reader
// leaves to a full decoder (escapes, text outside ASCII, repeated keys).
func visitLeaves(body []byte, field string, fn func(path []string, v string, isString bool)) Field {
	src := string(body)
	var r jsontext.Reader
	r.Reset(src)
	r.Space()
	if r.AtEnd() {
		return Field{Read: true} // the empty body
	}
	if r.Peek() != '{' {
		return Field{}
	}
	var got Field
	ok := jsontext.Leaves(src, func(path []string, v string, isString bool) bool {
		if field != "" && len(path) == 1 && path[0] == field {
			got = Field{Text: v, IsString: isString, Found: true}
		}
		fn(path, v, isString)
		return true
	})
	if !ok {
		return Field{}
	}
	got.Read = true
	return got
}

// document reads one JSON object and nothing after it but white space. A
// body of white space alone is the empty body.
func (c *canon) document() bool {
	c.Space()
	if c.AtEnd() {
		return true
	}
	if !c.Skip('{') || !c.object() {
		return false
	}
	c.Space()
	return c.AtEnd()
}

// value reads a value at the current path, whose pathInfo is pi.
func (c *canon) value(pi *pathInfo) bool {
	switch ch := c.Peek(); {
	case ch == '{':
		c.Skip(ch)
		return c.object()
	case ch == '[':
		c.Skip(ch)
		return c.array()
	case ch == '"':
		s, ok := c.Str()
		return ok && c.leaf(pi, s, true)
	case ch == '-' || ch >= '0' && ch <= '9':
		n, ok := c.Number()
		return ok && c.leaf(pi, n, false)
	}
	lit, ok := c.Literal()
	if ok {
		c.out = append(c.out, lit...)
	}
	return ok
}

// object reads an object after its '{' and writes its members sorted by
// key, leaving out ignored fields.
func (c *canon) object() bool {
	start, base := len(c.out), len(c.mem)
	c.out = append(c.out, '{')
	c.Space()
	if c.Skip('}') {
		c.out = append(c.out, '}')
		return true
	}
	for {
		key, ok := c.Key()
		if !ok {
			return false
		}
		pi := c.push(key)
		if c.field != "" && len(c.path) == 1 && key == c.field {
			c.got = Field{} // a later member replaces an earlier one
		}
		at := len(c.out)
		c.out = append(c.out, '"')
		c.out = append(c.out, key...)
		c.out = append(c.out, '"', ':')
		ignored := pi.ignored
		if ignored {
			c.skip++
		}
		if !c.value(pi) {
			return false
		}
		if ignored {
			c.skip--
			c.out = c.out[:at] // read to check it, but not compared
		} else {
			c.mem = append(c.mem, member{key: key, start: at, end: len(c.out)})
		}
		c.path, c.hash = c.path[:len(c.path)-1], c.hash[:len(c.hash)-1]
		more, ok := c.After('}')
		if !ok {
			return false
		}
		if !more {
			break
		}
	}
	// Sort the members by key (insertion sort: objects are small) and
	// write them back with commas.
	ms := c.mem[base:]
	for i := 1; i < len(ms); i++ {
		for j := i; j > 0 && ms[j].key < ms[j-1].key; j-- {
			ms[j], ms[j-1] = ms[j-1], ms[j]
		}
	}
	for i := 1; i < len(ms); i++ {
		if ms[i].key == ms[i-1].key {
			return false // a repeated key: the general path keeps the last
		}
	}
	c.tmp = append(c.tmp[:0], c.out[start:]...)
	c.out = c.out[:start+1]
	for i, mb := range ms {
		if i > 0 {
			c.out = append(c.out, ',')
		}
		c.out = append(c.out, c.tmp[mb.start-start:mb.end-start]...)
	}
	c.out = append(c.out, '}')
	c.mem = c.mem[:base]
	return true
}

// array reads a list after its '['. Its elements' path ends in name[], as
// FieldPath names them.
func (c *canon) array() bool {
	c.out = append(c.out, '[')
	last := len(c.path) - 1
	field, h := c.path[last], c.hash[last]
	c.path[last] = c.lists.Segment(field)
	c.hash[last] = hashSegment(hashString(c.parentHash(last), field), "[]")
	defer func() { c.path[last], c.hash[last] = field, h }()
	pi := c.info()
	c.Space()
	if c.Skip(']') {
		c.out = append(c.out, ']')
		return true
	}
	for {
		if !c.value(pi) {
			return false
		}
		more, ok := c.After(']')
		if !more {
			if ok {
				c.out = append(c.out, ']')
			}
			return ok
		}
		c.out = append(c.out, ',')
	}
}

// push enters the member key of the current object and returns its
// pathInfo.
func (c *canon) push(key string) *pathInfo {
	c.hash = append(c.hash, hashSegment(c.parentHash(len(c.path)), key))
	c.path = append(c.path, key)
	return c.info()
}

// parentHash is the hash of op and the first n segments of the path.
func (c *canon) parentHash(n int) uint64 {
	if n == 0 {
		return c.seed
	}
	return c.hash[n-1]
}

// info returns the pathInfo of the current path.
func (c *canon) info() *pathInfo {
	return c.m.info(c.op, c.path, c.hash[len(c.hash)-1])
}

// leaf writes a string or number: truncated to the hour when it is a
// usage timestamp compared so, redacted as recording redacts, numbers in
// one notation.
func (c *canon) leaf(pi *pathInfo, v string, isString bool) bool {
	if c.field != "" && len(c.path) == 1 && c.path[0] == c.field {
		c.got = Field{Text: v, IsString: isString, Found: true}
	}
	if c.skip > 0 {
		return true // an ignored field: checked as JSON, never compared
	}
	if !isString && pi.timestamp {
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			v = strconv.FormatInt(int64(math.Floor(f/3600))*3600, 10)
		}
	}
	red, ok := c.m.redactor.Leaf(pi.leaf, v, isString)
	if !ok {
		return false
	}
	if red != v {
		// A redacted number becomes text, as in the general path.
		return c.quoted(red)
	}
	if isString {
		return c.quoted(v)
	}
	if smallInt(v) {
		c.out = append(c.out, v...) // what FormatFloat gives back
		return true
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsInf(f, 0) {
		c.out = append(c.out, v...) // as canonicalNumbers keeps it
		return true
	}
	c.out = strconv.AppendFloat(c.out, f, 'g', -1, 64)
	return true
}

// smallInt reports whether the number text v is an integer below a
// million, which strconv.FormatFloat(f, 'g', -1, 64) writes as v itself
// (JSON has no leading zeros; 'g' turns to exponents from 1e+06).
func smallInt(v string) bool {
	if len(v) == 0 || len(v) > 6 {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return false
		}
	}
	return true
}

// quoted writes s as a JSON string, giving up on anything JSON would
// escape.
func (c *canon) quoted(s string) bool {
	for i := 0; i < len(s); i++ {
		if ch := s[i]; ch == '"' || ch == '\\' || ch < 0x20 || ch >= 0x80 {
			return false
		}
	}
	c.out = append(c.out, '"')
	c.out = append(c.out, s...)
	c.out = append(c.out, '"')
	return true
}
