package cassettes

import (
	"bytes"
	"hash/maphash"
	"strconv"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// itemDecoder decodes one list item of the canonical layout (what
// encodeInteraction writes: go-vcr v2's Interaction with yaml.v3's field
// order, indentation and scalar styles) straight into an Interaction,
// without a YAML node tree or reflection.
//
// It accepts only what it is certain yaml.v3 reads the same way: the
// fields in their written order at their written indentation; scalars that
// are plain, single-quoted or double-quoted on one line, or literal block
// scalars in the forms yaml.v3 writes; header and form maps written empty
// ("{}") or one key per line, each with an empty list ("[]") or one value
// per line. For anything else decode reports false and the caller decodes
// the item with yaml.v3, so the result is always yaml.v3's.
type itemDecoder struct {
	data []byte // the item being decoded
	next int    // offset in data of the line after cur
	cur  []byte // the current line, without its newline
	have bool   // cur holds a whole line (false at the end of data)

	scratch []byte     // unescaped or joined text of a scalar
	keys    []string   // names of the map being decoded
	ends    []int      // end of each name's values in vals
	vals    []string   // values of the map being decoded
	strs    stringPool // repeated short strings, shared across items
}

// The lines of the canonical layout that introduce each field.
const (
	itemRequestLine   = "    - request:"
	itemResponseLine  = "      response:"
	itemBodyKey       = "        body:"
	itemFormKey       = "        form:"
	itemHeadersKey    = "        headers:"
	itemURLKey        = "        url:"
	itemMethodKey     = "        method:"
	itemStatusKey     = "        status:"
	itemCodeKey       = "        code:"
	itemDurationKey   = "        duration:"
	itemFieldIndent   = 8  // request and response fields
	itemMapKeyIndent  = 12 // header and form names
	itemListIndent    = 16 // the "- " of header and form values
	itemListItemStart = "                - "
)

// decode decodes item, the bytes of one list item from its "    - request:"
// line through the newline that ends its duration line. It reports false
// when item is not in a shape it is certain of.
func (d *itemDecoder) decode(item []byte) (*Interaction, bool) {
	if !itemCharsOK(item) {
		return nil, false
	}
	d.data, d.next = item, 0
	d.advance()
	if !d.line(itemRequestLine) {
		return nil, false
	}
	in := new(Interaction)
	req, resp := &in.Request, &in.Response
	var ok bool
	if req.Body, ok = d.stringField(itemBodyKey, false); !ok {
		return nil, false
	}
	if req.Form, ok = d.mapField(itemFormKey); !ok {
		return nil, false
	}
	if req.Headers, ok = d.mapField(itemHeadersKey); !ok {
		return nil, false
	}
	if req.URL, ok = d.stringField(itemURLKey, true); !ok {
		return nil, false
	}
	if req.Method, ok = d.stringField(itemMethodKey, true); !ok {
		return nil, false
	}
	if !d.line(itemResponseLine) {
		return nil, false
	}
	if resp.Body, ok = d.stringField(itemBodyKey, false); !ok {
		return nil, false
	}
	if resp.Headers, ok = d.mapField(itemHeadersKey); !ok {
		return nil, false
	}
	if resp.Status, ok = d.stringField(itemStatusKey, true); !ok {
		return nil, false
	}
	if resp.Code, ok = d.codeField(); !ok {
		return nil, false
	}
	if resp.Duration, ok = d.durationField(); !ok {
		return nil, false
	}
	// The duration line must be the item's last, and end with a newline.
	if d.have || d.next != len(d.data) {
		return nil, false
	}
	return in, true
}

// advance moves to the next whole line. A last line without a newline is
// not whole: the item is torn, and nothing after it is accepted.
func (d *itemDecoder) advance() {
	rest := d.data[d.next:]
	i := bytes.IndexByte(rest, '\n')
	if i < 0 {
		d.cur, d.have = nil, false
		return
	}
	d.cur, d.have = rest[:i], true
	d.next += i + 1
}

// line consumes the current line if it is exactly s.
func (d *itemDecoder) line(s string) bool {
	if !d.have || string(d.cur) != s {
		return false
	}
	d.advance()
	return true
}

// value returns what follows key and its colon on the current line, when
// the line starts with key.
func (d *itemDecoder) value(key string) ([]byte, bool) {
	if !d.have || !bytes.HasPrefix(d.cur, []byte(key)) {
		return nil, false
	}
	return d.cur[len(key):], true
}

// stringField decodes the string field introduced by key. Short repeated
// values (URL, method, status) are shared when pooled is set.
func (d *itemDecoder) stringField(key string, pooled bool) (string, bool) {
	rest, ok := d.value(key)
	if !ok || len(rest) < 2 || rest[0] != ' ' {
		return "", false
	}
	b, ok := d.scalar(rest[1:], itemFieldIndent)
	if !ok {
		return "", false
	}
	if pooled {
		return d.strs.get(b), true
	}
	return string(b), true
}

// codeField decodes the response code: a plain decimal int that yaml.v3
// resolves as such. Other spellings (hex, octal, underscores, signs,
// floats) are left to yaml.v3.
func (d *itemDecoder) codeField() (int, bool) {
	rest, ok := d.value(itemCodeKey)
	if !ok || len(rest) < 2 || rest[0] != ' ' {
		return 0, false
	}
	v := rest[1:]
	neg := v[0] == '-'
	digits := v
	if neg {
		digits = v[1:]
	}
	// At most 9 digits: the value fits an int on every platform.
	if len(digits) == 0 || len(digits) > 9 || digits[0] == '0' && (len(digits) > 1 || neg) {
		return 0, false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(string(v))
	if err != nil {
		return 0, false
	}
	d.advance()
	return n, true
}

// durationField decodes the response duration as yaml.v3 writes a
// time.Duration: its String form, plain. yaml.v3 reads a plain scalar into
// a Duration with time.ParseDuration when it resolves to a string; one
// made only of digits, signs, dots and unit letters and ending in a unit
// letter resolves to nothing else (not a number, bool, null or timestamp).
func (d *itemDecoder) durationField() (time.Duration, bool) {
	rest, ok := d.value(itemDurationKey)
	if !ok || len(rest) < 2 || rest[0] != ' ' {
		return 0, false
	}
	v := rest[1:]
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case '0' <= c && c <= '9', c == '.', c == 'n', c == 's', c == 'u', c == 'm', c == 'h':
		case c == '-' || c == '+':
			if i != 0 {
				return 0, false
			}
		case c == 0xc2 && i+1 < len(v) && v[i+1] == 0xb5: // µ, in "µs"
			i++
		default:
			return 0, false
		}
	}
	switch v[len(v)-1] {
	case 's', 'm', 'h':
	default:
		return 0, false
	}
	dur, err := time.ParseDuration(string(v))
	if err != nil {
		return 0, false
	}
	d.advance()
	return dur, true
}

