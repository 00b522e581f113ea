package matcher_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	mm "github.com/aws/aws-sdk-go-v2/service/marketplacemetering"
	"github.com/aws/aws-sdk-go-v2/service/marketplacemetering/types"
	"github.com/aws/smithy-go"
	"gopkg.in/dnaeon/go-vcr.v2/cassette"
	"gopkg.in/dnaeon/go-vcr.v2/recorder"

	"github.com/metervcr/metervcr/cassettes"
	"github.com/metervcr/metervcr/cassettes/redact"
	"github.com/metervcr/metervcr/matcher"
	"github.com/metervcr/metervcr/metering"
)

// demoCassette is the embedded demo cassette, as go-vcr names cassettes:
// without .yaml.
const demoCassette = "../cassettes/demo"

// replayClient returns the real SDK client whose HTTP client is a go-vcr v2
// recorder replaying the demo cassette with metervcr's matcher.
func replayClient(t *testing.T, cfg matcher.Config) *mm.Client {
	t.Helper()
	rec, err := recorder.NewAsMode(demoCassette, recorder.ModeReplaying, nil)
	if err != nil {
		t.Fatalf("go-vcr v2 recorder.NewAsMode(%s): %v", demoCassette, err)
	}
	rec.SkipRequestLatency = true
	t.Cleanup(func() {
		if err := rec.Stop(); err != nil {
			t.Errorf("recorder.Stop: %v", err)
		}
	})
	match, err := matcher.GoVCR(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rec.SetMatcher(match)
	return mm.NewFromConfig(aws.Config{
		Region: "us-east-1",
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIAI44QH8DHBEXAMPLE", SecretAccessKey: "replay-needs-no-real-secret"}, nil
		}),
	}, func(o *mm.Options) {
		o.HTTPClient = &http.Client{Transport: rec}
		o.RetryMaxAttempts = 1
	})
}

