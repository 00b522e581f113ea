package fakeaws

import (
	"context"
	"fmt"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	mm "github.com/aws/aws-sdk-go-v2/service/marketplacemetering"
	"github.com/aws/aws-sdk-go-v2/service/marketplacemetering/types"

	"github.com/metervcr/metervcr/metering"
)

var (
	derivedIDRE      = regexp.MustCompile(`^cust-[A-Z0-9]{12}$`)
	derivedAccountRE = regexp.MustCompile(`^[1-9][0-9]{11}$`)
	derivedProductRE = regexp.MustCompile(`^[a-z0-9]{25}$`)
	licenseIDRE      = regexp.MustCompile(`^license:l-[0-9a-f]{32}$`)
)

func TestDeriveCustomerShapes(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, token string }{
		{"short", "t"},
		{"uuid", "5f0c6f0e-3c2a-4c8e-9d1b-0a7b6c5d4e3f"},
		{"base64 with symbols", "AbC+/dEf==xyz"},
		{"long", strings.Repeat("tok", 400)},
		{"non-ASCII", "jeton-été-😀"},
		{"built-in token", DefaultCustomers()[0].Token},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := DeriveCustomer(tt.token)
			if c.Token != tt.token {
				t.Errorf("Token = %q, want %q", c.Token, tt.token)
			}
			if !derivedIDRE.MatchString(c.CustomerIdentifier) {
				t.Errorf("CustomerIdentifier = %q, want cust- and 12 of A-Z 0-9", c.CustomerIdentifier)
			}
			if !derivedAccountRE.MatchString(c.CustomerAWSAccountID) {
				t.Errorf("CustomerAWSAccountID = %q, want 12 digits, the first not 0", c.CustomerAWSAccountID)
			}
			if !derivedProductRE.MatchString(c.ProductCode) || !productCodeRE.MatchString(c.ProductCode) {
				t.Errorf("ProductCode = %q, want 25 of a-z 0-9", c.ProductCode)
			}
			license := licenseArn(c)
			a, err := arn.Parse(license)
			if err != nil {
				t.Fatalf("LicenseArn %q: %v", license, err)
			}
			if a.Partition != "aws" || a.Service != "license-manager" || a.Region != "" || a.AccountID != c.CustomerAWSAccountID || !licenseIDRE.MatchString(a.Resource) {
				t.Errorf("LicenseArn = %+v, want aws license-manager, no region, account %s, license:l- and 32 hex", a, c.CustomerAWSAccountID)
			}
			if !validLicenseArn(license) {
				t.Errorf("LicenseArn %q does not satisfy the API model's pattern", license)
			}
			if again := DeriveCustomer(tt.token); again != c {
				t.Errorf("DeriveCustomer(%q) again = %+v, want %+v", tt.token, again, c)
			}
		})
	}
}

// TestDeriveCustomerKnownAnswer pins the derivation: a process of another
// build must resolve a token to the same customer.
func TestDeriveCustomerKnownAnswer(t *testing.T) {
	t.Parallel()
	want := Customer{
		Token:                "my-own-registration-token",
		CustomerIdentifier:   "cust-ADDAL8G7EK6Q",
		CustomerAWSAccountID: "289491242326",
		ProductCode:          "rp8ai2a1zlapldtaj28o9bid6",
	}
	got := DeriveCustomer(want.Token)
	if got != want {
		t.Errorf("DeriveCustomer(%q) = %+v, want %+v", want.Token, got, want)
	}
	const wantLicense = "arn:aws:license-manager::289491242326:license:l-4e11b02d166b29b0bb00dc854585fc50"
	if license := licenseArn(got); license != wantLicense {
		t.Errorf("its LicenseArn = %s, want %s", license, wantLicense)
	}
}

func TestDeriveCustomerDistinct(t *testing.T) {
	t.Parallel()
	seen := make(map[string]string)
	for i := range 2000 {
		token := fmt.Sprintf("token-%d", i)
		c := DeriveCustomer(token)
		for _, v := range []string{c.CustomerIdentifier, c.CustomerAWSAccountID, c.ProductCode} {
			if other, dup := seen[v]; dup && other != token {
				t.Fatalf("DeriveCustomer(%q) and DeriveCustomer(%q) share %q, want distinct customers", token, other, v)
			}
			seen[v] = token
		}
	}
}

