package proxy_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	mm "github.com/aws/aws-sdk-go-v2/service/marketplacemetering"
	"github.com/aws/aws-sdk-go-v2/service/marketplacemetering/types"
	"github.com/aws/smithy-go"

	"github.com/metervcr/metervcr/cassettes"
	"github.com/metervcr/metervcr/cassettes/redact"
	"github.com/metervcr/metervcr/metering"
	"github.com/metervcr/metervcr/proxy"
)

// logLines returns the lines of log that hold parts, in their order.
func logLines(log string, parts ...string) []string {
	quoted := make([]string, len(parts))
	for i, p := range parts {
		quoted[i] = regexp.QuoteMeta(p)
	}
	return regexp.MustCompile(`(?m)^.*`+strings.Join(quoted, ".*")+`.*$`).FindAllString(log, -1)
}

// demoServer replays the demo cassette with checks, logging text at level
// into log.
func demoServer(t *testing.T, checks proxy.Checks, level slog.Level, log io.Writer) *proxy.TestServer {
	t.Helper()
	return proxy.NewTestServer(t, proxy.Config{Checks: checks,
		Log: slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: level}))})
}

// TestMissIsExplainedOncePerReason sends one miss three times and another
// once: each reason is logged once at warn level with the closest
// recording and the differing field, the repeats at info with their count,
// and the summary lists both with their counts below its first line.
func TestMissIsExplainedOncePerReason(t *testing.T) {
	t.Parallel()
	var log syncBuffer
	ts := demoServer(t, proxy.ChecksOff, slog.LevelInfo, &log)
	c := mm.NewFromConfig(ts.AWSConfig(), func(o *mm.Options) { o.RetryMaxAttempts = 1 })
	for range 3 {
		if err := meterQ(c, cassettes.DemoDimension, cassettes.DemoQuantity+1, time.Now()); errorCode(err) != metering.ErrNoRecordedInteraction {
			t.Fatalf("MeterUsage of an unrecorded quantity: %v, want %s", err, metering.ErrNoRecordedInteraction)
		}
	}
	if err := meterQ(c, "other-dimension", cassettes.DemoQuantity, time.Now()); errorCode(err) != metering.ErrNoRecordedInteraction {
		t.Fatalf("MeterUsage of an unrecorded dimension: %v, want %s", err, metering.ErrNoRecordedInteraction)
	}
	got := log.String()
	quantity := `UsageQuantity (recorded 10, got 11)`
	if lines := logLines(got, quantity); len(lines) != 1 || !strings.Contains(lines[0], "level=WARN") ||
		!strings.Contains(lines[0], "action=miss status=404") || !strings.Contains(lines[0], "closest=0") {
		t.Errorf("log lines naming %q: %q, want one at warn level with action=miss, status=404 and closest=0", quantity, lines)
	}
	for _, n := range []string{"repeat=2", "repeat=3"} {
		if lines := logLines(got, "level=INFO", "action=miss", n); len(lines) != 1 {
			t.Errorf("log lines at info with %s: %d, want 1:\n%s", n, len(lines), got)
		}
	}
	if lines := logLines(got, "level=WARN", "UsageDimension (recorded", "got \\\"other-dimension\\\""); len(lines) != 1 {
		t.Errorf("the second reason is logged %d times at warn level, want 1:\n%s", len(lines), got)
	}

	sum := ts.Server.Summary()
	if len(sum.Misses) != 4 || len(sum.Problems) != 2 || sum.Problems[0].Count != 3 || sum.Problems[1].Count != 1 {
		t.Fatalf("Summary: %d misses, problems %+v; want 4 misses in 2 problems counted 3 and 1", len(sum.Misses), sum.Problems)
	}
	lines := strings.Split(sum.String(), "\n")
	if want := "4 request(s) missed (MeterUsage, MeterUsage, MeterUsage, MeterUsage); "; len(lines) != 3 || !strings.HasPrefix(lines[0], want) {
		t.Fatalf("Summary.String() = %q, want a first line starting %q and a line per problem", sum.String(), want)
	}
	if want := "  MeterUsage missed 3 time(s): no recorded interaction matches this MeterUsage request; closest is interaction 0 (MeterUsage), which differs in: " + quantity; lines[1] != want {
		t.Errorf("summary line = %q, want %q", lines[1], want)
	}
}

