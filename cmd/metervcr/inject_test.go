package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	mm "github.com/aws/aws-sdk-go-v2/service/marketplacemetering"
	"github.com/aws/aws-sdk-go-v2/service/marketplacemetering/types"

	"github.com/metervcr/metervcr/cassettes"
	"github.com/metervcr/metervcr/metering"
	"github.com/metervcr/metervcr/proxy/fakeaws"
)

// TestInjectedErrorsExhaustTheSDKRetries: with every request faulted, the
// SDK makes its default 3 attempts and then surfaces the fault.
func TestInjectedErrorsExhaustTheSDKRetries(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ spec, code string }{
		{"throttle=1", metering.ErrThrottling},
		{"internal-error=1", metering.ErrInternalServiceError},
	} {
		m := startMock(t, "", false, tt.spec, 1)
		_, err := mockClient(m.URL, testKey, 0).MeterUsage(context.Background(), meterInput("requests", 1, lastHour(5)))
		var maxAttempts *retry.MaxAttemptsError
		if errorCode(err) != tt.code || !errors.As(err, &maxAttempts) {
			t.Errorf("%s: %v, want %s after the SDK's attempts", tt.spec, err, tt.code)
		}
		if n := m.attempts.Load(); n != int64(retry.DefaultMaxAttempts) {
			t.Errorf("%s: the server saw %d attempts, want the SDK's default %d", tt.spec, n, retry.DefaultMaxAttempts)
		}
		if n := len(m.model.Requests()); n != 0 {
			t.Errorf("%s: the model answered %d requests, want 0", tt.spec, n)
		}
	}
}

// TestInjectedResetIsRetried: a dropped connection is a connection error,
// which the SDK retries.
func TestInjectedResetIsRetried(t *testing.T) {
	t.Parallel()
	m := startMock(t, "", false, "reset=1", 1)
	_, err := mockClient(m.URL, testKey, 0).MeterUsage(context.Background(), meterInput("requests", 1, lastHour(5)))
	var maxAttempts *retry.MaxAttemptsError
	if err == nil || !errors.As(err, &maxAttempts) {
		t.Fatalf("reset=1: %v, want a connection error after the SDK's attempts", err)
	}
	if n := m.attempts.Load(); n != int64(retry.DefaultMaxAttempts) {
		t.Errorf("reset=1: the server saw %d attempts, want %d", n, retry.DefaultMaxAttempts)
	}
}

// sdkOutcomes makes n MeterUsage calls of one attempt each and returns
// their error codes ("" for success).
func sdkOutcomes(t *testing.T, spec string, seed int64, n int) []string {
	t.Helper()
	m := startMock(t, "", false, spec, seed)
	c := mockClient(m.URL, testKey, 1)
	var got []string
	for i := range n {
		_, err := c.MeterUsage(context.Background(), meterInput(fmt.Sprintf("dimension-%d", i), 1, lastHour(5)))
		got = append(got, errorCode(err))
	}
	return got
}

func TestInjectSeedRepeatsTheSequenceThroughTheSDK(t *testing.T) {
	t.Parallel()
	const spec, n = "throttle=0.3,internal-error=0.2", 30
	first, again, other := sdkOutcomes(t, spec, 42, n), sdkOutcomes(t, spec, 42, n), sdkOutcomes(t, spec, 43, n)
	if !reflect.DeepEqual(first, again) {
		t.Errorf("seed 42 twice gave different outcomes:\n%q\n%q", first, again)
	}
	if reflect.DeepEqual(first, other) {
		t.Errorf("seeds 42 and 43 gave the same outcomes: %q", first)
	}
	codes := strings.Join(first, ",")
	for _, want := range []string{metering.ErrThrottling, metering.ErrInternalServiceError, ",,"} {
		if !strings.Contains(","+codes+",", want) {
			t.Errorf("outcomes %q lack %q", first, want)
		}
	}
}

func TestInjectedLatencyThroughTheSDK(t *testing.T) {
	t.Parallel()
	m := startMock(t, "", false, "latency=150ms", 1)
	start := time.Now()
	_, err := mockClient(m.URL, testKey, 1).MeterUsage(context.Background(), meterInput("requests", 1, lastHour(5)))
	if elapsed := time.Since(start); err != nil || elapsed < 150*time.Millisecond {
		t.Errorf("MeterUsage with latency=150ms: %v after %v, want success after at least 150ms", err, elapsed)
	}
}

func TestInjectedUnprocessedRecordsThroughTheSDK(t *testing.T) {
	t.Parallel()
	m := startMock(t, "", false, "unprocessed=1", 1)
	records := []types.UsageRecord{
		{CustomerIdentifier: aws.String(customer.CustomerIdentifier), Dimension: aws.String("a"), Quantity: aws.Int32(1), Timestamp: aws.Time(lastHour(5))},
		{CustomerIdentifier: aws.String(customer.CustomerIdentifier), Dimension: aws.String("b"), Quantity: aws.Int32(2), Timestamp: aws.Time(lastHour(5))},
	}
	out, err := mockClient(m.URL, testKey, 1).BatchMeterUsage(context.Background(), &mm.BatchMeterUsageInput{UsageRecords: records})
	if err != nil || len(out.Results) != 0 || len(out.UnprocessedRecords) != 2 {
		t.Fatalf("BatchMeterUsage with unprocessed=1: %+v, %v; want both records unprocessed", out, err)
	}
	if got := aws.ToString(out.UnprocessedRecords[1].Dimension); got != "b" {
		t.Errorf("UnprocessedRecords[1].Dimension = %q, want b", got)
	}
}

