package main

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	mm "github.com/aws/aws-sdk-go-v2/service/marketplacemetering"

	"github.com/metervcr/metervcr/metering"
	"github.com/metervcr/metervcr/proxy/fakeaws"
)

// exampleCustomers is the customers file the repository ships as an
// example.
const exampleCustomers = "../../proxy/fakeaws/testdata/customers.yaml"

// resetMock asks the mock at url to forget its state, as a test suite does
// between tests, and fails unless it answers 204.
func resetMock(t *testing.T, url string) {
	t.Helper()
	resp, err := http.Post(url+fakeaws.ResetPath, "", nil)
	if err != nil {
		t.Fatalf("POST %s: %v", fakeaws.ResetPath, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("POST %s: %s, want 204 No Content", fakeaws.ResetPath, resp.Status)
	}
}

// TestMockResetBetweenTests runs the mock command and, against it, two
// table-driven subtests that meter the same product, dimension and hour
// with different quantities, as two tests of one suite would: the second
// is a DuplicateRequestException, unless each subtest resets the mock when
// it ends.
func TestMockResetBetweenTests(t *testing.T) {
	t.Parallel()
	for _, suite := range []struct {
		name       string
		reset      bool
		secondCode string // error code of the second subtest, "" for a MeteringRecordId
	}{
		{"without reset", false, metering.ErrDuplicateRequest},
		{"with POST " + fakeaws.ResetPath, true, ""},
	} {
		t.Run(suite.name, func(t *testing.T) {
			t.Parallel()
			p := start(t, nil, "mock")
			c := mockClient(p.URL, testKey, 1)
			for i, tt := range []struct {
				name     string
				quantity int32
				code     string
			}{
				{"first test, quantity 10", 10, ""},
				{"second test, quantity 11", 11, suite.secondCode},
			} {
				t.Run(tt.name, func(t *testing.T) {
					if suite.reset {
						t.Cleanup(func() { resetMock(t, p.URL) })
					}
					out, err := c.MeterUsage(context.Background(), meterInput("requests", tt.quantity, lastHour(10+i)))
					if errorCode(err) != tt.code {
						t.Fatalf("MeterUsage(%s, requests, %d) = %v, want %q", product, tt.quantity, err, tt.code)
					}
					if tt.code == "" && aws.ToString(out.MeteringRecordId) == "" {
						t.Fatalf("MeterUsage(%s, requests, %d): no MeteringRecordId", product, tt.quantity)
					}
				})
			}
			p.stop(t)
			stderr := p.stderr.String()
			if want := "curl -X POST " + p.URL + fakeaws.ResetPath; !strings.Contains(stderr, want) {
				t.Errorf("start-up lines lack %q:\n%s", want, stderr)
			}
			if resets := strings.Count(stderr, "reset: metered usage"); suite.reset && resets != 2 {
				t.Errorf("log shows %d resets, want 2:\n%s", resets, stderr)
			}
		})
	}
}

// TestMockResetEndpoint: the reset path answers POST only, and is no
// Metering operation: it needs no signature when signatures are verified,
// and faults injected into every Metering request do not reach it.
func TestMockResetEndpoint(t *testing.T) {
	t.Parallel()
	p := start(t, nil, "mock", "--verify-signatures", "--inject", "throttle=1", "--seed", "1")
	if _, err := mockClient(p.URL, testKey, 1).MeterUsage(context.Background(), meterInput("requests", 1, lastHour(5))); errorCode(err) != metering.ErrThrottling {
		t.Fatalf("MeterUsage with --inject throttle=1: %v, want %s", err, metering.ErrThrottling)
	}
	for _, tt := range []struct {
		method string
		status int
	}{
		{http.MethodPost, http.StatusNoContent},
		{http.MethodGet, http.StatusMethodNotAllowed},
		{http.MethodPut, http.StatusMethodNotAllowed},
		{http.MethodDelete, http.StatusMethodNotAllowed},
	} {
		req, err := http.NewRequest(tt.method, p.URL+fakeaws.ResetPath, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", tt.method, fakeaws.ResetPath, err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.status {
			t.Errorf("%s %s: %s, want %d", tt.method, fakeaws.ResetPath, resp.Status, tt.status)
		}
		if et := resp.Header.Get(metering.HeaderErrorType); et != "" {
			t.Errorf("%s %s: X-Amzn-Errortype %q, want none: the path is not a Metering operation", tt.method, fakeaws.ResetPath, et)
		}
		if allow := resp.Header.Get("Allow"); tt.status == http.StatusMethodNotAllowed && allow != http.MethodPost {
			t.Errorf("%s %s: Allow %q, want POST", tt.method, fakeaws.ResetPath, allow)
		}
	}
}

// TestMockStrictMessages: with --customers, an unknown product code or
// token gets the error code AWS sends, with a message that names the file
// and an entry to add to it.
func TestMockStrictMessages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := startMock(t, exampleCustomers, false, "", 0)
	c := mockClient(m.URL, testKey, 1)
	tests := []struct {
		name string
		call func() error
		code string
		want []string
	}{
		{"MeterUsage, product not in the file", func() error {
			in := meterInput("seats", 1, lastHour(5))
			in.ProductCode = aws.String("acme-other")
			_, err := c.MeterUsage(ctx, in)
			return err
		}, metering.ErrInvalidProductCode, []string{
			"The product code passed does not match", "--customers " + exampleCustomers, "add an entry to the file: - {productCode: acme-other}",
		}},
		{"ResolveCustomer, token not in the file", func() error {
			_, err := c.ResolveCustomer(ctx, &mm.ResolveCustomerInput{RegistrationToken: aws.String("TOKEN-NOT-LISTED")})
			return err
		}, metering.ErrInvalidToken, []string{
			"Registration token is invalid.", "--customers " + exampleCustomers,
			"- {token: TOKEN, customerIdentifier: cust-example, productCode: acme-saas}",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if errorCode(err) != tt.code {
				t.Fatalf("error %v, want %s", err, tt.code)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}
