package proxy_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	mm "github.com/aws/aws-sdk-go-v2/service/marketplacemetering"

	"github.com/metervcr/metervcr/cassettes"
	"github.com/metervcr/metervcr/proxy"
)

const concurrentClients = 200

// TestConcurrentRecordAndReplay: 200 clients recording at once give a
// cassette with each exchange exactly once and each response paired with
// its own request; 200 clients replaying at once each get their own answer.
func TestConcurrentRecordAndReplay(t *testing.T) {
	t.Parallel()
	path := cassettePath(t)
	_, upstream := startFake(t)
	_, rec := startRecorder(t, path, upstream, testKey)
	c := client(rec.URL, clientCreds)
	now := time.Now()
	ids := make([]string, concurrentClients)
	run := func(c *mm.Client, what string) {
		var wg sync.WaitGroup
		for i := range concurrentClients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				out, err := c.MeterUsage(context.Background(), &mm.MeterUsageInput{ProductCode: aws.String(cassettes.DemoProduct),
					Timestamp: aws.Time(now), UsageDimension: aws.String(fmt.Sprintf("dim-%d", i)), UsageQuantity: aws.Int32(int32(i))})
				if err != nil {
					t.Errorf("%s client %d: %v", what, i, err)
					return
				}
				if what == "record" {
					ids[i] = aws.ToString(out.MeteringRecordId)
				} else if got := aws.ToString(out.MeteringRecordId); got != ids[i] {
					t.Errorf("replay client %d got record id %s, want its own %s", i, got, ids[i])
				}
			}()
		}
		wg.Wait()
	}
	run(c, "record")
	cas, err := cassettes.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(cas.Interactions) != concurrentClients {
		t.Fatalf("cassette holds %d interactions, want %d", len(cas.Interactions), concurrentClients)
	}
	seen := map[int]bool{}
	for _, in := range cas.Interactions {
		var i int
		if _, err := fmt.Sscanf(in.Request.Body[strings.Index(in.Request.Body, `"dim-`):], `"dim-%d"`, &i); err != nil {
			t.Fatalf("unexpected body %s", in.Request.Body)
		}
		if seen[i] {
			t.Fatalf("client %d recorded twice", i)
		}
		seen[i] = true
		if !strings.Contains(in.Response.Body, ids[i]) {
			t.Fatalf("client %d's request is paired with response %s, want its record id %s", i, in.Response.Body, ids[i])
		}
	}
	upstream.Close()
	_, rep := startReplayer(t, path, testKey)
	run(client(rep.URL, replayCreds), "replay")
}

// faultyUpstream serves handler over TLS, as the real service would be.
func faultyUpstream(t *testing.T, h http.HandlerFunc) *httptest.Server {
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// TestUpstreamFaults: whatever goes wrong upstream, the client gets an
// AWS-shaped 5xx it can retry, nothing reaches the cassette, and the proxy
// keeps serving.
func TestUpstreamFaults(t *testing.T) {
	t.Parallel()
	untrusted := faultyUpstream(t, func(w http.ResponseWriter, r *http.Request) {})
	tests := []struct {
		name     string
		upstream *httptest.Server
		trust    bool
	}{
		{"tls failure", untrusted, false},
		{"timeout", faultyUpstream(t, func(w http.ResponseWriter, r *http.Request) { time.Sleep(2 * time.Second) }), true},
		{"reset mid-body", faultyUpstream(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "1000")
			w.WriteHeader(200)
			w.Write([]byte(`{"MeteringRecordId":`))
			w.(http.Flusher).Flush()
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
		}), true},
		{"closed without answer", faultyUpstream(t, func(w http.ResponseWriter, r *http.Request) {
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
		}), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := cassettePath(t)
			u, _ := url.Parse(tt.upstream.URL)
			tr := &http.Transport{ResponseHeaderTimeout: 300 * time.Millisecond}
			if tt.trust {
				tr.TLSClientConfig = tt.upstream.Client().Transport.(*http.Transport).TLSClientConfig
			}
			p, err := proxy.New(proxy.Config{Mode: proxy.Record, Cassette: path, Upstream: u, Transport: tr,
				Credentials: credentials.NewStaticCredentialsProvider(proxyCreds.AccessKeyID, proxyCreds.SecretAccessKey, ""),
				Redactor:    testRedactor(t, testKey)})
			if err != nil {
				t.Fatal(err)
			}
			rec := httptest.NewServer(p)
			defer rec.Close()
			for range 2 { // the proxy stays up: a second call is answered the same way
				err := meterQ(client(rec.URL, clientCreds), "d", 1, time.Now())
				var status interface{ HTTPStatusCode() int }
				if !asStatus(err, &status) || status.HTTPStatusCode() != http.StatusBadGateway || errorCode(err) != "ServiceUnavailableException" {
					t.Fatalf("error = %v, want an AWS-shaped 502", err)
				}
			}
			if _, err := os.Stat(path); !os.IsNotExist(err) {
				c, _ := cassettes.Load(path)
				t.Fatalf("cassette written after upstream faults: %d interactions", len(c.Interactions))
			}
		})
	}
}

// TestSlowUpstreamIsRecorded: slow is not broken.
func TestSlowUpstreamIsRecorded(t *testing.T) {
	t.Parallel()
	fake, _ := startFake(t)
	slow := faultyUpstream(t, func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(200 * time.Millisecond)
		fake.ServeHTTP(w, r)
	})
	path := cassettePath(t)
	_, rec := startRecorder(t, path, slow, testKey)
	if err := meterQ(client(rec.URL, clientCreds), "d", 1, time.Now()); err != nil {
		t.Fatal(err)
	}
	c, err := cassettes.Load(path)
	if err != nil || len(c.Interactions) != 1 || c.Interactions[0].Response.Duration < 200*time.Millisecond {
		t.Fatalf("slow exchange: %v, %+v", err, c)
	}
}

// TestUnwritableCassetteKeepsServing: when the cassette cannot be written
// the client gets a clear error and the proxy stays up.
func TestUnwritableCassetteKeepsServing(t *testing.T) {
	t.Parallel()
	blocker := filepath.Join(t.TempDir(), "testdata")
	_, upstream := startFake(t)
	_, rec := startRecorder(t, filepath.Join(blocker, "m.yaml"), upstream, testKey)
	// After start, a file takes the place of the cassette's folder.
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	err := meterQ(client(rec.URL, clientCreds), "d", 1, time.Now())
	if err == nil || !strings.Contains(err.Error(), "not recorded") {
		t.Fatalf("error = %v, want one saying the exchange was not recorded", err)
	}
	os.Remove(blocker)
	if err := meterQ(client(rec.URL, clientCreds), "e", 1, time.Now()); err != nil {
		t.Fatalf("once the folder can be created: %v", err)
	}
}

func asStatus(err error, target *interface{ HTTPStatusCode() int }) bool {
	for e := err; e != nil; {
		if s, ok := e.(interface{ HTTPStatusCode() int }); ok {
			*target = s
			return true
		}
		u, ok := e.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		e = u.Unwrap()
	}
	return false
}
