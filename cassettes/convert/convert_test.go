package convert_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	mm "github.com/aws/aws-sdk-go-v2/service/marketplacemetering"
	v4cassette "gopkg.in/dnaeon/go-vcr.v4/pkg/cassette"
	v4recorder "gopkg.in/dnaeon/go-vcr.v4/pkg/recorder"

	"github.com/metervcr/metervcr/cassettes"
	"github.com/metervcr/metervcr/cassettes/convert"
	"github.com/metervcr/metervcr/cassettes/redact"
	"github.com/metervcr/metervcr/matcher"
	"github.com/metervcr/metervcr/proxy/fakeaws"
)

func readDemo(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile("../demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func convertTo(t *testing.T, data []byte, to int) []byte {
	t.Helper()
	out, err := convert.To(data, to)
	if err != nil {
		t.Fatalf("To(data, %d): %v", to, err)
	}
	return out
}

// TestConvertRoundTripIsLossless: version 1 to 2 and back gives the same
// bytes, so nothing go-vcr v2 holds is lost on the way.
func TestConvertRoundTripIsLossless(t *testing.T) {
	t.Parallel()
	demo := readDemo(t)
	v2 := convertTo(t, demo, convert.FormatVersionV3)
	if v, err := convert.Version(v2); err != nil || v != 2 {
		t.Fatalf("Version(converted) = %d, %v; want 2", v, err)
	}
	if back := convertTo(t, v2, cassettes.FormatVersion); !bytes.Equal(back, demo) {
		t.Fatalf("demo.yaml converted to version 2 and back =\n%s\nwant\n%s", back, demo)
	}
	if again := convertTo(t, v2, convert.FormatVersionV3); !bytes.Equal(again, v2) {
		t.Fatalf("converting a version 2 cassette to version 2 changed it:\n%s\nwant\n%s", again, v2)
	}
}

// TestConvertedCassetteLoadsInGoVCRv4 compares what go-vcr v4's own loader
// reads from a converted cassette with the original.
func TestConvertedCassetteLoadsInGoVCRv4(t *testing.T) {
	t.Parallel()
	demo := readDemo(t)
	want, err := cassettes.Parse(demo)
	if err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(t.TempDir(), "converted")
	if err := os.WriteFile(name+".yaml", convertTo(t, demo, convert.FormatVersionV3), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := v4cassette.Load(name)
	if err != nil {
		t.Fatalf("go-vcr v4 cassette.Load: %v", err)
	}
	if len(got.Interactions) != len(want.Interactions) {
		t.Fatalf("go-vcr v4 read %d interactions, want %d", len(got.Interactions), len(want.Interactions))
	}
	for i, g := range got.Interactions {
		w := want.Interactions[i]
		if g.ID != i || g.Request.Method != w.Request.Method || g.Request.URL != w.Request.URL || g.Request.Body != w.Request.Body ||
			!reflect.DeepEqual(g.Request.Headers, w.Request.Headers) || g.Request.Host != "metering.marketplace.us-east-1.amazonaws.com" {
			t.Errorf("interaction %d request = %+v, want %+v", i, g.Request, w.Request)
		}
		if g.Response.Code != w.Response.Code || g.Response.Status != w.Response.Status || g.Response.Body != w.Response.Body ||
			g.Response.Duration != w.Response.Duration || !reflect.DeepEqual(g.Response.Headers, w.Response.Headers) {
			t.Errorf("interaction %d response = %+v, want %+v", i, g.Response, w.Response)
		}
	}
}

// TestGoVCRv4ReplaysConvertedCassette replays the demo cassette, converted,
// with go-vcr v4's recorder and metervcr's matcher, through the SDK.
func TestGoVCRv4ReplaysConvertedCassette(t *testing.T) {
	t.Parallel()
	name := filepath.Join(t.TempDir(), "metering")
	if err := os.WriteFile(name+".yaml", convertTo(t, readDemo(t), convert.FormatVersionV3), 0o644); err != nil {
		t.Fatal(err)
	}
	red, err := redact.New(redact.DemoKey(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := matcher.New(matcher.Default(red))
	if err != nil {
		t.Fatal(err)
	}
	rec, err := v4recorder.New(name,
		v4recorder.WithMode(v4recorder.ModeReplayOnly),
		v4recorder.WithSkipRequestLatency(true),
		v4recorder.WithMatcher(func(r *http.Request, i v4cassette.Request) bool {
			return m.MatchHTTP(r, matcher.Request{Method: i.Method, URL: i.URL, Header: i.Headers, Body: []byte(i.Body)})
		}))
	if err != nil {
		t.Fatalf("go-vcr v4 recorder.New: %v", err)
	}
	defer rec.Stop()
	c := sdkClient("", rec.GetDefaultClient())
	ctx := context.Background()
	mu, err := c.MeterUsage(ctx, &mm.MeterUsageInput{ProductCode: aws.String(cassettes.DemoProduct), Timestamp: aws.Time(time.Now()),
		UsageDimension: aws.String(cassettes.DemoDimension), UsageQuantity: aws.Int32(cassettes.DemoQuantity)})
	if err != nil || aws.ToString(mu.MeteringRecordId) == "" {
		t.Fatalf("MeterUsage = %+v, %v; want the recorded MeteringRecordId", mu, err)
	}
	rc, err := c.ResolveCustomer(ctx, &mm.ResolveCustomerInput{RegistrationToken: aws.String("FAKE-REGISTRATION-TOKEN-EXAMPLE")})
	if err != nil || aws.ToString(rc.CustomerIdentifier) != "cust-EXAMPLE123" {
		t.Fatalf("ResolveCustomer = %+v, %v; want cust-EXAMPLE123", rc, err)
	}
	_, err = c.RegisterUsage(ctx, &mm.RegisterUsageInput{ProductCode: aws.String("no-such-product"), PublicKeyVersion: aws.Int32(1)})
	if !errors.Is(err, v4cassette.ErrInteractionNotFound) {
		t.Fatalf("unrecorded RegisterUsage: error %v, want go-vcr's ErrInteractionNotFound", err)
	}
}

// TestConvertGoVCRv4Recording converts a cassette that go-vcr v4 itself
// recorded (SDK against the fake service) to version 1: metervcr serves it,
// and converting it back keeps every field both versions hold.
func TestConvertGoVCRv4Recording(t *testing.T) {
	t.Parallel()
	fake := httptest.NewServer(fakeaws.New(fakeaws.Config{}))
	defer fake.Close()
	name := filepath.Join(t.TempDir(), "recorded")
	rec, err := v4recorder.New(name, v4recorder.WithMode(v4recorder.ModeRecordOnly))
	if err != nil {
		t.Fatal(err)
	}
	c := sdkClient(fake.URL, rec.GetDefaultClient())
	if _, err := c.RegisterUsage(context.Background(), &mm.RegisterUsageInput{ProductCode: aws.String(cassettes.DemoProduct), PublicKeyVersion: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	if err := rec.Stop(); err != nil {
		t.Fatal(err)
	}
	orig, err := os.ReadFile(name + ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	v1, err := cassettes.Parse(convertTo(t, orig, cassettes.FormatVersion))
	if err != nil {
		t.Fatalf("metervcr cannot read the converted cassette: %v", err)
	}
	want, err := v4cassette.Load(name)
	if err != nil {
		t.Fatal(err)
	}
	got := v1.Interactions[0]
	w := want.Interactions[0]
	if len(v1.Interactions) != 1 || got.Request.Body != w.Request.Body || got.Request.URL != w.Request.URL ||
		!reflect.DeepEqual(got.Request.Headers, w.Request.Headers) || got.Response.Body != w.Response.Body ||
		got.Response.Code != w.Response.Code || got.Response.Duration != w.Response.Duration {
		t.Fatalf("converted interactions = %+v, want those of %+v", v1.Interactions, w)
	}
	back := filepath.Join(t.TempDir(), "back")
	if err := os.WriteFile(back+".yaml", convertTo(t, convertTo(t, orig, cassettes.FormatVersion), convert.FormatVersionV3), 0o644); err != nil {
		t.Fatal(err)
	}
	again, err := v4cassette.Load(back)
	if err != nil {
		t.Fatal(err)
	}
	a := again.Interactions[0]
	if a.Request.Body != w.Request.Body || a.Request.Method != w.Request.Method || !reflect.DeepEqual(a.Response.Headers, w.Response.Headers) ||
		a.Response.Status != w.Response.Status || a.Response.Duration != w.Response.Duration {
		t.Fatalf("round trip through version 1 = %+v, want %+v", a, w)
	}
}

func TestConvertRejectsWhatItCannotRead(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		data string
		to   int
		want string
	}{
		{"unknown source version", "version: 3\ninteractions: []\n", 1, "version 3 is unknown"},
		{"unknown target version", "version: 1\ninteractions: []\n", 4, "cannot convert to format version 4"},
		{"not yaml", "version: [\n", 2, "not a valid cassette"},
		{"empty", "", 2, "empty file"},
		{"version 1 without response", "version: 1\ninteractions:\n  - request: {method: POST, url: /}\n", 2, "no response code"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := convert.To([]byte(tt.data), tt.to)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("To(%q, %d) error = %v, want one containing %q", tt.data, tt.to, err, tt.want)
			}
		})
	}
}

// sdkClient returns the SDK client sending through hc, to endpoint when it
// is not empty.
func sdkClient(endpoint string, hc *http.Client) *mm.Client {
	creds := fakeaws.DefaultCredentials()[0]
	return mm.NewFromConfig(aws.Config{Region: "us-east-1",
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey}, nil
		})}, func(o *mm.Options) {
		o.HTTPClient = hc
		o.RetryMaxAttempts = 1
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	})
}
