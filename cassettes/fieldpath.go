package cassettes

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// FieldPath names JSON body fields of one operation, or of every operation:
// "MeterUsage.Timestamp", "BatchMeterUsage.UsageRecords[].Timestamp",
// "*.CustomerAWSAccountId". A segment ending in [] walks every element of a
// list.
type FieldPath struct {
	// Operation is the operation the path applies to, or "*" for all.
	Operation string
	segs      []string
}

// ParseFieldPath parses s as Operation.field[.field...].
func ParseFieldPath(s string) (FieldPath, error) {
	parts := strings.Split(s, ".")
	if len(parts) < 2 {
		return FieldPath{}, fmt.Errorf("body field %q: want Operation.Field, for example MeterUsage.Timestamp or *.CustomerAWSAccountId", s)
	}
	for _, p := range parts {
		if p == "" || p == "[]" {
			return FieldPath{}, fmt.Errorf("body field %q: empty segment", s)
		}
	}
	if strings.HasSuffix(parts[len(parts)-1], "[]") {
		return FieldPath{}, fmt.Errorf("body field %q: the last segment must name a field, not a list", s)
	}
	return FieldPath{Operation: parts[0], segs: parts[1:]}, nil
}

// MustFieldPath is ParseFieldPath for built-in paths; it panics on error.
func MustFieldPath(s string) FieldPath {
	p, err := ParseFieldPath(s)
	if err != nil {
		panic(err)
	}
	return p
}

// String returns the path as ParseFieldPath reads it.
func (p FieldPath) String() string {
	return p.Operation + "." + strings.Join(p.segs, ".")
}

// Applies reports whether the path applies to operation op.
func (p FieldPath) Applies(op string) bool {
	return p.Operation == "*" || p.Operation == op
}

// Matches reports whether the path names the value at path in a body of
// operation op: field names from the top of the document, a list's
// elements as name[]. It agrees with Visit, for callers that walk a
// body's text instead of a decoded document.
func (p FieldPath) Matches(op string, path []string) bool {
	return p.Applies(op) && p.matches(path)
}

// matches reports whether the path names the field at segs.
func (p FieldPath) matches(segs []string) bool {
	if len(segs) != len(p.segs) {
		return false
	}
	for i := range segs {
		if segs[i] != p.segs[i] {
			return false
		}
	}
	return true
}

// Visit calls fn with the object holding each field the path names within
// doc, and the field's name. fn may replace or delete the field.
func (p FieldPath) Visit(doc any, fn func(obj map[string]any, field string)) {
	visit(doc, p.segs, fn)
}

func visit(v any, segs []string, fn func(map[string]any, string)) {
	obj, ok := v.(map[string]any)
	if !ok {
		return
	}
	name, isList := strings.CutSuffix(segs[0], "[]")
	child, ok := obj[name]
	if !ok {
		return
	}
	if len(segs) == 1 {
		fn(obj, name)
		return
	}
	if !isList {
		visit(child, segs[1:], fn)
		return
	}
	list, _ := child.([]any)
	for _, el := range list {
		visit(el, segs[1:], fn)
	}
}

// DecodeJSON decodes a JSON document keeping numbers as json.Number, so
// that re-encoding does not change their text.
func DecodeJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("unexpected data after the JSON value")
	}
	return v, nil
}

// EncodeJSON encodes v compactly with sorted object keys and without HTML
// escaping, as the AWS SDKs send it.
func EncodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
