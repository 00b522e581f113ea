package metering

import (
	"encoding/json"
	"math"
	"strconv"
	"time"
)

// Body shapes of the four operations, as the API model gives them, as far as a
// reader of cassettes needs them. Numbers stay json.Number, so that
// timestamps keep the text they were sent with; decode with encoding/json.
// Member names are the API's; Go spells the initialisms upper case.

// MeterUsageInput is the body of a MeterUsage request.
type MeterUsageInput struct {
	ProductCode    string
	Timestamp      json.Number
	UsageDimension string
	UsageQuantity  json.Number // missing means 0
	DryRun         bool
}

// MeterUsageOutput is the body of a MeterUsage answer.
type MeterUsageOutput struct {
	MeteringRecordID string `json:"MeteringRecordId"`
}

// UsageRecord is one record of BatchMeterUsage, as sent and as echoed in
// its answer.
type UsageRecord struct {
	Timestamp            json.Number
	CustomerIdentifier   string
	CustomerAWSAccountID string `json:"CustomerAWSAccountId"`
	LicenseArn           string
	Dimension            string
	Quantity             json.Number // missing means 0
}

// Customer returns the buyer a record names: its CustomerIdentifier, or
// the CustomerAWSAccountId of newer integrations.
func (r UsageRecord) Customer() string {
	if r.CustomerIdentifier != "" {
		return r.CustomerIdentifier
	}
	return r.CustomerAWSAccountID
}

// Same reports whether two records name the same usage, comparing numbers
// as numbers (1767323045.123 and 1.767323045123E9 are one timestamp).
func (r UsageRecord) Same(o UsageRecord) bool {
	ta, _ := ParseTimestamp(r.Timestamp)
	tb, _ := ParseTimestamp(o.Timestamp)
	return r.CustomerIdentifier == o.CustomerIdentifier && r.CustomerAWSAccountID == o.CustomerAWSAccountID &&
		r.LicenseArn == o.LicenseArn && r.Dimension == o.Dimension &&
		Quantity(r.Quantity) == Quantity(o.Quantity) && ta.Equal(tb)
}

// BatchMeterUsageInput is the body of a BatchMeterUsage request.
type BatchMeterUsageInput struct {
	ProductCode  string // legacy CustomerIdentifier integrations only
	UsageRecords []UsageRecord
}

// UsageRecordResult is one result of BatchMeterUsage.
type UsageRecordResult struct {
	UsageRecord      *UsageRecord
	MeteringRecordID string `json:"MeteringRecordId"`
	Status           string // Success, CustomerNotSubscribed or DuplicateRecord
}

// BatchMeterUsageOutput is the body of a BatchMeterUsage answer. A record
// that failed transiently is returned in UnprocessedRecords, to be sent
// again.
type BatchMeterUsageOutput struct {
	Results            []UsageRecordResult
	UnprocessedRecords []UsageRecord
}

// Statuses of a UsageRecordResult.
const (
	StatusSuccess               = "Success"
	StatusCustomerNotSubscribed = "CustomerNotSubscribed"
	StatusDuplicateRecord       = "DuplicateRecord"
)

// ResolveCustomerOutput is the body of a ResolveCustomer answer.
type ResolveCustomerOutput struct {
	CustomerIdentifier   string
	CustomerAWSAccountID string `json:"CustomerAWSAccountId"`
	LicenseArn           string
	ProductCode          string
}

// RegisterUsageInput is the body of a RegisterUsage request.
type RegisterUsageInput struct {
	ProductCode      string
	PublicKeyVersion json.Number
	Nonce            string
}

// ParseTimestamp reads an epoch-seconds timestamp as the SDKs send it
// (1767323045, 1767323045.123, 1.767323045123E9), truncated to
// milliseconds as they truncate it, in UTC. It reports false for a missing
// or unreadable one.
func ParseTimestamp(n json.Number) (time.Time, bool) {
	f, err := n.Float64()
	if err != nil {
		return time.Time{}, false
	}
	return epochTime(f)
}

// FormatTimestamp writes epoch seconds as messages about usage show them:
// RFC 3339 in UTC with milliseconds (2026-12-07T01:55:00.166Z), not as a
// float (1.796608500166e+09). A value too far from the present to be a
// date is written as a decimal number.
func FormatTimestamp(secs float64) string {
	t, ok := epochTime(secs)
	if !ok || t.Year() < 0 || t.Year() > 9999 {
		return strconv.FormatFloat(secs, 'f', -1, 64)
	}
	return t.Format(TimestampLayout)
}

// TimestampLayout is the layout in which metervcr shows usage timestamps:
// RFC 3339 in UTC, with milliseconds when there are any.
const TimestampLayout = "2006-01-02T15:04:05.999Z07:00"

// epochTime converts epoch seconds to a time in UTC, truncated to
// milliseconds as the SDKs truncate them. It reports false for values that
// are not finite or not within 1e13 seconds of the epoch.
func epochTime(secs float64) (time.Time, bool) {
	if math.IsNaN(secs) || math.IsInf(secs, 0) || math.Abs(secs) > 1e13 {
		return time.Time{}, false
	}
	// Rounding to the millisecond undoes the float's error:
	// 1795835861.645 is 1795835861.6449999... as a float64.
	return time.UnixMilli(int64(math.Round(secs * 1000))).UTC(), true
}

// Quantity reads a usage quantity; a missing one means 0, as in the API.
func Quantity(n json.Number) int64 {
	if n == "" {
		return 0
	}
	if i, err := n.Int64(); err == nil {
		return i
	}
	f, _ := n.Float64()
	return int64(f)
}
