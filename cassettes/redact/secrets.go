package redact

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/metervcr/metervcr/metering"
)

// policy says what must never be stored in clear: the header names and
// body fields that rules redact whole, and whether buyer account ids are
// pseudonymised. The scanner and the Redactor share it, and share hits,
// so that whatever verify reports, redaction fixes.
type policy struct {
	headers []string // canonical request header names
	rules   []bodyRule
	names   map[string]string // JSON field name → kind, wherever the field is
	// keepAccounts and keepARNs are set when the user chose to keep buyer
	// account ids (alone, or inside license ARNs) in clear.
	keepAccounts, keepARNs bool
	// upgrades maps keyed placeholders of tokens to the keyless ones that
	// replace them wherever they appear (Redactor.Unkey).
	upgrades map[string]string
}

// place is one string of an interaction that may hold a secret.
type place struct {
	// where and label name the place for people: where is the part
	// ("request header", "response body"), label the place within it
	// ("Authorization", "Results[0].LicenseArn"), if any. at joins them
	// only for a finding.
	where, label string
	name         string // the header, parameter or JSON field name
	// kind is the redaction kind a rule gives the whole value; "" when no
	// rule names the place and only patterns apply.
	kind string
	// near reports whether the part the place belongs to (the headers, the
	// URL, the body) holds an access key id, which makes a secret-key-shaped
	// string there a secret key.
	near bool
}

// at returns where the place is: "request header Authorization",
// "response body Results[0].LicenseArn".
func (pl place) at() string {
	if pl.label == "" {
		return pl.where
	}
	return pl.where + " " + pl.label
}

// hit is a range of a value that must not be stored in clear.
type hit struct {
	start, end int
	kind       string // placeholder shape that replaces it
	what       string // what it is, for a finding; never the secret itself
}

// hits returns what in v must not be stored in clear at pl, in order and
// without overlaps.
func (p *policy) hits(pl place, v string) []hit {
	if v == "" {
		return nil
	}
	if pl.kind != "" {
		if _, ok := p.upgrades[v]; ok {
			return []hit{{0, len(v), metering.KindToken, upgradedWhat}}
		}
		if isPlaceholder(pl.kind, v) {
			return nil
		}
		return []hit{{0, len(v), pl.kind, describeRuled(pl, v)}}
	}
	var hs []hit
	add := func(start, end int, kind, what string) {
		for _, h := range hs {
			if start < h.end && h.start < end {
				return
			}
		}
		hs = append(hs, hit{start, end, kind, what})
	}
	// The cheap tests before each regexp keep matching fast: Doc runs
	// this on every string of every replayed request.
	for old := range p.upgrades {
		for from := 0; ; {
			i := strings.Index(v[from:], old)
			if i < 0 {
				break
			}
			add(from+i, from+i+len(old), metering.KindToken, upgradedWhat)
			from += i + len(old)
		}
	}
	// Credentials are random by construction: their placeholders are
	// keyless.
	if strings.Contains(v, metering.SigV4Algorithm) {
		for _, m := range metering.SigV4Authorization.FindAllStringIndex(v, -1) {
			add(m[0], m[1], metering.KindToken, "SigV4 Authorization value in clear")
		}
	}
	if len(v) >= 20 && metering.MayHoldAccessKeyID(v) {
		for _, m := range metering.AccessKeyID.FindAllStringIndex(v, -1) {
			add(m[0], m[1], metering.KindToken, "AWS access key id "+mask(v[m[0]:m[1]])+" in clear")
		}
	}
	if len(v) >= 24 && metering.MayHoldSessionToken(v) {
		for _, m := range metering.SessionToken.FindAllStringIndex(v, -1) {
			add(m[0], m[1], metering.KindToken, fmt.Sprintf("session token (%d characters) in clear", m[1]-m[0]))
		}
	}
	if (pl.near || nameSaysSecret(pl.name)) && hasRun(v, &base64Bytes, metering.SecretKeyLen) {
		for _, m := range metering.FindSecretAccessKeys(v) {
			add(m[0], m[1], metering.KindToken, "secret access key (40 characters) in clear")
		}
	}
	if !p.keepARNs && strings.Contains(v, "arn:") {
		for _, m := range metering.ARNAccount.FindAllStringSubmatchIndex(v, -1) {
			if acct := v[m[2]:m[3]]; !isAccountPlaceholder(acct) {
				add(m[2], m[3], metering.KindAccountID, "ARN names buyer AWS account id "+maskAccount(acct)+", not pseudonymised")
			}
		}
	}
	if !p.keepAccounts && hasRun(v, &digitBytes, metering.AccountIDLen) {
		for _, m := range metering.FindAccountIDs(v) {
			if acct := v[m[0]:m[1]]; !isAccountPlaceholder(acct) {
				add(m[0], m[1], metering.KindAccountID, "AWS account id "+maskAccount(acct)+" not pseudonymised")
			}
		}
	}
	sortHits(hs)
	return hs
}

