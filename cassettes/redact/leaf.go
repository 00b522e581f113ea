package redact

import "github.com/metervcr/metervcr/metering"

// LeafPlace is what redaction knows of one place in the JSON bodies of an
// operation: the rules that name it and the place's kind. It depends on the
// operation and the path only, so a caller that walks many bodies of the
// same shape computes it once per path (see Redactor.Place).
type LeafPlace struct {
	rules []string // kinds of the rules naming the place, in rule order
	pl    place
}

// Place returns the place at path in a JSON body of operation op. path
// names the value from the top of the document: field names, a list's
// elements as name[] (the convention of FieldPath); it must not be empty.
func (r *Redactor) Place(op string, path []string) LeafPlace {
	var lp LeafPlace
	for _, rule := range r.rules {
		if rule.path.Matches(op, path) {
			lp.rules = append(lp.rules, rule.kind)
		}
	}
	lp.pl = r.fieldPlace(op, path, "", false)
	return lp
}

// Leaf redacts one string or number of a JSON body as Doc does, for a
// caller that walks the body's text itself instead of decoding it. lp is
// the value's place (Place). It returns the value to keep, unchanged when
// nothing needed redacting.
//
// ok is false when the value holds an AWS access key id: Doc then looks at
// the whole document again for secret keys near it, which one value cannot
// tell, so the caller must redact the decoded document with Doc instead.
func (r *Redactor) Leaf(lp LeafPlace, v string, isString bool) (out string, ok bool) {
	if isString {
		// Doc's first step: rules apply to string values only.
		for _, kind := range lp.rules {
			v = r.Value(kind, v)
		}
	}
	hs := r.hits(lp.pl, v)
	for _, h := range hs {
		if metering.HasAccessKeyID(v[h.start:h.end]) {
			return v, false
		}
	}
	return r.apply(v, hs), true
}

// nameSaysSecret reports whether a field or parameter name contains
// "secret" in any case (as strings.ToLower would find it: no other letter
// lowers to these ASCII ones), without allocating: hits asks it of every
// value.
func nameSaysSecret(name string) bool {
	const word = "secret"
outer:
	for i := 0; i+len(word) <= len(name); i++ {
		for j := 0; j < len(word); j++ {
			c := name[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != word[j] {
				continue outer
			}
		}
		return true
	}
	return false
}
