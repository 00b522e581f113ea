package proxy_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/metervcr/metervcr/cassettes"
	"github.com/metervcr/metervcr/metering"
	"github.com/metervcr/metervcr/proxy"
	"github.com/metervcr/metervcr/proxy/fakeaws"
)

// startWithoutCredentials starts a proxy with forward mode on and no
// credentials of its own, in mode (Record, or Replay with RecordMissing),
// recording from upstream; its log goes to log.
func startWithoutCredentials(t *testing.T, mode proxy.Mode, path string, ca *proxy.CA, upstream *httptest.Server, log io.Writer) (*proxy.Server, *httptest.Server) {
	t.Helper()
	u, _ := url.Parse(upstream.URL)
	p, err := proxy.New(proxy.Config{Mode: mode, RecordMissing: mode == proxy.Replay, Cassette: path, CA: ca,
		Upstream: u, Transport: upstream.Client().Transport, Redactor: testRedactor(t, testKey),
		Log: slog.New(slog.NewTextHandler(log, nil))})
	if err != nil {
		t.Fatalf("proxy.New without Credentials: %v", err)
	}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return p, srv
}

// postMeterUsage sends a signed-looking MeterUsage to url in endpoint mode
// and returns the answer.
func postMeterUsage(t *testing.T, endpoint string) (status int, errorType string, body metering.ErrorBody) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, endpoint+"/", strings.NewReader(
		`{"ProductCode":"`+cassettes.DemoProduct+`","UsageDimension":"refused","UsageQuantity":1,"Timestamp":1764288000}`))
	req.Header.Set("Content-Type", metering.ContentType)
	req.Header.Set(metering.HeaderTarget, metering.Target(metering.MeterUsage))
	req.Header.Set(metering.HeaderAuthorization, "AWS4-HMAC-SHA256 Credential="+clientCreds.AccessKeyID+"/20260101/us-east-1/aws-marketplace/aws4_request, SignedHeaders=host, Signature=00")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("error body: %v", err)
	}
	return resp.StatusCode, resp.Header.Get(metering.HeaderErrorType), body
}

// checkRefusal checks the answer to an endpoint-mode call that the proxy
// cannot re-sign: 403 (which SDKs do not retry), the metervcr code in
// header and body, and a message that names both ways out.
func checkRefusal(t *testing.T, status int, errorType string, body metering.ErrorBody, ca *proxy.CA) {
	t.Helper()
	if status != http.StatusForbidden {
		t.Errorf("status = %d, want %d", status, http.StatusForbidden)
	}
	if errorType != metering.ErrNoProxyCredentials || body.Type != metering.ErrNoProxyCredentials {
		t.Errorf("X-Amzn-ErrorType %q, __type %q; want %s for both", errorType, body.Type, metering.ErrNoProxyCredentials)
	}
	for _, want := range []string{"metervcr refused this MeterUsage call", "recorded nothing", "no AWS credentials",
		"AWS_PROFILE", "AWS_ACCESS_KEY_ID", "HTTPS_PROXY=http://127.0.0.1:", "AWS_CA_BUNDLE=" + ca.CertFile} {
		if !strings.Contains(body.Message, want) {
			t.Errorf("message %q lacks %q", body.Message, want)
		}
	}
}

// TestRecordWithoutCredentials: with no credentials of its own the proxy
// records what comes through HTTPS_PROXY as usual, and refuses endpoint
// mode, sending nothing upstream and recording nothing, with a warning in
// its log.
func TestRecordWithoutCredentials(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	ca := testCA(t)
	fake, upstream := startFake(t)
	path := cassettePath(t)
	var log syncBuffer
	_, rec := startWithoutCredentials(t, proxy.Record, path, ca, upstream, &log)

	recorded := script(ctx, proxiedClient(rec.URL, ca, fakeaws.DefaultCredentials()[1]), time.Now())
	for _, r := range recorded {
		if strings.HasPrefix(r.Code, "transport") || r.Code == metering.ErrInvalidSignature || r.Code == metering.ErrNoProxyCredentials {
			t.Fatalf("recording %s through HTTPS_PROXY without proxy credentials: %s", r.Call, r.Code)
		}
	}
	status, errorType, body := postMeterUsage(t, rec.URL)
	checkRefusal(t, status, errorType, body, ca)

	c, err := cassettes.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Interactions) != len(recorded) {
		t.Errorf("cassette holds %d interactions, want %d (the forwarded calls only)", len(c.Interactions), len(recorded))
	}
	if n := len(fake.Requests()); n != len(recorded) {
		t.Errorf("the fake saw %d requests, want %d", n, len(recorded))
	}
	status, errorType, body = postMeterUsage(t, rec.URL)
	checkRefusal(t, status, errorType, body, ca)
	const why = `level=WARN msg=request op=MeterUsage action=refused status=403 `
	const reason = `code=NoProxyCredentials reason="metervcr refused this MeterUsage call`
	if got := log.String(); strings.Count(got, why) != 1 || strings.Count(got, reason) != 1 || !strings.Contains(got, "action=refused status=403") ||
		!regexp.MustCompile(`level=INFO msg=request op=MeterUsage action=refused status=403 latency=\S+ repeat=2\n`).MatchString(got) {
		t.Errorf("log of two refusals: want the first at warn level with %q, the second at info with repeat=2:\n%s", reason, got)
	}
}