// TestMissLogHoldsNoSecret: a miss whose request carries a registration
// token or a buyer's account id explains itself in the log and summary
// without either, with the redaction key and without it.
func TestMissLogHoldsNoSecret(t *testing.T) {
	t.Parallel()
	const token = "RealRegistrationTokenThatMustNotLeak0123456789"
	const account = "210987654321"
	for _, tt := range []struct {
		name string
		key  []byte
	}{{"keyed", redact.DemoKey()}, {"keyless", nil}} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var log syncBuffer
			r, err := redact.New(tt.key, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			ts := proxy.NewTestServer(t, proxy.Config{Redactor: r, Log: slog.New(slog.NewTextHandler(&log, nil))})
			c := mm.NewFromConfig(ts.AWSConfig(), func(o *mm.Options) { o.RetryMaxAttempts = 1 })
			ctx := context.Background()
			if _, err := c.ResolveCustomer(ctx, &mm.ResolveCustomerInput{RegistrationToken: aws.String(token)}); errorCode(err) != metering.ErrNoRecordedInteraction {
				t.Fatalf("ResolveCustomer of an unrecorded token: %v, want %s", err, metering.ErrNoRecordedInteraction)
			}
			_, err = c.BatchMeterUsage(ctx, &mm.BatchMeterUsageInput{ProductCode: aws.String(cassettes.DemoProduct),
				UsageRecords: []types.UsageRecord{{CustomerAWSAccountId: aws.String(account), Dimension: aws.String("d"),
					Quantity: aws.Int32(1), Timestamp: aws.Time(time.Now())}}})
			if errorCode(err) != metering.ErrNoRecordedInteraction {
				t.Fatalf("BatchMeterUsage of an unrecorded account: %v, want %s", err, metering.ErrNoRecordedInteraction)
			}
			out := log.String() + ts.Server.Summary().String()
			if len(logLines(out, "level=WARN", "action=miss", "reason=")) != 2 {
				t.Fatalf("log lacks the two explained misses:\n%s", out)
			}
			for _, secret := range []string{token, account} {
				if strings.Contains(out, secret) {
					t.Errorf("log or summary holds %s:\n%s", secret, out)
				}
			}
		})
	}
}

// staleSigner signs as the SDK does, with a signing time an hour ago.
type staleSigner struct{ signer *v4.Signer }

func (s staleSigner) SignHTTP(ctx context.Context, creds aws.Credentials, r *http.Request, payloadHash, service, region string,
	_ time.Time, opts ...func(*v4.SignerOptions)) error {
	return s.signer.SignHTTP(ctx, creds, r, payloadHash, service, region, time.Now().Add(-time.Hour), opts...)
}

