package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	mm "github.com/aws/aws-sdk-go-v2/service/marketplacemetering"
	"github.com/aws/smithy-go"
	"github.com/urfave/cli/v2"

	"github.com/metervcr/metervcr/cassettes"
	"github.com/metervcr/metervcr/metering"
	"github.com/metervcr/metervcr/proxy/fakeaws"
)

// bareEnv is the environment of a machine with no AWS credentials at all,
// as env -i gives: a fresh HOME, PATH, no instance metadata, and AWS files
// that do not exist. METERVCR_CA_DIR is stateDir.
func bareEnv(t *testing.T, stateDir string) []string {
	t.Helper()
	home := t.TempDir()
	return []string{
		"HOME=" + home, "PATH=" + os.Getenv("PATH"), "AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=" + filepath.Join(home, "none"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "none"),
		"METERVCR_CA_DIR=" + stateDir,
	}
}

// tlsFake starts the fake service over TLS and writes its certificate to a
// file for --upstream-ca.
func tlsFake(t *testing.T) (*fakeaws.Service, *httptest.Server, string) {
	t.Helper()
	model := fakeaws.New(fakeaws.Config{})
	fake := httptest.NewTLSServer(model)
	t.Cleanup(fake.Close)
	caFile := filepath.Join(t.TempDir(), "fake-ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: fake.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	return model, fake, caFile
}

// forwardClient is the Go SDK client of an unchanged application: the
// real AWS endpoint, reached through proxyURL as HTTPS_PROXY arranges,
// trusting the CA in caFile as SSL_CERT_FILE arranges, and signing with
// a key pair the fake knows.
func forwardClient(t *testing.T, proxyURL, caFile string) *mm.Client {
	t.Helper()
	pemBytes, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		t.Fatalf("%s holds no certificate", caFile)
	}
	pu, err := url.Parse(proxyURL)
	if err != nil {
		t.Fatal(err)
	}
	key := fakeaws.DefaultCredentials()[1]
	return mm.NewFromConfig(aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider(key.AccessKeyID, key.SecretAccessKey, key.SessionToken),
		HTTPClient:  &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(pu), TLSClientConfig: &tls.Config{RootCAs: pool}}},
	}, func(o *mm.Options) { o.RetryMaxAttempts = 1 })
}

// countingTransport counts the requests it sends.
type countingTransport struct {
	n    atomic.Int32
	next http.RoundTripper
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(r)
}

// endpointClient is a Go SDK client pointed at url in endpoint mode, with
// the SDK's default retries, whose attempts count counts.
func endpointClient(url string, count *countingTransport) *mm.Client {
	count.next = &http.Transport{Proxy: nil}
	return mm.NewFromConfig(aws.Config{Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider(clientCreds.AccessKeyID, clientCreds.SecretAccessKey, ""),
		HTTPClient:  &http.Client{Transport: count}},
		func(o *mm.Options) { o.BaseEndpoint = aws.String(url) })
}

// checkRefused checks that err is metervcr's refusal of an endpoint-mode
// call for want of credentials, made in one attempt.
func checkRefused(t *testing.T, err error, attempts int32) {
	t.Helper()
	var api smithy.APIError
	if !errors.As(err, &api) {
		t.Fatalf("endpoint-mode call without proxy credentials: err = %v, want an API error %s", err, metering.ErrNoProxyCredentials)
	}
	if api.ErrorCode() != metering.ErrNoProxyCredentials {
		t.Errorf("ErrorCode() = %q, want %q", api.ErrorCode(), metering.ErrNoProxyCredentials)
	}
	for _, want := range []string{"metervcr refused", "no AWS credentials", "AWS_PROFILE", "AWS_ACCESS_KEY_ID", "HTTPS_PROXY=http://127.0.0.1:", "ca.pem"} {
		if !strings.Contains(api.ErrorMessage(), want) {
			t.Errorf("ErrorMessage() = %q, want it to hold %q", api.ErrorMessage(), want)
		}
	}
	if attempts != 1 {
		t.Errorf("the SDK sent the refused call %d times, want 1 (no retry)", attempts)
	}
}

