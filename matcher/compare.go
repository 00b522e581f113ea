package matcher

import (
	"cmp"
	"fmt"
	"regexp"
	"strings"

	"github.com/metervcr/metervcr/cassettes"
	"github.com/metervcr/metervcr/metering"
)

// Change is one difference between two recordings of a session, for
// reviewing a re-recorded cassette.
type Change struct {
	// Kind is "removed" (only in the old cassette), "added" (only in the
	// new one) or "changed" (in both, answered differently).
	Kind string
	// Old and New are interaction indexes, from 0 as inspect counts; -1
	// when absent.
	Old, New  int
	Operation string
	// Fields are what differs: for "changed", the response; for "added",
	// the request compared with the closest old one of its operation
	// (Closest, -1 when none).
	// Recorded holds the old value and Got the new one.
	Fields  []Diff
	Closest int
}

// String describes the change on one line.
func (c Change) String() string {
	var b strings.Builder
	switch c.Kind {
	case "removed":
		fmt.Fprintf(&b, "removed  old #%d  %s", c.Old, c.Operation)
	case "added":
		fmt.Fprintf(&b, "added    new #%d  %s", c.New, c.Operation)
		if c.Closest >= 0 {
			fmt.Fprintf(&b, ": closest to old #%d, whose request differs in %s", c.Closest, fieldList(c.Fields))
		}
	default:
		fmt.Fprintf(&b, "changed  old #%d = new #%d  %s: response %s", c.Old, c.New, c.Operation, fieldList(c.Fields))
	}
	return b.String()
}

func fieldList(ds []Diff) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = fmt.Sprintf("%s: %s → %s", d.Field, cmp.Or(d.Recorded, "(none)"), cmp.Or(d.Got, "(none)"))
	}
	return strings.Join(parts, "; ")
}

// Comparison is the result of Compare.
type Comparison struct {
	// Changes lists removed interactions, then added ones, then changed
	// ones, each in index order.
	Changes []Change
	// Unchanged counts the pairs that are answered alike.
	Unchanged int
}

// Compare pairs the interactions of two cassettes by lookup key, in
// recorded order within one key, as replay would serve them: re-recorded
// signatures, dates, client tokens, nonces and usage timestamps are not
// changes. Paired interactions are compared by response: status, error
// code, Content-Type and body as JSON data, leaving out the fields that
// change on every recording (metering.VolatileResponseFields) and the
// response headers AWS stamps on each call.
func Compare(m *Matcher, old, new []*cassettes.Interaction) Comparison {
	oldN, newN := m.normalizeAll(old), m.normalizeAll(new)
	queue := make(map[string][]int)
	for j, n := range newN {
		queue[n.Key] = append(queue[n.Key], j)
	}
	var cmp Comparison
	var removed, changed []Change
	pairedNew := make([]bool, len(new))
	for i, n := range oldN {
		q := queue[n.Key]
		if len(q) == 0 {
			removed = append(removed, Change{Kind: "removed", Old: i, New: -1, Operation: n.Operation, Closest: -1})
			continue
		}
		j := q[0]
		queue[n.Key] = q[1:]
		pairedNew[j] = true
		if d := compareResponses(n.Operation, old[i].Response, new[j].Response); len(d) > 0 {
			changed = append(changed, Change{Kind: "changed", Old: i, New: j, Operation: n.Operation, Fields: d, Closest: -1})
		} else {
			cmp.Unchanged++
		}
	}
	cmp.Changes = append(cmp.Changes, removed...)
	for j, n := range newN {
		if !pairedNew[j] {
			cmp.Changes = append(cmp.Changes, closest(Change{Kind: "added", Old: -1, New: j, Operation: n.Operation, Closest: -1}, n, oldN))
		}
	}
	cmp.Changes = append(cmp.Changes, changed...)
	return cmp
}

// normalizeAll normalises recorded requests. A request that does not
// normalise (its body is not JSON) keys on its raw parts, so that it pairs
// only with the same bytes.
func (m *Matcher) normalizeAll(ins []*cassettes.Interaction) []Normalized {
	out := make([]Normalized, len(ins))
	for i, in := range ins {
		n, err := m.Normalize(Request{Method: in.Request.Method, URL: in.Request.URL, Header: in.Request.Headers, Body: []byte(in.Request.Body)})
		if err != nil {
			target := in.Request.Headers.Get(metering.HeaderTarget)
			n = Normalized{Method: in.Request.Method, Target: target, Key: "unnormalised\n" + in.Request.Method + " " + in.Request.URL + "\n" + target + "\n" + in.Request.Body}
			n.Operation, _ = metering.OperationFromTarget(target)
		}
		if n.Operation == "" {
			n.Operation = cmp.Or(n.Target, "unknown operation")
		}
		out[i] = n
	}
	return out
}

// closest completes an added change with the old interaction of the same
// operation whose request differs in the fewest fields, so that a reviewer
// sees what is new about it.
func closest(c Change, n Normalized, oldN []Normalized) Change {
	got := flatten(n)
	for i, o := range oldN {
		if o.Operation != c.Operation {
			continue
		}
		d := diff(flatten(o), got)
		if c.Closest < 0 || len(d) < len(c.Fields) {
			c.Closest, c.Fields = i, d
		}
	}
	if len(c.Fields) > maxDiffs {
		c.Fields = append(c.Fields[:maxDiffs], Diff{Field: fmt.Sprintf("and %d more fields", len(c.Fields)-maxDiffs)})
	}
	return c
}

// compareResponses lists what differs between two responses to the same
// request.
func compareResponses(op string, old, new cassettes.Response) []Diff {
	var out []Diff
	add := func(field, a, b string) {
		if a != b {
			out = append(out, Diff{Field: field, Recorded: a, Got: b})
		}
	}
	add("status", fmt.Sprint(old.Code), fmt.Sprint(new.Code))
	add("error", metering.ResponseErrorCode(old.Code, old.Headers, old.Body), metering.ResponseErrorCode(new.Code, new.Headers, new.Body))
	add("Content-Type", old.Headers.Get("Content-Type"), new.Headers.Get("Content-Type"))
	a, errA := responseFields(op, old.Body)
	b, errB := responseFields(op, new.Body)
	if errA != nil || errB != nil {
		add("body", quoteShort(old.Body), quoteShort(new.Body))
		return out
	}
	out = append(out, diff(a, b)...)
	if len(out) > maxDiffs {
		out = append(out[:maxDiffs], Diff{Field: fmt.Sprintf("and %d more fields", len(out)-maxDiffs)})
	}
	return out
}

// epochs finds long numbers (epoch timestamps) in error messages, which
// quote the request's usage timestamp.
var epochs = regexp.MustCompile(`[0-9]{9,}(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?`)

// responseFields flattens a JSON response body without its volatile
// fields.
func responseFields(op, body string) (map[string]string, error) {
	out := map[string]string{}
	if strings.TrimSpace(body) == "" {
		return out, nil
	}
	doc, err := cassettes.DecodeJSON([]byte(body))
	if err != nil {
		return nil, err
	}
	for _, s := range metering.VolatileResponseFields() {
		p := cassettes.MustFieldPath(s)
		if p.Applies(op) {
			p.Visit(doc, func(obj map[string]any, field string) { delete(obj, field) })
		}
	}
	flattenJSON("", canonicalNumbers(doc), out)
	for _, k := range []string{"message", "Message"} {
		if v, ok := out[k]; ok {
			out[k] = epochs.ReplaceAllString(v, "<timestamp>")
		}
	}
	return out, nil
}

func quoteShort(s string) string {
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return fmt.Sprintf("%q", s)
}