// TestRefusalExplainsItself: a request the AWS checks refuse is answered
// with AWS's code and a message that says metervcr refused it and how to
// let it through, is logged with the code, the reason and the setting
// (once for three identical requests), and is counted and listed in the
// summary.
func TestRefusalExplainsItself(t *testing.T) {
	t.Parallel()
	creds := credentials.NewStaticCredentialsProvider("AKIAI44QH8DHBEXAMPLE", "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY", "")
	tests := []struct {
		name   string
		checks proxy.Checks
		region string
		signer mm.HTTPSignerV4
		at     time.Time
		code   string
		want   []string // in the client's message, the log line and the summary
		relax  string
	}{
		{name: "stale X-Amz-Date", checks: proxy.ChecksAll, region: "us-east-1", signer: staleSigner{v4.NewSigner()}, at: time.Now(),
			code: metering.ErrInvalidSignature, want: []string{"Signature expired: X-Amz-Date " + time.Now().Add(-time.Hour).UTC().Format("2006-01-02T15:")},
			relax: "--aws-checks metering (in Go, Config.Checks = proxy.ChecksMetering)"},
		{name: "no region", checks: proxy.ChecksSignature, region: "", at: time.Now(),
			code: metering.ErrIncompleteSignature, want: []string{"signed for no region", "AWS_REGION=us-east-1", "--region", "Region option"},
			relax: "--aws-checks off (in Go, Config.Checks = proxy.ChecksOff)"},
		{name: "old usage", checks: proxy.ChecksAll, region: "us-east-1", at: time.Now().Add(-7 * time.Hour),
			code: metering.ErrTimestampOutOfBounds, want: []string{"out of allowed range: " + time.Now().Add(-7*time.Hour).UTC().Format("2006-01-02T15:"), "6 hours before its clock"},
			relax: "--aws-checks signature (in Go, Config.Checks = proxy.ChecksSignature)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var log syncBuffer
			ts := demoServer(t, tt.checks, slog.LevelInfo, &log)
			cfg := ts.AWSConfig()
			cfg.Region, cfg.Credentials = tt.region, creds
			c := mm.NewFromConfig(cfg, func(o *mm.Options) {
				o.RetryMaxAttempts = 1
				if tt.signer != nil {
					o.HTTPSignerV4 = tt.signer
				}
			})
			var err error
			for range 3 {
				err = meterQ(c, cassettes.DemoDimension, cassettes.DemoQuantity, tt.at)
			}
			var api smithy.APIError
			if !errors.As(err, &api) || api.ErrorCode() != tt.code {
				t.Fatalf("MeterUsage: %v, want API error %s", err, tt.code)
			}
			msg := api.ErrorMessage()
			for _, w := range append(tt.want, "metervcr refused this MeterUsage call as AWS would", tt.relax) {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q lacks %q", msg, w)
				}
			}
			lines := logLines(log.String(), "level=WARN", "action=refused", "code="+tt.code)
			if len(lines) != 1 {
				t.Fatalf("%d log lines at warn level refuse with %s, want 1 for three identical requests:\n%s", len(lines), tt.code, log.String())
			}
			for _, w := range append(tt.want, `relax="`+tt.relax+`"`) {
				if !strings.Contains(lines[0], strings.ReplaceAll(w, `"`, `\"`)) && !strings.Contains(lines[0], w) {
					t.Errorf("log line %q lacks %q", lines[0], w)
				}
			}
			if n := len(logLines(log.String(), "level=INFO", "action=refused", "repeat=")); n != 2 {
				t.Errorf("%d repeats logged at info, want 2:\n%s", n, log.String())
			}
			sum := ts.Server.Summary()
			if len(sum.Refused) != 3 || len(sum.Misses) != 0 || len(sum.Problems) != 1 || sum.Problems[0].Count != 3 || !sum.Problems[0].Refused {
				t.Fatalf("Summary: refused %v, misses %v, problems %+v; want 3 refusals as one problem", sum.Refused, sum.Misses, sum.Problems)
			}
			text := sum.String()
			for _, w := range append(tt.want, "3 request(s) refused by the AWS checks (MeterUsage, MeterUsage, MeterUsage)",
				"\n  MeterUsage refused 3 time(s): "+tt.code+": ", "; to let such calls through: "+tt.relax) {
				if !strings.Contains(text, w) {
					t.Errorf("summary %q lacks %q", text, w)
				}
			}
		})
	}
}

