package fakeaws

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/marketplacemetering"
	"github.com/aws/aws-sdk-go-v2/service/marketplacemetering/types"
	"github.com/aws/smithy-go"

	"github.com/metervcr/metervcr/metering"
)

var (
	uuidRE       = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	licenseArnRx = regexp.MustCompile(`^arn:aws:license-manager::111122223333:license:l-[0-9a-f]{32}$`)
)

// startSDK starts a fake on the real clock and returns it with a Metering
// client of the real SDK pointed at it, making one attempt per call.
func startSDK(t *testing.T, cred Credential) (*Service, *marketplacemetering.Client) {
	t.Helper()
	svc := New(Config{})
	srv := httptest.NewServer(svc)
	t.Cleanup(srv.Close)
	return svc, clientFor(srv, cred)
}

func clientFor(srv *httptest.Server, cred Credential) *marketplacemetering.Client {
	cfg := aws.Config{
		Region:           metering.DefaultRegion,
		Credentials:      credentials.NewStaticCredentialsProvider(cred.AccessKeyID, cred.SecretAccessKey, cred.SessionToken),
		HTTPClient:       srv.Client(),
		RetryMaxAttempts: 1,
	}
	return marketplacemetering.NewFromConfig(cfg, func(o *marketplacemetering.Options) {
		o.BaseEndpoint = aws.String(srv.URL)
	})
}

func TestAllOperationsWithSDK(t *testing.T) {
	t.Parallel()
	for _, cred := range DefaultCredentials() {
		t.Run(cred.AccessKeyID, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			svc, c := startSDK(t, cred)
			now := time.Now()

			mu, err := c.MeterUsage(ctx, &marketplacemetering.MeterUsageInput{
				ProductCode: aws.String("prodcode123example"), Timestamp: aws.Time(now),
				UsageDimension: aws.String("requests"), UsageQuantity: aws.Int32(10),
				UsageAllocations: []types.UsageAllocation{
					{AllocatedUsageQuantity: aws.Int32(4), Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("blue")}}},
					{AllocatedUsageQuantity: aws.Int32(6)},
				},
			})
			if err != nil {
				t.Fatalf("MeterUsage: %v", err)
			}
			if id := aws.ToString(mu.MeteringRecordId); !uuidRE.MatchString(id) {
				t.Errorf("MeterUsage MeteringRecordId = %q, want a UUID", id)
			}

			rc, err := c.ResolveCustomer(ctx, &marketplacemetering.ResolveCustomerInput{
				RegistrationToken: aws.String(DefaultCustomers()[0].Token),
			})
			if err != nil {
				t.Fatalf("ResolveCustomer: %v", err)
			}
			if got, want := aws.ToString(rc.CustomerAWSAccountId), DefaultCustomers()[0].CustomerAWSAccountID; got != want {
				t.Errorf("ResolveCustomer CustomerAWSAccountId = %q, want %q", got, want)
			}
			if got, want := aws.ToString(rc.CustomerIdentifier), DefaultCustomers()[0].CustomerIdentifier; got != want {
				t.Errorf("ResolveCustomer CustomerIdentifier = %q, want %q", got, want)
			}
			if got, want := aws.ToString(rc.ProductCode), DefaultCustomers()[0].ProductCode; got != want {
				t.Errorf("ResolveCustomer ProductCode = %q, want %q", got, want)
			}
			if got := aws.ToString(rc.LicenseArn); !licenseArnRx.MatchString(got) {
				t.Errorf("ResolveCustomer LicenseArn = %q, want %s", got, licenseArnRx)
			}

			bmu, err := c.BatchMeterUsage(ctx, &marketplacemetering.BatchMeterUsageInput{
				UsageRecords: []types.UsageRecord{{
					CustomerAWSAccountId: rc.CustomerAWSAccountId, LicenseArn: rc.LicenseArn,
					Dimension: aws.String("requests"), Quantity: aws.Int32(3), Timestamp: aws.Time(now),
				}},
			})
			if err != nil {
				t.Fatalf("BatchMeterUsage: %v", err)
			}
			if len(bmu.Results) != 1 || bmu.Results[0].Status != types.UsageRecordResultStatusSuccess {
				t.Fatalf("BatchMeterUsage Results = %+v, want one Success", bmu.Results)
			}
			echo := bmu.Results[0].UsageRecord
			if echo == nil || aws.ToString(echo.CustomerAWSAccountId) != "111122223333" || aws.ToInt32(echo.Quantity) != 3 ||
				echo.Timestamp == nil || echo.Timestamp.Unix() != now.Unix() {
				t.Errorf("BatchMeterUsage echoed %+v, want the record as sent", echo)
			}
			if bmu.UnprocessedRecords == nil || len(bmu.UnprocessedRecords) != 0 {
				t.Errorf("UnprocessedRecords = %#v, want an empty list", bmu.UnprocessedRecords)
			}

			ru, err := c.RegisterUsage(ctx, &marketplacemetering.RegisterUsageInput{
				ProductCode: aws.String("demo-product-2"), PublicKeyVersion: aws.Int32(1), Nonce: aws.String("nonce-EXAMPLE"),
			})
			if err != nil {
				t.Fatalf("RegisterUsage: %v", err)
			}
			checkJWT(t, aws.ToString(ru.Signature), "demo-product-2", "nonce-EXAMPLE")

			want := []Seen{
				{Operation: metering.MeterUsage, AccessKeyID: cred.AccessKeyID, Region: "us-east-1", Status: 200},
				{Operation: metering.ResolveCustomer, AccessKeyID: cred.AccessKeyID, Region: "us-east-1", Status: 200},
				{Operation: metering.BatchMeterUsage, AccessKeyID: cred.AccessKeyID, Region: "us-east-1", Status: 200},
				{Operation: metering.RegisterUsage, AccessKeyID: cred.AccessKeyID, Region: "us-east-1", Status: 200},
			}
			if got := svc.Requests(); !equalSeen(got, want) {
				t.Errorf("Requests() = %+v, want %+v", got, want)
			}
		})
	}
}

