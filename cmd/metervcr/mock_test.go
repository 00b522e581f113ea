package main

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	mm "github.com/aws/aws-sdk-go-v2/service/marketplacemetering"
	"github.com/aws/aws-sdk-go-v2/service/marketplacemetering/types"
	"github.com/aws/smithy-go"

	"github.com/metervcr/metervcr/metering"
	"github.com/metervcr/metervcr/proxy/fakeaws"
	"github.com/metervcr/metervcr/proxy/inject"
)

// mockServer is mock's handler served in-process, built as the command
// builds it, with a count of the requests that reached it (injected faults
// included).
type mockServer struct {
	*httptest.Server
	model    *fakeaws.Service
	attempts atomic.Int64
}

// startMock serves mock with the customers of file ("" for the built-in
// ones), signatures checked when verify is set, and the faults of spec.
func startMock(t *testing.T, file string, verify bool, spec string, seed int64) *mockServer {
	t.Helper()
	cfg, err := mockConfig(file, verify)
	if err != nil {
		t.Fatalf("mockConfig(%q): %v", file, err)
	}
	in, err := inject.Parse(spec)
	if err != nil {
		t.Fatalf("inject.Parse(%q): %v", spec, err)
	}
	m := &mockServer{model: fakeaws.New(cfg)}
	inner := in.Wrap(m.model, seed)
	m.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.attempts.Add(1)
		inner.ServeHTTP(w, r)
	}))
	t.Cleanup(m.Close)
	return m
}

// noBackoff retries at once, so that tests of retries take no time.
var noBackoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })

// mockClient is the real SDK pointed at url, signing with cred, with the
// standard retryer at its default of 3 attempts (or maxAttempts when set)
// minus its backoff and retry quota.
func mockClient(url string, cred fakeaws.Credential, maxAttempts int) *mm.Client {
	return mm.NewFromConfig(aws.Config{
		Region:      metering.DefaultRegion,
		Credentials: credentials.NewStaticCredentialsProvider(cred.AccessKeyID, cred.SecretAccessKey, cred.SessionToken),
	}, func(o *mm.Options) {
		o.BaseEndpoint = aws.String(url)
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = maxAttempts
			so.Backoff = noBackoff
			so.RateLimiter = ratelimit.None
		})
	})
}

// errorCode is the code the SDK surfaces for err, "" for nil.
func errorCode(err error) string {
	if err == nil {
		return ""
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return "not an API error: " + err.Error()
}

var (
	testKey  = fakeaws.DefaultCredentials()[0]
	product  = fakeaws.DefaultProducts()[0]
	customer = fakeaws.DefaultCustomers()[0]
)

// lastHour returns a time m minutes into the hour before the current one:
// inside both usage windows, and the same hour for any m.
func lastHour(m int) time.Time {
	return time.Now().Truncate(time.Hour).Add(-time.Hour + time.Duration(m)*time.Minute)
}

func meterInput(dimension string, quantity int32, at time.Time) *mm.MeterUsageInput {
	return &mm.MeterUsageInput{ProductCode: aws.String(product), Timestamp: aws.Time(at),
		UsageDimension: aws.String(dimension), UsageQuantity: aws.Int32(quantity)}
}

func tags(kv ...string) []types.Tag {
	var out []types.Tag
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, types.Tag{Key: aws.String(kv[i]), Value: aws.String(kv[i+1])})
	}
	return out
}

func alloc(q int32, t []types.Tag) types.UsageAllocation {
	return types.UsageAllocation{AllocatedUsageQuantity: aws.Int32(q), Tags: t}
}

