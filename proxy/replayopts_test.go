package proxy_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	mm "github.com/aws/aws-sdk-go-v2/service/marketplacemetering"
	"github.com/aws/aws-sdk-go-v2/service/marketplacemetering/types"
	"github.com/aws/smithy-go"

	"github.com/metervcr/metervcr/cassettes"
	"github.com/metervcr/metervcr/matcher"
	"github.com/metervcr/metervcr/metering"
	"github.com/metervcr/metervcr/proxy"
	"github.com/metervcr/metervcr/proxy/fakeaws"
)

// startReplayWith starts a replaying proxy with cfg's options on path.
func startReplayWith(t *testing.T, path string, cfg proxy.Config) (*proxy.Server, *httptest.Server) {
	t.Helper()
	cfg.Mode, cfg.Cassette, cfg.Redactor = proxy.Replay, path, testRedactor(t, testKey)
	if cfg.Transport == nil {
		cfg.Transport = failingTransport{t}
	}
	p, err := proxy.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return p, srv
}

func meterQ(c *mm.Client, dimension string, quantity int32, at time.Time) error {
	_, err := c.MeterUsage(context.Background(), &mm.MeterUsageInput{ProductCode: aws.String(cassettes.DemoProduct),
		Timestamp: aws.Time(at), UsageDimension: aws.String(dimension), UsageQuantity: aws.Int32(quantity)})
	return err
}

func errorCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	if err != nil {
		return "transport: " + err.Error()
	}
	return ""
}

func TestRecordMissingAppendsOnlyMisses(t *testing.T) {
	t.Parallel()
	path := cassettePath(t)
	fake, upstream := startFake(t)
	_, rec := startRecorder(t, path, upstream, testKey)
	now := time.Now()
	for _, d := range []string{"a", "b"} {
		if err := meterQ(client(rec.URL, clientCreds), d, 1, now); err != nil {
			t.Fatal(err)
		}
	}
	u, _ := url.Parse(upstream.URL)
	p, rm := startReplayWith(t, path, proxy.Config{RecordMissing: true, Upstream: u, Transport: upstream.Client().Transport,
		Credentials: credentials.NewStaticCredentialsProvider(proxyCreds.AccessKeyID, proxyCreds.SecretAccessKey, proxyCreds.SessionToken)})
	for _, d := range []string{"a", "c", "b"} {
		if err := meterQ(client(rm.URL, clientCreds), d, 1, now); err != nil {
			t.Fatalf("record-missing %s: %v", d, err)
		}
	}
	if n := len(fake.Requests()); n != 3 {
		t.Fatalf("fake saw %d requests, want 3 (2 recorded, then only the missing one)", n)
	}
	if sum := p.Summary(); len(sum.Misses) != 0 {
		t.Errorf("recorded misses counted as misses: %v", sum)
	}
	c, err := cassettes.Load(path)
	if err != nil || len(c.Interactions) != 3 {
		t.Fatalf("cassette: %v, %d interactions; want 3", err, len(c.Interactions))
	}
	upstream.Close()
	p2, rep := startReplayer(t, path, testKey)
	for _, d := range []string{"a", "b", "c"} {
		if err := meterQ(client(rep.URL, clientCreds), d, 1, now); err != nil {
			t.Fatalf("offline replay %s: %v", d, err)
		}
	}
	if sum := p2.Summary(); len(sum.Misses)+len(sum.Unused) != 0 {
		t.Fatalf("offline replay summary %v", sum)
	}
}