// mapField decodes a header or form map (http.Header, url.Values)
// introduced by key: " {}" for an empty map, or names at indent 12, each
// with " []" or its values at indent 16.
func (d *itemDecoder) mapField(key string) (map[string][]string, bool) {
	rest, ok := d.value(key)
	if !ok {
		return nil, false
	}
	if string(rest) == " {}" {
		d.advance()
		return map[string][]string{}, true
	}
	if len(rest) != 0 {
		return nil, false
	}
	d.advance()
	d.keys, d.ends, d.vals = d.keys[:0], d.ends[:0], d.vals[:0]
	for d.have && indent(d.cur) == itemMapKeyIndent && len(d.cur) > itemMapKeyIndent {
		name, after, ok := d.mapKey(d.cur[itemMapKeyIndent:])
		if !ok {
			return nil, false
		}
		switch string(after) {
		case " []":
			d.advance()
		case "":
			d.advance()
			n := 0
			for d.have && bytes.HasPrefix(d.cur, []byte(itemListItemStart)) {
				b, ok := d.scalar(d.cur[len(itemListItemStart):], itemListIndent)
				if !ok {
					return nil, false
				}
				d.vals = append(d.vals, d.strs.get(b))
				n++
			}
			if n == 0 {
				return nil, false // a null list: yaml.v3 stores nil
			}
		default:
			return nil, false
		}
		d.keys = append(d.keys, name)
		d.ends = append(d.ends, len(d.vals))
	}
	if len(d.keys) == 0 {
		return nil, false // a null map
	}
	vals := make([]string, len(d.vals))
	copy(vals, d.vals)
	m := make(map[string][]string, len(d.keys))
	start := 0
	for i, name := range d.keys {
		if _, dup := m[name]; dup {
			return nil, false // yaml.v3 refuses a repeated key
		}
		end := d.ends[i]
		m[name] = vals[start:end:end]
		start = end
	}
	return m, true
}

