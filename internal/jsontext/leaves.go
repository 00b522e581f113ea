package jsontext

import (
	"slices"
	"sync"
)

// walker reads a document for Leaves, keeping the path of the value at
// hand.
type walker struct {
	Reader
	path  []string
	keys  []string // the keys read so far of the objects being read
	lists Lists
}

var walkers = sync.Pool{New: func() any { return new(walker) }}

// Leaves reads text, one JSON value with white space around it, and calls
// fn with the path and the text of every string and number in it, in
// document order, until fn returns false. A path names a value from the
// top of the document: the keys of the members holding it, where a list's
// elements take the list's name followed by [] (Lists.Segment); the
// elements of a list at the top have the path of the list. fn must not
// keep path, which Leaves changes as it reads.
//
// Leaves reports whether it read all of text and fn returned true every
// time. It reports false, perhaps after some calls, for text that is not
// JSON, that holds what Reader leaves to a decoder (escapes, control
// characters, bytes outside ASCII), or that holds an object repeating a
// key, of whose values a decoder keeps only one.
func Leaves(text string, fn func(path []string, v string, isString bool) bool) bool {
	w := walkers.Get().(*walker)
	w.Reset(text)
	w.path, w.keys = w.path[:0], w.keys[:0]
	w.Space()
	ok := w.value(fn)
	if ok {
		w.Space()
		ok = w.AtEnd()
	}
	w.Reset("")
	clear(w.path[:cap(w.path)])
	clear(w.keys[:cap(w.keys)])
	walkers.Put(w)
	return ok
}

// value reads the value at the current path.
func (w *walker) value(fn func([]string, string, bool) bool) bool {
	switch ch := w.Peek(); {
	case ch == '{':
		return w.object(fn)
	case ch == '[':
		return w.array(fn)
	case ch == '"':
		s, ok := w.Str()
		return ok && fn(w.path, s, true)
	case ch == '-' || ch >= '0' && ch <= '9':
		n, ok := w.Number()
		return ok && fn(w.path, n, false)
	}
	_, ok := w.Literal()
	return ok
}

// object reads an object at its '{'.
func (w *walker) object(fn func([]string, string, bool) bool) bool {
	w.pos++ // '{'
	w.Space()
	if w.Skip('}') {
		return true
	}
	base := len(w.keys)
	ok := w.members(fn, base)
	w.keys = w.keys[:base]
	return ok
}

// members reads the members of an object after its '{', whose keys are in
// w.keys from base on.
func (w *walker) members(fn func([]string, string, bool) bool, base int) bool {
	for {
		key, ok := w.Key()
		if !ok || slices.Contains(w.keys[base:], key) {
			return false
		}
		w.keys = append(w.keys, key)
		w.path = append(w.path, key)
		if !w.value(fn) {
			return false
		}
		w.path = w.path[:len(w.path)-1]
		if more, ok := w.After('}'); !more {
			return ok
		}
	}
}

// array reads a list at its '['; its elements' path ends in the list's
// name followed by [].
func (w *walker) array(fn func([]string, string, bool) bool) bool {
	w.pos++ // '['
	last := len(w.path) - 1
	var name string
	if last >= 0 {
		name = w.path[last]
		w.path[last] = w.lists.Segment(name)
	}
	w.Space()
	ok := w.Skip(']') || w.elements(fn)
	if last >= 0 {
		w.path[last] = name
	}
	return ok
}

// elements reads the elements of a list after its '['.
func (w *walker) elements(fn func([]string, string, bool) bool) bool {
	for {
		if !w.value(fn) {
			return false
		}
		if more, ok := w.After(']'); !more {
			return ok
		}
	}
}