// TestBatchEchoesLiveRecords: a batch recorded at T and replayed at T+3h
// returns the live timestamps, with the recorded statuses and ids.
func TestBatchEchoesLiveRecords(t *testing.T) {
	t.Parallel()
	path := cassettePath(t)
	_, upstream := startFake(t)
	_, rec := startRecorder(t, path, upstream, testKey)
	customer := fakeaws.DefaultCustomers()[0]
	batch := func(c *mm.Client, at time.Time) (*mm.BatchMeterUsageOutput, error) {
		return c.BatchMeterUsage(context.Background(), &mm.BatchMeterUsageInput{ProductCode: aws.String(customer.ProductCode), UsageRecords: []types.UsageRecord{
			{CustomerIdentifier: aws.String(customer.CustomerIdentifier), Dimension: aws.String("users"), Quantity: aws.Int32(3), Timestamp: aws.Time(at)},
			{CustomerIdentifier: aws.String("cust-not-subscribed"), Dimension: aws.String("users"), Quantity: aws.Int32(1), Timestamp: aws.Time(at.Add(time.Minute))},
		}})
	}
	t0 := time.Now().Add(-4 * time.Hour).Truncate(time.Millisecond)
	recorded, err := batch(client(rec.URL, clientCreds), t0)
	if err != nil {
		t.Fatal(err)
	}
	_, rep := startReplayWith(t, path, proxy.Config{Checks: proxy.ChecksAll})
	t1 := t0.Add(3 * time.Hour)
	replayed, err := batch(client(rep.URL, replayCreds), t1)
	if err != nil {
		t.Fatal(err)
	}
	if len(replayed.Results) != 2 {
		t.Fatalf("replayed %d results, want 2", len(replayed.Results))
	}
	for i, r := range replayed.Results {
		want := t1.Add(time.Duration(i) * time.Minute)
		if got := aws.ToTime(r.UsageRecord.Timestamp); !got.Equal(want) {
			t.Errorf("result %d timestamp %v, want the live %v", i, got, want)
		}
		if r.Status != recorded.Results[i].Status || aws.ToString(r.MeteringRecordId) != aws.ToString(recorded.Results[i].MeteringRecordId) {
			t.Errorf("result %d = %s %s, want the recorded %s %s", i, r.Status, aws.ToString(r.MeteringRecordId), recorded.Results[i].Status, aws.ToString(recorded.Results[i].MeteringRecordId))
		}
	}
}

func TestOnceOrderAndHourTimestamps(t *testing.T) {
	t.Parallel()
	path := cassettePath(t)
	_, upstream := startFake(t)
	_, rec := startRecorder(t, path, upstream, testKey)
	now := time.Now()
	if err := meterQ(client(rec.URL, clientCreds), "x", 1, now); err != nil {
		t.Fatal(err)
	}
	_, once := startReplayWith(t, path, proxy.Config{Once: true})
	c := client(once.URL, replayCreds)
	if err := meterQ(c, "x", 1, now); err != nil {
		t.Fatalf("first call: %v", err)
	}
	if code := errorCode(meterQ(c, "x", 1, now)); code != metering.ErrNoRecordedInteraction {
		t.Fatalf("second identical call with --order once: %q, want NoRecordedInteraction", code)
	}

	hour := matcher.Default(nil)
	hour.TimestampsToHour = true
	_, byHour := startReplayWith(t, path, proxy.Config{Match: &hour})
	c = client(byHour.URL, replayCreds)
	if err := meterQ(c, "x", 1, now.Truncate(time.Hour)); err != nil {
		t.Fatalf("same hour with --timestamps hour: %v", err)
	}
	if code := errorCode(meterQ(c, "x", 1, now.Add(-2*time.Hour))); code != metering.ErrNoRecordedInteraction {
		t.Fatalf("another hour with --timestamps hour: %q, want NoRecordedInteraction", code)
	}
}

