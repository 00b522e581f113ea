package cassettes

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"net/http"
	"strings"
	"sync"

	"github.com/metervcr/metervcr/cassettes/metering"
)

// Redactor replaces secrets and buyer identifiers with stable placeholders
// derived from a keyed one-way hash (HMAC-SHA256): the same value gives the
// same placeholder across a cassette and across recordings made with the
// same key. Placeholders keep the format the API constrains (an account id
// stays twelve digits, an ARN stays an ARN), and redacting a placeholder
// returns it unchanged, so a Redactor can be applied to anything twice.
type Redactor struct {
	key []byte
	policy
	macs sync.Pool // hash.Hash keyed with key, reset after use
}

type bodyRule struct {
	path FieldPath
	kind string
}

// NewRedactor returns a Redactor keyed with key that redacts the named
// request headers and the body fields of rules. A nil headers or rules uses
// the defaults of package metering.
func NewRedactor(key []byte, headers []string, rules []metering.BodyRule) (*Redactor, error) {
	if len(key) < 16 {
		return nil, fmt.Errorf("redaction key must be at least 16 bytes, got %d", len(key))
	}
	if headers == nil {
		headers = metering.RedactedHeaders
	}
	if rules == nil {
		rules = metering.RedactedBodyFields
	}
	r := &Redactor{key: key}
	for _, h := range headers {
		r.headers = append(r.headers, http.CanonicalHeaderKey(h))
	}
	for _, rule := range rules {
		p, err := ParseFieldPath(rule.Path)
		if err != nil {
			return nil, err
		}
		switch rule.Kind {
		case metering.KindSecret, metering.KindAccountID, metering.KindARN:
		default:
			return nil, fmt.Errorf("body field %s: unknown redaction kind %q", rule.Path, rule.Kind)
		}
		r.rules = append(r.rules, bodyRule{path: p, kind: rule.Kind})
	}
	return r, nil
}

// The shapes of placeholders and account ids are tested by hand rather than
// by regexp: matching runs them on request values, and this is several
// times faster.

// isSecretPlaceholder reports whether v is REDACTED- and 16 lower-case hex
// digits.
func isSecretPlaceholder(v string) bool {
	rest, ok := strings.CutPrefix(v, "REDACTED-")
	if !ok || len(rest) != 16 {
		return false
	}
	for i := 0; i < len(rest); i++ {
		if c := rest[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// isAccountPlaceholder reports whether v is twelve digits, the first four
// zero.
func isAccountPlaceholder(v string) bool {
	return strings.HasPrefix(v, "0000") && isAccountID(v)
}

// isAccountID reports whether v is twelve ASCII digits.
func isAccountID(v string) bool {
	if len(v) != 12 {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return false
		}
	}
	return true
}

// Value returns the placeholder for v under kind. Placeholders are fixed
// points: Value(kind, Value(kind, v)) == Value(kind, v).
func (r *Redactor) Value(kind, v string) string {
	switch kind {
	case metering.KindAccountID:
		if isAccountPlaceholder(v) {
			return v
		}
		// Twelve digits, the first four zero: a valid account id shape that
		// a reader recognises as a pseudonym.
		n := binary.BigEndian.Uint64(r.mac("account", v)) % 100_000_000
		return fmt.Sprintf("0000%08d", n)
	case metering.KindARN:
		// arn:partition:service:region:account:resource; only the account
		// identifies the buyer.
		parts := strings.SplitN(v, ":", 6)
		if len(parts) == 6 && parts[0] == "arn" && isAccountID(parts[4]) {
			parts[4] = r.Value(metering.KindAccountID, parts[4])
			return strings.Join(parts, ":")
		}
		if len(parts) == 6 && parts[0] == "arn" && parts[4] == "" {
			return v
		}
		return r.Value(metering.KindSecret, v)
	default:
		if isSecretPlaceholder(v) {
			return v
		}
		return "REDACTED-" + hex.EncodeToString(r.mac("secret", v)[:8])
	}
}

// mac returns the HMAC-SHA256 of domain, a zero byte and v under the key.
// Keyed hashes are reused: Reset returns one to its keyed state, which
// spares deriving the key's pads again.
func (r *Redactor) mac(domain, v string) []byte {
	m, ok := r.macs.Get().(hash.Hash)
	if !ok {
		m = hmac.New(sha256.New, r.key)
	}
	m.Write([]byte(domain))
	m.Write([]byte{0})
	m.Write([]byte(v))
	sum := m.Sum(nil)
	m.Reset()
	r.macs.Put(m)
	return sum
}

// Doc redacts the decoded JSON body doc of operation op in place (the body
// rules, then the fields named as credentials or buyer identifiers and the
// patterns of credentials and account ids in every string, as recording
// does) and returns how many values it changed.
func (r *Redactor) Doc(op string, doc any) int {
	changed := 0
	for _, rule := range r.rules {
		if !rule.path.Applies(op) {
			continue
		}
		rule.path.Visit(doc, func(obj map[string]any, field string) {
			s, ok := obj[field].(string)
			if !ok {
				return
			}
			if red := r.Value(rule.kind, s); red != s {
				obj[field] = red
				changed++
			}
		})
	}
	return changed + r.scrubDoc(op, doc)
}

// Body redacts a JSON body of operation op. It returns the body unchanged
// when nothing needed redacting or when it is not JSON (the caller decides
// what an unparsable body means), and re-encoded otherwise.
func (r *Redactor) Body(op string, body string) (string, int) {
	if body == "" {
		return body, 0
	}
	doc, err := DecodeJSON([]byte(body))
	if err != nil {
		return body, 0
	}
	n := r.Doc(op, doc)
	if n == 0 {
		return body, 0
	}
	b, err := EncodeJSON(doc)
	if err != nil {
		return body, 0 // cannot happen for a decoded document
	}
	return string(b), n
}

// Header redacts the configured headers of h in place and returns how many
// values it changed.
func (r *Redactor) Header(h http.Header) int {
	changed := 0
	for _, name := range r.headers {
		vals := h[name]
		for i, v := range vals {
			if red := r.Value(metering.KindSecret, v); red != v {
				vals[i] = red
				changed++
			}
		}
	}
	return changed
}

// Interaction redacts an interaction in place (headers, URL, form, request
// and response bodies, error messages included; see Redact) and returns how
// many values it changed.
func (r *Redactor) Interaction(in *Interaction) int {
	return len(r.Redact(in))
}
