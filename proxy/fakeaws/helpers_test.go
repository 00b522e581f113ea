package fakeaws

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/metervcr/metervcr/metering"
)

// testNow is the fixed clock of the fake in tests that sign by hand.
var testNow = time.Date(2026, 1, 2, 3, 4, 6, 0, time.UTC)

var (
	plainKey   = DefaultCredentials()[0]
	sessionKey = DefaultCredentials()[1]
)

// meterUsageBody is a valid MeterUsage body at testNow.
const meterUsageBody = `{"ProductCode":"prodcode123example","Timestamp":1767323046,"UsageDimension":"requests","UsageQuantity":1}`

// newFixedServer starts a fake whose clock stands at testNow.
func newFixedServer(t *testing.T) (*Service, *httptest.Server) {
	t.Helper()
	svc := New(Config{Now: func() time.Time { return testNow }})
	srv := httptest.NewServer(svc)
	t.Cleanup(srv.Close)
	return svc, srv
}

// rawRequest describes a request built by hand and signed with the SDK's
// signer, the reference the fake's verifier is tested against.
type rawRequest struct {
	method, path, contentType, target, body string
	cred                                    Credential
	service, region                         string
	at                                      time.Time
	unsigned                                bool
	// beforeSign and afterSign edit the request around signing.
	beforeSign, afterSign func(*http.Request)
}

// build returns the request for srv with defaults filled in: a MeterUsage
// POST / of meterUsageBody, signed with plainKey for aws-marketplace in
// us-east-1 at testNow.
func (rr rawRequest) build(t *testing.T, srv *httptest.Server) *http.Request {
	t.Helper()
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&rr.method, http.MethodPost)
	def(&rr.path, "/")
	def(&rr.contentType, metering.ContentType)
	def(&rr.target, metering.Target(metering.MeterUsage))
	def(&rr.body, meterUsageBody)
	def(&rr.service, metering.SigningName)
	def(&rr.region, metering.DefaultRegion)
	if rr.cred == (Credential{}) {
		rr.cred = plainKey
	}
	if rr.at.IsZero() {
		rr.at = testNow
	}
	req, err := http.NewRequest(rr.method, srv.URL+rr.path, strings.NewReader(rr.body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", rr.contentType)
	req.Header.Set(metering.HeaderTarget, rr.target)
	if rr.beforeSign != nil {
		rr.beforeSign(req)
	}
	if !rr.unsigned {
		creds := aws.Credentials{AccessKeyID: rr.cred.AccessKeyID, SecretAccessKey: rr.cred.SecretAccessKey, SessionToken: rr.cred.SessionToken}
		if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hashHex([]byte(rr.body)), rr.service, rr.region, rr.at); err != nil {
			t.Fatalf("SignHTTP: %v", err)
		}
	}
	if rr.afterSign != nil {
		rr.afterSign(req)
	}
	return req
}

// answer is a response as the tests look at it.
type answer struct {
	status  int
	header  http.Header
	code    string // from X-Amzn-Errortype
	message string
	body    string
}

func send(t *testing.T, srv *httptest.Server, req *http.Request) answer {
	t.Helper()
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading response: %v", err)
	}
	a := answer{status: resp.StatusCode, header: resp.Header, body: string(b)}
	if et := resp.Header.Get(metering.HeaderErrorType); et != "" {
		a.code = metering.ErrorCode(et)
		var eb metering.ErrorBody
		if err := json.Unmarshal(b, &eb); err != nil {
			t.Fatalf("error body %q is not JSON: %v", b, err)
		}
		a.message = eb.Message
	}
	return a
}
