package proxy

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/metervcr/metervcr/cassettes"
	"github.com/metervcr/metervcr/cassettes/redact"
	"github.com/metervcr/metervcr/metering"
)

// TestServer is a metervcr Server listening on a loopback port, for Go
// tests that record or replay in-process, without a metervcr process. It
// is shaped like httptest.Server: start it, point the client at URL (or
// take a ready client from Client or AWSConfig), Close it at the end.
type TestServer struct {
	// URL is the base URL of the server, http://127.0.0.1:PORT, for an SDK's
	// BaseEndpoint, the JavaScript SDK's endpoint option or the AWS CLI's
	// --endpoint-url.
	URL string
	// Server records or replays; its Summary reports the misses and the
	// recorded interactions never used.
	Server *Server

	httpServer *http.Server
	transport  *http.Transport
	closeOnce  sync.Once
}

// TB is the part of testing.TB that NewTestServer uses; *testing.T,
// *testing.B and *testing.F satisfy it.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Cleanup(func())
}

// NewTestServer starts a TestServer for the test tb and closes it when the
// test ends (tb.Cleanup). It fails the test at once when cfg is invalid or
// its cassette cannot be read. The zero Config replays the built-in demo
// cassette; see StartTestServer for the other defaults.
//
//	func TestBilling(t *testing.T) {
//		mv := proxy.NewTestServer(t, proxy.Config{Cassette: "testdata/metering.yaml"})
//		client := marketplacemetering.NewFromConfig(mv.AWSConfig())
//		...
//	}
func NewTestServer(tb TB, cfg Config) *TestServer {
	tb.Helper()
	ts, err := StartTestServer(cfg)
	if err != nil {
		tb.Fatalf("starting metervcr: %v", err)
		return nil // Fatalf of a testing.TB does not return; other TBs might
	}
	tb.Cleanup(ts.Close)
	return ts
}

// StartTestServer starts a TestServer; the caller must Close it. It suits
// TestMain, where one server serves a whole package, and examples.
//
// cfg is completed for tests before proxy.New sees it:
//   - In Replay, neither Cassette nor Interactions serves the built-in demo
//     cassette (what metervcr replay serves without --cassette).
//   - A nil Redactor means, in Replay, a Redactor without a key: requests
//     that carry real tokens (registration tokens) match their keyless
//     placeholders, but a request that carries a buyer's real account id
//     matches only when the Redactor is keyed like the recording
//     (redact.LoadKey); requests that carry the pseudonyms, as replayed
//     answers hand them out, match without it. In Record it means a
//     one-off random key: cassettes stay free of secrets, and account id
//     pseudonyms change from run to run.
//
// Recording (Record, or Replay with RecordMissing) needs Credentials,
// although proxy.New accepts none: the clients of a TestServer reach it in
// endpoint mode, whose calls the Server re-signs with them.
//
// Other fields keep the meaning Config documents; in particular replay makes
// no AWS checks unless Checks asks for them (metervcr replay makes all).
func StartTestServer(cfg Config) (*TestServer, error) {
	if (cfg.Mode == Record || cfg.RecordMissing) && cfg.Credentials == nil {
		return nil, errors.New("proxy: Config.Credentials is required to record through a TestServer: its clients call it in endpoint mode, and the Server re-signs their calls with them")
	}
	if cfg.Mode == Replay && cfg.Cassette == "" && cfg.Interactions == nil {
		demo, err := cassettes.Demo()
		if err != nil {
			return nil, err
		}
		cfg.Interactions = demo.Interactions
		if cfg.Redactor == nil {
			if cfg.Redactor, err = redact.New(redact.DemoKey(), nil, nil); err != nil {
				return nil, err
			}
		}
	}
	if cfg.Redactor == nil {
		var key []byte
		if cfg.Mode == Record || cfg.RecordMissing {
			key = make([]byte, 32)
			rand.Read(key) // never fails (crypto/rand panics rather than return an error)
		}
		r, err := redact.New(key, nil, nil)
		if err != nil {
			return nil, err
		}
		cfg.Redactor = r
	}
	srv, err := New(cfg)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listening on loopback: %w", err)
	}
	ts := &TestServer{
		URL:        "http://" + ln.Addr().String(),
		Server:     srv,
		httpServer: &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second},
		// No proxy from the environment: the server is on loopback, and a
		// CI's HTTPS_PROXY must not capture the test's own traffic.
		transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 16, IdleConnTimeout: 30 * time.Second},
	}
	go ts.httpServer.Serve(ln) // returns http.ErrServerClosed once Close runs
	return ts, nil
}

// Close stops the server: in-flight requests finish (recorded exchanges
// are on disk once their response is sent), idle client connections are
// closed. It is safe to call more than once.
func (ts *TestServer) Close() {
	ts.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := ts.httpServer.Shutdown(ctx); errors.Is(err, context.DeadlineExceeded) {
			ts.httpServer.Close() // a request outlived the grace period; the test is over
		}
		ts.transport.CloseIdleConnections()
	})
}

// Client returns an HTTP client for requests to the server; it ignores
// proxy settings from the environment. Its idle connections are closed by
// Close.
func (ts *TestServer) Client() *http.Client {
	return &http.Client{Transport: ts.transport}
}

// AWSConfig returns an aws.Config for SDK clients of the server: region
// us-east-1, BaseEndpoint the server's URL, HTTPClient its Client, and
// static placeholder credentials, which replay ignores and recording
// replaces with the Server's own (Config.Credentials). Retries keep the
// SDK's defaults, as the application under test has them; set
// RetryMaxAttempts to 1 to answer a replayed throttle at once.
//
//	client := marketplacemetering.NewFromConfig(ts.AWSConfig())
func (ts *TestServer) AWSConfig() aws.Config {
	return aws.Config{
		Region:       metering.DefaultRegion,
		BaseEndpoint: aws.String(ts.URL),
		HTTPClient:   ts.Client(),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "METERVCRTESTCLIENT", SecretAccessKey: "metervcr-test-client-secret", Source: "metervcr TestServer"}, nil
		}),
	}
}