// runAppFor runs the command line in-process, ending it after d in case it
// serves when it should have refused its flags.
func runAppFor(t *testing.T, d time.Duration, args ...string) (code int, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var out, errb bytes.Buffer
	code = run(ctx, append([]string{"metervcr"}, args...), &out, &errb)
	return code, errb.String()
}

func TestBadInjectAndCustomersExit2(t *testing.T) {
	dir := t.TempDir()
	badYAML := filepath.Join(dir, "customers.yaml")
	os.WriteFile(badYAML, []byte("- token: T\n  productCode: p\n"), 0o644)
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"mock, unknown fault", []string{"mock", "--inject", "throttle=0.1,throtle=0.1"}, []string{"--inject", `"throtle=0.1"`, "accepted: throttle="}},
		{"mock, bad fraction", []string{"mock", "--inject", "reset=1.5"}, []string{`"reset=1.5"`, "between 0 and 1"}},
		{"replay, bad latency", []string{"replay", "--ca-dir", dir, "--inject", "latency=fast"}, []string{`"latency=fast"`, "accepted:"}},
		{"replay, shares over 1", []string{"replay", "--ca-dir", dir, "--inject", "throttle=0.8,reset=0.8"}, []string{"add up to 1.6"}},
		{"mock, missing customers file", []string{"mock", "--customers", filepath.Join(dir, "none.yaml")}, []string{"--customers", "none.yaml"}},
		{"mock, bad customers file", []string{"mock", "--customers", badYAML}, []string{badYAML, "entry 1", "customerIdentifier"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stderr := runAppFor(t, 10*time.Second, append(tt.args, "--listen", "127.0.0.1:0")...)
			if code != exitUsage {
				t.Fatalf("exit %d, want 2; stderr:\n%s", code, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
		})
	}
}

// TestMockCommand runs the mock command itself with a customers file and
// signature checks, then stops it as a user would.
func TestMockCommand(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "customers.yaml")
	os.WriteFile(file, []byte("- {token: TOKEN-ACME, customerIdentifier: cust-acme, productCode: acme-saas}\n"), 0o644)
	p := start(t, nil, "mock", "--customers", file, "--verify-signatures")
	ctx := context.Background()
	rc, err := mockClient(p.URL, testKey, 1).ResolveCustomer(ctx, &mm.ResolveCustomerInput{RegistrationToken: aws.String("TOKEN-ACME")})
	if err != nil || aws.ToString(rc.CustomerIdentifier) != "cust-acme" {
		t.Errorf("ResolveCustomer(TOKEN-ACME) = %+v, %v; want cust-acme", rc, err)
	}
	bad := fakeaws.Credential{AccessKeyID: testKey.AccessKeyID, SecretAccessKey: "not-the-secret-EXAMPLEKEY"}
	if _, err := mockClient(p.URL, bad, 1).ResolveCustomer(ctx, &mm.ResolveCustomerInput{RegistrationToken: aws.String("TOKEN-ACME")}); errorCode(err) != metering.ErrInvalidSignature {
		t.Errorf("bad signature: %v, want %s", err, metering.ErrInvalidSignature)
	}
	if code := p.stop(t); code != 0 {
		t.Fatalf("exit %d after SIGTERM, want 0; stderr:\n%s", code, p.stderr)
	}
	for _, want := range []string{"mock Marketplace Metering service on http://", "products: acme-saas", "TOKEN-ACME -> cust-acme of acme-saas",
		"signatures are checked", testKey.AccessKeyID, "op=ResolveCustomer status=200", "error=InvalidSignatureException"} {
		if !strings.Contains(p.stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, p.stderr)
		}
	}
}

// TestInjectCommands runs mock and replay with faults from the environment
// and from flags: the SDK sees its attempts throttled, and the log shows
// each fault and the seed.
func TestInjectCommands(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		env  []string
		args []string
	}{
		{"mock, environment", []string{"METERVCR_INJECT=throttle=1", "METERVCR_SEED=5"}, []string{"mock"}},
		{"replay, flags", []string{"METERVCR_CA_DIR=" + t.TempDir()}, []string{"replay", "--inject", "throttle=1", "--seed", "5"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := start(t, tt.env, tt.args...)
			in := meterInput(cassettes.DemoDimension, cassettes.DemoQuantity, time.Now())
			in.ProductCode = aws.String(cassettes.DemoProduct)
			_, err := mockClient(p.URL, testKey, 0).MeterUsage(context.Background(), in)
			if errorCode(err) != metering.ErrThrottling {
				t.Errorf("MeterUsage: %v, want %s", err, metering.ErrThrottling)
			}
			p.stop(t)
			stderr := p.stderr.String()
			if n := strings.Count(stderr, "fault=throttle"); n != retry.DefaultMaxAttempts {
				t.Errorf("stderr shows %d throttled attempts, want %d:\n%s", n, retry.DefaultMaxAttempts, stderr)
			}
			if !strings.Contains(stderr, "injecting faults throttle=1 with --seed 5") {
				t.Errorf("stderr does not name the faults and the seed:\n%s", stderr)
			}
		})
	}
}