// TestMockDuplicatesAndTheHourRule: an identical MeterUsage in the same
// hour gets the same record id, a different quantity is refused, another
// hour is new usage, and a reused ClientToken must carry the same request.
func TestMockDuplicatesAndTheHourRule(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := startMock(t, "", false, "", 0)
	c := mockClient(m.URL, testKey, 1)
	meterID := func(in *mm.MeterUsageInput) string {
		t.Helper()
		out, err := c.MeterUsage(ctx, in)
		if err != nil {
			t.Fatalf("MeterUsage(%s at %v): %v", aws.ToString(in.UsageDimension), aws.ToTime(in.Timestamp), err)
		}
		return aws.ToString(out.MeteringRecordId)
	}
	first := meterID(meterInput("requests", 10, lastHour(5)))
	if again := meterID(meterInput("requests", 10, lastHour(50))); again != first {
		t.Errorf("identical MeterUsage later in the same hour: MeteringRecordId %q, want the first one's %q", again, first)
	}
	if _, err := c.MeterUsage(ctx, meterInput("requests", 11, lastHour(20))); errorCode(err) != metering.ErrDuplicateRequest {
		t.Errorf("same hour, other quantity: %v, want %s", err, metering.ErrDuplicateRequest)
	}
	if other := meterID(meterInput("requests", 11, lastHour(-10))); other == first {
		t.Errorf("the hour before got the same MeteringRecordId %q, want a new one", other)
	}
	if other := meterID(meterInput("users", 10, lastHour(5))); other == first {
		t.Errorf("another dimension got the same MeteringRecordId %q, want a new one", other)
	}

	token := meterInput("tokens", 1, lastHour(5))
	token.ClientToken = aws.String("client-token-0001")
	id := meterID(token)
	token.Timestamp = aws.Time(lastHour(6)) // a retry must send the same request
	if _, err := c.MeterUsage(ctx, token); errorCode(err) != metering.ErrIdempotencyConflict {
		t.Errorf("reused ClientToken with another timestamp: %v, want %s", err, metering.ErrIdempotencyConflict)
	}
	token.Timestamp = aws.Time(lastHour(5))
	if again := meterID(token); again != id {
		t.Errorf("reused ClientToken with the same request: %q, want %q", again, id)
	}
}

// TestMockBatchResults: partial failures are statuses inside a 200 answer.
func TestMockBatchResults(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := startMock(t, "", false, "", 0)
	c := mockClient(m.URL, testKey, 1)
	rc, err := c.ResolveCustomer(ctx, &mm.ResolveCustomerInput{RegistrationToken: aws.String(customer.Token)})
	if err != nil {
		t.Fatalf("ResolveCustomer(%s): %v", customer.Token, err)
	}
	if aws.ToString(rc.CustomerIdentifier) != customer.CustomerIdentifier || aws.ToString(rc.CustomerAWSAccountId) != customer.CustomerAWSAccountID ||
		aws.ToString(rc.ProductCode) != customer.ProductCode || aws.ToString(rc.LicenseArn) == "" {
		t.Fatalf("ResolveCustomer = %+v, want %+v and a LicenseArn", rc, customer)
	}
	record := func(dimension string, quantity int32, account string) types.UsageRecord {
		return types.UsageRecord{CustomerAWSAccountId: aws.String(account), LicenseArn: rc.LicenseArn,
			Dimension: aws.String(dimension), Quantity: aws.Int32(quantity), Timestamp: aws.Time(lastHour(5))}
	}
	batch := func(records ...types.UsageRecord) []types.UsageRecordResult {
		t.Helper()
		out, err := c.BatchMeterUsage(ctx, &mm.BatchMeterUsageInput{UsageRecords: records})
		if err != nil {
			t.Fatalf("BatchMeterUsage: %v", err)
		}
		if len(out.Results) != len(records) || len(out.UnprocessedRecords) != 0 {
			t.Fatalf("BatchMeterUsage: %d results, %d unprocessed; want %d results", len(out.Results), len(out.UnprocessedRecords), len(records))
		}
		return out.Results
	}
	first := batch(record("requests", 5, customer.CustomerAWSAccountID), record("users", 1, fakeaws.NotSubscribedAccountID))
	if first[0].Status != types.UsageRecordResultStatusSuccess || aws.ToString(first[0].MeteringRecordId) == "" {
		t.Errorf("subscribed customer: status %s, id %q; want Success and an id", first[0].Status, aws.ToString(first[0].MeteringRecordId))
	}
	if first[1].Status != types.UsageRecordResultStatusCustomerNotSubscribed {
		t.Errorf("reserved customer: status %s, want CustomerNotSubscribed", first[1].Status)
	}
	again := batch(record("requests", 5, customer.CustomerAWSAccountID), record("requests", 6, customer.CustomerAWSAccountID))
	if again[0].Status != types.UsageRecordResultStatusSuccess || aws.ToString(again[0].MeteringRecordId) != aws.ToString(first[0].MeteringRecordId) {
		t.Errorf("identical record resent: %s %q, want Success with the first id %q", again[0].Status, aws.ToString(again[0].MeteringRecordId), aws.ToString(first[0].MeteringRecordId))
	}
	if again[1].Status != types.UsageRecordResultStatusDuplicateRecord {
		t.Errorf("record repeated with another quantity: status %s, want DuplicateRecord", again[1].Status)
	}
	if got := aws.ToTime(again[1].UsageRecord.Timestamp); !got.Equal(lastHour(5)) {
		t.Errorf("result echoes Timestamp %v, want the record's %v", got, lastHour(5))
	}
}

