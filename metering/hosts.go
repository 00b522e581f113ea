package metering

import (
	"errors"
	"fmt"
	"net"
	"strings"
)

// partitionSuffixes maps a region prefix to the DNS suffix of its partition,
// as AWS's partition list gives them. Regions matching no prefix resolve into the aws
// partition, as the SDK's endpoint rules do.
var partitionSuffixes = []struct{ prefix, suffix string }{
	{"cn-", "amazonaws.com.cn"},
	{"eusc-", "amazonaws.eu"},
	{"us-isob-", "sc2s.sgov.gov"},
	{"us-isof-", "csp.hci.ic.gov"},
	{"us-iso-", "c2s.ic.gov"},
	{"eu-isoe-", "cloud.adc-e.uk"},
}

// Host returns the standard Metering host name of region, for example
// metering.marketplace.us-east-1.amazonaws.com.
func Host(region string) string {
	suffix := "amazonaws.com"
	for _, p := range partitionSuffixes {
		if strings.HasPrefix(region, p.prefix) {
			suffix = p.suffix
			break
		}
	}
	if suffix == "amazonaws.eu" {
		// aws-eusc spells its standard host with a hyphen.
		return "metering-marketplace." + region + "." + suffix
	}
	return "metering.marketplace." + region + "." + suffix
}

// ParseHost reports whether host (with or without a port) is a Metering host
// of any partition, in any spelling the SDK's endpoint rules produce: dot or
// hyphen, FIPS, dual-stack. It returns the region the host names.
func ParseHost(host string) (region string, ok bool) {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	var rest string
	for _, prefix := range []string{"metering.marketplace-fips.", "metering.marketplace.", "metering-marketplace."} {
		if r, found := strings.CutPrefix(host, prefix); found {
			rest = r
			break
		}
	}
	region, domain, found := strings.Cut(rest, ".")
	if !found || region == "" || !validRegion(region) {
		return "", false
	}
	switch domain {
	case "amazonaws.com", "api.aws", "amazonaws.com.cn", "api.amazonwebservices.com.cn",
		"amazonaws.eu", "api.amazonwebservices.eu", "c2s.ic.gov", "api.aws.ic.gov",
		"sc2s.sgov.gov", "api.aws.scloud", "cloud.adc-e.uk", "api.cloud-aws.adc-e.uk",
		"csp.hci.ic.gov", "api.aws.hci.ic.gov":
		return region, true
	}
	return "", false
}

func validRegion(r string) bool {
	for _, c := range r {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// CredentialScope is the parsed Credential= part of a SigV4 Authorization
// header: AKID/DATE/REGION/SERVICE/aws4_request.
type CredentialScope struct {
	AccessKeyID string
	Date        string
	Region      string
	Service     string
}

// ErrNoSignature reports a request that carries no SigV4 Authorization.
var ErrNoSignature = errors.New("request is not signed with AWS Signature Version 4")

// ErrNoRegion reports a SigV4 credential scope whose region is empty, as
// SDKs sign when no region is configured (AKID/20261207//aws-marketplace/aws4_request).
var ErrNoRegion = errors.New("credential scope names no region")

// ParseAuthorization parses a SigV4 Authorization header value and returns
// its credential scope, signed header names and signature.
func ParseAuthorization(v string) (scope CredentialScope, signedHeaders []string, signature string, err error) {
	scope, signed, signature, err := ParseAuthorizationText(v)
	if err != nil {
		return scope, nil, "", err
	}
	return scope, strings.Split(signed, ";"), signature, nil
}

// ParseAuthorizationText is ParseAuthorization with the signed header
// names as the header has them, separated by semicolons (see SignsHeader),
// for a caller that would rather not allocate their list.
func ParseAuthorizationText(v string) (scope CredentialScope, signedHeaders, signature string, err error) {
	alg, params, ok := strings.Cut(strings.TrimSpace(v), " ")
	if !ok || alg != SigV4Algorithm {
		return scope, "", "", ErrNoSignature
	}
	var credential, signed string
	for p := range strings.SplitSeq(params, ",") {
		k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
		switch k {
		case "Credential":
			credential = val
		case "SignedHeaders":
			signed = val
		case "Signature":
			signature = val
		}
	}
	var parts [5]string
	n := 0
	for part := range strings.SplitSeq(credential, "/") {
		if n < len(parts) {
			parts[n] = part
		}
		n++
	}
	if n == len(parts) && parts[4] == "aws4_request" && parts[0] != "" && parts[2] == "" {
		return scope, "", "", fmt.Errorf("credential scope %q: %w", redactKey(credential), ErrNoRegion)
	}
	if n != len(parts) || parts[4] != "aws4_request" || parts[0] == "" {
		return scope, "", "", fmt.Errorf("malformed credential scope %q: want AKID/DATE/REGION/SERVICE/aws4_request", redactKey(credential))
	}
	if signed == "" || signature == "" {
		return scope, "", "", errors.New("authorization header lacks SignedHeaders or Signature")
	}
	scope = CredentialScope{AccessKeyID: parts[0], Date: parts[1], Region: parts[2], Service: parts[3]}
	return scope, signed, signature, nil
}

// SignsHeader reports whether the signed header names of
// ParseAuthorizationText hold name.
func SignsHeader(signedHeaders, name string) bool {
	for h := range strings.SplitSeq(signedHeaders, ";") {
		if h == name {
			return true
		}
	}
	return false
}

// RegionFromAuthorization returns the region of a SigV4 Authorization
// header's credential scope, or "" when it has none.
func RegionFromAuthorization(v string) string {
	scope, _, _, err := ParseAuthorization(v)
	if err != nil {
		return ""
	}
	return scope.Region
}

// redactKey hides the access key id of a credential string so that error
// messages built from it never echo a credential.
func redactKey(credential string) string {
	if _, rest, ok := strings.Cut(credential, "/"); ok {
		return "<key>/" + rest
	}
	return "<key>"
}