// startOpen serves an open fake on the real clock that checks no
// signatures, as metervcr mock does without a customers file, and returns
// a client of the real SDK for it.
func startOpen(t *testing.T) *mm.Client {
	t.Helper()
	srv := httptest.NewServer(New(Config{Open: true, SkipSignatures: true}))
	t.Cleanup(srv.Close)
	return clientFor(srv, Credential{AccessKeyID: "AKIAANYTHINGEXAMPLE", SecretAccessKey: "anything"})
}

// TestOpenAcceptsTheUsersOwnValues: made-up product codes, dimensions and
// tokens work with no configuration.
func TestOpenAcceptsTheUsersOwnValues(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := startOpen(t)
	now := time.Now().Add(-time.Minute)

	mu, err := c.MeterUsage(ctx, &mm.MeterUsageInput{ProductCode: aws.String("acme-widgets-pro"), Timestamp: aws.Time(now),
		UsageDimension: aws.String("api-calls"), UsageQuantity: aws.Int32(3)})
	if err != nil {
		t.Fatalf("MeterUsage(acme-widgets-pro, api-calls): %v", err)
	}
	if id := aws.ToString(mu.MeteringRecordId); !uuidRE.MatchString(id) {
		t.Errorf("MeteringRecordId = %q, want a UUID", id)
	}
	if _, err := c.RegisterUsage(ctx, &mm.RegisterUsageInput{ProductCode: aws.String("acme-container"), PublicKeyVersion: aws.Int32(1)}); err != nil {
		t.Errorf("RegisterUsage(acme-container): %v", err)
	}

	resolve := func(token string) *mm.ResolveCustomerOutput {
		t.Helper()
		out, err := c.ResolveCustomer(ctx, &mm.ResolveCustomerInput{RegistrationToken: aws.String(token)})
		if err != nil {
			t.Fatalf("ResolveCustomer(%s): %v", token, err)
		}
		return out
	}
	first, again, other := resolve("acme-token-1"), resolve("acme-token-1"), resolve("acme-token-2")
	want := DeriveCustomer("acme-token-1")
	if aws.ToString(first.CustomerIdentifier) != want.CustomerIdentifier || aws.ToString(first.CustomerAWSAccountId) != want.CustomerAWSAccountID ||
		aws.ToString(first.ProductCode) != want.ProductCode || aws.ToString(first.LicenseArn) != licenseArn(want) {
		t.Errorf("ResolveCustomer(acme-token-1) = %+v, want %+v with LicenseArn %s", first, want, licenseArn(want))
	}
	if !sameCustomer(first, again) {
		t.Errorf("ResolveCustomer(acme-token-1) twice: %+v then %+v, want the same customer", first, again)
	}
	if aws.ToString(other.CustomerIdentifier) == aws.ToString(first.CustomerIdentifier) ||
		aws.ToString(other.CustomerAWSAccountId) == aws.ToString(first.CustomerAWSAccountId) ||
		aws.ToString(other.LicenseArn) == aws.ToString(first.LicenseArn) {
		t.Errorf("ResolveCustomer(acme-token-2) = %+v, want another customer than %+v", other, first)
	}

	out, err := c.BatchMeterUsage(ctx, &mm.BatchMeterUsageInput{UsageRecords: []types.UsageRecord{
		{CustomerAWSAccountId: first.CustomerAWSAccountId, LicenseArn: first.LicenseArn, Dimension: aws.String("seats"), Quantity: aws.Int32(2), Timestamp: aws.Time(now)},
		{CustomerAWSAccountId: aws.String("123456789012"), Dimension: aws.String("seats"), Quantity: aws.Int32(1), Timestamp: aws.Time(now)},
		{CustomerIdentifier: aws.String("legacy-customer-7"), Dimension: aws.String("seats"), Quantity: aws.Int32(1), Timestamp: aws.Time(now)},
	}})
	if err != nil {
		t.Fatalf("BatchMeterUsage for the resolved customer: %v", err)
	}
	for i, r := range out.Results {
		if r.Status != types.UsageRecordResultStatusSuccess || !uuidRE.MatchString(aws.ToString(r.MeteringRecordId)) {
			t.Errorf("result %d = %s %q, want Success and a record id", i, r.Status, aws.ToString(r.MeteringRecordId))
		}
	}
	if len(out.Results) != 3 {
		t.Errorf("got %d results, want 3", len(out.Results))
	}
}

