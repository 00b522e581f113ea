package proxy_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	mm "github.com/aws/aws-sdk-go-v2/service/marketplacemetering"
	"github.com/aws/smithy-go"
	"gopkg.in/dnaeon/go-vcr.v2/cassette"

	"github.com/metervcr/metervcr/cassettes"
	"github.com/metervcr/metervcr/metering"
	"github.com/metervcr/metervcr/proxy"
	"github.com/metervcr/metervcr/proxy/fakeaws"
)

// TestRecordThenReplay is the spine of metervcr: the real Go SDK records a
// session through the proxy against the fake service, then replays it with
// the fake gone, other credentials and a clock hours later, and sees the
// same answers.
func TestRecordThenReplay(t *testing.T) {
	ctx := context.Background()
	path := cassettePath(t)
	fake, upstream := startFake(t)
	_, rec := startRecorder(t, path, upstream, testKey)

	recordedAt := time.Now()
	recorded := script(ctx, client(rec.URL, clientCreds), recordedAt)
	wantCodes := map[string]string{
		"MeterUsage unknown product": metering.ErrInvalidProductCode,
		"MeterUsage throttled":       metering.ErrThrottling,
		"ResolveCustomer bad token":  metering.ErrInvalidToken,
	}
	for _, r := range recorded {
		if r.Code != wantCodes[r.Call] {
			t.Fatalf("recording %s: error code %q, want %q", r.Call, r.Code, wantCodes[r.Call])
		}
	}

	// The fake verified every signature (or the calls above would have
	// failed); it must also never have seen the client's own key.
	seen := fake.Requests()
	if len(seen) != len(recorded) {
		t.Fatalf("fake saw %d requests, want %d", len(seen), len(recorded))
	}
	for _, s := range seen {
		if s.AccessKeyID != proxyCreds.AccessKeyID {
			t.Fatalf("fake saw a request signed with %q, want only the proxy's key", s.AccessKeyID)
		}
	}
	c, err := cassette.Load(strings.TrimSuffix(path, ".yaml"))
	if err != nil {
		t.Fatalf("go-vcr v2 cassette.Load: %v", err)
	}
	if len(c.Interactions) != len(recorded) {
		t.Fatalf("cassette holds %d interactions, want %d", len(c.Interactions), len(recorded))
	}

	upstream.Close() // replay must not need it
	p, rep := startReplayer(t, path, testKey)
	replayedAt := time.Now().Add(-4 * time.Hour)
	replayed := script(ctx, client(rep.URL, replayCreds), replayedAt)
	red := testRedactor(t, testKey)
	for i := range recorded {
		want := recorded[i]
		// BatchMeterUsage results echo the live request's records.
		want.Output = shiftEcho(want.Output, recordedAt, replayedAt)
		// The client saw real values while recording; the cassette, and so
		// replay, hands out their placeholders.
		want.Output, _ = red.Body(operationOf(want.Call), want.Output)
		got := replayed[i]
		got.Output, _ = red.Body(operationOf(got.Call), got.Output)
		if got != want {
			t.Errorf("replay %s:\n got %+v\nwant %+v", want.Call, got, want)
		}
	}
	if sum := p.Summary(); len(sum.Misses) != 0 || len(sum.Unused) != 0 {
		t.Errorf("replay summary = %+v, want no misses and every interaction used", sum)
	}
}

// shiftEcho moves the usage timestamps a replayed BatchMeterUsage result
// echoes from the recording's time to the replay's.
func shiftEcho(output string, from, to time.Time) string {
	f := func(t time.Time) string {
		return `"Timestamp":"` + t.UTC().Truncate(time.Millisecond).Format(time.RFC3339Nano) + `"`
	}
	return strings.ReplaceAll(output, f(from), f(to))
}

func operationOf(call string) string {
	op, _, _ := strings.Cut(call, " ")
	return op
}

// TestCassetteHoldsNoSecrets checks the recorded file byte by byte.
func TestCassetteHoldsNoSecrets(t *testing.T) {
	t.Parallel()
	path := cassettePath(t)
	_, upstream := startFake(t)
	_, rec := startRecorder(t, path, upstream, testKey)
	script(context.Background(), client(rec.URL, replayCreds), time.Now())
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	secrets := []string{
		proxyCreds.AccessKeyID, proxyCreds.SecretAccessKey,
		replayCreds.AccessKeyID, replayCreds.SecretAccessKey, replayCreds.SessionToken,
		"AWS4-HMAC-SHA256", fakeaws.DefaultCustomers()[0].Token, fakeaws.DefaultCustomers()[0].CustomerAWSAccountID,
	}
	for _, s := range secrets {
		if s != "" && bytes.Contains(data, []byte(s)) {
			t.Errorf("cassette holds %q in clear", s)
		}
	}
	if !bytes.Contains(data, []byte("REDACTED-")) {
		t.Error("cassette holds no placeholder: redaction did not run")
	}
}

