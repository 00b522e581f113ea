// Package metering holds the facts about the AWS Marketplace Metering API
// on the wire that the rest of metervcr builds on; it imports nothing of
// metervcr's.
package metering

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// The four operations of the service, as they appear after TargetPrefix.
const (
	MeterUsage      = "MeterUsage"
	BatchMeterUsage = "BatchMeterUsage"
	ResolveCustomer = "ResolveCustomer"
	RegisterUsage   = "RegisterUsage"
)

// operations holds the facts Operations returns.
var operations = [...]string{MeterUsage, BatchMeterUsage, ResolveCustomer, RegisterUsage}

// Operations returns, in a fresh slice, the four operations in the order of the API documentation.
func Operations() []string { return slices.Clone(operations[:]) }

const (
	// TargetPrefix starts every X-Amz-Target value of the service.
	TargetPrefix = "AWSMPMeteringService."
	// SigningName is the SigV4 service name; it differs from the endpoint
	// prefix "metering.marketplace".
	SigningName = "aws-marketplace"
	// SigV4Algorithm opens the Authorization header of a signed request.
	SigV4Algorithm = "AWS4-HMAC-SHA256"
	// ContentType is the JSON 1.1 media type of requests and responses.
	ContentType = "application/x-amz-json-1.1"
	// DefaultRegion is used when neither the client nor the user names one.
	DefaultRegion = "us-east-1"
	// MaxBodyBytes is the service's own request size limit (BatchMeterUsage
	// bodies must stay under 1 MB).
	MaxBodyBytes = 1 << 20
)

// Header names the proxy reads or writes.
const (
	HeaderTarget        = "X-Amz-Target"
	HeaderDate          = "X-Amz-Date"
	HeaderSecurityToken = "X-Amz-Security-Token"
	HeaderContentSHA256 = "X-Amz-Content-Sha256"
	HeaderAuthorization = "Authorization"
	HeaderErrorType     = "X-Amzn-Errortype"
	HeaderRequestID     = "X-Amzn-Requestid"
)

