// Package matcher decides which recorded interaction answers a request. It
// normalises a request into a lookup key that ignores what changes between
// runs (signatures, dates, SDK noise, per-call tokens and timestamps),
// compares JSON bodies as data, and explains a miss by the closest
// recording and the fields that differ. It does no I/O.
package matcher

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unsafe"

	"github.com/metervcr/metervcr/cassettes"
	"github.com/metervcr/metervcr/cassettes/redact"
	"github.com/metervcr/metervcr/metering"
)

// Config says what matching ignores. The zero value ignores nothing beyond
// what is never compared; Default returns the defaults.
type Config struct {
	// IgnoreBody lists body fields removed before comparison, as
	// Operation.path (see cassettes.ParseFieldPath).
	IgnoreBody []string
	// TimestampsToHour compares usage timestamps truncated to the hour (the
	// service's MeterUsage de-duplication key) instead of ignoring them.
	TimestampsToHour bool
	// Redactor is applied to request bodies before comparison, the same
	// function recording applies, so a request carrying a secret matches
	// the recording that holds its placeholder. Nil means a Redactor
	// without a key: real tokens match their keyless placeholders, and
	// buyer account ids only as the pseudonyms recorded.
	Redactor *redact.Redactor
}

// Default returns the default configuration: metering's ignored body fields
// (usage timestamps, ClientToken, Nonce) and r.
func Default(r *redact.Redactor) Config {
	return Config{IgnoreBody: metering.IgnoredBodyFields(), Redactor: r}
}

// Matcher normalises requests. It is safe for concurrent use.
type Matcher struct {
	ignore     []cassettes.FieldPath
	timestamps []cassettes.FieldPath
	redactor   *redact.Redactor
	paths      pathCache
	// legacy, when the Redactor has a key, normalises as metervcr did
	// when tokens had keyed placeholders: a request that matches nothing
	// is tried again with it, so the cassettes of that time still replay
	// where their key is.
	legacy *Matcher
}

// New validates cfg and returns a Matcher.
func New(cfg Config) (*Matcher, error) {
	m, err := compile(cfg)
	if err != nil || !cfg.Redactor.Keyed() {
		return m, err
	}
	cfg.Redactor = cfg.Redactor.Legacy()
	m.legacy, err = compile(cfg)
	return m, err
}

func compile(cfg Config) (*Matcher, error) {
	if cfg.Redactor == nil {
		var err error
		if cfg.Redactor, err = redact.New(nil, nil, nil); err != nil {
			return nil, err
		}
	}
	m := &Matcher{redactor: cfg.Redactor}
	for _, s := range cfg.IgnoreBody {
		p, err := cassettes.ParseFieldPath(s)
		if err != nil {
			return nil, err
		}
		if cfg.TimestampsToHour && isTimestampField(s) {
			continue
		}
		m.ignore = append(m.ignore, p)
	}
	if cfg.TimestampsToHour {
		for _, s := range metering.TimestampFields() {
			m.timestamps = append(m.timestamps, cassettes.MustFieldPath(s))
		}
	}
	return m, nil
}

func isTimestampField(s string) bool {
	for _, t := range metering.TimestampFields() {
		if s == t {
			return true
		}
	}
	return false
}

// Request is the part of an HTTP request that matching reads.
type Request struct {
	Method string
	URL    string // absolute or path-only
	// Parsed, when set, is URL already parsed (an http.Request's URL), and
	// URL is not read.
	Parsed *url.URL
	Header http.Header
	Body   []byte // read in place: not to be changed while it is matched
}

// Normalized is a request reduced to what matching compares.
type Normalized struct {
	Operation string // "" when X-Amz-Target names no Metering operation
	Method    string
	Path      string
	Query     string
	Target    string
	Body      string // canonical JSON with ignored fields removed
	// Key is the lookup key: equal keys mean matching requests.
	Key string
}

// ErrBody reports a request body that is not a JSON object.
var ErrBody = errors.New("request body is not a JSON object")

// Normalize reduces r to its lookup key. A body that is not a JSON object
// gives an error wrapping ErrBody.
func (m *Matcher) Normalize(r Request) (Normalized, error) {
	n, err := m.head(r)
	if err != nil {
		return Normalized{}, err
	}
	key, err := m.appendKey(nil, &n, r.Body)
	if err != nil {
		return Normalized{}, err
	}
	n.Key = string(key)
	n.Body = n.Key[n.bodyAt():]
	return n, nil
}