// upgradedWhat says what replacing an upgraded placeholder did.
const upgradedWhat = "keyed placeholder of a given token, now keyless"

// sortHits sorts hits by where they start.
func sortHits(hs []hit) {
	if len(hs) > 1 {
		slices.SortFunc(hs, func(a, b hit) int { return a.start - b.start })
	}
}

// hasRun reports whether s holds a maximal run of exactly n bytes for
// which in reports true: FindAccountIDs and FindSecretAccessKeys find
// nothing otherwise, and this test is much cheaper than theirs.
func hasRun(s string, in *[256]bool, n int) bool {
	run := 0
	for i := 0; i < len(s); i++ {
		if in[s[i]] {
			run++
			continue
		}
		if run == n {
			return true
		}
		run = 0
	}
	return run == n
}

// digitBytes and base64Bytes are the classes of bytes whose runs
// FindAccountIDs and FindSecretAccessKeys look at: digits, and the base64
// alphabet without padding.
var digitBytes, base64Bytes = byteClasses()

func byteClasses() (digits, base64 [256]bool) {
	for c := range 256 {
		isDigit := '0' <= c && c <= '9'
		digits[c] = isDigit
		base64[c] = isDigit || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '+' || c == '/'
	}
	return digits, base64
}

// describeRuled says what a value at a place that a rule names is.
func describeRuled(pl place, v string) string {
	switch pl.name {
	case metering.HeaderAuthorization:
		return "Authorization value in clear"
	case metering.HeaderSecurityToken, metering.FieldSessionToken, metering.FieldSecurityToken:
		return "session token in clear"
	case metering.FieldRegistrationToken, metering.FormMarketplaceToken:
		return "registration token in clear"
	case metering.ParamCredential:
		return "presigned URL credential in clear"
	case metering.ParamSignature:
		return "presigned URL signature in clear"
	case metering.FieldSecretAccessKey:
		return "secret access key in clear"
	}
	switch pl.kind {
	case metering.KindAccountID:
		return "buyer AWS account id " + maskAccount(v) + " not pseudonymised"
	case metering.KindARN:
		return "ARN not pseudonymised"
	}
	return "in clear, though a redaction rule names this place"
}

// mask returns text with whatever hits finds in it replaced by "****".
func (p *policy) mask(text string) string {
	hs := p.hits(place{near: metering.HasAccessKeyID(text)}, text)
	for i := len(hs) - 1; i >= 0; i-- {
		text = text[:hs[i].start] + "****" + text[hs[i].end:]
	}
	return text
}

// maskAccount shows the last four digits of an account id, as receipts
// show card numbers: enough to find it, not enough to know it.
func maskAccount(v string) string {
	if len(v) < 8 {
		return strings.Repeat("*", len(v))
	}
	return strings.Repeat("*", len(v)-4) + v[len(v)-4:]
}

// mask shows enough of a value to find it, and not enough to use it.
func mask(v string) string {
	if len(v) < 12 {
		return strings.Repeat("*", len(v))
	}
	return v[:4] + "…" + v[len(v)-4:]
}