// TestRecordWithoutCredentials runs record with no AWS credentials in its
// environment: it starts and says what that means, records the four
// operations of an unchanged Go SDK client that reaches AWS through
// HTTPS_PROXY, and refuses an endpoint-mode call, once, recording nothing.
func TestRecordWithoutCredentials(t *testing.T) {
	t.Parallel()
	model, fake, fakeCA := tlsFake(t)
	stateDir := t.TempDir()
	path := filepath.Join(t.TempDir(), "forwarded.yaml")
	p := startIn(t, bareEnv(t, stateDir), "record", "--cassette", path, "--upstream", fake.URL, "--upstream-ca", fakeCA)

	var calls []call
	for _, c := range session(time.Now()) {
		if c.WantError == "" {
			calls = append(calls, c)
		}
	}
	answers := runGoWith(t, forwardClient(t, p.URL, filepath.Join(stateDir, "ca.pem")), calls)
	for i, a := range answers {
		if a.Error != "" {
			t.Fatalf("%s through HTTPS_PROXY: got %s, want success\nproxy log:\n%s", calls[i].Op, a, p.stderr)
		}
	}

	count := &countingTransport{}
	_, err := endpointClient(p.URL, count).MeterUsage(context.Background(), &mm.MeterUsageInput{ProductCode: aws.String(cassettes.DemoProduct),
		Timestamp: aws.Time(time.Now()), UsageDimension: aws.String("refused"), UsageQuantity: aws.Int32(1)})
	checkRefused(t, err, count.n.Load())

	loaded, err := cassettes.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, in := range loaded.Interactions {
		ops = append(ops, metering.HeaderValue(in.Request.Headers, metering.HeaderTarget))
	}
	want := []string{metering.Target(metering.MeterUsage), metering.Target(metering.BatchMeterUsage),
		metering.Target(metering.ResolveCustomer), metering.Target(metering.RegisterUsage)}
	if strings.Join(ops, " ") != strings.Join(want, " ") {
		t.Errorf("cassette holds %v, want %v", ops, want)
	}
	if n := len(model.Requests()); n != len(calls) {
		t.Errorf("the fake saw %d requests, want %d: the refused call must not go upstream", n, len(calls))
	}
	if out, err := exec.Command(binary, "verify", path).CombinedOutput(); err != nil {
		t.Errorf("metervcr verify: %v\n%s", err, out)
	}
	p.cmd.Process.Signal(os.Interrupt)
	if err := <-p.done; err != nil {
		t.Fatalf("exit after SIGINT: %v\n%s", err, p.stderr)
	}
	for _, want := range []string{
		"metervcr: no AWS credentials (none in the environment or the shared config files, and AWS_EC2_METADATA_DISABLED turns off", "endpoint-mode calls cannot be re-signed", "AWS_PROFILE", "restart it",
		`level=WARN msg="no AWS credentials: endpoint-mode calls will be refused`,
		`level=WARN msg=request op=MeterUsage action=refused status=403`,
		`code=NoProxyCredentials reason="metervcr refused this MeterUsage call`,
	} {
		if !strings.Contains(p.stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, p.stderr)
		}
	}
}

// TestReplayRecordMissingWithoutCredentials: replay --record-missing with
// no AWS credentials serves what the cassette holds, records a miss that
// comes through HTTPS_PROXY, and refuses an endpoint-mode miss, which it
// counts as a miss.
func TestReplayRecordMissingWithoutCredentials(t *testing.T) {
	t.Parallel()
	model, fake, fakeCA := tlsFake(t)
	stateDir := t.TempDir()
	path := copyDemo(t, func(s string) string { return s })
	p := startIn(t, bareEnv(t, stateDir), "replay", "--cassette", path, "--record-missing", "--upstream", fake.URL, "--upstream-ca", fakeCA)
	before, err := cassettes.Load(path)
	if err != nil {
		t.Fatal(err)
	}

	if err := meter(sdk(p.URL), cassettes.DemoDimension, cassettes.DemoQuantity); err != nil {
		t.Errorf("recorded call in endpoint mode: %v", err)
	}
	count := &countingTransport{}
	_, err = endpointClient(p.URL, count).MeterUsage(context.Background(), &mm.MeterUsageInput{ProductCode: aws.String(cassettes.DemoProduct),
		Timestamp: aws.Time(time.Now()), UsageDimension: aws.String("not-recorded"), UsageQuantity: aws.Int32(1)})
	checkRefused(t, err, count.n.Load())
	if err := meter(forwardClient(t, p.URL, filepath.Join(stateDir, "ca.pem")), "forwarded-miss", 2); err != nil {
		t.Errorf("a miss through HTTPS_PROXY: %v", err)
	}

	after, err := cassettes.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(after.Interactions), len(before.Interactions)+1; got != want {
		t.Errorf("cassette holds %d interactions, want %d (the forwarded miss only)", got, want)
	}
	if n := len(model.Requests()); n != 1 {
		t.Errorf("the fake saw %d requests, want 1", n)
	}
	p.cmd.Process.Signal(os.Interrupt)
	if err := <-p.done; err != nil {
		t.Fatalf("exit after SIGINT: %v\n%s", err, p.stderr)
	}
	for _, want := range []string{"endpoint-mode calls that match no recording cannot be re-signed", "1 request(s) missed (MeterUsage)"} {
		if !strings.Contains(p.stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, p.stderr)
		}
	}
}

