package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	mm "github.com/aws/aws-sdk-go-v2/service/marketplacemetering"
	"github.com/aws/aws-sdk-go-v2/service/marketplacemetering/types"

	"github.com/metervcr/metervcr/metering"
	"github.com/metervcr/metervcr/proxy/fakeaws"
)

// ownValues is what a new user sends first: their own product code,
// dimension and registration tokens, none of which mock was told about.
const (
	ownProduct   = "acme-analytics-pro"
	ownDimension = "api-calls"
	ownToken     = "acme-buyer-token-7Hq2"
	otherToken   = "acme-buyer-token-9Zx4"
)

// checkOwnValues drives mock at url with the real SDK as a new user would:
// MeterUsage with their own product and dimension, ResolveCustomer with
// their own tokens, then BatchMeterUsage for the customer resolved. It
// returns the customer ownToken resolved to.
func checkOwnValues(t *testing.T, url string) *mm.ResolveCustomerOutput {
	t.Helper()
	ctx := context.Background()
	c := mockClient(url, testKey, 1)
	in := meterInput(ownDimension, 4, lastHour(5))
	in.ProductCode = aws.String(ownProduct)
	mu, err := c.MeterUsage(ctx, in)
	if err != nil {
		t.Fatalf("MeterUsage(%s, %s): %v", ownProduct, ownDimension, err)
	}
	if aws.ToString(mu.MeteringRecordId) == "" {
		t.Errorf("MeterUsage(%s, %s): no MeteringRecordId", ownProduct, ownDimension)
	}

	resolve := func(token string) *mm.ResolveCustomerOutput {
		t.Helper()
		out, err := c.ResolveCustomer(ctx, &mm.ResolveCustomerInput{RegistrationToken: aws.String(token)})
		if err != nil {
			t.Fatalf("ResolveCustomer(%s): %v", token, err)
		}
		if aws.ToString(out.CustomerIdentifier) == "" || aws.ToString(out.CustomerAWSAccountId) == "" ||
			aws.ToString(out.LicenseArn) == "" || aws.ToString(out.ProductCode) == "" {
			t.Fatalf("ResolveCustomer(%s) = %+v, want a customer with every member", token, out)
		}
		return out
	}
	first, again, other := resolve(ownToken), resolve(ownToken), resolve(otherToken)
	if customerOf(again) != customerOf(first) {
		t.Errorf("ResolveCustomer(%s) twice: %v then %v, want the same customer", ownToken, customerOf(first), customerOf(again))
	}
	if a, b := customerOf(first), customerOf(other); a.CustomerIdentifier == b.CustomerIdentifier ||
		a.CustomerAWSAccountID == b.CustomerAWSAccountID || aws.ToString(first.LicenseArn) == aws.ToString(other.LicenseArn) {
		t.Errorf("ResolveCustomer(%s) = %v, the customer of %s, want another", otherToken, b, ownToken)
	}

	out, err := c.BatchMeterUsage(ctx, &mm.BatchMeterUsageInput{UsageRecords: []types.UsageRecord{{
		CustomerAWSAccountId: first.CustomerAWSAccountId, LicenseArn: first.LicenseArn,
		Dimension: aws.String(ownDimension), Quantity: aws.Int32(2), Timestamp: aws.Time(lastHour(5)),
	}}})
	if err != nil {
		t.Fatalf("BatchMeterUsage for %v: %v", customerOf(first), err)
	}
	if len(out.Results) != 1 || out.Results[0].Status != types.UsageRecordResultStatusSuccess || aws.ToString(out.Results[0].MeteringRecordId) == "" {
		t.Errorf("BatchMeterUsage for %v = %+v, want one Success with a record id", customerOf(first), out.Results)
	}
	return first
}

// customerOf is the customer ResolveCustomer answered, its LicenseArn
// left out.
func customerOf(out *mm.ResolveCustomerOutput) fakeaws.Customer {
	return fakeaws.Customer{CustomerIdentifier: aws.ToString(out.CustomerIdentifier),
		CustomerAWSAccountID: aws.ToString(out.CustomerAWSAccountId), ProductCode: aws.ToString(out.ProductCode)}
}

