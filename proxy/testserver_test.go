package proxy_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	mm "github.com/aws/aws-sdk-go-v2/service/marketplacemetering"
	"github.com/aws/smithy-go"

	"github.com/metervcr/metervcr/metering"
	"github.com/metervcr/metervcr/proxy"
)

// ExampleStartTestServer replays the built-in demo cassette in-process and
// calls it with the SDK. In a test, proxy.NewTestServer(t, cfg) does the
// same and closes the server when the test ends.
func ExampleStartTestServer() {
	ts, err := proxy.StartTestServer(proxy.Config{}) // or proxy.Config{Cassette: "testdata/metering.yaml"}
	if err != nil {
		log.Fatal(err)
	}
	defer ts.Close()

	ctx := context.Background()
	client := mm.NewFromConfig(ts.AWSConfig())
	out, err := client.MeterUsage(ctx, &mm.MeterUsageInput{
		ProductCode:    aws.String("prodcode123example"),
		UsageDimension: aws.String("requests"),
		UsageQuantity:  aws.Int32(10),
		Timestamp:      aws.Time(time.Now()),
	})
	fmt.Println("MeterUsage:", err == nil && aws.ToString(out.MeteringRecordId) != "")

	_, err = client.ResolveCustomer(ctx, &mm.ResolveCustomerInput{RegistrationToken: aws.String("not-a-real-token")})
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		fmt.Println("ResolveCustomer:", apiErr.ErrorCode())
	}
	fmt.Println("misses:", len(ts.Server.Summary().Misses))
	// Output:
	// MeterUsage: true
	// ResolveCustomer: InvalidTokenException
	// misses: 0
}

// TestTestServerRecordThenReplay records through one TestServer against
// the fake service and replays through another, with the SDK clients
// AWSConfig gives.
func TestTestServerRecordThenReplay(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := cassettePath(t)
	_, upstream := startFake(t)
	u, _ := url.Parse(upstream.URL)
	// One key for both servers, as one user's ~/.metervcr gives the CLI:
	// then the real registration token matches in replay too.
	red := testRedactor(t, testKey)
	rec := proxy.NewTestServer(t, proxy.Config{
		Mode:        proxy.Record,
		Cassette:    path,
		Upstream:    u,
		Transport:   upstream.Client().Transport,
		Credentials: credentials.NewStaticCredentialsProvider(proxyCreds.AccessKeyID, proxyCreds.SecretAccessKey, proxyCreds.SessionToken),
		Redactor:    red,
	})
	recorded := script(ctx, retryOnce(rec.AWSConfig()), time.Now())
	rec.Close()

	rep := proxy.NewTestServer(t, proxy.Config{Cassette: path, Redactor: red})
	replayed := script(ctx, retryOnce(rep.AWSConfig()), time.Now().Add(-time.Hour))
	for i := range recorded {
		want := recorded[i]
		want.Output, _ = red.Body(operationOf(want.Call), want.Output)
		// Usage timestamps in answers echo those of the request, which
		// differ between the two runs.
		want.Output = withoutTimestamps(want.Output)
		got := replayed[i]
		if got.Output = withoutTimestamps(got.Output); got != want {
			t.Errorf("replay %s:\n got %+v\nwant %+v", want.Call, got, want)
		}
	}
	if sum := rep.Server.Summary(); len(sum.Misses) != 0 || len(sum.Unused) != 0 {
		t.Errorf("replay summary = %+v, want no misses and every interaction used", sum)
	}
}

// withoutTimestamps removes every Timestamp member from a JSON document.
func withoutTimestamps(doc string) string {
	var v any
	if json.Unmarshal([]byte(doc), &v) != nil {
		return doc
	}
	var strip func(any)
	strip = func(v any) {
		switch t := v.(type) {
		case map[string]any:
			delete(t, "Timestamp")
			for _, el := range t {
				strip(el)
			}
		case []any:
			for _, el := range t {
				strip(el)
			}
		}
	}
	strip(v)
	b, _ := json.Marshal(v)
	return string(b)
}

func retryOnce(cfg aws.Config) *mm.Client {
	cfg.RetryMaxAttempts = 1
	return mm.NewFromConfig(cfg)
}

// TestNewTestServerClosesWithTheTest: the server registered for a subtest
// is closed when the subtest ends.
func TestNewTestServerClosesWithTheTest(t *testing.T) {
	t.Parallel()
	var ts *proxy.TestServer
	t.Run("inner", func(t *testing.T) {
		ts = proxy.NewTestServer(t, proxy.Config{})
		resp, err := ts.Client().Post(ts.URL, metering.ContentType, strings.NewReader(`{}`))
		if err != nil {
			t.Fatalf("while the test runs: %v", err)
		}
		resp.Body.Close()
	})
	if resp, err := http.Post(ts.URL, metering.ContentType, strings.NewReader(`{}`)); err == nil {
		resp.Body.Close()
		t.Fatalf("after the test ended, the server still answers (%s)", resp.Status)
	}
	ts.Close() // a second Close is harmless
}

// fatalTB records Fatalf instead of stopping the test.
type fatalTB struct {
	testing.TB
	fatal    string
	cleanups int
}

func (f *fatalTB) Helper()                           {}
func (f *fatalTB) Fatalf(format string, args ...any) { f.fatal = fmt.Sprintf(format, args...) }
func (f *fatalTB) Cleanup(func())                    { f.cleanups++ }

func TestNewTestServerFailsTheTestOnBadConfig(t *testing.T) {
	t.Parallel()
	tb := &fatalTB{TB: t}
	missing := cassettePath(t)
	if ts := proxy.NewTestServer(tb, proxy.Config{Cassette: missing}); ts != nil {
		t.Fatal("NewTestServer with a missing cassette returned a server")
	}
	if !strings.Contains(tb.fatal, missing) || tb.cleanups != 0 {
		t.Fatalf("Fatalf(%q), %d cleanups; want a message naming %s and no cleanup", tb.fatal, tb.cleanups, missing)
	}
}
