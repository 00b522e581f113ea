package proxy_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	mm "github.com/aws/aws-sdk-go-v2/service/marketplacemetering"
	"github.com/aws/aws-sdk-go-v2/service/marketplacemetering/types"
	"github.com/aws/smithy-go"

	"github.com/metervcr/metervcr/cassettes"
	"github.com/metervcr/metervcr/cassettes/redact"
	"github.com/metervcr/metervcr/proxy"
	"github.com/metervcr/metervcr/proxy/fakeaws"
)

// Key pairs of the tests. The proxy signs with one the fake knows; clients
// sign with others the fake has never heard of, so any request that reaches
// the fake with a client's key proves the proxy failed to re-sign.
var (
	proxyCreds  = fakeaws.DefaultCredentials()[0]
	clientCreds = fakeaws.Credential{AccessKeyID: "AKIAI44QH8DHBEXAMPLE", SecretAccessKey: "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY"}
	replayCreds = fakeaws.Credential{AccessKeyID: "ASIAJEXAMPLEXEG2JICEA", SecretAccessKey: "9drTJvcXLB89EXAMPLELB8923FB892xMFI",
		SessionToken: "FwoGZXIvYXdzEXAMPLESESSIONTOKENfromreplayclient"}
)

// startFake serves the fake Metering service over TLS and returns it with a
// transport that trusts its certificate.
func startFake(t *testing.T) (*fakeaws.Service, *httptest.Server) {
	t.Helper()
	fake := fakeaws.New(fakeaws.Config{})
	srv := httptest.NewTLSServer(fake)
	t.Cleanup(srv.Close)
	return fake, srv
}

func testRedactor(t *testing.T, key []byte) *redact.Redactor {
	t.Helper()
	r, err := redact.New(key, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

var testKey = []byte("proxy tests placeholder key")

// startRecorder starts a recording proxy that forwards to upstream, signing
// with the proxy's key pair.
func startRecorder(t *testing.T, cassette string, upstream *httptest.Server, key []byte) (*proxy.Server, *httptest.Server) {
	t.Helper()
	return recordWith(t, cassette, upstream, proxyCreds, testRedactor(t, key), io.Discard)
}

// startReplayer starts a replaying proxy with a transport that fails the
// test on any use: replay must never dial out.
func startReplayer(t *testing.T, cassette string, key []byte) (*proxy.Server, *httptest.Server) {
	t.Helper()
	p, err := proxy.New(proxy.Config{
		Mode:      proxy.Replay,
		Cassette:  cassette,
		Redactor:  testRedactor(t, key),
		Transport: failingTransport{t},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return p, srv
}

type failingTransport struct{ t *testing.T }

func (f failingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	f.t.Errorf("replay dialled out to %s", r.URL)
	return nil, errors.New("no network in replay")
}

// client returns the real SDK client pointed at the proxy, signing with
// creds, with one attempt per call so every call is one exchange.
func client(endpoint string, creds fakeaws.Credential) *mm.Client {
	return mm.NewFromConfig(aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken),
	}, func(o *mm.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.RetryMaxAttempts = 1
	})
}

func cassettePath(t *testing.T) string {
	return filepath.Join(t.TempDir(), "testdata", "metering.yaml")
}

// result is what one call of the script returned: its output as JSON, or
// its API error code.
type result struct {
	Call   string
	Output string
	Code   string
}

// script runs the calls of a typical seller session, successes and
// errors, for all four operations. Usage timestamps are taken at now.
func script(ctx context.Context, c *mm.Client, now time.Time) []result {
	ts := aws.Time(now)
	customer := fakeaws.DefaultCustomers()[0]
	calls := []struct {
		name string
		do   func() (any, error)
	}{
		{"MeterUsage", func() (any, error) {
			return c.MeterUsage(ctx, &mm.MeterUsageInput{ProductCode: aws.String(cassettes.DemoProduct), Timestamp: ts,
				UsageDimension: aws.String(cassettes.DemoDimension), UsageQuantity: aws.Int32(cassettes.DemoQuantity)})
		}},
		{"MeterUsage with allocations", func() (any, error) {
			return c.MeterUsage(ctx, &mm.MeterUsageInput{ProductCode: aws.String(cassettes.DemoProduct), Timestamp: ts,
				UsageDimension: aws.String("storage"), UsageQuantity: aws.Int32(5),
				UsageAllocations: []types.UsageAllocation{{AllocatedUsageQuantity: aws.Int32(5), Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("blue")}}}}})
		}},
		{"MeterUsage unknown product", func() (any, error) {
			return c.MeterUsage(ctx, &mm.MeterUsageInput{ProductCode: aws.String("no-such-product"), Timestamp: ts,
				UsageDimension: aws.String("requests"), UsageQuantity: aws.Int32(1)})
		}},
		{"MeterUsage throttled", func() (any, error) {
			return c.MeterUsage(ctx, &mm.MeterUsageInput{ProductCode: aws.String(fakeaws.ThrottledProduct), Timestamp: ts,
				UsageDimension: aws.String("requests"), UsageQuantity: aws.Int32(1)})
		}},
		{"BatchMeterUsage", func() (any, error) {
			return c.BatchMeterUsage(ctx, &mm.BatchMeterUsageInput{ProductCode: aws.String(customer.ProductCode), UsageRecords: []types.UsageRecord{
				{CustomerIdentifier: aws.String(customer.CustomerIdentifier), Dimension: aws.String("users"), Quantity: aws.Int32(3), Timestamp: ts},
				{CustomerIdentifier: aws.String(customer.CustomerIdentifier), Dimension: aws.String("admins"), Quantity: aws.Int32(1), Timestamp: ts},
			}})
		}},
		{"ResolveCustomer", func() (any, error) {
			return c.ResolveCustomer(ctx, &mm.ResolveCustomerInput{RegistrationToken: aws.String(customer.Token)})
		}},
		{"ResolveCustomer bad token", func() (any, error) {
			return c.ResolveCustomer(ctx, &mm.ResolveCustomerInput{RegistrationToken: aws.String("not-a-real-token")})
		}},
		{"RegisterUsage", func() (any, error) {
			return c.RegisterUsage(ctx, &mm.RegisterUsageInput{ProductCode: aws.String(cassettes.DemoProduct),
				PublicKeyVersion: aws.Int32(1), Nonce: aws.String("nonce-" + now.Format(time.RFC3339Nano))})
		}},
	}
	out := make([]result, len(calls))
	for i, call := range calls {
		v, err := call.do()
		out[i] = result{Call: call.name}
		if err != nil {
			var api smithy.APIError
			if errors.As(err, &api) {
				out[i].Code = api.ErrorCode()
			} else {
				out[i].Code = "transport: " + err.Error()
			}
			continue
		}
		out[i].Output = outputJSON(v)
	}
	return out
}

// outputJSON encodes an SDK output without its per-call metadata.
func outputJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "unencodable: " + err.Error()
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return string(b)
	}
	delete(m, "ResultMetadata")
	b, _ = json.Marshal(m)
	return string(b)
}