// HeaderValue returns the first value of header name in h, as h.Get(name)
// does, for a name already in canonical form (the names above are): it
// skips canonicalising name again, which Get does on every call.
func HeaderValue(h map[string][]string, name string) string {
	if v := h[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// Target returns the X-Amz-Target value of operation op.
func Target(op string) string { return TargetPrefix + op }

// OperationFromTarget returns the operation named by an X-Amz-Target value
// and reports whether it is one of the four operations of the service.
func OperationFromTarget(target string) (string, bool) {
	op, ok := strings.CutPrefix(target, TargetPrefix)
	if !ok {
		return "", false
	}
	for _, known := range operations[:] {
		if op == known {
			return op, true
		}
	}
	return "", false
}

// Error codes the service documents, plus the front-end codes AWS returns
// before a request reaches the service (authentication and serialisation).
const (
	ErrInternalServiceError       = "InternalServiceErrorException"
	ErrThrottling                 = "ThrottlingException"
	ErrDisabledAPI                = "DisabledApiException"
	ErrInvalidProductCode         = "InvalidProductCodeException"
	ErrInvalidUsageDimension      = "InvalidUsageDimensionException"
	ErrInvalidTag                 = "InvalidTagException"
	ErrInvalidUsageAllocations    = "InvalidUsageAllocationsException"
	ErrTimestampOutOfBounds       = "TimestampOutOfBoundsException"
	ErrInvalidEndpointRegion      = "InvalidEndpointRegionException"
	ErrDuplicateRequest           = "DuplicateRequestException"
	ErrIdempotencyConflict        = "IdempotencyConflictException"
	ErrCustomerNotEntitled        = "CustomerNotEntitledException"
	ErrInvalidCustomerIdentifier  = "InvalidCustomerIdentifierException"
	ErrInvalidLicense             = "InvalidLicenseException"
	ErrInvalidRegion              = "InvalidRegionException"
	ErrInvalidPublicKeyVersion    = "InvalidPublicKeyVersionException"
	ErrPlatformNotSupported       = "PlatformNotSupportedException"
	ErrInvalidToken               = "InvalidTokenException"
	ErrExpiredToken               = "ExpiredTokenException"
	ErrValidation                 = "ValidationException"
	ErrSerialization              = "SerializationException"
	ErrUnknownOperation           = "UnknownOperationException"
	ErrMissingAuthenticationToken = "MissingAuthenticationTokenException"
	ErrInvalidSignature           = "InvalidSignatureException"
	ErrUnrecognizedClient         = "UnrecognizedClientException"
	ErrIncompleteSignature        = "IncompleteSignatureException"
	ErrRequestEntityTooLarge      = "RequestEntityTooLargeException"
	ErrServiceUnavailable         = "ServiceUnavailableException"
	ErrNoRecordedInteraction      = "NoRecordedInteraction"
	// ErrNoProxyCredentials is metervcr's answer to an endpoint-mode call
	// it cannot re-sign for the real host: it holds no AWS credentials.
	ErrNoProxyCredentials = "NoProxyCredentials"
	errorNamespace        = "com.amazonaws.marketplacemetering#"
)

// ErrorBody is the JSON 1.1 error body: a __type and a lowercase message
// (the Go SDK reads only the lowercase spelling for modeled errors).
type ErrorBody struct {
	Type    string `json:"__type"`
	Message string `json:"message"`
}

// ErrorJSON returns the error body AWS sends for code, with the service
// namespace that the service puts before its own codes.
func ErrorJSON(code, message string) []byte {
	typ := code
	if IsServiceError(code) {
		typ = errorNamespace + code
	}
	b, err := json.Marshal(ErrorBody{Type: typ, Message: message})
	if err != nil {
		panic(err) // two strings always marshal
	}
	return b
}

// ErrorType returns the X-Amzn-Errortype value AWS sends with code: the
// code, a colon and the namespace of whoever raised the error: the service
// for its modeled errors, the validation
// framework for ValidationException, and the front end for everything else
// (authentication, serialisation, routing). SDKs keep only the code.
func ErrorType(code string) string {
	switch {
	case IsServiceError(code):
		return code + ":http://internal.amazon.com/coral/com.amazonaws.marketplacemetering/"
	case code == ErrValidation:
		return code + ":http://internal.amazon.com/coral/com.amazon.coral.validate/"
	default:
		return code + ":http://internal.amazon.com/coral/com.amazon.coral.service/"
	}
}

// ErrorCode extracts the short error code from an X-Amzn-ErrorType header
// or a __type value: the text after '#' and before ':'.
func ErrorCode(s string) string {
	if i := strings.IndexByte(s, ':'); i >= 0 {
		s = s[:i]
	}
	if i := strings.LastIndexByte(s, '#'); i >= 0 {
		s = s[i+1:]
	}
	return s
}

// ResponseErrorCode returns the error code of a response as the SDKs read
// it: none for a 2xx status, else the X-Amzn-Errortype header, else the
// body's __type; "" when the response names no code.
func ResponseErrorCode(status int, header map[string][]string, body string) string {
	if status < 300 {
		return ""
	}
	if v := HeaderValue(header, HeaderErrorType); v != "" {
		return ErrorCode(v)
	}
	var b ErrorBody
	json.Unmarshal([]byte(body), &b) // a body of another shape names no code
	return ErrorCode(b.Type)
}

// IsServiceError reports whether code is one of the service's modeled
// errors (as opposed to a front-end or metervcr code).
func IsServiceError(code string) bool {
	switch code {
	case ErrInternalServiceError, ErrThrottling, ErrDisabledAPI, ErrInvalidProductCode,
		ErrInvalidUsageDimension, ErrInvalidTag, ErrInvalidUsageAllocations,
		ErrTimestampOutOfBounds, ErrInvalidEndpointRegion, ErrDuplicateRequest,
		ErrIdempotencyConflict, ErrCustomerNotEntitled, ErrInvalidCustomerIdentifier,
		ErrInvalidLicense, ErrInvalidRegion, ErrInvalidPublicKeyVersion,
		ErrPlatformNotSupported, ErrInvalidToken, ErrExpiredToken:
		return true
	}
	return false
}

// Limits the service applies that a recording cannot know, since they
// depend on when a request is sent.
const (
	// MaxUsageRecords is the most records one BatchMeterUsage takes.
	MaxUsageRecords = 25
	// MeterUsageWindow is how old a MeterUsage timestamp may be.
	MeterUsageWindow = 6 * time.Hour
	// BatchMeterUsageWindow is how old a BatchMeterUsage record may be.
	BatchMeterUsageWindow = 24 * time.Hour
	// FutureSlack is how far ahead of the service's clock a usage
	// timestamp may be.
	FutureSlack = 5 * time.Minute
	// SignatureSkew is how far X-Amz-Date may be from the service's clock.
	SignatureSkew = 15 * time.Minute
)

// AmzDateFormat is the layout of X-Amz-Date values (ISO 8601 basic format).
const AmzDateFormat = "20060102T150405Z"

// SignatureClockMessage returns the message AWS refuses a signature with,
// as an InvalidSignatureException, when the date it was made at is more
// than SignatureSkew away from now, or "" when the date is close enough.
func SignatureClockMessage(date, now time.Time) string {
	date, now = date.UTC(), now.UTC()
	minutes := int(SignatureSkew / time.Minute)
	switch {
	case date.Before(now.Add(-SignatureSkew)):
		return fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - %d min.)",
			date.Format(AmzDateFormat), now.Add(-SignatureSkew).Format(AmzDateFormat), now.Format(AmzDateFormat), minutes)
	case date.After(now.Add(SignatureSkew)):
		return fmt.Sprintf("Signature not yet current: %s is still later than %s (%s + %d min.)",
			date.Format(AmzDateFormat), now.Add(SignatureSkew).Format(AmzDateFormat), now.Format(AmzDateFormat), minutes)
	}
	return ""
}

// TimestampOutOfBoundsMessage is the message of the
// TimestampOutOfBoundsException that refuses a usage timestamp of secs
// epoch seconds.
func TimestampOutOfBoundsMessage(secs float64) string {
	return "The timestamp value passed in the UsageRecord is out of allowed range: " + FormatTimestamp(secs) + "."
}