// TestOpenKeepsTheBuiltInCustomers: the README's examples answer as in a
// Service that lists them.
func TestOpenKeepsTheBuiltInCustomers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := startOpen(t)
	for _, want := range DefaultCustomers() {
		got, err := c.ResolveCustomer(ctx, &mm.ResolveCustomerInput{RegistrationToken: aws.String(want.Token)})
		if err != nil {
			t.Fatalf("ResolveCustomer(%s): %v", want.Token, err)
		}
		if aws.ToString(got.CustomerIdentifier) != want.CustomerIdentifier || aws.ToString(got.CustomerAWSAccountId) != want.CustomerAWSAccountID ||
			aws.ToString(got.ProductCode) != want.ProductCode || aws.ToString(got.LicenseArn) != licenseArn(want) {
			t.Errorf("ResolveCustomer(%s) = %+v, want %+v", want.Token, got, want)
		}
	}
}

func sameCustomer(a, b *mm.ResolveCustomerOutput) bool {
	return aws.ToString(a.CustomerIdentifier) == aws.ToString(b.CustomerIdentifier) &&
		aws.ToString(a.CustomerAWSAccountId) == aws.ToString(b.CustomerAWSAccountId) &&
		aws.ToString(a.LicenseArn) == aws.ToString(b.LicenseArn) &&
		aws.ToString(a.ProductCode) == aws.ToString(b.ProductCode)
}

// reservedCall sends a request that carries value in member and returns
// the error code, or the BatchMeterUsage result status, it gets.
func reservedCall(ctx context.Context, t *testing.T, c *mm.Client, member, value string) string {
	t.Helper()
	now := time.Now().Add(-time.Minute)
	var err error
	switch member {
	case "ProductCode":
		_, err = c.MeterUsage(ctx, &mm.MeterUsageInput{ProductCode: aws.String(value), Timestamp: aws.Time(now),
			UsageDimension: aws.String("requests"), UsageQuantity: aws.Int32(1)})
	case "RegistrationToken":
		_, err = c.ResolveCustomer(ctx, &mm.ResolveCustomerInput{RegistrationToken: aws.String(value)})
	case "CustomerAWSAccountId", "CustomerIdentifier":
		rec := types.UsageRecord{Dimension: aws.String("requests"), Quantity: aws.Int32(1), Timestamp: aws.Time(now)}
		if member == "CustomerIdentifier" {
			rec.CustomerIdentifier = aws.String(value)
		} else {
			rec.CustomerAWSAccountId = aws.String(value)
		}
		out, berr := c.BatchMeterUsage(ctx, &mm.BatchMeterUsageInput{UsageRecords: []types.UsageRecord{rec}})
		if berr == nil && len(out.Results) == 1 {
			return string(out.Results[0].Status)
		}
		err = berr
	default:
		t.Fatalf("no call sends member %s", member)
	}
	if err == nil {
		return ""
	}
	code, _ := apiErr(t, err)
	return code
}

// TestReservedValuesWithSDK: each reserved value gets its documented
// answer, from an open Service and from one that lists its customers.
func TestReservedValuesWithSDK(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	want := map[string]string{
		NoSuchProduct:            metering.ErrInvalidProductCode,
		ThrottledProduct:         metering.ErrThrottling,
		InvalidRegistrationToken: metering.ErrInvalidToken,
		ExpiredRegistrationToken: metering.ErrExpiredToken,
		NotSubscribedAccountID:   string(types.UsageRecordResultStatusCustomerNotSubscribed),
		NotSubscribedCustomer:    string(types.UsageRecordResultStatusCustomerNotSubscribed),
	}
	if len(Reserved()) != len(want) {
		t.Fatalf("Reserved lists %d values, want the %d this test covers", len(Reserved()), len(want))
	}
	_, strict := startSDK(t, plainKey)
	services := map[string]*mm.Client{"open": startOpen(t), "strict": strict}
	for name, c := range services {
		for _, r := range Reserved() {
			t.Run(name+" "+r.Value, func(t *testing.T) {
				if r.Answer != want[r.Value] {
					t.Errorf("Reserved documents %s for %s, want %s", r.Answer, r.Value, want[r.Value])
				}
				if got := reservedCall(ctx, t, c, r.Member, r.Value); got != want[r.Value] {
					t.Errorf("%s %s: got %q, want %q", r.Member, r.Value, got, want[r.Value])
				}
			})
		}
	}
}
