package metering

import (
	"iter"
	"regexp"
	"slices"
	"strings"
)

// What AWS credentials and buyer identifiers look like on the wire, for
// the secret scanner of verify and for the redaction of free text such as
// error messages. The patterns aim at values that are really there (a key
// id, a token, a signature, an account id), not at every string that could
// be one: verify is a CI gate, and a gate that cries wolf gets removed.

// AccessKeyID finds AWS access key ids: a four-letter prefix naming the kind
// of principal (AKIA long-term user keys, ASIA temporary keys, AROA roles,
// AIDA users, ...) and sixteen or more upper-case letters and digits.
var AccessKeyID = regexp.MustCompile(`\b(?:AKIA|ASIA|AROA|AIDA|AGPA|AIPA|ANPA|ANVA|APKA|ABIA|ACCA|ASCA)[A-Z0-9]{16,}`)

// accessKeyPrefixes are the prefixes AccessKeyID looks for.
var accessKeyPrefixes = newPrefixes("AKIA", "ASIA", "AROA", "AIDA", "AGPA", "AIPA", "ANPA", "ANVA", "APKA", "ABIA", "ACCA", "ASCA")

// sessionTokenPrefixes are the prefixes SessionToken looks for.
var sessionTokenPrefixes = newPrefixes("FwoG", "FQoG", "IQoJ")

// MayHoldAccessKeyID reports whether s contains a prefix of an access key
// id: a test far cheaper than AccessKeyID, which need run only when it
// holds.
func MayHoldAccessKeyID(s string) bool { return accessKeyPrefixes.in(s) }

// HasAccessKeyID reports whether s holds an access key id.
func HasAccessKeyID(s string) bool { return MayHoldAccessKeyID(s) && AccessKeyID.MatchString(s) }

// MayHoldSessionToken is MayHoldAccessKeyID for SessionToken.
func MayHoldSessionToken(s string) bool { return sessionTokenPrefixes.in(s) }

// prefixes finds any of a few short strings in one pass over a text.
type prefixes struct {
	first [256]bool // first bytes of the strings
	list  []string
}

func newPrefixes(list ...string) *prefixes {
	p := &prefixes{list: list}
	for _, s := range list {
		p.first[s[0]] = true
	}
	return p
}

// in reports whether s contains one of the strings.
func (p *prefixes) in(s string) bool {
	for i := 0; i < len(s); i++ {
		if !p.first[s[i]] {
			continue
		}
		for _, sub := range p.list {
			if strings.HasPrefix(s[i:], sub) {
				return true
			}
		}
	}
	return false
}

// SessionToken finds STS session tokens by the prefixes their base64 text
// starts with (FwoG and FQoG for older tokens, IQoJ for current ones).
var SessionToken = regexp.MustCompile(`\b(?:FwoG|FQoG|IQoJ)[A-Za-z0-9/+=]{20,}`)

// SigV4Authorization finds a SigV4 Authorization value in free text: the
// algorithm followed by its credential, signed headers and signature. The
// algorithm name alone (as in the string-to-sign that AWS quotes in
// InvalidSignatureException messages) is not a credential.
var SigV4Authorization = regexp.MustCompile(`AWS4-HMAC-SHA256\s+Credential=[^\s,"']*(?:,\s*SignedHeaders=[^\s,"']*)?(?:,\s*Signature=[0-9A-Fa-f]*)?`)

// SecretKeyLen is the length of a secret access key: 30 random bytes in
// base64, without padding.
const SecretKeyLen = 40

// FindSecretAccessKeys returns the byte ranges of the strings in s shaped
// like secret access keys: exactly forty base64 characters mixing upper
// and lower case. The shape alone is weak evidence (hashes and ids can
// have it), so the scanner reports one only next to an access key id or in
// a field named as a secret.
func FindSecretAccessKeys(s string) [][2]int {
	var out [][2]int
	for start, end := range runs(s, isBase64) {
		if end-start != SecretKeyLen {
			continue
		}
		v := s[start:end]
		if strings.ContainsAny(v, "abcdefghijklmnopqrstuvwxyz") && strings.ContainsAny(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") {
			out = append(out, [2]int{start, end})
		}
	}
	return out
}

// AccountIDLen is the number of digits of an AWS account id.
const AccountIDLen = 12

// FindAccountIDs returns the byte ranges of the AWS account ids in free
// text s: runs of exactly twelve digits that are not part of a longer word,
// number, UUID or path (so the last group of a UUID, which can be all
// digits, is not one). Account ids inside ARNs are found by ARNAccount.
func FindAccountIDs(s string) [][2]int {
	var out [][2]int
	for start, end := range runs(s, isDigit) {
		if end-start != AccountIDLen {
			continue
		}
		if partOfWord(s, start-1, -1) || partOfWord(s, end, +1) {
			continue
		}
		out = append(out, [2]int{start, end})
	}
	return out
}