func checkJWT(t *testing.T, jwt, product, nonce string) {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("Signature = %q, want three base64url parts", jwt)
	}
	var header struct{ Alg, Typ string }
	var payload struct {
		ProductCode      string `json:"productCode"`
		Nonce            string `json:"nonce"`
		PublicKeyVersion int    `json:"publicKeyVersion"`
		IssuedAt         string `json:"issuedAt"`
	}
	for i, v := range []any{&header, &payload} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatalf("Signature part %d: %v", i, err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("Signature part %d %s: %v", i, b, err)
		}
	}
	if header.Typ != "JWT" || header.Alg == "" {
		t.Errorf("JWT header = %+v, want typ JWT and an alg", header)
	}
	if payload.ProductCode != product || payload.Nonce != nonce || payload.PublicKeyVersion != 1 {
		t.Errorf("JWT payload = %+v, want productCode %s, nonce %s, publicKeyVersion 1", payload, product, nonce)
	}
	if _, err := time.Parse(time.RFC3339, payload.IssuedAt); err != nil {
		t.Errorf("JWT issuedAt = %q: %v", payload.IssuedAt, err)
	}
	if parts[2] == "" {
		t.Error("JWT signature part is empty")
	}
}

func equalSeen(got, want []Seen) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}

// apiErr returns the code and HTTP status of an SDK error, failing when
// err is not an API error.
func apiErr(t *testing.T, err error) (code string, status int) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v is not an API error", err)
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("error %v carries no HTTP response", err)
	}
	if !uuidRE.MatchString(re.ServiceRequestID()) {
		t.Errorf("request id %q, want a UUID", re.ServiceRequestID())
	}
	return ae.ErrorCode(), re.HTTPStatusCode()
}

