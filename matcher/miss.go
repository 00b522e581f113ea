package matcher

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/metervcr/metervcr/cassettes"
	"github.com/metervcr/metervcr/cassettes/redact"
)

// Miss explains why no recorded interaction matches a request: the closest
// recording and the fields that differ from it.
type Miss struct {
	Operation string // the request's operation, or its X-Amz-Target
	// Closest is the index of the closest recorded interaction, -1 when the
	// cassette is empty.
	Closest          int
	ClosestOperation string
	Diffs            []Diff
	// UsedUp reports a request that matches recordings all already served
	// (Index.Once).
	UsedUp bool
	// Notes say, for fields that differ only for want of the recording's
	// redaction key, why and how to match them.
	Notes []string
}

// Diff is one field that differs between a request and a recording.
type Diff struct {
	Field    string // "method", "path", "query", "target", or a body path
	Recorded string // "" when absent
	Got      string // "" when absent
}

func (d Diff) String() string {
	switch {
	case d.Recorded == "":
		return fmt.Sprintf("%s (not recorded, got %s)", d.Field, d.Got)
	case d.Got == "":
		return fmt.Sprintf("%s (recorded %s, missing)", d.Field, d.Recorded)
	}
	return fmt.Sprintf("%s (recorded %s, got %s)", d.Field, d.Recorded, d.Got)
}

// Error describes the miss in one sentence.
func (m *Miss) Error() string {
	op := m.Operation
	if op == "" {
		op = "request"
	}
	if m.UsedUp {
		return fmt.Sprintf("this %s request matches interaction %d (%s), which has already been served, and each recording is served once", op, m.Closest, m.ClosestOperation)
	}
	if m.Closest < 0 {
		return fmt.Sprintf("no recorded interaction matches this %s request: the cassette holds no interactions", op)
	}
	parts := make([]string, len(m.Diffs))
	for i, d := range m.Diffs {
		parts[i] = d.String()
	}
	msg := fmt.Sprintf("no recorded interaction matches this %s request; closest is interaction %d (%s), which differs in: %s",
		op, m.Closest, m.ClosestOperation, strings.Join(parts, "; "))
	for _, n := range m.Notes {
		msg += ". " + n
	}
	return msg
}

// keyNotes explains the differences in diffs that come from matching
// without the recording's redaction key (keyed reports whether the
// Redactor has a key).
func keyNotes(diffs []Diff, keyed bool) []string {
	var notes []string
	for _, d := range diffs {
		rec, got := unquote(d.Recorded), unquote(d.Got)
		if what, ok := redact.Unkeyed(got); ok {
			pseudonym := "the pseudonym the replayed answers (ResolveCustomer) hand out"
			if rec != "" {
				pseudonym = rec + ", the pseudonym recorded here and handed out by the replayed answers (ResolveCustomer)"
			}
			notes = append(notes, fmt.Sprintf("%s: this replay has no redaction key, and the request sends %s, which only "+
				"the key the cassette was recorded with turns into its pseudonym. Either send %s, or give the "+
				"recording's key: METERVCR_REDACTION_KEY=<the hex in redaction.key of the recording machine's --ca-dir> "+
				"(in Go, a Redactor made with that key)", d.Field, what, pseudonym))
			continue
		}
		if !keyed && got != "" && redact.IsKeyedPlaceholder(rec) {
			notes = append(notes, fmt.Sprintf("%s: the cassette holds a keyed placeholder (a token recorded by an earlier "+
				"metervcr, or a field redaction rules name as a secret), which only the key it was recorded with matches: "+
				"give that key (METERVCR_REDACTION_KEY), or, where the key is, rewrite tokens once in the keyless form "+
				"any machine matches: metervcr redact --token TOKEN CASSETTE", d.Field))
		}
	}
	return notes
}

// unquote returns the text of a flattened JSON string, or v itself.
func unquote(v string) string {
	if s, err := strconv.Unquote(v); err == nil {
		return s
	}
	return v
}

// maxDiffs caps the fields named in a miss so messages stay readable.
const maxDiffs = 8

// explain scans the recordings for the one with the fewest differing
// fields. It runs only on a miss; hits never scan.
func (ix *Index) explain(n Normalized) *Miss {
	miss := &Miss{Operation: n.Operation, Closest: -1}
	if miss.Operation == "" {
		miss.Operation = n.Target
	}
	got := flatten(n)
	best := -1
	for i := range ix.entries {
		rec := ix.Recorded(i)
		d := diff(flatten(rec), got)
		// Prefer the same operation: a request is far closer to another
		// call of its own operation than to any other.
		score := len(d)
		if rec.Target != n.Target {
			score += 1000
		}
		if best < 0 || score < best {
			best, miss.Closest, miss.ClosestOperation, miss.Diffs = score, i, rec.Operation, d
		}
	}
	miss.Notes = keyNotes(miss.Diffs, ix.m.redactor.Keyed())
	if len(miss.Diffs) > maxDiffs {
		miss.Diffs = append(miss.Diffs[:maxDiffs], Diff{Field: fmt.Sprintf("and %d more fields", len(miss.Diffs)-maxDiffs)})
	}
	return miss
}

// flatten lists the compared parts of n as field → value.
func flatten(n Normalized) map[string]string {
	out := map[string]string{"method": n.Method, "path": n.Path, "target": n.Target}
	if n.Query != "" {
		out["query"] = n.Query
	}
	if n.Body != "" {
		doc, err := cassettes.DecodeJSON([]byte(n.Body))
		if err == nil {
			flattenJSON("", doc, out)
		}
	}
	return out
}

func flattenJSON(prefix string, v any, out map[string]string) {
	switch t := v.(type) {
	case map[string]any:
		for k, el := range t {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			flattenJSON(p, el, out)
		}
	case []any:
		if len(t) == 0 {
			out[prefix] = "[]"
		}
		for i, el := range t {
			flattenJSON(fmt.Sprintf("%s[%d]", prefix, i), el, out)
		}
	default:
		b, err := cassettes.EncodeJSON(t)
		if err != nil {
			b = []byte(fmt.Sprint(t))
		}
		out[prefix] = string(b)
	}
}

// diff lists the fields whose values differ, in field order.
func diff(recorded, got map[string]string) []Diff {
	var out []Diff
	for _, k := range slices.Sorted(maps.Keys(recorded)) {
		if got[k] != recorded[k] {
			out = append(out, Diff{Field: k, Recorded: recorded[k], Got: got[k]})
		}
	}
	for _, k := range slices.Sorted(maps.Keys(got)) {
		if _, ok := recorded[k]; !ok {
			out = append(out, Diff{Field: k, Got: got[k]})
		}
	}
	return out
}
