package proxy_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	mm "github.com/aws/aws-sdk-go-v2/service/marketplacemetering"
	"github.com/aws/aws-sdk-go-v2/service/marketplacemetering/types"

	"github.com/metervcr/metervcr/cassettes"
	"github.com/metervcr/metervcr/cassettes/redact"
	"github.com/metervcr/metervcr/metering"
	"github.com/metervcr/metervcr/proxy"
	"github.com/metervcr/metervcr/proxy/fakeaws"
)

// sessionCreds are the fake's temporary key pair: recording with them puts
// an X-Amz-Security-Token header on every upstream request.
var sessionCreds = fakeaws.DefaultCredentials()[1]

// echoToken is a registration token the echoing upstream answers with an
// error message that quotes every secret of the request it got.
const echoToken = "ECHO-EVERY-SECRET-TOKEN"

// echoingUpstream is the fake service, except that a ResolveCustomer for
// echoToken gets an error whose message echoes the token, the buyer's
// account id and license, the access key id, the Authorization value and
// the session token of the request, and whose headers echo the key id: a
// service that leaks what it was sent.
func echoingUpstream(t *testing.T) *httptest.Server {
	t.Helper()
	fake := fakeaws.New(fakeaws.Config{})
	customer := fakeaws.DefaultCustomers()[0]
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		if !bytes.Contains(body, []byte(echoToken)) {
			fake.ServeHTTP(w, r)
			return
		}
		scope, _, _, _ := metering.ParseAuthorization(r.Header.Get("Authorization"))
		msg := fmt.Sprintf("Registration token %s is invalid for account %s (arn:aws:license-manager::%s:license:l-1); signer %s; auth %s; session %s",
			echoToken, customer.CustomerAWSAccountID, customer.CustomerAWSAccountID, scope.AccessKeyID,
			r.Header.Get("Authorization"), r.Header.Get("X-Amz-Security-Token"))
		w.Header().Set("Content-Type", metering.ContentType)
		w.Header().Set(metering.HeaderErrorType, metering.ErrInvalidToken)
		w.Header().Set("X-Debug-Signer", scope.AccessKeyID)
		w.WriteHeader(http.StatusBadRequest)
		w.Write(metering.ErrorJSON(metering.ErrInvalidToken, msg))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// recordWith starts a recording proxy signing with creds and redacting
// with r, logging to log.
func recordWith(t *testing.T, path string, upstream *httptest.Server, creds fakeaws.Credential, r *redact.Redactor, log io.Writer) (*proxy.Server, *httptest.Server) {
	t.Helper()
	u, _ := url.Parse(upstream.URL)
	p, err := proxy.New(proxy.Config{
		Mode:        proxy.Record,
		Cassette:    path,
		Upstream:    u,
		Credentials: credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken),
		Transport:   upstream.Client().Transport,
		Redactor:    r,
		Log:         slog.New(slog.NewTextHandler(log, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return p, srv
}

// syncBuffer is a log sink safe for the proxy's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// session is what a SaaS application does: resolve the buyer, then meter
// usage for the account id and license that ResolveCustomer returned. It
// returns the status of each usage record.
func session(ctx context.Context, c *mm.Client, token string, now time.Time) ([]string, error) {
	rc, err := c.ResolveCustomer(ctx, &mm.ResolveCustomerInput{RegistrationToken: aws.String(token)})
	if err != nil {
		return nil, fmt.Errorf("ResolveCustomer: %w", err)
	}
	out, err := c.BatchMeterUsage(ctx, &mm.BatchMeterUsageInput{UsageRecords: []types.UsageRecord{{
		CustomerAWSAccountId: rc.CustomerAWSAccountId, LicenseArn: rc.LicenseArn,
		Dimension: aws.String("users"), Quantity: aws.Int32(3), Timestamp: aws.Time(now),
	}}})
	if err != nil {
		return nil, fmt.Errorf("BatchMeterUsage: %w", err)
	}
	var statuses []string
	for _, r := range out.Results {
		statuses = append(statuses, string(r.Status))
	}
	return statuses, nil
}

// TestRecordingNeverWritesSecrets records, through the real proxy, calls
// that carry every protected value in every place it reaches a cassette:
// request headers (Authorization, X-Amz-Security-Token), request bodies
// (RegistrationToken, CustomerAWSAccountId, LicenseArn, a key id in a
// nested tag), response bodies and nested results (account ids, license
// ARNs), response headers and an error message that echoes them all.
func TestRecordingNeverWritesSecrets(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := cassettePath(t)
	var log syncBuffer
	_, rec := recordWith(t, path, echoingUpstream(t), sessionCreds, testRedactor(t, testKey), &log)
	c := client(rec.URL, clientCreds)
	customer := fakeaws.DefaultCustomers()[0]
	if _, err := session(ctx, c, customer.Token, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ResolveCustomer(ctx, &mm.ResolveCustomerInput{RegistrationToken: aws.String(echoToken)}); err == nil {
		t.Fatal("the echoing token resolved, want InvalidTokenException")
	}
	if _, err := c.MeterUsage(ctx, &mm.MeterUsageInput{ProductCode: aws.String(cassettes.DemoProduct), Timestamp: aws.Time(time.Now()),
		UsageDimension: aws.String("storage"), UsageQuantity: aws.Int32(2), UsageAllocations: []types.UsageAllocation{{
			AllocatedUsageQuantity: aws.Int32(2), Tags: []types.Tag{{Key: aws.String("owner"), Value: aws.String(clientCreds.AccessKeyID)}}}}}); err != nil {
		t.Fatal(err)
	}
	// A query string never reaches the cassette in endpoint mode.
	req, _ := http.NewRequest(http.MethodPost, rec.URL+"/?X-Amz-Credential="+clientCreds.AccessKeyID+"&X-Amz-Security-Token="+url.QueryEscape(replayCreds.SessionToken),
		strings.NewReader(`{"ProductCode":"`+cassettes.DemoProduct+`","PublicKeyVersion":1}`))
	req.Header.Set(metering.HeaderTarget, metering.Target(metering.RegisterUsage))
	req.Header.Set("Content-Type", metering.ContentType)
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+clientCreds.AccessKeyID+"/20260102/us-east-1/aws-marketplace/aws4_request, SignedHeaders=host, Signature=00")
	if resp, err := http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	} else {
		resp.Body.Close()
	}

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{
		sessionCreds.AccessKeyID, sessionCreds.SecretAccessKey, sessionCreds.SessionToken,
		clientCreds.AccessKeyID, replayCreds.SessionToken, "AWS4-HMAC-SHA256",
		customer.Token, echoToken, customer.CustomerAWSAccountID,
	} {
		if bytes.Contains(data, []byte(secret)) {
			t.Errorf("cassette holds %q in clear", secret)
		}
	}
	found, n, err := redact.NewScanner().File(path)
	if err != nil || len(found) != 0 || n != 5 {
		t.Errorf("verify of the recording: %d interactions, findings %v, error %v; want 5 interactions and no findings", n, found, err)
	}
	// What patterns caught without a rule is logged, naming the place.
	for _, want := range []string{`where="response body message"`, `where="response header X-Debug-Signer"`, `where="request body UsageAllocations[0].Tags[0].Value"`} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %s:\n%s", want, log.String())
		}
	}
}

// TestRedactedCassetteReplaysEndToEnd: an application resolves a customer,
// then meters usage for the returned account id. Recording sees the real
// account id; replay hands out its placeholder, and the application sends
// the placeholder back, which must match.
func TestRedactedCassetteReplaysEndToEnd(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := cassettePath(t)
	_, upstream := startFake(t)
	_, rec := recordWith(t, path, upstream, sessionCreds, testRedactor(t, testKey), io.Discard)
	token := fakeaws.DefaultCustomers()[0].Token
	if got, err := session(ctx, client(rec.URL, clientCreds), token, time.Now()); err != nil || strings.Join(got, ",") != "Success" {
		t.Fatalf("recording session = %v, %v; want one Success", got, err)
	}
	upstream.Close()

	p, rep := startReplayer(t, path, testKey)
	got, err := session(ctx, client(rep.URL, replayCreds), token, time.Now().Add(-time.Hour))
	if err != nil || strings.Join(got, ",") != "Success" {
		t.Fatalf("replayed session = %v, %v; want one Success", got, err)
	}
	if sum := p.Summary(); len(sum.Misses) != 0 {
		t.Fatalf("replay missed: %v", sum)
	}
}

// TestSameKeySameRedactedValues records the same calls twice with the
// same key: every redacted value is byte-identical, so re-recorded
// cassettes diff cleanly. Another key gives other pseudonyms of account
// ids, and the same keyless placeholders of tokens.
func TestSameKeySameRedactedValues(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	recordOnce := func(key []byte) *cassettes.Cassette {
		path := cassettePath(t)
		_, upstream := startFake(t)
		_, rec := recordWith(t, path, upstream, sessionCreds, testRedactor(t, key), io.Discard)
		if _, err := session(ctx, client(rec.URL, clientCreds), fakeaws.DefaultCustomers()[0].Token, time.Now()); err != nil {
			t.Fatal(err)
		}
		c, err := cassettes.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	a, b, other := recordOnce(testKey), recordOnce(testKey), recordOnce([]byte("another placeholder key"))
	redacted := func(c *cassettes.Cassette) []string {
		rc, bmu := c.Interactions[0], c.Interactions[1]
		return []string{rc.Request.Body, rc.Response.Body, rc.Request.Headers.Get("X-Amz-Security-Token"),
			strings.Split(strings.Split(bmu.Request.Body, `"Dimension"`)[0], `"UsageRecords":[`)[1]}
	}
	ra, rb, ro := redacted(a), redacted(b), redacted(other)
	keyless := []bool{true, false, true, false} // tokens; account ids
	for i := range ra {
		if ra[i] != rb[i] {
			t.Errorf("same key, redacted value %d differs:\n%s\n%s", i, ra[i], rb[i])
		}
		if keyless[i] && ra[i] != ro[i] {
			t.Errorf("another key gave another keyless placeholder %d: %s, want %s", i, ro[i], ra[i])
		}
		if !keyless[i] && ra[i] == ro[i] {
			t.Errorf("another key gave the same pseudonym %d: %s", i, ra[i])
		}
		if !strings.Contains(ra[i], "REDACTED-") && !strings.Contains(ra[i], `"0000`) {
			t.Errorf("value %d holds no placeholder: %s", i, ra[i])
		}
	}
}

// TestRedactFileThenReplay: a cassette recorded keeping buyer account ids
// in clear is redacted in place with the default rules; redacting again
// changes nothing, and the result verifies clean and still replays.
func TestRedactFileThenReplay(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := cassettePath(t)
	_, upstream := startFake(t)
	keeping, err := redact.Rules{Keep: []string{"CustomerAWSAccountId", "LicenseArn"}}.Redactor(testKey)
	if err != nil {
		t.Fatal(err)
	}
	_, rec := recordWith(t, path, upstream, sessionCreds, keeping, io.Discard)
	token := fakeaws.DefaultCustomers()[0].Token
	if _, err := session(ctx, client(rec.URL, clientCreds), token, time.Now()); err != nil {
		t.Fatal(err)
	}
	if found, _, _ := redact.NewScanner().File(path); len(found) == 0 {
		t.Fatal("the cassette recorded keeping account ids verifies clean, want findings")
	}
	r := testRedactor(t, testKey)
	done, _, err := r.File(path)
	if err != nil || len(done) == 0 {
		t.Fatalf("redact: %v, %v; want changes", done, err)
	}
	first, _ := os.ReadFile(path)
	if again, _, err := r.File(path); err != nil || len(again) != 0 {
		t.Fatalf("second redact: %v, %v; want no change", again, err)
	}
	if second, _ := os.ReadFile(path); !bytes.Equal(first, second) {
		t.Fatal("second redact rewrote the file")
	}
	if found, _, err := redact.NewScanner().File(path); err != nil || len(found) != 0 {
		t.Fatalf("after redact: %v, %v; want clean", found, err)
	}
	upstream.Close()
	_, rep := startReplayer(t, path, testKey)
	if got, err := session(ctx, client(rep.URL, replayCreds), token, time.Now()); err != nil || strings.Join(got, ",") != "Success" {
		t.Fatalf("replay after redact = %v, %v; want one Success", got, err)
	}
}

// TestRecordedSessionsVerifyClean: what the proxy records, with long-term
// or temporary credentials, holds nothing verify reports.
func TestRecordedSessionsVerifyClean(t *testing.T) {
	t.Parallel()
	for _, creds := range fakeaws.DefaultCredentials() {
		path := cassettePath(t)
		_, upstream := startFake(t)
		_, rec := recordWith(t, path, upstream, creds, testRedactor(t, testKey), io.Discard)
		script(context.Background(), client(rec.URL, replayCreds), time.Now())
		found, n, err := redact.NewScanner().File(path)
		if err != nil || n == 0 || len(found) != 0 {
			t.Errorf("recorded with %s: %d interactions, findings %v, error %v; want none", creds.AccessKeyID, n, found, err)
		}
	}
}