// cleanAWSEnv empties the variables through which the AWS chain finds
// credentials, for the rest of the test.
func cleanAWSEnv(t *testing.T) {
	dir := t.TempDir()
	for _, kv := range [][2]string{
		{"AWS_ACCESS_KEY_ID", ""}, {"AWS_SECRET_ACCESS_KEY", ""}, {"AWS_SESSION_TOKEN", ""},
		{"AWS_PROFILE", ""}, {"AWS_DEFAULT_PROFILE", ""}, {"AWS_WEB_IDENTITY_TOKEN_FILE", ""}, {"AWS_ROLE_ARN", ""},
		{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", ""}, {"AWS_CONTAINER_CREDENTIALS_FULL_URI", ""},
		{"AWS_CONFIG_FILE", filepath.Join(dir, "none")}, {"AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "none")},
		{"AWS_EC2_METADATA_DISABLED", ""}, {"AWS_EC2_METADATA_SERVICE_ENDPOINT", ""},
	} {
		t.Setenv(kv[0], kv[1])
	}
}

// fakeIMDS serves an EC2 instance role's credentials as the instance
// metadata service does (IMDSv2: a token first).
func fakeIMDS(t *testing.T) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /latest/api/token", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Aws-Ec2-Metadata-Token-Ttl-Seconds", "21600")
		w.Write([]byte("imds-token"))
	})
	mux.HandleFunc("GET /latest/meta-data/iam/security-credentials/", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("metervcr-role"))
	})
	mux.HandleFunc("GET /latest/meta-data/iam/security-credentials/metervcr-role", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]string{"Code": "Success", "Type": "AWS-HMAC",
			"AccessKeyId": "ASIAIMDSROLEEXAMPLE0", "SecretAccessKey": "imds-role-secret", "Token": "imds-role-token",
			"Expiration": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)})
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

// blackHole accepts connections and never answers, as an instance
// metadata address that leads nowhere does.
func blackHole(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		var held []net.Conn
		for {
			c, err := ln.Accept()
			if err != nil {
				for _, c := range held {
					c.Close()
				}
				return
			}
			held = append(held, c)
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return "http://" + ln.Addr().String()
}

// TestLoadCredentials: what the start-up check finds in each setup, and
// that an instance metadata service that never answers costs imdsCheck,
// not the SDK's own seconds. The cases set environment variables: no
// t.Parallel.
func TestLoadCredentials(t *testing.T) {
	tests := []struct {
		name      string
		env       map[string]string
		wantKey   string // the access key id found; "" for none
		wantWhy   string // in the reason given for none
		wantUsage bool   // bad configuration: exit 2
	}{
		{name: "environment keys", env: map[string]string{"AWS_ACCESS_KEY_ID": "AKIAENVEXAMPLE000000", "AWS_SECRET_ACCESS_KEY": "s"},
			wantKey: "AKIAENVEXAMPLE000000"},
		{name: "instance role", env: map[string]string{"AWS_EC2_METADATA_SERVICE_ENDPOINT": "imds"}, wantKey: "ASIAIMDSROLEEXAMPLE0"},
		{name: "metadata disabled", env: map[string]string{"AWS_EC2_METADATA_DISABLED": "true"}, wantWhy: "AWS_EC2_METADATA_DISABLED turns off"},
		{name: "metadata never answers", env: map[string]string{"AWS_EC2_METADATA_SERVICE_ENDPOINT": "hole"}, wantWhy: "no EC2 instance role answered within 1s"},
		{name: "profile that does not exist", env: map[string]string{"AWS_PROFILE": "metervcr-no-such-profile"}, wantUsage: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cleanAWSEnv(t)
			for k, v := range tt.env {
				switch v {
				case "imds":
					v = fakeIMDS(t)
				case "hole":
					v = blackHole(t)
				}
				t.Setenv(k, v)
			}
			start := time.Now()
			creds, why, err := loadCredentials(context.Background(), "us-east-1")
			took := time.Since(start)
			if tt.wantUsage {
				var ec cli.ExitCoder
				if !errors.As(err, &ec) || ec.ExitCode() != exitUsage || !strings.Contains(err.Error(), "AWS_PROFILE") {
					t.Fatalf("loadCredentials() error = %v, want exit 2 naming AWS_PROFILE", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("loadCredentials() error = %v, want none", err)
			}
			if tt.wantKey == "" {
				if creds != nil || !strings.Contains(why, tt.wantWhy) {
					t.Fatalf("loadCredentials() = %v, %q; want nil and a reason holding %q", creds, why, tt.wantWhy)
				}
				// The SDK alone would spend its 5 s per operation on a
				// metadata address that never answers.
				if took > 3*imdsCheck {
					t.Fatalf("loadCredentials() took %v to find nothing, want about %v at most", took, imdsCheck)
				}
				return
			}
			if creds == nil {
				t.Fatalf("loadCredentials() = nil, %q; want credentials %s", why, tt.wantKey)
			}
			got, err := creds.Retrieve(context.Background())
			if err != nil || got.AccessKeyID != tt.wantKey {
				t.Fatalf("Retrieve() = %s, %v; want %s", got.AccessKeyID, err, tt.wantKey)
			}
		})
	}
}
