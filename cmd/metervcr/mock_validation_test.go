package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	mm "github.com/aws/aws-sdk-go-v2/service/marketplacemetering"
	"github.com/aws/aws-sdk-go-v2/service/marketplacemetering/types"

	"github.com/metervcr/metervcr/metering"
	"github.com/metervcr/metervcr/proxy/fakeaws"
)

// validationCase is one bad input and the error code mock answers it with.
// call sends it with the real SDK; the SDK refuses to send inputs that lack
// a required member, so those are sent by hand as op and body.
type validationCase struct {
	name     string
	call     func(context.Context, *mm.Client) error
	op, body string
	code     string
}

func mu(edit func(*mm.MeterUsageInput)) func(context.Context, *mm.Client) error {
	return func(ctx context.Context, c *mm.Client) error {
		in := meterInput("requests", 10, lastHour(5))
		edit(in)
		_, err := c.MeterUsage(ctx, in)
		return err
	}
}

func bmu(edit func(*mm.BatchMeterUsageInput)) func(context.Context, *mm.Client) error {
	return func(ctx context.Context, c *mm.Client) error {
		in := &mm.BatchMeterUsageInput{UsageRecords: []types.UsageRecord{{
			CustomerIdentifier: aws.String(customer.CustomerIdentifier), Dimension: aws.String("requests"),
			Quantity: aws.Int32(10), Timestamp: aws.Time(lastHour(5)),
		}}}
		edit(in)
		_, err := c.BatchMeterUsage(ctx, in)
		return err
	}
}

func rc(token string) func(context.Context, *mm.Client) error {
	return func(ctx context.Context, c *mm.Client) error {
		_, err := c.ResolveCustomer(ctx, &mm.ResolveCustomerInput{RegistrationToken: aws.String(token)})
		return err
	}
}

func ru(edit func(*mm.RegisterUsageInput)) func(context.Context, *mm.Client) error {
	return func(ctx context.Context, c *mm.Client) error {
		in := &mm.RegisterUsageInput{ProductCode: aws.String(product), PublicKeyVersion: aws.Int32(1), Nonce: aws.String("nonce-1")}
		edit(in)
		_, err := c.RegisterUsage(ctx, in)
		return err
	}
}

