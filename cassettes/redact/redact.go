// Package redact replaces the secrets and buyer identifiers of cassette
// interactions with stable placeholders, and scans cassettes for any left.
package redact

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"strings"
	"sync"

	"github.com/metervcr/metervcr/cassettes"
	"github.com/metervcr/metervcr/metering"
)

// Redactor replaces secrets and buyer identifiers with stable placeholders
// derived from one-way hashes: the same value gives the same placeholder
// across a cassette and across recordings. Values too random to guess
// (KindToken: registration tokens, session tokens, signatures, access
// keys) get keyless placeholders that anyone can compute from the value
// (KeylessPlaceholder), so replay matches them on any machine. Values that
// can be guessed by enumeration (account ids) and secrets a user names get
// placeholders keyed with the redaction key (HMAC-SHA256), which only the
// key's holders can compute. Placeholders keep the format the API
// constrains (an account id stays twelve digits, an ARN stays an ARN), and
// redacting a placeholder returns it unchanged, so a Redactor can be
// applied to anything twice.
//
// A Redactor without a key (New with a nil key) serves replay on a
// machine that lacks the recording's key: it computes keyless placeholders
// as any Redactor does, and replaces what needs the key with markers that
// match no recording (Unkeyed reports them), so that a miss can say why.
// It must never redact what is stored.
type Redactor struct {
	key []byte // nil: no key
	policy
	macs sync.Pool // hash.Hash keyed with key, reset after use
	// legacy gives tokens the keyed placeholders that metervcr wrote for
	// them before placeholders of tokens were keyless (Legacy).
	legacy bool
}

type bodyRule struct {
	path cassettes.FieldPath
	kind string
}

// New returns a Redactor keyed with key that redacts the named
// request headers and the body fields of rules. A nil headers or rules uses
// the defaults of package metering. A nil key gives a Redactor without a
// key, for matching only.
func New(key []byte, headers []string, rules []metering.BodyRule) (*Redactor, error) {
	if key != nil && len(key) < 16 {
		return nil, fmt.Errorf("redaction key must be at least 16 bytes, got %d", len(key))
	}
	if headers == nil {
		headers = metering.RedactedHeaders()
	}
	if rules == nil {
		rules = metering.RedactedBodyFields()
	}
	r := &Redactor{key: key}
	for _, h := range headers {
		r.headers = append(r.headers, http.CanonicalHeaderKey(h))
	}
	for _, rule := range rules {
		p, err := cassettes.ParseFieldPath(rule.Path)
		if err != nil {
			return nil, err
		}
		switch rule.Kind {
		case metering.KindToken, metering.KindSecret, metering.KindAccountID, metering.KindARN:
		default:
			return nil, fmt.Errorf("body field %s: unknown redaction kind %q", rule.Path, rule.Kind)
		}
		r.rules = append(r.rules, bodyRule{path: p, kind: rule.Kind})
	}
	return r, nil
}

// Keyed reports whether r has a redaction key, and so can compute every
// placeholder a recording holds. A nil Redactor has none.
func (r *Redactor) Keyed() bool { return r != nil && r.key != nil }

// Legacy returns a Redactor like r that gives tokens the keyed
// placeholders metervcr wrote for them before they were keyless, so that
// replay still matches the cassettes of that time where their key is.
// Without a key it returns nil.
func (r *Redactor) Legacy() *Redactor {
	if r.key == nil {
		return nil
	}
	return &Redactor{key: r.key, policy: r.policy, legacy: true}
}

// Placeholder shapes. Keyless placeholders are
//
//	REDACTED-sha256- + the first 16 hex digits of SHA-256(keylessDomain + value)
//
// The fixed domain string keeps these digests apart from any other
// SHA-256 of the same value.
const (
	placeholderPrefix = "REDACTED-"
	keylessPrefix     = placeholderPrefix + "sha256-"
	keylessDomain     = "metervcr keyless placeholder\x00"
	// unkeyedPrefix starts the markers of a Redactor without a key.
	unkeyedPrefix = "UNKEYED-"
	unkeyedSecret = unkeyedPrefix + "secret"
)

// KeylessPlaceholder returns the placeholder of a token: anyone can compute
// it from the value, and no one can compute the value from it.
func KeylessPlaceholder(v string) string {
	sum := sha256.Sum256([]byte(keylessDomain + v))
	return keylessPrefix + hex.EncodeToString(sum[:8])
}

// IsKeyedPlaceholder reports whether v is the placeholder of a secret
// keyed with a redaction key (REDACTED- and 16 hex digits): tokens
// recorded before placeholders of tokens were keyless, and secrets a user
// names.
func IsKeyedPlaceholder(v string) bool {
	rest, ok := strings.CutPrefix(v, placeholderPrefix)
	return ok && isHex16(rest)
}