// TestRecordMissingWithoutCredentials: replay with RecordMissing and no
// credentials serves recorded calls in either mode, records a miss that
// comes through HTTPS_PROXY, and refuses an endpoint-mode miss, which the
// summary counts.
func TestRecordMissingWithoutCredentials(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	ca := testCA(t)
	fake, upstream := startFake(t)
	path := cassettePath(t)
	_, rec := startRecorder(t, path, upstream, testKey)
	recorded := script(ctx, client(rec.URL, clientCreds), time.Now())
	before := len(fake.Requests())

	p, rep := startWithoutCredentials(t, proxy.Replay, path, ca, upstream, io.Discard)
	if got := script(ctx, client(rep.URL, replayCreds), time.Now()); !sameCodes(got, recorded) {
		t.Errorf("recorded calls in endpoint mode:\n got %+v\nwant %+v", got, recorded)
	}
	status, errorType, body := postMeterUsage(t, rep.URL)
	checkRefusal(t, status, errorType, body, ca)
	if err := meterQ(proxiedClient(rep.URL, ca, fakeaws.DefaultCredentials()[1]), "forwarded-miss", 2, time.Now()); err != nil {
		t.Errorf("a miss through HTTPS_PROXY: %v", err)
	}

	c, err := cassettes.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(c.Interactions), len(recorded)+1; got != want {
		t.Errorf("cassette holds %d interactions, want %d (the forwarded miss added)", got, want)
	}
	if got := len(fake.Requests()) - before; got != 1 {
		t.Errorf("the fake saw %d requests during replay, want 1", got)
	}
	if got := p.Summary().Misses; len(got) != 1 || got[0] != metering.MeterUsage {
		t.Errorf("Summary().Misses = %v, want [MeterUsage]", got)
	}
}

// TestTestServerStillNeedsCredentialsToRecord: the clients of a TestServer
// use endpoint mode, so recording through one without Credentials fails at
// start, as it always has.
func TestTestServerStillNeedsCredentialsToRecord(t *testing.T) {
	t.Parallel()
	_, upstream := startFake(t)
	u, _ := url.Parse(upstream.URL)
	tests := []struct {
		name string
		cfg  proxy.Config
	}{
		{"record", proxy.Config{Mode: proxy.Record, Cassette: cassettePath(t), Upstream: u}},
		{"replay recording misses", proxy.Config{Mode: proxy.Replay, RecordMissing: true, Cassette: "../cassettes/demo.yaml", Upstream: u}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts, err := proxy.StartTestServer(tt.cfg)
			if err == nil {
				ts.Close()
				t.Fatal("StartTestServer without Credentials: no error, want one naming Config.Credentials")
			}
			if !strings.Contains(err.Error(), "Config.Credentials") {
				t.Errorf("StartTestServer error = %q, want it to name Config.Credentials", err)
			}
		})
	}
	ts := proxy.NewTestServer(t, proxy.Config{Mode: proxy.Record, Cassette: cassettePath(t), Upstream: u,
		Transport:   upstream.Client().Transport,
		Credentials: credentials.NewStaticCredentialsProvider(proxyCreds.AccessKeyID, proxyCreds.SecretAccessKey, proxyCreds.SessionToken)})
	if ts.URL == "" {
		t.Fatal("NewTestServer with Credentials has no URL")
	}
}