// mapKey decodes a header or form name at the start of s and returns what
// follows its colon. Names longer than yaml.v3 writes as simple keys,
// complex keys ("? "), merge keys ("<<") and null keys are refused.
func (d *itemDecoder) mapKey(s []byte) (string, []byte, bool) {
	var raw []byte
	switch s[0] {
	case '\'', '"':
		end := quotedEnd(s)
		if end < 0 || end+1 >= len(s) || s[end+1] != ':' {
			return "", nil, false
		}
		raw = s[:end+1]
	default:
		i := 0
		for ; i < len(s); i++ {
			if s[i] == ':' && (i+1 == len(s) || s[i+1] == ' ') {
				break
			}
		}
		if i == len(s) {
			return "", nil, false
		}
		raw = s[:i]
		if !plainOK(raw) {
			return "", nil, false
		}
	}
	if len(raw) > 128 {
		return "", nil, false
	}
	b, ok := d.oneLine(raw)
	if !ok || string(b) == "<<" {
		return "", nil, false // yaml.v3 merges a "<<" key, quoted or not
	}
	return d.strs.get(b), s[len(raw)+1:], true
}

// quotedEnd returns the index in s of the quote closing the quoted scalar
// s starts with, or -1.
func quotedEnd(s []byte) int {
	q := s[0]
	for i := 1; i < len(s); i++ {
		switch {
		case q == '\'' && s[i] == '\'':
			if i+1 < len(s) && s[i+1] == '\'' {
				i++
				continue
			}
			return i
		case q == '"' && s[i] == '\\':
			i++
		case q == '"' && s[i] == '"':
			return i
		}
	}
	return -1
}

// scalar decodes the string scalar v, the rest of the current line after
// its key or list indicator, whose parent node is at column parent. A
// block scalar also takes the lines after the current one. The current
// line is consumed. The returned bytes are valid until the next call.
func (d *itemDecoder) scalar(v []byte, parent int) ([]byte, bool) {
	if len(v) == 0 {
		return nil, false // null
	}
	if v[0] == '|' {
		return d.literal(v[1:], parent)
	}
	b, ok := d.oneLine(v)
	if !ok {
		return nil, false
	}
	d.advance()
	return b, true
}

// oneLine decodes a scalar that is all of v: plain, single-quoted or
// double-quoted.
func (d *itemDecoder) oneLine(v []byte) ([]byte, bool) {
	switch v[0] {
	case '\'':
		return d.singleQuoted(v)
	case '"':
		return d.doubleQuoted(v)
	}
	if !plainOK(v) {
		return nil, false
	}
	return v, true
}

