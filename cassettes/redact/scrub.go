package redact

import (
	"errors"
	"fmt"
	"strings"

	"github.com/metervcr/metervcr/cassettes"
	"github.com/metervcr/metervcr/metering"
)

// ErrUnredacted reports an interaction that still holds a secret after
// redaction. Seal returns it; the interaction must not be written.
var ErrUnredacted = errors.New("secret left after redaction")

// Redact redacts in in place and returns one Finding per value it
// replaced, saying where and what (Interaction is -1: the caller knows the
// index). It applies the rules (headers, body fields, and the fields named
// as credentials or buyer identifiers wherever they appear), then the
// patterns of credentials and account ids to every other string: headers,
// URL query, form, request and response bodies, nested JSON and error
// messages. A request value that a rule protects is also replaced where the
// response echoes it. Redact is idempotent.
func (r *Redactor) Redact(in *cassettes.Interaction) []Finding {
	var done []Finding
	r.each(in, func(pl place, v string, hs []hit) string {
		for _, h := range hs {
			done = append(done, Finding{Interaction: -1, Where: pl.at(), What: h.what, ruled: pl.kind != ""})
		}
		return r.apply(v, hs)
	})
	return done
}

// Seal redacts in (see Redact), then checks the result with the scanner's
// rules, so that an interaction is written only once nothing in it looks
// like a secret. It returns the values that patterns rather than rules
// caught (a new kind of secret, an echo in an error message), which a
// recorder should log so that someone adds a rule. An error wrapping
// ErrUnredacted names what is still there; the interaction must then not
// be written.
func (r *Redactor) Seal(in *cassettes.Interaction) (caught []Finding, err error) {
	op := in.Request.Headers.Get(metering.HeaderTarget)
	changed := r.each(in, func(pl place, v string, hs []hit) string {
		for _, h := range hs {
			if pl.kind == "" {
				caught = append(caught, Finding{Interaction: -1, Where: pl.at(), What: h.what})
			}
		}
		return r.apply(v, hs)
	})
	// Only the parts in which redaction found something are scanned
	// again. In the others a scan finds nothing either: their values and
	// places are the same, as long as the operation is (the request
	// headers name it), and the echoes of protected request values that a
	// scan looks for in the response come only from request values it
	// finds, which are in parts redaction found something in.
	if in.Request.Headers.Get(metering.HeaderTarget) != op {
		changed = allParts
	}
	if left := r.leftOver(in, changed); len(left) > 0 {
		// Name everything left, the parts skipped above included.
		return caught, fmt.Errorf("%w: %s", ErrUnredacted, strings.Join(r.leftOver(in, allParts), "; "))
	}
	return caught, nil
}

// leftOver returns what the scanner's rules find in the parts of in,
// without changing it.
func (r *Redactor) leftOver(in *cassettes.Interaction, parts part) []string {
	var left []string
	r.eachOf(in, parts, func(pl place, v string, hs []hit) string {
		for _, h := range hs {
			left = append(left, pl.at()+": "+h.what)
		}
		return v
	})
	return left
}

// scrubDoc applies the patterns and the by-name rules to every string of a
// request or response body document and returns how many values it
// changed. Doc calls it, so matching sees requests as recording stored
// them. A secret key counts as one only next to a key id: when the first
// pass found a key id, a second pass looks for secret keys.
func (r *Redactor) scrubDoc(op string, doc any) int {
	n, near := 0, false
	scrub := func(pl place, v string) string {
		hs := r.hits(pl, v)
		for _, h := range hs {
			near = near || metering.HasAccessKeyID(v[h.start:h.end])
		}
		n += len(hs)
		return r.apply(v, hs)
	}
	r.eachDoc(op, doc, "", false, scrub)
	if near {
		r.eachDoc(op, doc, "", true, scrub)
	}
	return n
}

// Cassette redacts every interaction of c in place and returns what it
// changed, with interaction indexes.
func (r *Redactor) Cassette(c *cassettes.Cassette) []Finding {
	var done []Finding
	for i, in := range c.Interactions {
		for _, f := range r.Redact(in) {
			f.Interaction = i
			done = append(done, f)
		}
	}
	return done
}

// File redacts the cassette at path (".yaml" appended when missing) and,
// when anything changed, replaces the file atomically, keeping its mode.
// A torn last item, which the new file leaves out, is first kept beside it
// as OpenWriter keeps it. File returns what changed and the warnings of
// loading and keeping; a second run changes nothing and leaves the file
// untouched.
func (r *Redactor) File(path string) ([]Finding, []string, error) {
	c, err := cassettes.Load(path)
	if err != nil {
		return nil, nil, err
	}
	done := r.Cassette(c)
	if len(done) == 0 {
		return nil, c.Warnings, nil
	}
	warnings, err := c.Rewrite()
	if err != nil {
		return nil, nil, fmt.Errorf("redacting %s: %w", c.Path, err)
	}
	return done, warnings, nil
}
