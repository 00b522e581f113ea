package fakeaws

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/metervcr/metervcr/metering"
)

// TestProtocolAndValidation sends hand-made bodies, signed with the SDK's
// signer, where the SDK would refuse to send them or would never send them.
func TestProtocolAndValidation(t *testing.T) {
	t.Parallel()
	const (
		now     = 1767323046 // testNow
		batch   = metering.BatchMeterUsage
		resolve = metering.ResolveCustomer
		reg     = metering.RegisterUsage
	)
	mu := func(fields string) string {
		return `{"ProductCode":"prodcode123example","UsageDimension":"requests"` + fields + `}`
	}
	rec := func(fields string) string {
		return fmt.Sprintf(`{"UsageRecords":[{"Dimension":"requests","Timestamp":%d%s}]}`, now, fields)
	}
	tests := []struct {
		name       string
		req        rawRequest
		op         string // target operation; MeterUsage when empty
		body       string
		wantStatus int
		wantCode   string
		wantMsg    string // substring of the message
	}{
		{name: "GET", req: rawRequest{method: http.MethodGet}, body: "", wantStatus: 405, wantCode: metering.ErrUnknownOperation},
		{name: "other path", req: rawRequest{path: "/prefix/metering"}, wantStatus: 404, wantCode: metering.ErrUnknownOperation},
		{name: "JSON 1.0 content type", req: rawRequest{contentType: "application/x-amz-json-1.0"}, wantStatus: 400, wantCode: metering.ErrUnknownOperation},
		{name: "plain JSON content type", req: rawRequest{contentType: "application/json"}, wantStatus: 400, wantCode: metering.ErrUnknownOperation},
		{name: "content type with parameters", req: rawRequest{contentType: metering.ContentType + "; charset=utf-8"}, wantStatus: 200},
		{name: "unknown target", req: rawRequest{target: metering.TargetPrefix + "DeleteUsage"}, wantStatus: 400, wantCode: metering.ErrUnknownOperation},
		{name: "target of another service", req: rawRequest{target: "DynamoDB_20120810.GetItem"}, wantStatus: 400, wantCode: metering.ErrUnknownOperation},
		{name: "body is an array", body: `[]`, wantStatus: 400, wantCode: metering.ErrSerialization},
		{name: "body is not JSON", body: `ProductCode=x`, wantStatus: 400, wantCode: metering.ErrSerialization},
		{name: "body is empty", body: ` `, wantStatus: 400, wantCode: metering.ErrSerialization},
		{name: "data after the object", body: mu(fmt.Sprintf(`,"Timestamp":%d`, now)) + `{}`, wantStatus: 400, wantCode: metering.ErrSerialization},
		{name: "body over 1 MiB", body: mu(`,"Pad":"` + strings.Repeat("x", metering.MaxBodyBytes) + `"`), wantStatus: 413, wantCode: metering.ErrRequestEntityTooLarge},

		{name: "integer timestamp", body: mu(fmt.Sprintf(`,"Timestamp":%d`, now)), wantStatus: 200},
		{name: "fractional timestamp", body: mu(`,"Timestamp":1767323045.123`), wantStatus: 200},
		{name: "exponent timestamp", body: mu(`,"Timestamp":1.767323045E9`), wantStatus: 200},
		{
			name: "fractional timestamp too old", body: mu(`,"Timestamp":1767301445.166`), wantStatus: 400, wantCode: metering.ErrTimestampOutOfBounds,
			wantMsg: "The timestamp value passed in the UsageRecord is out of allowed range: 2026-01-01T21:04:05.166Z.",
		},
		{name: "string timestamp", body: mu(`,"Timestamp":"2026-01-02T03:04:05Z"`), wantStatus: 400, wantCode: metering.ErrSerialization},
		{name: "fractional quantity", body: mu(fmt.Sprintf(`,"Timestamp":%d,"UsageQuantity":1.5`, now)), wantStatus: 400, wantCode: metering.ErrSerialization},
		{name: "quantity beyond int32", body: mu(fmt.Sprintf(`,"Timestamp":%d,"UsageQuantity":2147483648`, now)), wantStatus: 400, wantCode: metering.ErrSerialization},
		{name: "quantity as string", body: mu(fmt.Sprintf(`,"Timestamp":%d,"UsageQuantity":"1"`, now)), wantStatus: 400, wantCode: metering.ErrSerialization},
		{name: "integral exponent quantity", body: mu(fmt.Sprintf(`,"Timestamp":%d,"UsageQuantity":1e2`, now)), wantStatus: 200},
		{name: "null members count as absent", body: mu(fmt.Sprintf(`,"Timestamp":%d,"UsageQuantity":null,"ClientToken":null`, now)), wantStatus: 200},

		{
			name: "empty product code", body: fmt.Sprintf(`{"ProductCode":"","Timestamp":%d,"UsageDimension":"requests"}`, now),
			wantStatus: 400, wantCode: metering.ErrValidation,
			wantMsg: "1 validation error detected: Value '' at 'productCode' failed to satisfy constraint: Member must have length greater than or equal to 1",
		},
		{
			name: "missing members", body: `{"ProductCode":"prodcode123example"}`, wantStatus: 400, wantCode: metering.ErrValidation,
			wantMsg: "2 validation errors detected: Value null at 'timestamp' failed to satisfy constraint: Member must not be null; " +
				"Value null at 'usageDimension' failed to satisfy constraint: Member must not be null",
		},
		{
			name: "member names are case-sensitive", body: fmt.Sprintf(`{"productcode":"prodcode123example","Timestamp":%d,"UsageDimension":"requests"}`, now),
			wantStatus: 400, wantCode: metering.ErrValidation, wantMsg: "Value null at 'productCode'",
		},
		{
			name: "product code pattern", body: fmt.Sprintf(`{"ProductCode":"bad code!","Timestamp":%d,"UsageDimension":"requests"}`, now),
			wantStatus: 400, wantCode: metering.ErrValidation,
			wantMsg: "Value 'bad code!' at 'productCode' failed to satisfy constraint: Member must satisfy regular expression pattern: " + productCodePattern,
		},
		{
			name: "dimension too long", body: mu(fmt.Sprintf(`,"Timestamp":%d,"UsageDimension":"%s"`, now, strings.Repeat("d", 256))),
			wantStatus: 400, wantCode: metering.ErrValidation, wantMsg: "at 'usageDimension' failed to satisfy constraint: Member must have length less than or equal to 255",
		},
		{
			// The model's " -=" is a range from space to '=', so '<' would
			// pass; '{' does not.
			name: "tag key pattern", body: mu(fmt.Sprintf(`,"Timestamp":%d,"UsageQuantity":1,"UsageAllocations":[{"AllocatedUsageQuantity":1,"Tags":[{"Key":"a{b","Value":"v"}]}]`, now)),
			wantStatus: 400, wantCode: metering.ErrValidation, wantMsg: "at 'usageAllocations.1.member.tags.1.member.key' failed to satisfy constraint: Member must satisfy regular expression pattern",
		},
		{
			name: "six tags", body: mu(fmt.Sprintf(`,"Timestamp":%d,"UsageQuantity":1,"UsageAllocations":[{"AllocatedUsageQuantity":1,"Tags":[%s]}]`,
				now, strings.TrimSuffix(strings.Repeat(`{"Key":"k","Value":"v"},`, 6), ","))),
			wantStatus: 400, wantCode: metering.ErrValidation, wantMsg: "at 'usageAllocations.1.member.tags' failed to satisfy constraint: Member must have length less than or equal to 5",
		},
		{
			name: "empty allocations", body: mu(fmt.Sprintf(`,"Timestamp":%d,"UsageAllocations":[]`, now)),
			wantStatus: 400, wantCode: metering.ErrValidation, wantMsg: "Value '[]' at 'usageAllocations'",
		},
		{
			name: "repeated tag key", body: mu(fmt.Sprintf(`,"Timestamp":%d,"UsageQuantity":1,"UsageAllocations":[{"AllocatedUsageQuantity":1,"Tags":[{"Key":"k","Value":"a"},{"Key":"k","Value":"b"}]}]`, now)),
			wantStatus: 400, wantCode: metering.ErrInvalidTag,
		},
		{
			name: "repeated tag set", body: mu(fmt.Sprintf(`,"Timestamp":%d,"UsageQuantity":2,"UsageAllocations":[{"AllocatedUsageQuantity":1,"Tags":[{"Key":"k","Value":"a"}]},{"AllocatedUsageQuantity":1,"Tags":[{"Key":"k","Value":"a"}]}]`, now)),
			wantStatus: 400, wantCode: metering.ErrInvalidUsageAllocations,
		},
		{name: "usage 7 hours old", body: mu(fmt.Sprintf(`,"Timestamp":%d`, now-7*3600)), wantStatus: 400, wantCode: metering.ErrTimestampOutOfBounds},
		{name: "usage 5 hours old", body: mu(fmt.Sprintf(`,"Timestamp":%d`, now-5*3600)), wantStatus: 200},
		{name: "usage an hour ahead", body: mu(fmt.Sprintf(`,"Timestamp":%d`, now+3600)), wantStatus: 400, wantCode: metering.ErrTimestampOutOfBounds},
		{
			name: "throttled product before validation", body: `{"ProductCode":"` + ThrottledProduct + `"}`,
			wantStatus: 400, wantCode: metering.ErrThrottling, wantMsg: "Rate exceeded",
		},

		{name: "batch without records", op: batch, body: `{}`, wantStatus: 400, wantCode: metering.ErrValidation, wantMsg: "Value null at 'usageRecords'"},
		{name: "batch of none", op: batch, body: `{"UsageRecords":[]}`, wantStatus: 200},
		{name: "batch with both customer ids", op: batch, body: rec(`,"CustomerIdentifier":"cust-EXAMPLE123","CustomerAWSAccountId":"111122223333"`), wantStatus: 400, wantCode: metering.ErrValidation},
		{name: "batch with no customer id", op: batch, body: rec(``), wantStatus: 400, wantCode: metering.ErrValidation},
		{
			name: "batch account id not digits", op: batch, body: rec(`,"CustomerAWSAccountId":"1111-2222"`), wantStatus: 400, wantCode: metering.ErrValidation,
			wantMsg: "Value '1111-2222' at 'usageRecords.1.member.customerAWSAccountId' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[0-9]+$",
		},
		{name: "batch license not an ARN", op: batch, body: rec(`,"CustomerAWSAccountId":"111122223333","LicenseArn":"l-123"`), wantStatus: 400, wantCode: metering.ErrValidation, wantMsg: "'usageRecords.1.member.licenseArn'"},
		{name: "batch record missing dimension", op: batch, body: fmt.Sprintf(`{"UsageRecords":[{"CustomerIdentifier":"c","Timestamp":%d}]}`, now), wantStatus: 400, wantCode: metering.ErrValidation, wantMsg: "Value null at 'usageRecords.1.member.dimension'"},
		{name: "batch allocations do not add up", op: batch, body: rec(`,"CustomerIdentifier":"cust-EXAMPLE123","Quantity":3,"UsageAllocations":[{"AllocatedUsageQuantity":2}]`), wantStatus: 400, wantCode: metering.ErrInvalidUsageAllocations},
		{
			name: "batch record 23 hours old", op: batch,
			body:       fmt.Sprintf(`{"UsageRecords":[{"CustomerIdentifier":"cust-EXAMPLE123","Dimension":"d","Timestamp":%d}]}`, now-23*3600),
			wantStatus: 200,
		},
		{
			name: "batch with one record 25 hours old", op: batch,
			body: fmt.Sprintf(`{"UsageRecords":[{"CustomerIdentifier":"cust-EXAMPLE123","Dimension":"d","Timestamp":%d},{"CustomerIdentifier":"cust-EXAMPLE123","Dimension":"d","Timestamp":%d}]}`,
				now, now-25*3600),
			wantStatus: 400, wantCode: metering.ErrTimestampOutOfBounds,
		},
		{name: "batch unknown product", op: batch, body: `{"ProductCode":"nope","UsageRecords":[]}`, wantStatus: 400, wantCode: metering.ErrInvalidProductCode},

		{name: "empty registration token", op: resolve, body: `{"RegistrationToken":""}`, wantStatus: 400, wantCode: metering.ErrValidation, wantMsg: "at 'registrationToken'"},
		{name: "registration token as number", op: resolve, body: `{"RegistrationToken":12}`, wantStatus: 400, wantCode: metering.ErrSerialization},
		{
			name: "public key version 0", op: reg, body: `{"ProductCode":"prodcode123example","PublicKeyVersion":0}`, wantStatus: 400, wantCode: metering.ErrValidation,
			wantMsg: "Value '0' at 'publicKeyVersion' failed to satisfy constraint: Member must have value greater than or equal to 1",
		},
		{name: "register unknown product", op: reg, body: `{"ProductCode":"nope","PublicKeyVersion":1}`, wantStatus: 400, wantCode: metering.ErrInvalidProductCode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// A server each: MeterUsage's de-duplication would make the
			// cases depend on one another.
			_, srv := newFixedServer(t)
			rr := tt.req
			rr.body = tt.body
			if tt.op != "" {
				rr.target = metering.Target(tt.op)
			}
			got := send(t, srv, rr.build(t, srv))
			if got.status != tt.wantStatus || got.code != tt.wantCode {
				t.Fatalf("got %d %q (%s), want %d %q", got.status, got.code, got.message, tt.wantStatus, tt.wantCode)
			}
			if !strings.Contains(got.message, tt.wantMsg) {
				t.Errorf("message = %q, want it to contain %q", got.message, tt.wantMsg)
			}
			checkHeaders(t, got)
		})
	}
}