// validationCases covers each constraint of the API model and each error
// the model documents that mock reproduces.
func validationCases() []validationCase {
	long := func(n int) string { return strings.Repeat("x", n) }
	ts := fmt.Sprint(lastHour(5).Unix())
	const valid = ""
	return []validationCase{
		// MeterUsage: model constraints (ValidationException).
		{name: "MU valid", call: mu(func(in *mm.MeterUsageInput) {}), code: valid},
		{name: "MU product code too long", call: mu(func(in *mm.MeterUsageInput) { in.ProductCode = aws.String(long(256)) }), code: metering.ErrValidation},
		{name: "MU product code pattern", call: mu(func(in *mm.MeterUsageInput) { in.ProductCode = aws.String("bad code!") }), code: metering.ErrValidation},
		{name: "MU empty dimension", call: mu(func(in *mm.MeterUsageInput) { in.UsageDimension = aws.String("") }), code: metering.ErrValidation},
		{name: "MU dimension too long", call: mu(func(in *mm.MeterUsageInput) { in.UsageDimension = aws.String(long(256)) }), code: metering.ErrValidation},
		{name: "MU negative quantity", call: mu(func(in *mm.MeterUsageInput) { in.UsageQuantity = aws.Int32(-1) }), code: metering.ErrValidation},
		{name: "MU empty allocations", call: mu(func(in *mm.MeterUsageInput) { in.UsageAllocations = []types.UsageAllocation{} }), code: metering.ErrValidation},
		{name: "MU negative allocation", call: mu(func(in *mm.MeterUsageInput) {
			in.UsageAllocations = []types.UsageAllocation{alloc(11, nil), alloc(-1, tags("a", "b"))}
		}), code: metering.ErrValidation},
		{name: "MU empty tag list", call: mu(func(in *mm.MeterUsageInput) { in.UsageAllocations = []types.UsageAllocation{alloc(10, []types.Tag{})} }), code: metering.ErrValidation},
		{name: "MU six tags", call: mu(func(in *mm.MeterUsageInput) {
			in.UsageAllocations = []types.UsageAllocation{alloc(10, tags("a", "1", "b", "2", "c", "3", "d", "4", "e", "5", "f", "6"))}
		}), code: metering.ErrValidation},
		{name: "MU tag key pattern", call: mu(func(in *mm.MeterUsageInput) {
			in.UsageAllocations = []types.UsageAllocation{alloc(10, tags("bad~key", "v"))}
		}), code: metering.ErrValidation},
		{name: "MU tag key too long", call: mu(func(in *mm.MeterUsageInput) {
			in.UsageAllocations = []types.UsageAllocation{alloc(10, tags(long(101), "v"))}
		}), code: metering.ErrValidation},
		{name: "MU tag value too long", call: mu(func(in *mm.MeterUsageInput) {
			in.UsageAllocations = []types.UsageAllocation{alloc(10, tags("k", long(257)))}
		}), code: metering.ErrValidation},
		{name: "MU client token too long", call: mu(func(in *mm.MeterUsageInput) { in.ClientToken = aws.String(long(65)) }), code: metering.ErrValidation},
		{name: "MU missing product code", op: metering.MeterUsage, body: `{"Timestamp":` + ts + `,"UsageDimension":"requests"}`, code: metering.ErrValidation},
		{name: "MU missing timestamp", op: metering.MeterUsage, body: `{"ProductCode":"` + product + `","UsageDimension":"requests"}`, code: metering.ErrValidation},
		{name: "MU missing dimension", op: metering.MeterUsage, body: `{"ProductCode":"` + product + `","Timestamp":` + ts + `}`, code: metering.ErrValidation},
		{name: "MU quantity not an integer", op: metering.MeterUsage,
			body: `{"ProductCode":"` + product + `","Timestamp":` + ts + `,"UsageDimension":"requests","UsageQuantity":1.5}`, code: metering.ErrSerialization},
		{name: "MU timestamp as a string", op: metering.MeterUsage,
			body: `{"ProductCode":"` + product + `","Timestamp":"2026-01-02T03:04:05Z","UsageDimension":"requests"}`, code: metering.ErrSerialization},
		// MeterUsage: the service's errors.
		{name: "MU reserved product", call: mu(func(in *mm.MeterUsageInput) { in.ProductCode = aws.String(fakeaws.NoSuchProduct) }), code: metering.ErrInvalidProductCode},
		{name: "MU made-up product and dimension", call: mu(func(in *mm.MeterUsageInput) {
			in.ProductCode, in.UsageDimension = aws.String("my-own-product"), aws.String("my-dimension")
		}), code: valid},
		{name: "MU allocations do not add up", call: mu(func(in *mm.MeterUsageInput) {
			in.UsageAllocations = []types.UsageAllocation{alloc(4, tags("team", "blue"))}
		}), code: metering.ErrInvalidUsageAllocations},
		{name: "MU same tag set twice", call: mu(func(in *mm.MeterUsageInput) {
			in.UsageAllocations = []types.UsageAllocation{alloc(5, tags("team", "blue")), alloc(5, tags("team", "blue"))}
		}), code: metering.ErrInvalidUsageAllocations},
		{name: "MU tag key twice", call: mu(func(in *mm.MeterUsageInput) {
			in.UsageAllocations = []types.UsageAllocation{alloc(10, tags("team", "blue", "team", "red"))}
		}), code: metering.ErrInvalidTag},
		{name: "MU seven hours ago", call: mu(func(in *mm.MeterUsageInput) { in.Timestamp = aws.Time(time.Now().Add(-7 * time.Hour)) }), code: metering.ErrTimestampOutOfBounds},
		{name: "MU an hour ahead", call: mu(func(in *mm.MeterUsageInput) { in.Timestamp = aws.Time(time.Now().Add(time.Hour)) }), code: metering.ErrTimestampOutOfBounds},
		{name: "MU dry run", call: mu(func(in *mm.MeterUsageInput) { in.DryRun = aws.Bool(true) }), code: "DryRunOperation"},
		{name: "MU throttled product", call: mu(func(in *mm.MeterUsageInput) { in.ProductCode = aws.String(fakeaws.ThrottledProduct) }), code: metering.ErrThrottling},

		// BatchMeterUsage.
		{name: "BMU valid", call: bmu(func(in *mm.BatchMeterUsageInput) {}), code: valid},
		{name: "BMU 26 records", call: bmu(func(in *mm.BatchMeterUsageInput) {
			for range 25 {
				in.UsageRecords = append(in.UsageRecords, in.UsageRecords[0])
			}
		}), code: metering.ErrValidation},
		{name: "BMU record without customer", call: bmu(func(in *mm.BatchMeterUsageInput) { in.UsageRecords[0].CustomerIdentifier = nil }), code: metering.ErrValidation},
		{name: "BMU record with both customer ids", call: bmu(func(in *mm.BatchMeterUsageInput) {
			in.UsageRecords[0].CustomerAWSAccountId = aws.String(customer.CustomerAWSAccountID)
		}), code: metering.ErrValidation},
		{name: "BMU account id not digits", call: bmu(func(in *mm.BatchMeterUsageInput) {
			in.UsageRecords[0].CustomerIdentifier, in.UsageRecords[0].CustomerAWSAccountId = nil, aws.String("1111-2222")
		}), code: metering.ErrValidation},
		{name: "BMU bad license ARN", call: bmu(func(in *mm.BatchMeterUsageInput) { in.UsageRecords[0].LicenseArn = aws.String("license-0123") }), code: metering.ErrValidation},
		{name: "BMU empty dimension", call: bmu(func(in *mm.BatchMeterUsageInput) { in.UsageRecords[0].Dimension = aws.String("") }), code: metering.ErrValidation},
		{name: "BMU negative quantity", call: bmu(func(in *mm.BatchMeterUsageInput) { in.UsageRecords[0].Quantity = aws.Int32(-5) }), code: metering.ErrValidation},
		{name: "BMU product code pattern", call: bmu(func(in *mm.BatchMeterUsageInput) { in.ProductCode = aws.String("bad code!") }), code: metering.ErrValidation},
		{name: "BMU missing records", op: metering.BatchMeterUsage, body: `{"ProductCode":"` + product + `"}`, code: metering.ErrValidation},
		{name: "BMU record missing timestamp", op: metering.BatchMeterUsage,
			body: `{"UsageRecords":[{"CustomerIdentifier":"` + customer.CustomerIdentifier + `","Dimension":"requests"}]}`, code: metering.ErrValidation},
		{name: "BMU reserved product", call: bmu(func(in *mm.BatchMeterUsageInput) { in.ProductCode = aws.String(fakeaws.NoSuchProduct) }), code: metering.ErrInvalidProductCode},
		{name: "BMU throttled product", call: bmu(func(in *mm.BatchMeterUsageInput) { in.ProductCode = aws.String(fakeaws.ThrottledProduct) }), code: metering.ErrThrottling},
		{name: "BMU allocations do not add up", call: bmu(func(in *mm.BatchMeterUsageInput) {
			in.UsageRecords[0].UsageAllocations = []types.UsageAllocation{alloc(9, tags("team", "blue"))}
		}), code: metering.ErrInvalidUsageAllocations},
		{name: "BMU tag key twice", call: bmu(func(in *mm.BatchMeterUsageInput) {
			in.UsageRecords[0].UsageAllocations = []types.UsageAllocation{alloc(10, tags("team", "blue", "team", "red"))}
		}), code: metering.ErrInvalidTag},
		{name: "BMU 25 hours ago", call: bmu(func(in *mm.BatchMeterUsageInput) {
			in.UsageRecords[0].Timestamp = aws.Time(time.Now().Add(-25 * time.Hour))
		}), code: metering.ErrTimestampOutOfBounds},

		// ResolveCustomer.
		{name: "RC valid", call: rc(customer.Token), code: valid},
		{name: "RC made-up token", call: rc("MY-OWN-TOKEN"), code: valid},
		{name: "RC reserved invalid token", call: rc(fakeaws.InvalidRegistrationToken), code: metering.ErrInvalidToken},
		{name: "RC reserved expired token", call: rc(fakeaws.ExpiredRegistrationToken), code: metering.ErrExpiredToken},
		{name: "RC blank token", call: rc("   "), code: metering.ErrValidation},
		{name: "RC missing token", op: metering.ResolveCustomer, body: `{}`, code: metering.ErrValidation},

		// RegisterUsage.
		{name: "RU valid", call: ru(func(in *mm.RegisterUsageInput) {}), code: valid},
		{name: "RU reserved product", call: ru(func(in *mm.RegisterUsageInput) { in.ProductCode = aws.String(fakeaws.NoSuchProduct) }), code: metering.ErrInvalidProductCode},
		{name: "RU throttled product", call: ru(func(in *mm.RegisterUsageInput) { in.ProductCode = aws.String(fakeaws.ThrottledProduct) }), code: metering.ErrThrottling},
		{name: "RU key version 2", call: ru(func(in *mm.RegisterUsageInput) { in.PublicKeyVersion = aws.Int32(2) }), code: metering.ErrInvalidPublicKeyVersion},
		{name: "RU key version 0", call: ru(func(in *mm.RegisterUsageInput) { in.PublicKeyVersion = aws.Int32(0) }), code: metering.ErrValidation},
		{name: "RU nonce too long", call: ru(func(in *mm.RegisterUsageInput) { in.Nonce = aws.String(long(256)) }), code: metering.ErrValidation},
		{name: "RU missing key version", op: metering.RegisterUsage, body: `{"ProductCode":"` + product + `"}`, code: metering.ErrValidation},

		// The protocol.
		{name: "unknown operation", op: "CancelUsage", body: `{}`, code: metering.ErrUnknownOperation},
		{name: "body not JSON", op: metering.MeterUsage, body: `ProductCode=x`, code: metering.ErrSerialization},
		{name: "body a JSON list", op: metering.MeterUsage, body: `[]`, code: metering.ErrSerialization},
	}
}

// TestMockValidatesAsTheModel sends each bad input to a fresh mock, with
// the real SDK where it will send it, and checks the error code.
func TestMockValidatesAsTheModel(t *testing.T) {
	t.Parallel()
	for _, tt := range validationCases() {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := startMock(t, "", false, "", 0)
			var got string
			if tt.call != nil {
				got = errorCode(tt.call(context.Background(), mockClient(m.URL, testKey, 1)))
			} else {
				got = postRaw(t, m.URL, tt.op, tt.body)
			}
			if got != tt.code {
				t.Errorf("error code %q, want %q", got, tt.code)
			}
		})
	}
}

// postRaw sends body as operation op, unsigned, and returns the error code
// of the answer, "" for a 200.
func postRaw(t *testing.T, url, op, body string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", metering.ContentType)
	req.Header.Set(metering.HeaderTarget, metering.Target(op))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		return ""
	}
	return metering.ErrorCode(resp.Header.Get(metering.HeaderErrorType))
}