func TestMissSurfacesInSDKAfterOneAttempt(t *testing.T) {
	t.Parallel()
	path := cassettePath(t)
	_, upstream := startFake(t)
	_, rec := startRecorder(t, path, upstream, testKey)
	script(context.Background(), client(rec.URL, clientCreds), time.Now())

	p, rep := startReplayer(t, path, testKey)
	// The default client retries: a miss must not be retried.
	c := mm.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: client(rep.URL, clientCreds).Options().Credentials},
		func(o *mm.Options) { o.BaseEndpoint = aws.String(rep.URL) })
	_, err := c.MeterUsage(context.Background(), &mm.MeterUsageInput{ProductCode: aws.String(cassettes.DemoProduct),
		Timestamp: aws.Time(time.Now()), UsageDimension: aws.String(cassettes.DemoDimension), UsageQuantity: aws.Int32(11)})
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != metering.ErrNoRecordedInteraction {
		t.Fatalf("MeterUsage miss error = %v, want API error code NoRecordedInteraction", err)
	}
	for _, want := range []string{"closest is interaction 0 (MeterUsage)", "UsageQuantity (recorded 10, got 11)"} {
		if !strings.Contains(api.ErrorMessage(), want) {
			t.Errorf("miss message %q lacks %q", api.ErrorMessage(), want)
		}
	}
	if n := len(p.Summary().Misses); n != 1 {
		t.Fatalf("proxy saw %d missed attempts, want 1 (the SDK must not retry a miss)", n)
	}
}

// TestBadInputGetsAWSErrors sends what no SDK would and checks the proxy
// answers in the AWS shape and keeps serving.
func TestBadInputGetsAWSErrors(t *testing.T) {
	t.Parallel()
	_, upstream := startFake(t)
	_, rec := startRecorder(t, cassettePath(t), upstream, testKey)
	signed := "AWS4-HMAC-SHA256 Credential=AKIAI44QH8DHBEXAMPLE/20260102/us-east-1/aws-marketplace/aws4_request, SignedHeaders=host, Signature=00"
	tests := []struct {
		name, target, body, auth string
		status                   int
		code                     string
	}{
		{"malformed json", metering.Target(metering.MeterUsage), `{"ProductCode":`, signed, 400, metering.ErrSerialization},
		{"json array", metering.Target(metering.MeterUsage), `[1]`, signed, 400, metering.ErrSerialization},
		{"unknown target", "AWSMPMeteringService.DeleteEverything", `{}`, signed, 400, metering.ErrUnknownOperation},
		{"no target", "", `{}`, signed, 400, metering.ErrUnknownOperation},
		{"unsigned", metering.Target(metering.MeterUsage), `{}`, "", 403, metering.ErrMissingAuthenticationToken},
		{"wrong content type", metering.Target(metering.MeterUsage), `{}`, signed, 400, metering.ErrUnknownOperation},
		{"too large", metering.Target(metering.MeterUsage), `{"a":"` + strings.Repeat("x", metering.MaxBodyBytes) + `"}`, signed, 413, metering.ErrRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, rec.URL, strings.NewReader(tt.body))
			req.Header.Set("Content-Type", metering.ContentType)
			if tt.name == "wrong content type" {
				req.Header.Set("Content-Type", "application/json")
			}
			if tt.target != "" {
				req.Header.Set(metering.HeaderTarget, tt.target)
			}
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body bytes.Buffer
			body.ReadFrom(resp.Body)
			if resp.StatusCode != tt.status || metering.ErrorCode(resp.Header.Get(metering.HeaderErrorType)) != tt.code {
				t.Fatalf("status %d, error type %q, want %d %q (body %s)", resp.StatusCode, resp.Header.Get(metering.HeaderErrorType), tt.status, tt.code, body.String())
			}
			if !strings.Contains(body.String(), `"__type":"`+tt.code) || !strings.Contains(body.String(), `"message":"`) {
				t.Fatalf("body %s is not an AWS JSON error", body.String())
			}
		})
	}
	// Still serving.
	if got := script(context.Background(), client(rec.URL, clientCreds), time.Now())[0]; got.Code != "" {
		t.Fatalf("after bad input, MeterUsage failed: %+v", got)
	}
}