func TestErrorsWithSDK(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Now()
	meter := func(product string, quantity int32, ts time.Time) func(*marketplacemetering.Client) error {
		return func(c *marketplacemetering.Client) error {
			_, err := c.MeterUsage(ctx, &marketplacemetering.MeterUsageInput{
				ProductCode: aws.String(product), Timestamp: aws.Time(ts),
				UsageDimension: aws.String("requests"), UsageQuantity: aws.Int32(quantity),
			})
			return err
		}
	}
	tests := []struct {
		name       string
		cred       Credential
		call       func(*marketplacemetering.Client) error
		wantCode   string
		wantStatus int
	}{
		{
			name: "wrong secret", cred: Credential{AccessKeyID: plainKey.AccessKeyID, SecretAccessKey: "wrong-secret-EXAMPLE"},
			call: meter("prodcode123example", 1, now), wantCode: metering.ErrInvalidSignature, wantStatus: 403,
		},
		{
			name: "unknown key", cred: Credential{AccessKeyID: "AKIAOTHERKEYEXAMPLE", SecretAccessKey: plainKey.SecretAccessKey},
			call: meter("prodcode123example", 1, now), wantCode: metering.ErrUnrecognizedClient, wantStatus: 403,
		},
		{
			name: "unknown registration token",
			call: func(c *marketplacemetering.Client) error {
				_, err := c.ResolveCustomer(ctx, &marketplacemetering.ResolveCustomerInput{RegistrationToken: aws.String("no-such-token")})
				return err
			},
			wantCode: metering.ErrInvalidToken, wantStatus: 400,
		},
		{
			name: "throttled product", call: meter(ThrottledProduct, 1, now),
			wantCode: metering.ErrThrottling, wantStatus: 400,
		},
		{
			name: "unknown product", call: meter("no-such-product", 1, now),
			wantCode: metering.ErrInvalidProductCode, wantStatus: 400,
		},
		{
			name: "negative quantity", call: meter("prodcode123example", -1, now),
			wantCode: metering.ErrValidation, wantStatus: 400,
		},
		{
			name: "usage too old", call: meter("prodcode123example", 1, now.Add(-7*time.Hour)),
			wantCode: metering.ErrTimestampOutOfBounds, wantStatus: 400,
		},
		{
			name: "public key version 2",
			call: func(c *marketplacemetering.Client) error {
				_, err := c.RegisterUsage(ctx, &marketplacemetering.RegisterUsageInput{
					ProductCode: aws.String("prodcode123example"), PublicKeyVersion: aws.Int32(2),
				})
				return err
			},
			wantCode: metering.ErrInvalidPublicKeyVersion, wantStatus: 400,
		},
		{
			name: "dry run",
			call: func(c *marketplacemetering.Client) error {
				_, err := c.MeterUsage(ctx, &marketplacemetering.MeterUsageInput{
					ProductCode: aws.String("prodcode123example"), Timestamp: aws.Time(now),
					UsageDimension: aws.String("requests"), DryRun: aws.Bool(true),
				})
				return err
			},
			wantCode: errDryRun, wantStatus: 400,
		},
		{
			name: "allocations do not add up",
			call: func(c *marketplacemetering.Client) error {
				_, err := c.MeterUsage(ctx, &marketplacemetering.MeterUsageInput{
					ProductCode: aws.String("prodcode123example"), Timestamp: aws.Time(now),
					UsageDimension: aws.String("requests"), UsageQuantity: aws.Int32(5),
					UsageAllocations: []types.UsageAllocation{{AllocatedUsageQuantity: aws.Int32(4)}},
				})
				return err
			},
			wantCode: metering.ErrInvalidUsageAllocations, wantStatus: 400,
		},
		{
			name: "more than 25 usage records",
			call: func(c *marketplacemetering.Client) error {
				records := make([]types.UsageRecord, 26)
				for i := range records {
					records[i] = types.UsageRecord{CustomerIdentifier: aws.String("cust-EXAMPLE123"),
						Dimension: aws.String("requests"), Timestamp: aws.Time(now)}
				}
				_, err := c.BatchMeterUsage(ctx, &marketplacemetering.BatchMeterUsageInput{UsageRecords: records})
				return err
			},
			wantCode: metering.ErrValidation, wantStatus: 400,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cred := tt.cred
			if cred == (Credential{}) {
				cred = plainKey
			}
			svc, c := startSDK(t, cred)
			err := tt.call(c)
			if err == nil {
				t.Fatalf("call succeeded, want %s", tt.wantCode)
			}
			code, status := apiErr(t, err)
			if code != tt.wantCode || status != tt.wantStatus {
				t.Errorf("error = %s (HTTP %d), want %s (HTTP %d): %v", code, status, tt.wantCode, tt.wantStatus, err)
			}
			if seen := svc.Requests(); len(seen) != 1 || seen[0].ErrorCode != tt.wantCode || seen[0].Status != tt.wantStatus {
				t.Errorf("Requests() = %+v, want one with %d %s", seen, tt.wantStatus, tt.wantCode)
			}
		})
	}
}