// checkHeaders checks what every answer carries.
func checkHeaders(t *testing.T, a answer) {
	t.Helper()
	if ct := a.header.Get("Content-Type"); ct != metering.ContentType {
		t.Errorf("Content-Type = %q, want %q", ct, metering.ContentType)
	}
	if id := a.header.Get(metering.HeaderRequestID); !uuidRE.MatchString(id) {
		t.Errorf("%s = %q, want a UUID", metering.HeaderRequestID, id)
	}
	if a.code == "" {
		return
	}
	et := a.header.Get(metering.HeaderErrorType)
	if !strings.HasPrefix(et, a.code+":http://internal.amazon.com/coral/") {
		t.Errorf("%s = %q, want the code and a coral namespace", metering.HeaderErrorType, et)
	}
	if metering.IsServiceError(a.code) && !strings.Contains(a.body, `"__type":"com.amazonaws.marketplacemetering#`+a.code+`"`) {
		t.Errorf("body = %s, want the namespaced __type of %s", a.body, a.code)
	}
}

func TestErrorTypeHeader(t *testing.T) {
	t.Parallel()
	_, srv := newFixedServer(t)
	got := send(t, srv, rawRequest{body: `{"ProductCode":"` + ThrottledProduct + `"}`}.build(t, srv))
	const want = "ThrottlingException:http://internal.amazon.com/coral/com.amazonaws.marketplacemetering/"
	if et := got.header.Get(metering.HeaderErrorType); et != want {
		t.Errorf("%s = %q, want %q", metering.HeaderErrorType, et, want)
	}
	const wantBody = `{"__type":"com.amazonaws.marketplacemetering#ThrottlingException","message":"Rate exceeded"}`
	if got.body != wantBody {
		t.Errorf("body = %s, want %s", got.body, wantBody)
	}
	other := send(t, srv, rawRequest{body: `{"ProductCode":"` + ThrottledProduct + `"}`}.build(t, srv))
	if a, b := got.header.Get(metering.HeaderRequestID), other.header.Get(metering.HeaderRequestID); a == b {
		t.Errorf("two answers share request id %s, want a fresh one each", a)
	}
}

// TestRequestsInArrivalOrder checks that Requests reports unsigned and
// unknown requests too.
func TestRequestsInArrivalOrder(t *testing.T) {
	t.Parallel()
	svc, srv := newFixedServer(t)
	send(t, srv, rawRequest{unsigned: true}.build(t, srv))
	send(t, srv, rawRequest{cred: sessionKey, region: "eu-central-1", target: "Nope"}.build(t, srv))
	send(t, srv, rawRequest{target: metering.Target(metering.ResolveCustomer), body: `{"RegistrationToken":"FAKE-REGISTRATION-TOKEN-EXAMPLE-2"}`}.build(t, srv))
	want := []Seen{
		{Operation: metering.MeterUsage, Status: 403, ErrorCode: metering.ErrMissingAuthenticationToken},
		{AccessKeyID: sessionKey.AccessKeyID, Region: "eu-central-1", Status: 400, ErrorCode: metering.ErrUnknownOperation},
		{Operation: metering.ResolveCustomer, AccessKeyID: plainKey.AccessKeyID, Region: "us-east-1", Status: 200},
	}
	if got := svc.Requests(); !equalSeen(got, want) {
		t.Errorf("Requests() = %+v, want %+v", got, want)
	}
}