func TestUnreachableUpstreamRecordsNothing(t *testing.T) {
	t.Parallel()
	path := cassettePath(t)
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	_, rec := startRecorder(t, path, dead, testKey)
	_, err := client(rec.URL, clientCreds).RegisterUsage(context.Background(), &mm.RegisterUsageInput{
		ProductCode: aws.String("p"), PublicKeyVersion: aws.Int32(1)})
	var re interface{ HTTPStatusCode() int }
	if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusBadGateway {
		t.Fatalf("error = %v, want HTTP 502", err)
	}
	var api smithy.APIError
	if !errors.As(err, &api) || api.ErrorCode() != metering.ErrServiceUnavailable {
		t.Fatalf("error = %v, want an AWS-shaped error", err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("cassette exists after a failed call (stat error %v); nothing should be recorded", err)
	}
}

// TestReplayServesCurrentDate guards against clock skew: a recorded Date
// would move the SDK's signing clock.
func TestReplayServesCurrentDate(t *testing.T) {
	t.Parallel()
	path := cassettePath(t)
	old := &cassettes.Interaction{
		Request: cassettes.Request{Method: "POST", URL: "https://" + metering.Host("us-east-1") + "/",
			Headers: http.Header{metering.HeaderTarget: {metering.Target(metering.RegisterUsage)}}, Body: `{"ProductCode":"p","PublicKeyVersion":1}`},
		Response: cassettes.Response{Code: 200, Status: "200 OK", Body: `{"Signature":"a.b.c"}`,
			Headers: http.Header{"Date": {"Fri, 02 Jan 2026 03:04:06 GMT"}, "Content-Type": {metering.ContentType}, metering.HeaderRequestID: {"req-1"}}},
	}
	data, _ := cassettes.Encode([]*cassettes.Interaction{old})
	if err := cassettes.WriteFileAtomic(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	_, rep := startReplayer(t, path, testKey)
	req, _ := http.NewRequest(http.MethodPost, rep.URL, strings.NewReader(`{"PublicKeyVersion":1.0, "ProductCode":"p"}`))
	req.Header.Set(metering.HeaderTarget, metering.Target(metering.RegisterUsage))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	date, err := http.ParseTime(resp.Header.Get("Date"))
	if err != nil || time.Since(date) > time.Minute {
		t.Fatalf("Date = %q, want the current date", resp.Header.Get("Date"))
	}
	if resp.StatusCode != 200 || resp.Header.Get(metering.HeaderRequestID) != "req-1" || resp.Header.Get("Content-Type") != metering.ContentType {
		t.Fatalf("replayed response lost recorded status or headers: %d %v", resp.StatusCode, resp.Header)
	}
}

// TestRecordSignsForTheClientsRegion checks that the region comes from the
// client's credential scope and that --upstream keeps the real Host.
func TestRecordSignsForTheClientsRegion(t *testing.T) {
	t.Parallel()
	fake := fakeaws.New(fakeaws.Config{})
	hosts := make(chan string, 1)
	upstream := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hosts <- r.Host
		fake.ServeHTTP(w, r)
	}))
	defer upstream.Close()
	path := cassettePath(t)
	_, rec := startRecorder(t, path, upstream, testKey)
	c := mm.NewFromConfig(aws.Config{Region: "eu-west-1", Credentials: client(rec.URL, clientCreds).Options().Credentials},
		func(o *mm.Options) { o.BaseEndpoint = aws.String(rec.URL); o.RetryMaxAttempts = 1 })
	if _, err := c.RegisterUsage(context.Background(), &mm.RegisterUsageInput{ProductCode: aws.String(cassettes.DemoProduct), PublicKeyVersion: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	if got, want := <-hosts, "metering.marketplace.eu-west-1.amazonaws.com"; got != want {
		t.Errorf("upstream saw Host %q, want %q", got, want)
	}
	if seen := fake.Requests(); len(seen) != 1 || seen[0].Region != "eu-west-1" {
		t.Errorf("fake saw %+v, want one request signed for eu-west-1", seen)
	}
	c2, err := cassettes.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := c2.Interactions[0].Request.URL; got != "https://metering.marketplace.eu-west-1.amazonaws.com/" {
		t.Errorf("recorded URL %q, want the real host's", got)
	}
}

// TestReplayServesEachRecordedResponse replays many interactions, whose
// bodies fill several blocks, and checks each answer's status, request id
// (none, one or several values) and body.
func TestReplayServesEachRecordedResponse(t *testing.T) {
	t.Parallel()
	const n = 3000
	ins := make([]*cassettes.Interaction, n)
	for i := range ins {
		h := http.Header{"Content-Type": {metering.ContentType}}
		switch i % 3 {
		case 1:
			h[metering.HeaderRequestID] = []string{fmt.Sprintf("req-%d", i)}
		case 2:
			h[metering.HeaderRequestID] = []string{fmt.Sprintf("req-%d", i), "again"}
		}
		ins[i] = &cassettes.Interaction{
			Request: cassettes.Request{Method: "POST", URL: "https://" + metering.Host("us-east-1") + "/",
				Headers: http.Header{metering.HeaderTarget: {metering.Target(metering.MeterUsage)}},
				Body:    fmt.Sprintf(`{"ProductCode":"p","UsageDimension":"d%d","UsageQuantity":1}`, i)},
			Response: cassettes.Response{Code: 200 + i%2, Headers: h,
				Body: fmt.Sprintf(`{"MeteringRecordId":"%d%s"}`, i, strings.Repeat("x", i%1000))},
		}
	}
	srv, err := proxy.New(proxy.Config{Mode: proxy.Replay, Interactions: ins, Redactor: testRedactor(t, testKey),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	for i := n - 1; i >= 0; i-- {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(ins[i].Request.Body))
		req.Header = ins[i].Request.Headers.Clone()
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		want := ins[i].Response
		if w.Code != want.Code || w.Body.String() != want.Body ||
			!slices.Equal(w.Header()[metering.HeaderRequestID], want.Headers[metering.HeaderRequestID]) ||
			w.Header().Get("Content-Length") != strconv.Itoa(len(want.Body)) {
			t.Fatalf("interaction %d: answered %d %v %q", i, w.Code, w.Header(), w.Body)
		}
	}
}
