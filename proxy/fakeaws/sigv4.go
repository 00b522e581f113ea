package fakeaws

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/metervcr/metervcr/metering"
)

// This file verifies Signature Version 4 as AWS documents it ("Create a
// signed AWS API request", AWS IAM User Guide), independently of the SDK's
// signer, which the tests use as the reference.

const (
	sigV4Algorithm  = "AWS4-HMAC-SHA256"
	sigV4Terminator = "aws4_request"
	scopeDateFormat = "20060102"
)

// The messages AWS sends for authentication failures.
const (
	msgInvalidToken      = "The security token included in the request is invalid."
	msgSignatureMismatch = "The request signature we calculated does not match the signature you provided. " +
		"Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)

var (
	headerHost = "host"
	headerDate = strings.ToLower(metering.HeaderDate)
)

// authenticate verifies the SigV4 signature of r over body, in the order AWS
// checks: presence, shape, key, scope, session token, clock, signature. It
// returns the credential scope whenever it could be parsed, also with an
// error, so that Requests can name the key that was used.
func (s *Service) authenticate(r *http.Request, body []byte) (metering.CredentialScope, error) {
	auth := r.Header.Get(metering.HeaderAuthorization)
	if auth == "" {
		return metering.CredentialScope{}, forbidden(metering.ErrMissingAuthenticationToken, "Missing Authentication Token")
	}
	scope, signed, signature, err := metering.ParseAuthorization(auth)
	if err != nil {
		return scope, forbidden(metering.ErrIncompleteSignature,
			"Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters: %v", err)
	}
	amzDate, date, err := checkShape(r, signed)
	if err != nil {
		return scope, err
	}
	cred, ok := s.credentials[scope.AccessKeyID]
	if !ok {
		return scope, forbidden(metering.ErrUnrecognizedClient, msgInvalidToken)
	}
	if scope.Service != metering.SigningName {
		return scope, forbidden(metering.ErrInvalidSignature,
			"Credential should be scoped to correct service: '%s'.", metering.SigningName)
	}
	if !sessionTokenMatches(cred, r.Header.Get(metering.HeaderSecurityToken)) {
		return scope, forbidden(metering.ErrUnrecognizedClient, msgInvalidToken)
	}
	if err := checkClock(date, s.now()); err != nil {
		return scope, err
	}
	if want := date.Format(scopeDateFormat); scope.Date != want {
		return scope, forbidden(metering.ErrInvalidSignature,
			"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.",
			scope.Date, want, amzDate)
	}
	payloadHash := hashHex(body)
	if h := r.Header.Get(metering.HeaderContentSHA256); h != "" && h != payloadHash {
		return scope, forbidden(metering.ErrInvalidSignature,
			"The provided '%s' header does not match what was computed.", strings.ToLower(metering.HeaderContentSHA256))
	}
	canonical := canonicalRequest(r, signed, len(body), payloadHash)
	want := signatureOf(cred.SecretAccessKey, scope, amzDate, canonical)
	// Compare in constant time: the signature is a MAC.
	if !hmac.Equal([]byte(want), []byte(signature)) {
		return scope, forbidden(metering.ErrInvalidSignature, msgSignatureMismatch)
	}
	return scope, nil
}

// checkShape checks what a signature needs besides the Authorization
// header: a parseable X-Amz-Date, and host and x-amz-date among the signed
// headers.
func checkShape(r *http.Request, signed []string) (amzDate string, date time.Time, err error) {
	amzDate = r.Header.Get(metering.HeaderDate)
	if amzDate == "" {
		return "", time.Time{}, forbidden(metering.ErrIncompleteSignature,
			"Authorization header requires existence of either a '%s' or a 'Date' header.", metering.HeaderDate)
	}
	date, err = time.Parse(metering.AmzDateFormat, amzDate)
	if err != nil {
		return "", time.Time{}, forbidden(metering.ErrIncompleteSignature,
			"Date must be in ISO-8601 'basic format'. Got '%s'.", amzDate)
	}
	for _, h := range []string{headerHost, headerDate} {
		if !slices.Contains(signed, h) {
			return "", time.Time{}, forbidden(metering.ErrIncompleteSignature,
				"'%s' must be a 'SignedHeader' in the AWS Authorization.", h)
		}
	}
	return amzDate, date, nil
}

// sessionTokenMatches reports whether the X-Amz-Security-Token sent fits
// cred: the same token for temporary credentials, none for long-term ones.
func sessionTokenMatches(cred Credential, sent string) bool {
	return subtle.ConstantTimeCompare([]byte(cred.SessionToken), []byte(sent)) == 1
}

// checkClock refuses a signature made more than metering.SignatureSkew
// away from now, with the messages AWS uses.
func checkClock(date, now time.Time) error {
	if msg := metering.SignatureClockMessage(date, now); msg != "" {
		return forbidden(metering.ErrInvalidSignature, "%s", msg)
	}
	return nil
}

// canonicalRequest builds the SigV4 canonical request of r: method,
// canonical URI, canonical query, canonical headers, signed headers and
// payload hash, one per line.
func canonicalRequest(r *http.Request, signed []string, bodyLen int, payloadHash string) string {
	var b strings.Builder
	b.WriteString(r.Method + "\n")
	b.WriteString(canonicalURI(r.URL) + "\n")
	b.WriteString(canonicalQuery(r.URL.RawQuery) + "\n")
	for _, name := range signed {
		b.WriteString(name + ":" + canonicalHeaderValue(r, name, bodyLen) + "\n")
	}
	b.WriteString("\n" + strings.Join(signed, ";") + "\n")
	b.WriteString(payloadHash)
	return b.String()
}

// canonicalHeaderValue is the value of a signed header as the client sent
// it: the Host the request carries (which the Go server keeps in r.Host,
// and which may differ from the address dialled), the real length of the
// body, or the header's values trimmed, with runs of spaces collapsed, and
// joined by commas.
func canonicalHeaderValue(r *http.Request, name string, bodyLen int) string {
	switch name {
	case headerHost:
		return collapseSpaces(r.Host)
	case "content-length":
		return strconv.Itoa(bodyLen)
	}
	values := r.Header.Values(name)
	clean := make([]string, len(values))
	for i, v := range values {
		clean[i] = collapseSpaces(v)
	}
	return strings.Join(clean, ",")
}

// collapseSpaces trims spaces around v and turns each run of spaces inside
// it into one. Only spaces: SigV4 leaves tabs alone, and so do the SDKs.
func collapseSpaces(v string) string {
	var b strings.Builder
	for _, word := range strings.Split(v, " ") {
		if word == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(word)
	}
	return b.String()
}

// canonicalURI encodes the path once more, as SigV4 asks of every service
// but S3: the escaped path as sent, each byte outside the unreserved set
// percent-encoded, slashes kept.
func canonicalURI(u *url.URL) string {
	p := u.EscapedPath()
	if p == "" {
		return "/"
	}
	return uriEncode(p, true)
}

// canonicalQuery sorts the query parameters by name, then value, each
// URI-encoded.
func canonicalQuery(raw string) string {
	// A malformed pair is dropped, as the server's own parsing drops it; the
	// client's canonical query then differs and the signature fails.
	values, _ := url.ParseQuery(raw)
	type pair struct{ k, v string }
	var pairs []pair
	for k, vs := range values {
		for _, v := range vs {
			pairs = append(pairs, pair{uriEncode(k, false), uriEncode(v, false)})
		}
	}
	slices.SortFunc(pairs, func(a, b pair) int {
		if c := strings.Compare(a.k, b.k); c != 0 {
			return c
		}
		return strings.Compare(a.v, b.v)
	})
	parts := make([]string, len(pairs))
	for i, p := range pairs {
		parts[i] = p.k + "=" + p.v
	}
	return strings.Join(parts, "&")
}

// uriEncode percent-encodes every byte but the RFC 3986 unreserved
// characters (and '/' when keepSlash), with upper-case hex.
func uriEncode(s string, keepSlash bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9',
			c == '-', c == '_', c == '.', c == '~', c == '/' && keepSlash:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&0xf])
		}
	}
	return b.String()
}

// signatureOf signs the canonical request: the string to sign holds the
// algorithm, the request date, the credential scope and the hash of the
// canonical request, and the key is derived from the secret through the
// scope's date, region and service.
func signatureOf(secret string, scope metering.CredentialScope, amzDate, canonical string) string {
	credentialScope := strings.Join([]string{scope.Date, scope.Region, scope.Service, sigV4Terminator}, "/")
	stringToSign := strings.Join([]string{sigV4Algorithm, amzDate, credentialScope, hashHex([]byte(canonical))}, "\n")
	key := hmacSHA256([]byte("AWS4"+secret), scope.Date)
	key = hmacSHA256(key, scope.Region)
	key = hmacSHA256(key, scope.Service)
	key = hmacSHA256(key, sigV4Terminator)
	return hex.EncodeToString(hmacSHA256(key, stringToSign))
}

func hmacSHA256(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}

func hashHex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
