package proxy_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	mm "github.com/aws/aws-sdk-go-v2/service/marketplacemetering"

	"github.com/metervcr/metervcr/cassettes"
	"github.com/metervcr/metervcr/cassettes/redact"
	"github.com/metervcr/metervcr/proxy"
	"github.com/metervcr/metervcr/proxy/fakeaws"
	"github.com/metervcr/metervcr/proxy/inject"
)

func testCA(t *testing.T) *proxy.CA {
	t.Helper()
	ca, err := proxy.LoadCA(t.TempDir(), true)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

// startForward starts a proxy with forward mode on. upstream may be nil
// (replay). ports are the CONNECT ports allowed (nil: 443).
func startForward(t *testing.T, mode proxy.Mode, path string, ca *proxy.CA, upstream *httptest.Server, ports []string) (*proxy.Server, *httptest.Server) {
	t.Helper()
	cfg := proxy.Config{Mode: mode, Cassette: path, Redactor: testRedactor(t, testKey), CA: ca, ConnectPorts: ports}
	if mode == proxy.Record {
		u, _ := url.Parse(upstream.URL)
		cfg.Upstream = u
		cfg.Transport = upstream.Client().Transport
		// Intercepted requests keep the client's signature: the proxy's
		// own credentials must not be needed, so give it ones the fake
		// would reject.
		cfg.Credentials = credentials.NewStaticCredentialsProvider("AKIAUNKNOWNEXAMPLE00", "unknown", "")
	} else {
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

// proxiedClient is the SDK client of an unchanged application: default
// endpoint (the real AWS host), reaching it only through the proxy and
// trusting the proxy's CA, as HTTPS_PROXY and SSL_CERT_FILE would arrange.
func proxiedClient(proxyURL string, ca *proxy.CA, creds fakeaws.Credential) *mm.Client {
	pu, _ := url.Parse(proxyURL)
	hc := &http.Client{Transport: &http.Transport{
		Proxy:           http.ProxyURL(pu),
		TLSClientConfig: &tls.Config{RootCAs: ca.Pool()},
	}}
	return mm.NewFromConfig(aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken),
		HTTPClient:  hc,
	}, func(o *mm.Options) { o.RetryMaxAttempts = 1 })
}

func TestForwardRecordThenReplay(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := cassettePath(t)
	ca := testCA(t)
	fake, upstream := startFake(t)
	_, rec := startForward(t, proxy.Record, path, ca, upstream, nil)
	// The fake knows this key: the client's own signature must reach it
	// intact.
	creds := fakeaws.DefaultCredentials()[1]
	recordedAt := time.Now()
	recorded := script(ctx, proxiedClient(rec.URL, ca, creds), recordedAt)
	for _, r := range recorded {
		if strings.HasPrefix(r.Code, "transport") || r.Code == "InvalidSignatureException" {
			t.Fatalf("recording %s through HTTPS_PROXY: %s", r.Call, r.Code)
		}
	}
	for _, s := range fake.Requests() {
		if s.AccessKeyID != creds.AccessKeyID {
			t.Fatalf("fake saw key %q, want the client's own %q", s.AccessKeyID, creds.AccessKeyID)
		}
	}
	upstream.Close()

	_, rep := startForward(t, proxy.Replay, path, ca, nil, nil)
	replayedAt := time.Now().Add(-3 * time.Hour)
	replayed := script(ctx, proxiedClient(rep.URL, ca, replayCreds), replayedAt)
	red := testRedactor(t, testKey)
	for i := range recorded {
		want, got := recorded[i], replayed[i]
		want.Output = shiftEcho(want.Output, recordedAt, replayedAt)
		want.Output, _ = red.Body(operationOf(want.Call), want.Output)
		got.Output, _ = red.Body(operationOf(got.Call), got.Output)
		if got != want {
			t.Errorf("forward replay %s:\n got %+v\nwant %+v", want.Call, got, want)
		}
	}
}

// TestOneCassetteBothModes records in one mode and replays in the other.
func TestOneCassetteBothModes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ca := testCA(t)

	endpointPath := cassettePath(t)
	_, up1 := startFake(t)
	_, rec := startRecorder(t, endpointPath, up1, testKey)
	fromEndpoint := script(ctx, client(rec.URL, clientCreds), time.Now())
	_, rep := startForward(t, proxy.Replay, endpointPath, ca, nil, nil)
	if got := script(ctx, proxiedClient(rep.URL, ca, replayCreds), time.Now()); !sameCodes(got, fromEndpoint) {
		t.Errorf("endpoint-recorded cassette in forward replay:\n got %+v\nwant %+v", got, fromEndpoint)
	}

	forwardPath := cassettePath(t)
	_, up2 := startFake(t)
	_, frec := startForward(t, proxy.Record, forwardPath, ca, up2, nil)
	fromForward := script(ctx, proxiedClient(frec.URL, ca, fakeaws.DefaultCredentials()[0]), time.Now())
	_, erep := startReplayer(t, forwardPath, testKey)
	if got := script(ctx, client(erep.URL, replayCreds), time.Now()); !sameCodes(got, fromForward) {
		t.Errorf("forward-recorded cassette in endpoint replay:\n got %+v\nwant %+v", got, fromForward)
	}
}

func sameCodes(a, b []result) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Code != b[i].Code || (a[i].Code == "" && a[i].Output == "") {
			return false
		}
	}
	return true
}