// head fills in what Normalize compares besides the body.
func (m *Matcher) head(r Request) (Normalized, error) {
	u := r.Parsed
	if u == nil {
		var err error
		if u, err = url.Parse(r.URL); err != nil {
			return Normalized{}, fmt.Errorf("request url %q: %w", r.URL, err)
		}
	}
	n := Normalized{
		Method: strings.ToUpper(r.Method),
		Path:   u.EscapedPath(),
		Target: metering.HeaderValue(r.Header, metering.HeaderTarget),
	}
	if u.RawQuery != "" {
		n.Query = u.Query().Encode() // sorted by key
	}
	if n.Path == "" {
		n.Path = "/"
	}
	n.Operation, _ = metering.OperationFromTarget(n.Target)
	return n, nil
}

// bodyAt is where the body starts in the key of n.
func (n *Normalized) bodyAt() int {
	return len(n.Method) + 1 + len(n.Path) + 1 + len(n.Query) + 1 + len(n.Target) + 1
}

// appendKey appends the lookup key of the request n heads, with body, to
// dst: method, path, query and target, then the canonical body.
func (m *Matcher) appendKey(dst []byte, n *Normalized, body []byte) ([]byte, error) {
	key, _, err := m.appendKeyField(dst, n, body, "")
	return key, err
}

// appendKeyField is appendKey that also reports the top-level member
// field of the body, when field is not "" and the one-pass reader read it.
func (m *Matcher) appendKeyField(dst []byte, n *Normalized, body []byte, field string) ([]byte, Field, error) {
	dst = append(dst, n.Method...)
	dst = append(dst, ' ')
	dst = append(dst, n.Path...)
	dst = append(dst, '?')
	dst = append(dst, n.Query...)
	dst = append(dst, '\n')
	dst = append(dst, n.Target...)
	dst = append(dst, '\n')
	// The one pass reads the body in place; what it keeps (the path
	// cache) it copies.
	if out, f, ok := m.appendCanonicalField(dst, n.Operation, unsafe.String(unsafe.SliceData(body), len(body)), field); ok {
		return out, f, nil
	}
	b, err := m.body(n.Operation, body)
	if err != nil {
		return nil, Field{}, err
	}
	return append(dst, b...), Field{}, nil
}

// body returns the canonical form of a JSON body: numbers in one notation,
// keys sorted, no whitespace, ignored fields removed, secrets redacted. It
// is the general path, which appendCanonical agrees with on the bodies it
// handles.
func (m *Matcher) body(op string, b []byte) (string, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return "", nil
	}
	doc, err := cassettes.DecodeJSON(b)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrBody, err)
	}
	if _, ok := doc.(map[string]any); !ok {
		return "", ErrBody
	}
	for _, p := range m.ignore {
		if p.Applies(op) {
			p.Visit(doc, func(obj map[string]any, field string) { delete(obj, field) })
		}
	}
	for _, p := range m.timestamps {
		if p.Applies(op) {
			p.Visit(doc, truncateToHour)
		}
	}
	m.redactor.Doc(op, doc)
	doc = canonicalNumbers(doc)
	out, err := cassettes.EncodeJSON(doc)
	if err != nil {
		return "", err
	}
	return string(out), nil
}

// ignored reports whether the body field at path is left out of matching.
func (m *Matcher) ignored(op string, path []string) bool {
	for _, p := range m.ignore {
		if p.Matches(op, path) {
			return true
		}
	}
	return false
}

// timestamp reports whether the body field at path is a usage timestamp
// compared truncated to the hour.
func (m *Matcher) timestamp(op string, path []string) bool {
	for _, p := range m.timestamps {
		if p.Matches(op, path) {
			return true
		}
	}
	return false
}

// canonicalNumbers rewrites every number into one notation, so that
// 1764288000, 1764288000.0 and 1.764288E9 compare equal (Go SDK and AWS CLI
// serialise timestamps differently: the CLI whole seconds, Go milliseconds).
func canonicalNumbers(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, el := range t {
			t[k] = canonicalNumbers(el)
		}
	case []any:
		for i, el := range t {
			t[i] = canonicalNumbers(el)
		}
	case json.Number:
		f, err := t.Float64()
		if err != nil || math.IsInf(f, 0) {
			return v // keep text that does not fit a float64 as it is
		}
		return json.Number(strconv.FormatFloat(f, 'g', -1, 64))
	}
	return v
}

// truncateToHour replaces a numeric epoch-seconds timestamp by the start of
// its hour.
func truncateToHour(obj map[string]any, field string) {
	num, ok := obj[field].(json.Number)
	if !ok {
		return
	}
	f, err := num.Float64()
	if err != nil {
		return
	}
	obj[field] = json.Number(strconv.FormatInt(int64(math.Floor(f/3600))*3600, 10))
}