func demoRedactor(t *testing.T) *redact.Redactor {
	t.Helper()
	r, err := redact.New(redact.DemoKey(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestGoVCRReplaysMetervcrCassette replays the demo cassette in-process with
// go-vcr v2's recorder alone, through the real SDK client, for all four
// operations, a recorded error and a miss.
func TestGoVCRReplaysMetervcrCassette(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := replayClient(t, matcher.Default(demoRedactor(t)))
	// Hours after the recording, as a CI run would be: timestamps, client
	// tokens and nonces differ from the cassette's.
	now := aws.Time(time.Now().Add(-3 * time.Hour))

	mu, err := c.MeterUsage(ctx, &mm.MeterUsageInput{ProductCode: aws.String(cassettes.DemoProduct), Timestamp: now,
		UsageDimension: aws.String(cassettes.DemoDimension), UsageQuantity: aws.Int32(cassettes.DemoQuantity)})
	if err != nil || aws.ToString(mu.MeteringRecordId) == "" {
		t.Fatalf("MeterUsage = %+v, %v; want the recorded MeteringRecordId", mu, err)
	}
	bmu, err := c.BatchMeterUsage(ctx, &mm.BatchMeterUsageInput{ProductCode: aws.String(cassettes.DemoProduct), UsageRecords: []types.UsageRecord{
		{CustomerIdentifier: aws.String("cust-EXAMPLE123"), Dimension: aws.String("users"), Quantity: aws.Int32(3), Timestamp: now},
		{CustomerIdentifier: aws.String("cust-EXAMPLE123"), Dimension: aws.String("admins"), Quantity: aws.Int32(1), Timestamp: now},
	}})
	if err != nil || len(bmu.Results) != 2 || bmu.Results[1].Status != types.UsageRecordResultStatusSuccess {
		t.Fatalf("BatchMeterUsage = %+v, %v; want two recorded Success results", bmu, err)
	}
	// The cassette holds the token's placeholder; the redactor keyed like
	// the recording lets the real token match it.
	rc, err := c.ResolveCustomer(ctx, &mm.ResolveCustomerInput{RegistrationToken: aws.String("FAKE-REGISTRATION-TOKEN-EXAMPLE")})
	if err != nil || aws.ToString(rc.CustomerIdentifier) != "cust-EXAMPLE123" {
		t.Fatalf("ResolveCustomer = %+v, %v; want cust-EXAMPLE123", rc, err)
	}
	ru, err := c.RegisterUsage(ctx, &mm.RegisterUsageInput{ProductCode: aws.String(cassettes.DemoProduct),
		PublicKeyVersion: aws.Int32(1), Nonce: aws.String("a-nonce-of-this-run")})
	if err != nil || strings.Count(aws.ToString(ru.Signature), ".") != 2 {
		t.Fatalf("RegisterUsage = %+v, %v; want the recorded JWT", ru, err)
	}

	_, err = c.ResolveCustomer(ctx, &mm.ResolveCustomerInput{RegistrationToken: aws.String("not-a-real-token")})
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != metering.ErrInvalidToken {
		t.Fatalf("ResolveCustomer with a bad token: error %v, want the recorded %s", err, metering.ErrInvalidToken)
	}
	_, err = c.MeterUsage(ctx, &mm.MeterUsageInput{ProductCode: aws.String(cassettes.DemoProduct), Timestamp: now,
		UsageDimension: aws.String(cassettes.DemoDimension), UsageQuantity: aws.Int32(11)})
	if !errors.Is(err, cassette.ErrInteractionNotFound) {
		t.Fatalf("MeterUsage of an unrecorded quantity: error %v, want go-vcr's ErrInteractionNotFound", err)
	}
}

// TestGoVCRTokensNeedNoKey: without the recording's key (no Redactor at
// all), a request that carries the real registration token matches its
// keyless placeholder, and another token does not.
func TestGoVCRTokensNeedNoKey(t *testing.T) {
	t.Parallel()
	c := replayClient(t, matcher.Default(nil))
	rc, err := c.ResolveCustomer(context.Background(), &mm.ResolveCustomerInput{RegistrationToken: aws.String("FAKE-REGISTRATION-TOKEN-EXAMPLE")})
	if err != nil || aws.ToString(rc.CustomerIdentifier) != "cust-EXAMPLE123" {
		t.Fatalf("ResolveCustomer without the key = %+v, %v; want cust-EXAMPLE123", rc, err)
	}
	_, err = c.ResolveCustomer(context.Background(), &mm.ResolveCustomerInput{RegistrationToken: aws.String("FAKE-REGISTRATION-TOKEN-OTHER")})
	if !errors.Is(err, cassette.ErrInteractionNotFound) {
		t.Fatalf("ResolveCustomer with another token: error %v, want ErrInteractionNotFound", err)
	}
}

func TestMatchHTTPRestoresBody(t *testing.T) {
	t.Parallel()
	m, err := matcher.New(matcher.Default(nil))
	if err != nil {
		t.Fatal(err)
	}
	target := http.Header{metering.HeaderTarget: {metering.Target(metering.MeterUsage)}}
	recorded := matcher.Request{Method: "POST", URL: "https://" + metering.Host("us-east-1") + "/", Header: target,
		Body: []byte(`{"ClientToken":"a","ProductCode":"p","Timestamp":1767323045.123,"UsageDimension":"d","UsageQuantity":10}`)}
	tests := []struct {
		name, body string
		want       bool
	}{
		// The AWS CLI's layout: spaced, model order, whole seconds, no token.
		{"cli layout", `{"ProductCode": "p", "Timestamp": 1767323045, "UsageDimension": "d", "UsageQuantity": 10}`, true},
		{"other quantity", `{"ProductCode":"p","UsageDimension":"d","UsageQuantity":11}`, false},
		{"not json", `ProductCode=p`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := http.NewRequest(http.MethodPost, "https://"+metering.Host("eu-west-1")+"/", strings.NewReader(tt.body))
			r.Header = target.Clone()
			// go-vcr calls the matcher once per recorded interaction.
			for range 2 {
				if got := m.MatchHTTP(r, recorded); got != tt.want {
					t.Fatalf("MatchHTTP(%s) = %v, want %v", tt.body, got, tt.want)
				}
			}
			rest, _ := io.ReadAll(r.Body)
			if string(rest) != tt.body {
				t.Fatalf("body after MatchHTTP = %q, want %q unread", rest, tt.body)
			}
		})
	}
	nilBody, _ := http.NewRequest(http.MethodPost, "https://"+metering.Host("us-east-1")+"/", nil)
	nilBody.Header = target.Clone()
	if m.MatchHTTP(nilBody, recorded) {
		t.Error("MatchHTTP of a request without a body = true, want false")
	}
}
