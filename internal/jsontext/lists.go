package jsontext

// maxLists bounds the names a Lists keeps: a document's lists are few, and
// text from outside must not grow the memory without bound.
const maxLists = 64

// Lists names the elements of lists as paths name them: name[] for the
// elements of a list called name. It keeps the names it made, so naming
// the elements of the same lists again allocates nothing. Its zero value
// is ready to use.
type Lists struct {
	names map[string]string
}

// Segment returns name followed by [].
func (l *Lists) Segment(name string) string {
	if s, ok := l.names[name]; ok {
		return s
	}
	if l.names == nil {
		l.names = make(map[string]string)
	} else if len(l.names) >= maxLists {
		clear(l.names)
	}
	s := name + "[]"
	// The key is a slice of the new string, not name: name may be a slice
	// of a buffer its owner reuses.
	l.names[s[:len(name)]] = s
	return s
}