func TestMockCustomersFile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "customers.yaml")
	os.WriteFile(file, []byte(`
- token: TOKEN-ACME
  customerIdentifier: cust-acme
  customerAWSAccountId: "123456789012"
  productCode: acme-saas
  dimensions: [seats]
- productCode: acme-ami
`), 0o644)
	m := startMock(t, file, false, "", 0)
	c := mockClient(m.URL, testKey, 1)
	rc, err := c.ResolveCustomer(ctx, &mm.ResolveCustomerInput{RegistrationToken: aws.String("TOKEN-ACME")})
	if err != nil || aws.ToString(rc.CustomerIdentifier) != "cust-acme" || aws.ToString(rc.CustomerAWSAccountId) != "123456789012" || aws.ToString(rc.ProductCode) != "acme-saas" {
		t.Fatalf("ResolveCustomer(TOKEN-ACME) = %+v, %v; want cust-acme, 123456789012 of acme-saas", rc, err)
	}
	for _, token := range []string{customer.Token, "TOKEN-NOT-IN-THE-FILE"} {
		if _, err := c.ResolveCustomer(ctx, &mm.ResolveCustomerInput{RegistrationToken: aws.String(token)}); errorCode(err) != metering.ErrInvalidToken {
			t.Errorf("ResolveCustomer(%s) with a customers file: %v, want %s", token, err, metering.ErrInvalidToken)
		}
	}
	meterProduct := func(p, dim string) error {
		in := meterInput(dim, 1, lastHour(5))
		in.ProductCode = aws.String(p)
		_, err := c.MeterUsage(ctx, in)
		return err
	}
	for _, tt := range []struct{ product, dimension, code string }{
		{"acme-saas", "seats", ""},
		{"acme-saas", "sets", metering.ErrInvalidUsageDimension},
		{"acme-ami", "anything", ""},
		{product, "requests", metering.ErrInvalidProductCode},
		{"acme-not-in-the-file", "requests", metering.ErrInvalidProductCode},
	} {
		if err := meterProduct(tt.product, tt.dimension); errorCode(err) != tt.code {
			t.Errorf("MeterUsage(%s, %s): %v, want %q", tt.product, tt.dimension, err, tt.code)
		}
	}
	out, err := c.BatchMeterUsage(ctx, &mm.BatchMeterUsageInput{UsageRecords: []types.UsageRecord{
		{CustomerAWSAccountId: rc.CustomerAWSAccountId, LicenseArn: rc.LicenseArn, Dimension: aws.String("seats"), Quantity: aws.Int32(3), Timestamp: aws.Time(lastHour(5))},
		{CustomerAWSAccountId: aws.String("123456789013"), Dimension: aws.String("seats"), Quantity: aws.Int32(3), Timestamp: aws.Time(lastHour(5))},
	}})
	if err != nil || len(out.Results) != 2 || out.Results[0].Status != types.UsageRecordResultStatusSuccess ||
		out.Results[1].Status != types.UsageRecordResultStatusCustomerNotSubscribed {
		t.Errorf("BatchMeterUsage for the file's customer and one it does not list: %+v, %v; want Success, CustomerNotSubscribed", out, err)
	}
}

func TestMockSignatures(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	wrongSecret := fakeaws.Credential{AccessKeyID: testKey.AccessKeyID, SecretAccessKey: "not-the-secret-EXAMPLEKEY"}
	unknownKey := fakeaws.Credential{AccessKeyID: "AKIAI44QH8DHBEXAMPLE", SecretAccessKey: "anything"}
	verifying := startMock(t, "", true, "", 0)
	open := startMock(t, "", false, "", 0)
	for _, tt := range []struct {
		name string
		srv  *mockServer
		cred fakeaws.Credential
		code string
	}{
		{"verified, test key", verifying, testKey, ""},
		{"verified, temporary test key", verifying, fakeaws.DefaultCredentials()[1], ""},
		{"verified, wrong secret", verifying, wrongSecret, metering.ErrInvalidSignature},
		{"verified, unknown key", verifying, unknownKey, metering.ErrUnrecognizedClient},
		{"not verified, wrong secret", open, wrongSecret, ""},
		{"not verified, unknown key", open, unknownKey, ""},
	} {
		_, err := mockClient(tt.srv.URL, tt.cred, 1).MeterUsage(ctx, meterInput("requests", 1, lastHour(5)))
		if errorCode(err) != tt.code {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.code)
		}
	}
}