// TestHealthProbes: a hundred probes of the health path are answered 200
// with what the server serves, log nothing above debug, record nothing
// and count no miss, in replay and in record.
func TestHealthProbes(t *testing.T) {
	t.Parallel()
	_, upstream := startFake(t)
	upstreamURL, _ := url.Parse(upstream.URL)
	recording := cassettePath(t)
	tests := []struct {
		name string
		cfg  proxy.Config
		want string
	}{
		{"replay demo", proxy.Config{}, `{"status":"ok","mode":"replay","cassette":"built-in demo","interactions":`},
		{"replay file", proxy.Config{Cassette: "../cassettes/demo.yaml"}, `{"status":"ok","mode":"replay","cassette":"../cassettes/demo.yaml","interactions":`},
		{"record", proxy.Config{Mode: proxy.Record, Cassette: recording, Upstream: upstreamURL,
			Transport: upstream.Client().Transport, Credentials: credentials.NewStaticCredentialsProvider(proxyCreds.AccessKeyID, proxyCreds.SecretAccessKey, proxyCreds.SessionToken)},
			`{"status":"ok","mode":"record","cassette":"` + recording + `"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var log syncBuffer
			tt.cfg.Log = slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))
			ts := proxy.NewTestServer(t, tt.cfg)
			for i := range 100 {
				resp, err := ts.Client().Get(ts.URL + proxy.HealthPath)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK || !strings.HasPrefix(string(body), tt.want) || !json.Valid(body) {
					t.Fatalf("probe %d: %d %s, want 200 and %s...", i, resp.StatusCode, body, tt.want)
				}
			}
			if n := len(logLines(log.String(), "level=DEBUG", "health probe")); n != 100 {
				t.Errorf("%d probes logged at debug level, want 100", n)
			}
			if lines := logLines(log.String(), "level="); len(logLines(log.String(), "level=DEBUG")) != len(lines) {
				t.Errorf("probes logged above debug level:\n%s", log.String())
			}
			if sum := ts.Server.Summary(); len(sum.Misses)+len(sum.Refused) != 0 {
				t.Errorf("Summary after probes: %s; want no miss or refusal", sum)
			}
			if tt.cfg.Mode == proxy.Record {
				ts.Close()
				if c, err := cassettes.Load(recording); err == nil && len(c.Interactions) != 0 {
					t.Errorf("the cassette holds %d interactions after probes, want none", len(c.Interactions))
				}
			}
		})
	}
}

// TestMissingRegionThroughTheSDK: the Go SDK without a region signs for an
// empty one; the refusal tells its user to set one, by name, and the SDK
// does not retry it.
func TestMissingRegionThroughTheSDK(t *testing.T) {
	t.Parallel()
	ts := proxy.NewTestServer(t, proxy.Config{Checks: proxy.ChecksAll})
	cfg := ts.AWSConfig() // the SDK's default retries
	cfg.Region = ""
	c := mm.NewFromConfig(cfg)
	err := meterQ(c, cassettes.DemoDimension, cassettes.DemoQuantity, time.Now())
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != metering.ErrIncompleteSignature {
		t.Fatalf("MeterUsage without a region: %v, want API error %s", err, metering.ErrIncompleteSignature)
	}
	for _, want := range []string{"metervcr refused this MeterUsage call as AWS would", "signed for no region", "AWS_REGION=us-east-1", "Region option"} {
		if !strings.Contains(api.ErrorMessage(), want) {
			t.Errorf("message %q lacks %q", api.ErrorMessage(), want)
		}
	}
	if n := len(ts.Server.Summary().Refused); n != 1 {
		t.Errorf("the SDK sent the refused call %d times, want 1", n)
	}
}

// TestSummaryString: the first line keeps its shape whatever follows it.
func TestSummaryString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		sum  proxy.Summary
		want string
	}{
		{"clean", proxy.Summary{}, "0 request(s) missed; 0 recorded interaction(s) never used"},
		{"miss and unused", proxy.Summary{Misses: []string{"MeterUsage", "MeterUsage"}, Unused: []proxy.Unused{{Index: 3, Operation: "MeterUsage"}},
			Problems: []proxy.Problem{{Operation: "MeterUsage", Code: metering.ErrNoRecordedInteraction, Reason: "no recorded interaction matches", Count: 2}}},
			"2 request(s) missed (MeterUsage, MeterUsage); 1 recorded interaction(s) never used (3 MeterUsage)\n" +
				"  MeterUsage missed 2 time(s): no recorded interaction matches"},
		{"refusal", proxy.Summary{Refused: []string{"BatchMeterUsage"}, Unlisted: 4,
			Problems: []proxy.Problem{{Operation: "BatchMeterUsage", Refused: true, Code: metering.ErrValidation, Reason: "too many", Relax: "--aws-checks signature", Count: 1}}},
			"0 request(s) missed; 0 recorded interaction(s) never used; 1 request(s) refused by the AWS checks (BatchMeterUsage)\n" +
				"  BatchMeterUsage refused 1 time(s): ValidationException: too many; to let such calls through: --aws-checks signature\n" +
				"  and 4 more request(s) for reasons not listed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.sum.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}