// plainOK reports whether v, a whole line's rest in block context, is one
// plain scalar that yaml.v3 reads into a string field as exactly v. It
// refuses anything that starts with an indicator, holds ": " or " #" (the
// end of a key, a comment), has surrounding spaces or tabs, or reads as
// null (yaml.v3 leaves the field empty then).
func plainOK(v []byte) bool {
	if len(v) == 0 {
		return false
	}
	switch v[0] {
	case ' ', '\t', '#', ',', '[', ']', '{', '}', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`':
		return false
	case '-', '?', ':':
		// In block context these start a plain scalar when a non-blank
		// character follows.
		if len(v) == 1 || v[1] == ' ' || v[1] == '\t' {
			return false
		}
	}
	switch v[len(v)-1] {
	case ' ', ':':
		return false
	}
	for i, c := range v {
		if !plainSpecial[c] {
			continue
		}
		switch c {
		case '\t':
			return false
		case ':':
			if i+1 < len(v) && v[i+1] == ' ' {
				return false
			}
		case '#':
			if v[i-1] == ' ' { // i > 0: v[0] is not '#'
				return false
			}
		}
	}
	switch string(v) {
	case "~", "null", "Null", "NULL":
		return false
	}
	return true
}

// plainSpecial marks the bytes plainOK looks at inside a scalar.
var plainSpecial = [256]bool{'\t': true, ':': true, '#': true}

// singleQuoted decodes v, a single-quoted scalar that must end where v
// ends.
func (d *itemDecoder) singleQuoted(v []byte) ([]byte, bool) {
	if len(v) < 2 || v[len(v)-1] != '\'' {
		return nil, false
	}
	body := v[1 : len(v)-1]
	if bytes.IndexByte(body, '\t') >= 0 {
		return nil, false
	}
	if bytes.IndexByte(body, '\'') < 0 {
		return body, true
	}
	out := d.scratch[:0]
	for i := 0; i < len(body); i++ {
		if body[i] == '\'' {
			if i+1 == len(body) || body[i+1] != '\'' {
				return nil, false // the scalar ends before v does
			}
			i++
		}
		out = append(out, body[i])
	}
	d.scratch = out
	return out, true
}

// doubleQuoted decodes v, a double-quoted scalar that must end where v
// ends, with the escapes yaml.v3 reads.
func (d *itemDecoder) doubleQuoted(v []byte) ([]byte, bool) {
	if len(v) < 2 || v[len(v)-1] != '"' {
		return nil, false
	}
	body := v[1 : len(v)-1]
	if bytes.IndexByte(body, '\t') >= 0 {
		return nil, false
	}
	if bytes.IndexByte(body, '\\') < 0 {
		if bytes.IndexByte(body, '"') >= 0 {
			return nil, false
		}
		return body, true
	}
	out := d.scratch[:0]
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c == '"' {
			return nil, false
		}
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++
		if i == len(body) {
			return nil, false // the backslash escapes the closing quote
		}
		n := 0
		switch body[i] {
		case '0':
			out = append(out, 0)
		case 'a':
			out = append(out, '\a')
		case 'b':
			out = append(out, '\b')
		case 't':
			out = append(out, '\t')
		case 'n':
			out = append(out, '\n')
		case 'v':
			out = append(out, '\v')
		case 'f':
			out = append(out, '\f')
		case 'r':
			out = append(out, '\r')
		case 'e':
			out = append(out, 0x1b)
		case ' ', '"', '\'', '\\':
			out = append(out, body[i])
		case 'N':
			out = utf8.AppendRune(out, 0x85)
		case '_':
			out = utf8.AppendRune(out, 0xa0)
		case 'L':
			out = utf8.AppendRune(out, 0x2028)
		case 'P':
			out = utf8.AppendRune(out, 0x2029)
		case 'x':
			n = 2
		case 'u':
			n = 4
		case 'U':
			n = 8
		default:
			return nil, false // yaml.v3 refuses the escape
		}
		if n == 0 {
			continue
		}
		if i+n >= len(body) {
			return nil, false
		}
		var r rune
		for _, h := range body[i+1 : i+1+n] {
			switch {
			case '0' <= h && h <= '9':
				r = r<<4 | rune(h-'0')
			case 'a' <= h && h <= 'f':
				r = r<<4 | rune(h-'a'+10)
			case 'A' <= h && h <= 'F':
				r = r<<4 | rune(h-'A'+10)
			default:
				return nil, false
			}
		}
		if 0xd800 <= r && r <= 0xdfff || r > 0x10ffff || r < 0 {
			return nil, false
		}
		out = utf8.AppendRune(out, r)
		i += n
	}
	d.scratch = out
	return out, true
}

// literal decodes a literal block scalar whose header, after the "|", is
// h, and whose content follows the current line. yaml.v3 writes "|",
// "|-" or "|+", with an indentation indicator of 4 when the content starts
// with a space or a line break; its content is indented by 4 under a
// mapping key at column 8 and by 2 under a list indicator at column 16.
// An indentation indicator under a list item is not read back by yaml.v3
// as it was written, so it is left to yaml.v3 (which refuses it).
func (d *itemDecoder) literal(h []byte, parent int) ([]byte, bool) {
	explicit := false
	if len(h) > 0 && h[0] == '4' && parent == itemFieldIndent {
		explicit = true
		h = h[1:]
	}
	var chomp byte
	switch string(h) {
	case "":
	case "-", "+":
		chomp = h[0]
	default:
		return nil, false
	}
	in := parent + 4
	if parent == itemListIndent {
		in = parent + 2
	}
	d.advance()
	out := d.scratch[:0]
	lines, lastText := 0, 0 // lines read; lines up to the last that holds text
	for d.have {
		l := d.cur
		if len(l) == 0 {
			if lines == 0 && !explicit {
				return nil, false // a leading empty line would change the detected indentation
			}
			out = append(out, '\n')
			lines++
			d.advance()
			continue
		}
		n := indent(l)
		if n < in {
			if n == len(l) {
				return nil, false // a line of spaces only
			}
			break // less indented: the next key
		}
		text := l[in:]
		if n == len(l) || text[0] == '\t' || lines == 0 && !explicit && text[0] == ' ' {
			return nil, false
		}
		if last := l[len(l)-1]; last == ' ' || last == '\t' {
			return nil, false
		}
		out = append(out, text...)
		out = append(out, '\n')
		lines++
		lastText = len(out)
		d.advance()
	}
	if !d.have {
		return nil, false // the item ended inside the scalar
	}
	switch chomp {
	case '-':
		if lastText == 0 {
			return nil, false
		}
		out = out[:lastText-1]
	case 0:
		if lastText == 0 {
			return nil, false
		}
		out = out[:lastText]
	}
	d.scratch = out
	return out, true
}

// indent returns the number of spaces l starts with.
func indent(l []byte) int {
	n := 0
	for n < len(l) && l[n] == ' ' {
		n++
	}
	return n
}

// itemCharsOK reports whether b is valid UTF-8 made only of characters
// the YAML reader accepts, without carriage returns, Unicode line and
// paragraph separators, next-line characters or byte order marks (which
// the reader takes as line breaks or skips). The decoder leaves any item
// holding one to yaml.v3.
func itemCharsOK(b []byte) bool {
	for len(b) >= 8 {
		if itemByteClass[b[0]]|itemByteClass[b[1]]|itemByteClass[b[2]]|itemByteClass[b[3]]|
			itemByteClass[b[4]]|itemByteClass[b[5]]|itemByteClass[b[6]]|itemByteClass[b[7]] != 0 {
			break
		}
		b = b[8:]
	}
	for i := 0; i < len(b); {
		c := b[i]
		if itemByteClass[c] == 0 {
			i++
			continue
		}
		if c < 0x80 {
			return false // other control characters, carriage return, DEL
		}
		r, size := utf8.DecodeRune(b[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			return false
		case r < 0xa0, r == 0x2028, r == 0x2029, r == 0xfeff, r == 0xfffe, r == 0xffff:
			return false
		}
		i += size
	}
	return true
}

// itemByteClass is 0 for the bytes itemCharsOK passes without a second
// look: printable ASCII, tab and newline.
var itemByteClass = func() (t [256]byte) {
	for c := range t {
		if c < 0x20 && c != '\t' && c != '\n' || c >= 0x7f {
			t[c] = 1
		}
	}
	return t
}()

// stringPool shares the short strings that repeat from one interaction to
// the next (header names and most header values, URL, method, status), so
// that a loaded cassette holds one copy of each. It is a fixed table of
// recent strings, indexed by hash; a miss replaces the slot.
type stringPool struct {
	seed  maphash.Seed
	slots *[1 << 12]string
}

// get returns b as a string, shared with an earlier equal one if the pool
// holds it.
func (p *stringPool) get(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > 128 {
		return string(b)
	}
	if p.slots == nil {
		p.seed = maphash.MakeSeed()
		p.slots = new([1 << 12]string)
	}
	slot := &p.slots[maphash.Bytes(p.seed, b)&(1<<12-1)]
	if *slot != string(b) {
		*slot = string(b)
	}
	return *slot
}

// decodeItemYAML decodes one list item of a cassette with yaml.v3, as
// part of a document holding only it. It reports false unless it decodes
// to exactly one interaction.
func decodeItemYAML(item []byte) (*Interaction, bool) {
	const prefix = "interactions:\n"
	doc := make([]byte, 0, len(prefix)+len(item))
	doc = append(append(doc, prefix...), item...)
	var one struct {
		Interactions []*Interaction `yaml:"interactions"`
	}
	if err := yaml.Unmarshal(doc, &one); err != nil || len(one.Interactions) != 1 || one.Interactions[0] == nil {
		return nil, false
	}
	return one.Interactions[0], true
}