// rawCall sends a Metering request with the given Authorization and
// X-Amz-Date, as a client that signs wrongly would.
func rawCall(t *testing.T, url, op, body, auth, date string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", metering.ContentType)
	req.Header.Set(metering.HeaderTarget, metering.Target(op))
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if date != "" {
		req.Header.Set(metering.HeaderDate, date)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp.StatusCode, metering.ErrorCode(resp.Header.Get(metering.HeaderErrorType))
}

func TestAWSChecks(t *testing.T) {
	t.Parallel()
	_, rep := startReplayWith(t, "../cassettes/demo.yaml", proxy.Config{Checks: proxy.ChecksAll})
	now := time.Now().UTC()
	date := now.Format("20060102T150405Z")
	auth := func(day, region, service, signed string) string {
		return fmt.Sprintf("AWS4-HMAC-SHA256 Credential=AKIAI44QH8DHBEXAMPLE/%s/%s/%s/aws4_request, SignedHeaders=%s, Signature=%s",
			day, region, service, signed, strings.Repeat("0", 64))
	}
	good := auth(date[:8], "us-east-1", "aws-marketplace", "content-type;host;x-amz-date;x-amz-target")
	meter := func(ts time.Time) string {
		return fmt.Sprintf(`{"ProductCode":"%s","Timestamp":%d,"UsageDimension":"%s","UsageQuantity":%d}`, cassettes.DemoProduct, ts.Unix(), cassettes.DemoDimension, cassettes.DemoQuantity)
	}
	records := make([]string, 26)
	for i := range records {
		records[i] = fmt.Sprintf(`{"CustomerIdentifier":"c","Dimension":"d","Quantity":1,"Timestamp":%d}`, now.Unix())
	}
	tests := []struct {
		name, op, body, auth, date string
		status                     int
		code                       string
	}{
		{"well formed", metering.MeterUsage, meter(now), good, date, 200, ""},
		{"unsigned", metering.MeterUsage, meter(now), "", date, 403, metering.ErrMissingAuthenticationToken},
		{"not sigv4", metering.MeterUsage, meter(now), "Bearer x", date, 403, metering.ErrIncompleteSignature},
		{"wrong service", metering.MeterUsage, meter(now), auth(date[:8], "us-east-1", "s3", "host;x-amz-date"), date, 403, metering.ErrInvalidSignature},
		{"region never recorded", metering.MeterUsage, meter(now), auth(date[:8], "eu-west-1", "aws-marketplace", "host;x-amz-date"), date, 403, metering.ErrInvalidSignature},
		{"host not signed", metering.MeterUsage, meter(now), auth(date[:8], "us-east-1", "aws-marketplace", "x-amz-date"), date, 403, metering.ErrInvalidSignature},
		{"scope date differs", metering.MeterUsage, meter(now), auth("20200101", "us-east-1", "aws-marketplace", "host;x-amz-date"), date, 403, metering.ErrInvalidSignature},
		{"stale date", metering.MeterUsage, meter(now), auth(now.Add(-20*time.Minute).Format("20060102"), "us-east-1", "aws-marketplace", "host;x-amz-date"),
			now.Add(-20 * time.Minute).Format("20060102T150405Z"), 403, metering.ErrInvalidSignature},
		{"no date", metering.MeterUsage, meter(now), good, "", 403, metering.ErrIncompleteSignature},
		{"usage too old", metering.MeterUsage, meter(now.Add(-7 * time.Hour)), good, date, 400, metering.ErrTimestampOutOfBounds},
		{"usage from the future", metering.MeterUsage, meter(now.Add(time.Hour)), good, date, 400, metering.ErrTimestampOutOfBounds},
		// Bodies the matcher's one pass leaves to decoding are checked too.
		{"usage too old, escaped text", metering.MeterUsage, strings.Replace(meter(now.Add(-7*time.Hour)), `"ProductCode"`, `"Product\u0043ode"`, 1), good, date, 400, metering.ErrTimestampOutOfBounds},
		{"usage too old, last of two", metering.MeterUsage, strings.Replace(meter(now.Add(-7*time.Hour)), "{", fmt.Sprintf(`{"Timestamp":%d,`, now.Unix()), 1), good, date, 400, metering.ErrTimestampOutOfBounds},
		{"usage in time, last of two", metering.MeterUsage, strings.Replace(meter(now), "{", fmt.Sprintf(`{"Timestamp":%d,`, now.Add(-7*time.Hour).Unix()), 1), good, date, 200, ""},
		{"26 records", metering.BatchMeterUsage, `{"UsageRecords":[` + strings.Join(records, ",") + `]}`, good, date, 400, metering.ErrValidation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, code := rawCall(t, rep.URL, tt.op, tt.body, tt.auth, tt.date)
			if status != tt.status || code != tt.code {
				t.Fatalf("status %d code %q, want %d %q", status, code, tt.status, tt.code)
			}
		})
	}
	// A refused request takes no recording: with each served once, the
	// demo's MeterUsage is still there after one.
	_, once := startReplayWith(t, "../cassettes/demo.yaml", proxy.Config{Checks: proxy.ChecksAll, Once: true})
	for _, want := range []int{400, 200, 404} {
		ts := now
		if want == 400 {
			ts = now.Add(-7 * time.Hour)
		}
		if status, code := rawCall(t, once.URL, metering.MeterUsage, meter(ts), good, date); status != want {
			t.Fatalf("once: %d %q, want %d", status, code, want)
		}
	}
	// Off: the same bad request reaches matching.
	_, off := startReplayWith(t, "../cassettes/demo.yaml", proxy.Config{})
	if status, code := rawCall(t, off.URL, metering.MeterUsage, meter(now.Add(-7*time.Hour)), "", ""); status != 200 {
		t.Fatalf("checks off: %d %q, want the recorded 200", status, code)
	}
}