func TestMeterUsageDeduplicationWithSDK(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, c := startSDK(t, plainKey)
	hour := time.Now().Truncate(time.Hour)
	if time.Since(hour) < 2*time.Minute {
		// Keep both timestamps below in the same past hour.
		hour = hour.Add(-time.Hour)
	}
	call := func(ts time.Time, quantity int32, token *string) (string, error) {
		out, err := c.MeterUsage(ctx, &marketplacemetering.MeterUsageInput{
			ProductCode: aws.String("prodcode123example"), Timestamp: aws.Time(ts),
			UsageDimension: aws.String("requests"), UsageQuantity: aws.Int32(quantity), ClientToken: token,
		})
		if err != nil {
			return "", err
		}
		return aws.ToString(out.MeteringRecordId), nil
	}
	first, err := call(hour.Add(time.Minute), 10, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The SDK sends a fresh ClientToken each time: the service still
	// recognises the same usage in the same hour.
	again, err := call(hour.Add(90*time.Second), 10, nil)
	if err != nil {
		t.Fatal(err)
	}
	if again != first {
		t.Errorf("identical MeterUsage in the same hour got id %s, want %s", again, first)
	}
	earlier, err := call(hour.Add(-time.Minute), 10, nil)
	if err != nil {
		t.Fatal(err)
	}
	if earlier == first {
		t.Errorf("MeterUsage in the previous hour got the same id %s, want a new one", earlier)
	}
	if _, err := call(hour.Add(time.Minute), 11, nil); err == nil {
		t.Error("a different quantity in the same hour succeeded, want DuplicateRequestException")
	} else if code, _ := apiErr(t, err); code != metering.ErrDuplicateRequest {
		t.Errorf("a different quantity in the same hour: %s, want %s", code, metering.ErrDuplicateRequest)
	}

	token := aws.String("my-fixed-token-0001")
	withToken, err := call(hour.Add(-2*time.Hour), 5, token)
	if err != nil {
		t.Fatal(err)
	}
	if retried, err := call(hour.Add(-2*time.Hour), 5, token); err != nil || retried != withToken {
		t.Errorf("retry with the same ClientToken = %q, %v; want %q, nil", retried, err, withToken)
	}
	_, err = call(hour.Add(-2*time.Hour), 6, token)
	if err == nil {
		t.Fatal("ClientToken reused with other parameters succeeded, want IdempotencyConflictException")
	}
	if code, status := apiErr(t, err); code != metering.ErrIdempotencyConflict || status != http.StatusConflict {
		t.Errorf("ClientToken reused: %s (HTTP %d), want %s (HTTP 409)", code, status, metering.ErrIdempotencyConflict)
	}
}

func TestBatchMeterUsageResultsWithSDK(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, c := startSDK(t, plainKey)
	now := time.Now().Add(-time.Minute)
	rec := func(customer string, byAccount bool, dimension string, quantity int32) types.UsageRecord {
		r := types.UsageRecord{Dimension: aws.String(dimension), Quantity: aws.Int32(quantity), Timestamp: aws.Time(now)}
		if byAccount {
			r.CustomerAWSAccountId = aws.String(customer)
		} else {
			r.CustomerIdentifier = aws.String(customer)
		}
		return r
	}
	batch := func(records ...types.UsageRecord) []types.UsageRecordResult {
		t.Helper()
		out, err := c.BatchMeterUsage(ctx, &marketplacemetering.BatchMeterUsageInput{
			ProductCode: aws.String("prodcode123example"), UsageRecords: records,
		})
		if err != nil {
			t.Fatalf("BatchMeterUsage: %v", err)
		}
		if len(out.Results) != len(records) {
			t.Fatalf("got %d results, want %d", len(out.Results), len(records))
		}
		for i, r := range out.Results {
			if got, want := aws.ToString(r.UsageRecord.Dimension), aws.ToString(records[i].Dimension); got != want {
				t.Errorf("result %d echoes dimension %q, want %q (request order)", i, got, want)
			}
		}
		return out.Results
	}
	first := batch(
		rec("cust-EXAMPLE123", false, "requests", 10),
		rec("111122223333", true, "storage", 2),
		rec("cust-NOBODY", false, "requests", 1),
		rec("cust-EXAMPLE456", false, "requests", 1), // subscribed to another product
	)
	wantStatus := []types.UsageRecordResultStatus{"Success", "Success", "CustomerNotSubscribed", "CustomerNotSubscribed"}
	for i, r := range first {
		if r.Status != wantStatus[i] {
			t.Errorf("first batch result %d status = %s, want %s", i, r.Status, wantStatus[i])
		}
	}
	if first[2].MeteringRecordId != nil {
		t.Errorf("CustomerNotSubscribed result has record id %q, want none", *first[2].MeteringRecordId)
	}
	second := batch(
		rec("111122223333", true, "storage", 2),       // identical: idempotent
		rec("cust-EXAMPLE123", false, "requests", 11), // same customer, dimension, hour; new quantity
	)
	if second[0].Status != types.UsageRecordResultStatusSuccess || aws.ToString(second[0].MeteringRecordId) != aws.ToString(first[1].MeteringRecordId) {
		t.Errorf("identical record = %s %s, want Success %s", second[0].Status, aws.ToString(second[0].MeteringRecordId), aws.ToString(first[1].MeteringRecordId))
	}
	if second[1].Status != types.UsageRecordResultStatusDuplicateRecord || aws.ToString(second[1].MeteringRecordId) != aws.ToString(first[0].MeteringRecordId) {
		t.Errorf("changed record = %s %s, want DuplicateRecord %s", second[1].Status, aws.ToString(second[1].MeteringRecordId), aws.ToString(first[0].MeteringRecordId))
	}
}