// probe tells placeholders from other values: placeholders are fixed
// points of Value, key or no key.
var probe = &Redactor{}

// isPlaceholder reports whether v is a placeholder of kind, a fixed point
// of Value. For secrets and account ids it tests their shapes, as Value
// does before it computes a keyed hash.
func isPlaceholder(kind, v string) bool {
	switch kind {
	case metering.KindAccountID:
		return isAccountPlaceholder(v)
	case metering.KindARN:
		return probe.Value(kind, v) == v
	}
	return isSecretPlaceholder(v)
}

// headerPlace returns the place of header name on side ("request" or
// "response").
func (p *policy) headerPlace(side, name string, near bool) place {
	pl := place{where: headerWhere(side), label: name, name: name, near: near}
	for _, h := range p.headers {
		if h == name {
			pl.kind = headerKind(name)
		}
	}
	return pl
}

// headerKind returns the redaction kind of a redacted header: the
// defaults hold signatures and session tokens; headers a user names are
// secrets, whose entropy is unknown.
func headerKind(name string) string {
	if metering.IsRedactedHeader(name) {
		return metering.KindToken
	}
	return metering.KindSecret
}

// headerWhere names the headers of side without building the string for
// the usual sides.
func headerWhere(side string) string {
	switch side {
	case "request":
		return "request header"
	case "response":
		return "response header"
	}
	return side + " header"
}

// paramPlace returns the place of a query or form parameter.
func paramPlace(where, name string, near bool) place {
	pl := place{where: where, label: name, name: name, near: near}
	if metering.IsPresignParam(http.CanonicalHeaderKey(name)) || metering.IsSecretField(name) {
		pl.kind = metering.KindToken
	}
	return pl
}

// fieldPlace returns the place of a JSON field of operation op at path
// (segments, lists as name[]), labelled where.
func (p *policy) fieldPlace(op string, path []string, where string, near bool) place {
	name := strings.TrimSuffix(path[len(path)-1], "[]")
	pl := place{where: where, name: name, near: near}
	for _, r := range p.rules {
		if r.path.Matches(op, path) {
			pl.kind = r.kind
		}
	}
	switch {
	case pl.kind != "":
	case p.names[name] != "":
		pl.kind = p.names[name]
	case metering.IsSecretField(name):
		pl.kind = metering.KindToken
	case metering.IsAccountIDField(name) && !p.keepAccounts:
		pl.kind = metering.KindAccountID
	case metering.IsARNField(name) && !p.keepARNs:
		pl.kind = metering.KindARN
	}
	return pl
}

// apply returns v with every hit replaced by its placeholder.
func (r *Redactor) apply(v string, hs []hit) string {
	if len(hs) == 0 {
		return v
	}
	var b strings.Builder
	last := 0
	for _, h := range hs {
		b.WriteString(v[last:h.start])
		b.WriteString(r.Value(h.kind, v[h.start:h.end]))
		last = h.end
	}
	b.WriteString(v[last:])
	return b.String()
}

// echoHits returns the occurrences in v of clear values that the request
// held at places rules protect (a response may echo them, in an error
// message for instance), outside the ranges of hs.
func echoHits(v string, echoes []echo, hs []hit) []hit {
	for _, e := range echoes {
		for from := 0; ; {
			i := strings.Index(v[from:], e.value)
			if i < 0 {
				break
			}
			start, end := from+i, from+i+len(e.value)
			overlaps := false
			for _, h := range hs {
				if start < h.end && h.start < end {
					overlaps = true
				}
			}
			if !overlaps {
				hs = append(hs, hit{start, end, e.kind, "echoes the request's " + e.what})
			}
			from = end
		}
	}
	sortHits(hs)
	return hs
}

// echo is a protected request value to look for in the response.
type echo struct{ value, kind, what string }

// minEcho is the shortest request value looked for in responses: shorter
// ones (a short token in a test) would match ordinary words.
const minEcho = 8