// ARNAccount finds ARNs that name an account; submatch 1 is the account id
// (arn:partition:service:region:account:resource).
var ARNAccount = regexp.MustCompile(`\barn:aws[a-zA-Z-]*:[A-Za-z0-9_.-]*:[A-Za-z0-9_.-]*:([0-9]{12}):`)

// Names of fields and parameters that hold credentials.
const (
	// FieldRegistrationToken is ResolveCustomer's buyer token.
	FieldRegistrationToken = "RegistrationToken"
	// FormMarketplaceToken is the form field in which the buyer's browser
	// posts the registration token to a SaaS registration page.
	FormMarketplaceToken = "x-amzn-marketplace-token"
	// FieldSecretAccessKey, FieldSessionToken and FieldSecurityToken hold
	// credentials in STS-shaped JSON.
	FieldSecretAccessKey = "SecretAccessKey"
	FieldSessionToken    = "SessionToken"
	FieldSecurityToken   = "SecurityToken"
	// ParamCredential and ParamSignature are the query parameters of a
	// presigned SigV4 URL that carry the key id and the signature; the
	// session token travels as HeaderSecurityToken.
	ParamCredential = "X-Amz-Credential"
	ParamSignature  = "X-Amz-Signature"
)

// Field and parameter names whose values are credentials or buyer
// identifiers wherever they appear: in any JSON object (error bodies and
// nested records included), query string or form.
var (
	secretFields    = [...]string{FieldRegistrationToken, FormMarketplaceToken, FieldSecretAccessKey, FieldSessionToken, FieldSecurityToken}
	accountIDFields = [...]string{"CustomerAWSAccountId"}
	arnFields       = [...]string{"LicenseArn"}
	presignParams   = [...]string{ParamCredential, ParamSignature, HeaderSecurityToken}
)

// SecretFields returns, in a fresh slice, the fields that hold credentials
// or bearer tokens.
func SecretFields() []string { return slices.Clone(secretFields[:]) }

// AccountIDFields returns, in a fresh slice, the fields that hold a buyer's
// AWS account id.
func AccountIDFields() []string { return slices.Clone(accountIDFields[:]) }

// ARNFields returns, in a fresh slice, the fields that hold an ARN naming
// the buyer's account.
func ARNFields() []string { return slices.Clone(arnFields[:]) }

// PresignParams returns, in a fresh slice, the query parameters of a
// presigned SigV4 URL that carry the key id, the signature or the session
// token.
func PresignParams() []string { return slices.Clone(presignParams[:]) }

// IsSecretField reports whether the field name holds a credential or a
// bearer token.
func IsSecretField(name string) bool { return slices.Contains(secretFields[:], name) }

// IsAccountIDField reports whether the field name holds a buyer's AWS
// account id.
func IsAccountIDField(name string) bool { return slices.Contains(accountIDFields[:], name) }

// IsARNField reports whether the field name holds an ARN naming the
// buyer's account.
func IsARNField(name string) bool { return slices.Contains(arnFields[:], name) }

// IsPresignParam reports whether the canonical query parameter name carries
// the key id, the signature or the session token of a presigned URL.
func IsPresignParam(name string) bool { return slices.Contains(presignParams[:], name) }

// runs yields the start and end of each maximal run of bytes of s for
// which in reports true.
func runs(s string, in func(byte) bool) iter.Seq2[int, int] {
	return func(yield func(int, int) bool) {
		for i := 0; i < len(s); {
			if !in(s[i]) {
				i++
				continue
			}
			j := i + 1
			for j < len(s) && in(s[j]) {
				j++
			}
			if !yield(i, j) {
				return
			}
			i = j
		}
	}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isAlnum(c byte) bool { return isDigit(c) || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// isBase64 reports whether c is in the base64 alphabet. The padding '='
// is left out: secret keys have none, and it separates key=value text.
func isBase64(c byte) bool { return isAlnum(c) || c == '+' || c == '/' }

// partOfWord reports whether the byte of s at i, next to a run of digits
// (dir -1 before it, +1 after it), makes the run part of something other
// than a free-standing number: a word, a UUID or hyphenated id, a path, an
// ARN or a decimal. A full stop ends a sentence unless a digit follows it.
func partOfWord(s string, i, dir int) bool {
	if i < 0 || i >= len(s) {
		return false
	}
	switch c := s[i]; {
	case isAlnum(c) || c == '-' || c == '_' || c == ':' || c == '/':
		return true
	case c == '.':
		j := i + dir
		return j >= 0 && j < len(s) && isDigit(s[j])
	}
	return false
}
