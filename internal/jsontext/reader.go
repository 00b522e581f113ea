// Package jsontext reads JSON text as it is written, without decoding it.
package jsontext

// Reader reads JSON text one token at a time. Its strings are their own
// text: it gives up on escapes, control characters and bytes outside
// ASCII, whose decoded form differs from their text, and leaves such text
// to a decoder. Its zero value reads the empty text.
type Reader struct {
	text string
	pos  int
}

// Reset makes r read text from its start.
func (r *Reader) Reset(text string) { r.text, r.pos = text, 0 }

// Space skips white space.
func (r *Reader) Space() {
	for r.pos < len(r.text) {
		switch r.text[r.pos] {
		case ' ', '\t', '\n', '\r':
			r.pos++
		default:
			return
		}
	}
}

// AtEnd reports whether r has read all of its text.
func (r *Reader) AtEnd() bool { return r.pos == len(r.text) }

// Peek returns the next byte without reading it, or 0 at the end of the
// text (a byte that starts no JSON token).
func (r *Reader) Peek() byte {
	if r.pos < len(r.text) {
		return r.text[r.pos]
	}
	return 0
}

// Skip reads b when it comes next and reports whether it did.
func (r *Reader) Skip(b byte) bool {
	if r.pos < len(r.text) && r.text[r.pos] == b {
		r.pos++
		return true
	}
	return false
}

// Str reads a string whose opening quote comes next (Peek) and returns its
// text. It gives up on escapes, control characters and bytes outside
// ASCII.
func (r *Reader) Str() (string, bool) {
	s, start := r.text, uint(r.pos+1)
	// i is unsigned so that i < len(s) proves s[i] in bounds: the loop,
	// which reads most of a body's bytes, then holds no bounds check.
	for i := start; i < uint(len(s)); i++ {
		switch ch := s[i]; {
		case ch == '"':
			r.pos = int(i) + 1
			return s[start:i], true
		case ch == '\\' || ch < 0x20 || ch >= 0x80:
			return "", false
		}
	}
	return "", false
}

// Number reads a number as JSON's grammar has it and returns its text.
func (r *Reader) Number() (string, bool) {
	s, i := r.text, r.pos
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		i = digits(s, i)
	default:
		return "", false
	}
	if i < len(s) && s[i] == '.' {
		j := digits(s, i+1)
		if j == i+1 {
			return "", false
		}
		i = j
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		j := digits(s, i)
		if j == i {
			return "", false
		}
		i = j
	}
	n := s[r.pos:i]
	r.pos = i
	return n, true
}

func digits(s string, i int) int {
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}

// literals are the values JSON spells as words.
var literals = [...]string{"true", "false", "null"}

// Literal reads true, false or null and returns it.
func (r *Reader) Literal() (string, bool) {
	rest := r.text[r.pos:]
	for _, lit := range literals {
		if len(rest) >= len(lit) && rest[:len(lit)] == lit {
			r.pos += len(lit)
			return lit, true
		}
	}
	return "", false
}

// Key reads an object member's key, the colon after it and the white space
// around the colon.
func (r *Reader) Key() (string, bool) {
	// Not Peek: reading the byte here tells the compiler that pos is in
	// range, which keeps Str's loop, inlined below, as short as it can be.
	if r.pos >= len(r.text) || r.text[r.pos] != '"' {
		return "", false
	}
	key, ok := r.Str()
	if !ok {
		return "", false
	}
	r.Space()
	if !r.Skip(':') {
		return "", false
	}
	r.Space()
	return key, true
}

// After reads what follows a member or an element, with the white space
// around it: a comma, reported as more, or the closing byte end. ok is
// false for anything else.
func (r *Reader) After(end byte) (more, ok bool) {
	r.Space()
	switch r.Peek() {
	case ',':
		r.pos++
		r.Space()
		return true, true
	case end:
		r.pos++
		return false, true
	}
	return false, false
}