// TestOtherHostsAreTunnelledOrRefused: while recording, CONNECT to a
// non-Metering host is a plain tunnel (the client sees the real server's
// certificate, which it alone trusts); while replaying it is refused with
// 502 naming the host.
func TestOtherHostsAreTunnelledOrRefused(t *testing.T) {
	t.Parallel()
	ca := testCA(t)
	other := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "other service") }))
	defer other.Close()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(other.URL, "https://"))
	_, upstream := startFake(t)
	path := cassettePath(t)
	_, rec := startForward(t, proxy.Record, path, ca, upstream, []string{port})

	// The client trusts only the other server's own certificate: any
	// interception would fail the handshake.
	get := func(proxyURL string) (*http.Response, error) {
		pu, _ := url.Parse(proxyURL)
		tr := other.Client().Transport.(*http.Transport).Clone()
		tr.Proxy = http.ProxyURL(pu)
		return (&http.Client{Transport: tr}).Get(other.URL)
	}
	resp, err := get(rec.URL)
	if err != nil {
		t.Fatalf("tunnelled GET while recording: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "other service" {
		t.Fatalf("tunnelled GET = %q", body)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("tunnelled traffic reached the cassette (stat: %v)", err)
	}

	_, rep := startForward(t, proxy.Replay, "../cassettes/demo.yaml", ca, nil, []string{port})
	_, err = get(rep.URL)
	if err == nil || !strings.Contains(err.Error(), "Bad Gateway") {
		t.Fatalf("GET through a replaying proxy: %v, want a refused CONNECT (502)", err)
	}
	// The refusal names the host.
	conn, err := net.Dial("tcp", strings.TrimPrefix(rep.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "CONNECT example.org:"+port+" HTTP/1.1\r\nHost: example.org:"+port+"\r\n\r\n")
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	reply, _ := io.ReadAll(conn)
	if !strings.HasPrefix(string(reply), "HTTP/1.1 502") || !strings.Contains(string(reply), "example.org") {
		t.Fatalf("CONNECT reply = %q, want 502 naming example.org", reply)
	}
}

func TestConnectToOtherPortsRefused(t *testing.T) {
	t.Parallel()
	ca := testCA(t)
	_, upstream := startFake(t)
	_, rec := startForward(t, proxy.Record, cassettePath(t), ca, upstream, nil)
	conn, err := net.Dial("tcp", strings.TrimPrefix(rec.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n")
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	reply, _ := io.ReadAll(conn)
	if !strings.HasPrefix(string(reply), "HTTP/1.1 403") {
		t.Fatalf("CONNECT to port 22 = %q, want 403", reply)
	}
}

func TestCAFilesAndPermissions(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, err := proxy.LoadCA(dir, false); err == nil || !strings.Contains(err.Error(), "metervcr ca init") {
		t.Fatalf("LoadCA on an empty dir without create = %v, want advice to run ca init", err)
	}
	ca, err := proxy.LoadCA(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, proxy.CAKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("ca-key.pem mode %v, want 0600", st.Mode().Perm())
	}
	cert, err := ca.Certificate("metering.marketplace.us-east-1.amazonaws.com:443")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cert.Leaf.Verify(x509.VerifyOptions{Roots: ca.Pool(), DNSName: "metering.marketplace.us-east-1.amazonaws.com"}); err != nil {
		t.Fatalf("minted certificate does not verify against the CA: %v", err)
	}
	again, _ := proxy.LoadCA(dir, true)
	if again.CertFile != ca.CertFile {
		t.Fatal("second LoadCA made a new CA")
	}

	os.Chmod(filepath.Join(dir, proxy.CAKeyFile), 0o644)
	if _, err := proxy.LoadCA(dir, true); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("world-readable key: %v, want refusal advising chmod 600", err)
	}
	os.Chmod(filepath.Join(dir, proxy.CAKeyFile), 0o600)
	os.WriteFile(filepath.Join(dir, proxy.CAKeyFile), []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), 0o600)
	if _, err := proxy.LoadCA(dir, true); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("damaged key: %v, want refusal", err)
	}
}

func TestForwardModeOffWithoutCA(t *testing.T) {
	t.Parallel()
	_, rep := startReplayer(t, "../cassettes/demo.yaml", redact.DemoKey())
	pu, _ := url.Parse(rep.URL)
	c := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(pu)}}
	if _, err := c.Get("https://metering.marketplace.us-east-1.amazonaws.com/"); err == nil {
		t.Fatal("CONNECT through a proxy without a CA succeeded")
	}
}

// TestForwardModeFaultInjection: faults reach requests that come through
// HTTPS_PROXY too, dropped connections included.
func TestForwardModeFaultInjection(t *testing.T) {
	t.Parallel()
	ca := testCA(t)
	for _, tt := range []struct{ spec, want string }{
		{"throttle=1", "ThrottlingException"},
		{"reset=1", "transport"},
	} {
		in, err := inject.Parse(tt.spec)
		if err != nil {
			t.Fatal(err)
		}
		p, err := proxy.New(proxy.Config{Mode: proxy.Replay, Cassette: "../cassettes/demo.yaml", Redactor: testRedactor(t, redact.DemoKey()),
			CA: ca, Transport: failingTransport{t}, Middleware: func(h http.Handler) http.Handler { return in.Wrap(h, 1) }})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(p)
		defer srv.Close()
		err = meterQ(proxiedClient(srv.URL, ca, replayCreds), cassettes.DemoDimension, cassettes.DemoQuantity, time.Now())
		if code := errorCode(err); !strings.HasPrefix(code, tt.want) {
			t.Errorf("--inject %s through HTTPS_PROXY: %q, want %s", tt.spec, code, tt.want)
		}
	}
}
