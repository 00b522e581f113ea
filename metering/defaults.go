package metering

import "slices"

// ignoredHeaders holds the facts IgnoredHeaders returns.
var ignoredHeaders = [...]string{
	"Authorization", "X-Amz-Date", "X-Amz-Security-Token", "X-Amz-Content-Sha256",
	"User-Agent", "X-Amz-User-Agent", "Amz-Sdk-Invocation-Id", "Amz-Sdk-Request",
	"Content-Length", "Host", "Accept-Encoding", "Connection", "X-Amzn-Trace-Id",
}

// IgnoredHeaders returns, in a fresh slice, the request headers matching ignores by default: they
// change on every call or attempt (signatures, dates, SDK invocation ids
// and retry counters), or describe the transport.
func IgnoredHeaders() []string { return slices.Clone(ignoredHeaders[:]) }

// ignoredBodyFields holds the facts IgnoredBodyFields returns.
var ignoredBodyFields = [...]string{
	"MeterUsage.Timestamp",
	"MeterUsage.ClientToken",
	"BatchMeterUsage.UsageRecords[].Timestamp",
	"RegisterUsage.Nonce",
}

// IgnoredBodyFields returns, in a fresh slice, the JSON body fields matching ignores by default, as
// Operation.path with [] for every element of a list. Timestamps follow the
// clock; the Go SDK puts a fresh UUID in ClientToken on every call; Nonce is
// chosen per instance.
func IgnoredBodyFields() []string { return slices.Clone(ignoredBodyFields[:]) }

// volatileResponseFields holds the facts VolatileResponseFields returns.
var volatileResponseFields = [...]string{
	"MeterUsage.MeteringRecordId",
	"BatchMeterUsage.Results[].MeteringRecordId",
	"BatchMeterUsage.Results[].UsageRecord.Timestamp",
	"BatchMeterUsage.UnprocessedRecords[].Timestamp",
	"RegisterUsage.Signature",
	"RegisterUsage.PublicKeyRotationTimestamp",
}

// VolatileResponseFields returns, in a fresh slice, the response body fields that differ between
// two recordings of the same calls: record ids, echoed usage timestamps,
// and RegisterUsage's freshly signed token and key rotation time. diff
// does not report them as changes.
func VolatileResponseFields() []string { return slices.Clone(volatileResponseFields[:]) }

// timestampFields holds the facts TimestampFields returns.
var timestampFields = [...]string{
	"MeterUsage.Timestamp",
	"BatchMeterUsage.UsageRecords[].Timestamp",
}

// TimestampFields returns, in a fresh slice, the body fields that hold usage timestamps, for users
// who compare them truncated to the hour instead of ignoring them.
func TimestampFields() []string { return slices.Clone(timestampFields[:]) }

// redactedHeaders holds the facts RedactedHeaders returns.
var redactedHeaders = [...]string{"Authorization", "X-Amz-Security-Token"}

// RedactedHeaders returns, in a fresh slice, request headers never stored in clear. Their values
// are signatures and session tokens: KindToken.
func RedactedHeaders() []string { return slices.Clone(redactedHeaders[:]) }

// IsRedactedHeader reports whether the canonical header name is one of the
// headers redacted by default.
func IsRedactedHeader(name string) bool { return slices.Contains(redactedHeaders[:], name) }

// Redaction kinds say what shape a placeholder keeps and whether it needs
// the redaction key.
const (
	// KindToken replaces a value too random to guess (a registration token,
	// a session token, a signature, an access key) with an opaque
	// placeholder computed from the value alone, so that replay matches
	// the real value on any machine, key or no key.
	KindToken = "token"
	// KindSecret replaces the value with an opaque placeholder keyed with
	// the redaction key: for values a user names whose entropy is unknown,
	// which a keyless digest would let anyone confirm by guessing.
	KindSecret = "secret"
	// KindAccountID keeps twelve digits.
	KindAccountID = "account-id"
	// KindARN keeps an ARN, with the account inside it pseudonymised.
	KindARN = "arn"
)

// BodyRule names a JSON body field to redact and the shape its placeholder
// keeps. Path is Operation.path, or *.path for every operation, requests and
// responses alike.
type BodyRule struct {
	Path string
	Kind string
}

// redactedBodyFields holds the facts RedactedBodyFields returns.
var redactedBodyFields = [...]BodyRule{
	{Path: "ResolveCustomer.RegistrationToken", Kind: KindToken},
	{Path: "*.CustomerAWSAccountId", Kind: KindAccountID},
	{Path: "*.UsageRecords[].CustomerAWSAccountId", Kind: KindAccountID},
	{Path: "*.Results[].UsageRecord.CustomerAWSAccountId", Kind: KindAccountID},
	{Path: "*.UnprocessedRecords[].CustomerAWSAccountId", Kind: KindAccountID},
	{Path: "*.LicenseArn", Kind: KindARN},
	{Path: "*.UsageRecords[].LicenseArn", Kind: KindARN},
	{Path: "*.Results[].UsageRecord.LicenseArn", Kind: KindARN},
	{Path: "*.UnprocessedRecords[].LicenseArn", Kind: KindARN},
}

// RedactedBodyFields returns, in a fresh slice, the body fields redacted by default: the
// registration token (a buyer's bearer token) and the buyer's AWS account
// id, alone or inside a license ARN. CustomerIdentifier and RegisterUsage's
// Signature are kept: audits and applications need them.
func RedactedBodyFields() []BodyRule { return slices.Clone(redactedBodyFields[:]) }