// Unkeyed reports whether v holds a marker of a Redactor without a key (a
// value that only the recording's key can turn into its placeholder), and
// says what the marker stands for.
func Unkeyed(v string) (what string, ok bool) {
	_, rest, ok := strings.Cut(v, unkeyedPrefix)
	switch {
	case !ok:
		return "", false
	case strings.HasPrefix(rest, "secret"):
		return "a value that redaction rules name as a secret", true
	}
	return "a real buyer account id (ending " + rest[:min(4, len(rest))] + ")", true
}

// The shapes of placeholders and account ids are tested by hand rather than
// by regexp: matching runs them on request values, and this is several
// times faster.

// isSecretPlaceholder reports whether v is the placeholder of a secret or
// token: REDACTED-, sha256- for a keyless one, and 16 lower-case hex
// digits.
func isSecretPlaceholder(v string) bool {
	rest, ok := strings.CutPrefix(v, placeholderPrefix)
	if !ok {
		return false
	}
	return isHex16(strings.TrimPrefix(rest, "sha256-"))
}

// isHex16 reports whether s is 16 lower-case hex digits.
func isHex16(s string) bool {
	if len(s) != 16 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
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
		if isAccountPlaceholder(v) || strings.HasPrefix(v, unkeyedPrefix) {
			return v
		}
		if r.key == nil {
			// The last four digits, as receipts show card numbers, so
			// that a miss can name the account.
			return unkeyedPrefix + v[max(len(v)-4, 0):]
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
		if len(parts) == 6 && parts[0] == "arn" && (parts[4] == "" || strings.HasPrefix(parts[4], unkeyedPrefix)) {
			return v
		}
		return r.Value(metering.KindSecret, v)
	case metering.KindToken:
		if up, ok := r.upgrades[v]; ok {
			return up
		}
		if isSecretPlaceholder(v) {
			return v
		}
		if r.legacy {
			return r.keyedSecret(v)
		}
		return KeylessPlaceholder(v)
	default:
		if isSecretPlaceholder(v) || v == unkeyedSecret {
			return v
		}
		if r.key == nil {
			return unkeyedSecret
		}
		return r.keyedSecret(v)
	}
}

// keyedSecret returns the keyed placeholder of a secret.
func (r *Redactor) keyedSecret(v string) string {
	return placeholderPrefix + hex.EncodeToString(r.mac("secret", v)[:8])
}

// Unkey makes r rewrite the keyed placeholders of values, which metervcr
// wrote for tokens before their placeholders were keyless, into their
// keyless placeholders wherever they appear (Redact, Cassette, File). It
// needs the key the placeholders were made with.
func (r *Redactor) Unkey(values []string) error {
	if r.key == nil {
		return errors.New("rewriting keyed placeholders needs the redaction key they were made with")
	}
	if r.upgrades == nil {
		r.upgrades = make(map[string]string)
	}
	for _, v := range values {
		if v == "" || isSecretPlaceholder(v) {
			return fmt.Errorf("%q is not a token: give the value your requests send, not a placeholder", v)
		}
		r.upgrades[r.keyedSecret(v)] = KeylessPlaceholder(v)
	}
	return nil
}

// mac returns the HMAC-SHA256 of domain, a zero byte and v under the key.
// Keyed hashes are reused: Reset returns one to its keyed state, which
// spares deriving the key's pads again.
func (r *Redactor) mac(domain, v string) []byte {
	m, ok := r.macs.Get().(hash.Hash) // r.key is set: callers check
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
	doc, err := cassettes.DecodeJSON([]byte(body))
	if err != nil {
		return body, 0
	}
	n := r.Doc(op, doc)
	if n == 0 {
		return body, 0
	}
	b, err := cassettes.EncodeJSON(doc)
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
			if red := r.Value(headerKind(name), v); red != v {
				vals[i] = red
				changed++
			}
		}
	}
	return changed
}

// KeyedTokens returns the tokens of c's request bodies that hold keyed
// placeholders, as metervcr recorded tokens before their placeholders were
// keyless: they match only where the redaction key is, until Unkey is
// given the tokens they stand for.
func (r *Redactor) KeyedTokens(c *cassettes.Cassette) []Finding {
	var found []Finding
	for i, in := range c.Interactions {
		op, _ := metering.OperationFromTarget(in.Request.Headers.Get(metering.HeaderTarget))
		r.eachBody(op, "request body", in.Request.Body, walker{
			find: func(pl place, v string) []hit {
				if pl.kind == metering.KindToken && IsKeyedPlaceholder(v) {
					return []hit{{0, len(v), pl.kind, "keyed placeholder of a token, which matches only where the redaction key is"}}
				}
				return nil
			},
			use: func(pl place, v string, hs []hit) string {
				found = append(found, Finding{Interaction: i, Where: pl.at(), What: hs[0].what})
				return v
			},
		})
	}
	return found
}