// checkReserved sends each reserved value to mock at url with the real
// SDK and checks the answer documented for it.
func checkReserved(t *testing.T, url string) {
	t.Helper()
	ctx := context.Background()
	c := mockClient(url, testKey, 1)
	calls := map[string]func(value string) string{
		"ProductCode": func(v string) string {
			in := meterInput(ownDimension, 1, lastHour(5))
			in.ProductCode = aws.String(v)
			_, err := c.MeterUsage(ctx, in)
			return errorCode(err)
		},
		"RegistrationToken": func(v string) string {
			_, err := c.ResolveCustomer(ctx, &mm.ResolveCustomerInput{RegistrationToken: aws.String(v)})
			return errorCode(err)
		},
		"CustomerAWSAccountId": func(v string) string {
			return batchStatus(t, c, types.UsageRecord{CustomerAWSAccountId: aws.String(v)})
		},
		"CustomerIdentifier": func(v string) string {
			return batchStatus(t, c, types.UsageRecord{CustomerIdentifier: aws.String(v)})
		},
	}
	want := map[string]string{
		fakeaws.NoSuchProduct:            metering.ErrInvalidProductCode,
		fakeaws.ThrottledProduct:         metering.ErrThrottling,
		fakeaws.InvalidRegistrationToken: metering.ErrInvalidToken,
		fakeaws.ExpiredRegistrationToken: metering.ErrExpiredToken,
		fakeaws.NotSubscribedAccountID:   string(types.UsageRecordResultStatusCustomerNotSubscribed),
		fakeaws.NotSubscribedCustomer:    string(types.UsageRecordResultStatusCustomerNotSubscribed),
	}
	if len(fakeaws.Reserved()) != len(want) {
		t.Errorf("fakeaws.Reserved lists %d values, want the %d checked here", len(fakeaws.Reserved()), len(want))
	}
	for _, r := range fakeaws.Reserved() {
		call, ok := calls[r.Member]
		if !ok {
			t.Errorf("no call sends %s %s", r.Member, r.Value)
			continue
		}
		if got := call(r.Value); got != want[r.Value] || got != r.Answer {
			t.Errorf("%s %s: got %q, want %q as documented (%q)", r.Member, r.Value, got, want[r.Value], r.Answer)
		}
	}
}

// batchStatus meters rec, given a dimension, quantity and timestamp, and
// returns its result's status, or the error code of the call.
func batchStatus(t *testing.T, c *mm.Client, rec types.UsageRecord) string {
	t.Helper()
	rec.Dimension, rec.Quantity, rec.Timestamp = aws.String(ownDimension), aws.Int32(1), aws.Time(lastHour(5))
	out, err := c.BatchMeterUsage(context.Background(), &mm.BatchMeterUsageInput{UsageRecords: []types.UsageRecord{rec}})
	if err != nil {
		return errorCode(err)
	}
	if len(out.Results) != 1 {
		t.Fatalf("BatchMeterUsage: %d results, want 1", len(out.Results))
	}
	return string(out.Results[0].Status)
}

// TestMockWithoutCustomersAcceptsOwnValues serves mock as the command
// builds it with no flags.
func TestMockWithoutCustomersAcceptsOwnValues(t *testing.T) {
	t.Parallel()
	m := startMock(t, "", false, "", 0)
	got := checkOwnValues(t, m.URL)
	if want := fakeaws.DeriveCustomer(ownToken); customerOf(got) != (fakeaws.Customer{
		CustomerIdentifier: want.CustomerIdentifier, CustomerAWSAccountID: want.CustomerAWSAccountID, ProductCode: want.ProductCode}) {
		t.Errorf("ResolveCustomer(%s) = %v, want the derived %v", ownToken, customerOf(got), want)
	}
	checkReserved(t, m.URL)
}

// TestMockCommandWithoutFlags runs the binary as a new user does, with
// no flags: their own values work, the reserved values reach the errors,
// a token resolves in that process as in this one, and the start-up lines
// list the reserved values.
func TestMockCommandWithoutFlags(t *testing.T) {
	t.Parallel()
	p := start(t, nil, "mock")
	got := checkOwnValues(t, p.URL)
	want := fakeaws.DeriveCustomer(ownToken)
	if c := customerOf(got); c.CustomerIdentifier != want.CustomerIdentifier || c.CustomerAWSAccountID != want.CustomerAWSAccountID || c.ProductCode != want.ProductCode {
		t.Errorf("the mock process resolved %s to %v, this process derives %v", ownToken, c, want)
	}
	checkReserved(t, p.URL)
	p.stop(t)
	stderr := p.stderr.String()
	for _, want := range []string{"any product code and dimension", "any token resolves to a customer derived from it",
		fakeaws.DefaultCustomers()[0].Token + " -> " + fakeaws.DefaultCustomers()[0].CustomerIdentifier} {
		if !strings.Contains(stderr, want) {
			t.Errorf("start-up lines lack %q:\n%s", want, stderr)
		}
	}
	for _, r := range fakeaws.Reserved() {
		if !strings.Contains(stderr, r.String()) {
			t.Errorf("start-up lines lack the reserved value %q:\n%s", r, stderr)
		}
	}
}

// TestMockHelpAndReadmeListReservedValues: people find every reserved
// value and its answer in mock --help and in the README.
func TestMockHelpAndReadmeListReservedValues(t *testing.T) {
	code, help, _ := runApp(t, "mock", "--help")
	if code != 0 {
		t.Fatalf("mock --help exit %d", code)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range fakeaws.Reserved() {
		if !strings.Contains(help, r.String()) {
			t.Errorf("mock --help lacks %q:\n%s", r, help)
		}
		if row := fmt.Sprintf("| `%s` | %s | %s | `%s` |", r.Value, r.Member, r.Operations, r.Answer); !strings.Contains(string(readme), row) {
			t.Errorf("README lacks the row %s", row)
		}
	}
}