func TestRecordedLatency(t *testing.T) {
	t.Parallel()
	path := cassettePath(t)
	in := &cassettes.Interaction{
		Request: cassettes.Request{Method: "POST", URL: "https://" + metering.Host("us-east-1") + "/",
			Headers: http.Header{metering.HeaderTarget: {metering.Target(metering.RegisterUsage)}}, Body: `{"ProductCode":"p","PublicKeyVersion":1}`},
		Response: cassettes.Response{Code: 200, Status: "200 OK", Body: `{"Signature":"a.b.c"}`, Duration: 300 * time.Millisecond},
	}
	data, _ := cassettes.Encode([]*cassettes.Interaction{in})
	if err := cassettes.WriteFileAtomic(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	_, rep := startReplayWith(t, path, proxy.Config{RecordedLatency: true})
	start := time.Now()
	if status, _ := rawCall(t, rep.URL, metering.RegisterUsage, `{"ProductCode":"p","PublicKeyVersion":1}`, "", ""); status != 200 {
		t.Fatalf("status %d", status)
	}
	if took := time.Since(start); took < 300*time.Millisecond {
		t.Fatalf("answered in %v, want at least the recorded 300ms", took)
	}
}

// TestCheckHandlerInFrontOfTheModel: mock's --aws-checks refuses what AWS
// would refuse before the model sees it, even with signatures unverified.
func TestCheckHandlerInFrontOfTheModel(t *testing.T) {
	t.Parallel()
	model := fakeaws.New(fakeaws.Config{SkipSignatures: true})
	checked := httptest.NewServer(proxy.CheckHandler(proxy.ChecksAll, nil, model))
	defer checked.Close()
	open := httptest.NewServer(proxy.CheckHandler(proxy.ChecksOff, nil, model))
	defer open.Close()
	now := time.Now()
	body := fmt.Sprintf(`{"ProductCode":"%s","Timestamp":%d,"UsageDimension":"checked","UsageQuantity":1}`, cassettes.DemoProduct, now.Unix())
	if status, code := rawCall(t, checked.URL, metering.MeterUsage, body, "", ""); status != 403 || code != metering.ErrMissingAuthenticationToken {
		t.Fatalf("unsigned request with checks: %d %q, want 403 MissingAuthenticationTokenException", status, code)
	}
	if status, code := rawCall(t, open.URL, metering.MeterUsage, body, "", ""); status != 200 {
		t.Fatalf("unsigned request with checks off: %d %q, want the model's 200", status, code)
	}
	// A well-signed client passes the checks and reaches the model.
	if err := meterQ(client(checked.URL, clientCreds), "checked-sdk", 1, now); err != nil {
		t.Fatalf("SDK through the checks: %v", err)
	}
}
