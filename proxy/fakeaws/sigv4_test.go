package fakeaws

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/metervcr/metervcr/metering"
)

// TestSignatureKnownAnswer checks the signing chain against the get-vanilla
// case of the AWS Signature Version 4 test suite, which owes nothing to
// either the SDK or this package.
func TestSignatureKnownAnswer(t *testing.T) {
	t.Parallel()
	req := httptest.NewRequest(http.MethodGet, "http://example.amazonaws.com/", nil)
	req.Header.Set(metering.HeaderDate, "20150830T123600Z")
	canonical := canonicalRequest(req, []string{headerHost, headerDate}, 0, hashHex(nil))
	wantCanonical := "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" +
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	if canonical != wantCanonical {
		t.Fatalf("canonicalRequest = %q, want %q", canonical, wantCanonical)
	}
	scope := metering.CredentialScope{AccessKeyID: "AKIDEXAMPLE", Date: "20150830", Region: "us-east-1", Service: "service"}
	got := signatureOf("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", scope, "20150830T123600Z", canonical)
	const want = "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
	if got != want {
		t.Errorf("signatureOf = %s, want %s", got, want)
	}
}

func TestCanonicalPieces(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, got, want string
	}{
		{"query sorted and encoded", canonicalQuery("b=2&a=x y&a=%2F&c"), "a=%2F&a=x%20y&b=2&c="},
		{"empty query", canonicalQuery(""), ""},
		{"uri keeps slashes", uriEncode("/a b/c~d", true), "/a%20b/c~d"},
		{"uri encodes again", uriEncode("/a%20b", true), "/a%2520b"},
		{"spaces collapsed", collapseSpaces("  a   b c  "), "a b c"},
		{"tabs kept", collapseSpaces("a\tb"), "a\tb"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}

// TestVerifierAcceptsSDKSignatures signs requests with the SDK's signer and
// expects the fake's own verifier to agree.
func TestVerifierAcceptsSDKSignatures(t *testing.T) {
	t.Parallel()
	_, srv := newFixedServer(t)
	tests := []struct {
		name string
		req  rawRequest
	}{
		{name: "plain key", req: rawRequest{}},
		{name: "session token", req: rawRequest{cred: sessionKey}},
		{name: "other region", req: rawRequest{region: "eu-west-1"}},
		{name: "clock skew within fifteen minutes", req: rawRequest{at: testNow.Add(-14 * time.Minute)}},
		{name: "clock ahead within fifteen minutes", req: rawRequest{at: testNow.Add(14 * time.Minute)}},
		{
			name: "host header differs from the address dialled",
			req: rawRequest{beforeSign: func(r *http.Request) {
				r.Host = metering.Host("us-east-1")
			}},
		},
		{
			name: "extra signed headers with odd spacing and repeats",
			req: rawRequest{beforeSign: func(r *http.Request) {
				r.Header.Set("Amz-Sdk-Request", "  attempt=1;   max=3 ")
				r.Header.Add("X-Custom", "one")
				r.Header.Add("X-Custom", "two  three")
			}},
		},
		{
			// The length is signed, then the body goes out chunked: the
			// verifier uses the length of the body it read.
			name: "signed content-length, chunked body",
			req:  rawRequest{afterSign: func(r *http.Request) { r.ContentLength = -1 }},
		},
		{
			name: "content sha256 header",
			req: rawRequest{beforeSign: func(r *http.Request) {
				r.Header.Set(metering.HeaderContentSHA256, hashHex([]byte(meterUsageBody)))
			}},
		},
		{
			name: "unsigned header added after signing",
			req: rawRequest{afterSign: func(r *http.Request) {
				r.Header.Set("User-Agent", "changed-after-signing")
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := tt.req.build(t, srv)
			auth := req.Header.Get(metering.HeaderAuthorization)
			if !strings.Contains(auth, "content-length") {
				t.Fatalf("SDK signature %q does not cover content-length; the test would prove less than it claims", auth)
			}
			got := send(t, srv, req)
			if got.status != http.StatusOK {
				t.Errorf("status = %d (%s: %s), want 200", got.status, got.code, got.message)
			}
		})
	}
}

// TestVerifierRejects tampers with SDK-signed requests and expects the
// error AWS would send.
func TestVerifierRejects(t *testing.T) {
	t.Parallel()
	other := strings.Replace(meterUsageBody, `"UsageQuantity":1`, `"UsageQuantity":7`, 1)
	tests := []struct {
		name     string
		req      rawRequest
		wantCode string
		wantMsg  string    // exact when set
		now      time.Time // the fake's clock; testNow when zero
	}{
		{
			name: "body changed", wantCode: metering.ErrInvalidSignature, wantMsg: msgSignatureMismatch,
			req: rawRequest{afterSign: func(r *http.Request) { setBody(r, other) }},
		},
		{
			name: "signed header changed", wantCode: metering.ErrInvalidSignature, wantMsg: msgSignatureMismatch,
			req: rawRequest{afterSign: func(r *http.Request) {
				r.Header.Set(metering.HeaderTarget, metering.Target(metering.RegisterUsage))
			}},
		},
		{
			name: "host differs from the one signed", wantCode: metering.ErrInvalidSignature, wantMsg: msgSignatureMismatch,
			req: rawRequest{
				beforeSign: func(r *http.Request) { r.Host = metering.Host("us-east-1") },
				afterSign:  func(r *http.Request) { r.Host = "" },
			},
		},
		{
			name: "content-length differs from the one signed", wantCode: metering.ErrInvalidSignature, wantMsg: msgSignatureMismatch,
			req: rawRequest{
				beforeSign: func(r *http.Request) { r.ContentLength++ },
				afterSign:  func(r *http.Request) { r.ContentLength-- },
			},
		},
		{
			name: "date changed", wantCode: metering.ErrInvalidSignature, wantMsg: msgSignatureMismatch,
			req: rawRequest{afterSign: func(r *http.Request) {
				r.Header.Set(metering.HeaderDate, testNow.Add(time.Second).Format(metering.AmzDateFormat))
			}},
		},
		{
			name: "wrong secret", wantCode: metering.ErrInvalidSignature, wantMsg: msgSignatureMismatch,
			req: rawRequest{cred: Credential{AccessKeyID: plainKey.AccessKeyID, SecretAccessKey: "not-the-secret"}},
		},
		{
			name: "content sha256 not of the body", wantCode: metering.ErrInvalidSignature,
			req: rawRequest{beforeSign: func(r *http.Request) {
				r.Header.Set(metering.HeaderContentSHA256, hashHex([]byte("{}")))
			}},
		},
		{
			name: "stale date", wantCode: metering.ErrInvalidSignature,
			wantMsg: "Signature expired: 20260102T024405Z is now earlier than 20260102T024906Z (20260102T030406Z - 15 min.)",
			req:     rawRequest{at: testNow.Add(-20*time.Minute - time.Second)},
		},
		{
			name: "future date", wantCode: metering.ErrInvalidSignature,
			wantMsg: "Signature not yet current: 20260102T032406Z is still later than 20260102T031906Z (20260102T030406Z + 15 min.)",
			req:     rawRequest{at: testNow.Add(20 * time.Minute)},
		},
		{
			name: "wrong service in scope", wantCode: metering.ErrInvalidSignature,
			wantMsg: "Credential should be scoped to correct service: 'aws-marketplace'.",
			req:     rawRequest{service: "metering.marketplace"},
		},
		{
			name: "unknown access key", wantCode: metering.ErrUnrecognizedClient, wantMsg: msgInvalidToken,
			req: rawRequest{cred: Credential{AccessKeyID: "AKIAUNKNOWNKEYEXAMPLE", SecretAccessKey: plainKey.SecretAccessKey}},
		},
		{
			name: "session token missing", wantCode: metering.ErrUnrecognizedClient, wantMsg: msgInvalidToken,
			req: rawRequest{cred: sessionKey, afterSign: func(r *http.Request) {
				r.Header.Del(metering.HeaderSecurityToken)
			}},
		},
		{
			name: "session token wrong", wantCode: metering.ErrUnrecognizedClient, wantMsg: msgInvalidToken,
			req: rawRequest{cred: Credential{AccessKeyID: sessionKey.AccessKeyID, SecretAccessKey: sessionKey.SecretAccessKey, SessionToken: "other-EXAMPLE"}},
		},
		{
			name: "session token on a long-term key", wantCode: metering.ErrUnrecognizedClient, wantMsg: msgInvalidToken,
			req: rawRequest{cred: Credential{AccessKeyID: plainKey.AccessKeyID, SecretAccessKey: plainKey.SecretAccessKey, SessionToken: "EXAMPLE"}},
		},
		{
			name: "unsigned", wantCode: metering.ErrMissingAuthenticationToken, wantMsg: "Missing Authentication Token",
			req: rawRequest{unsigned: true},
		},
		{
			name: "malformed authorization", wantCode: metering.ErrIncompleteSignature,
			req: rawRequest{afterSign: func(r *http.Request) {
				r.Header.Set(metering.HeaderAuthorization, "AWS4-HMAC-SHA256 Credential="+plainKey.AccessKeyID)
			}},
		},
		{
			name: "host not signed", wantCode: metering.ErrIncompleteSignature,
			req: rawRequest{afterSign: func(r *http.Request) {
				a := r.Header.Get(metering.HeaderAuthorization)
				r.Header.Set(metering.HeaderAuthorization, strings.Replace(a, "host;", "", 1))
			}},
		},
		{
			name: "no date header", wantCode: metering.ErrIncompleteSignature,
			req: rawRequest{afterSign: func(r *http.Request) { r.Header.Del(metering.HeaderDate) }},
		},
		{
			name: "scope date differs from the request date", wantCode: metering.ErrInvalidSignature,
			wantMsg: "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20260101' != '20260102', from '20260102T000100Z'.",
			now:     time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC),
			req: rawRequest{at: time.Date(2026, 1, 1, 23, 59, 0, 0, time.UTC), afterSign: func(r *http.Request) {
				r.Header.Set(metering.HeaderDate, "20260102T000100Z")
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			now := tt.now
			if now.IsZero() {
				now = testNow
			}
			svc := New(Config{Now: func() time.Time { return now }})
			srv := httptest.NewServer(svc)
			defer srv.Close()
			got := send(t, srv, tt.req.build(t, srv))
			if got.status != http.StatusForbidden || got.code != tt.wantCode {
				t.Errorf("got %d %s (%s), want 403 %s", got.status, got.code, got.message, tt.wantCode)
			}
			if tt.wantMsg != "" && got.message != tt.wantMsg {
				t.Errorf("message = %q, want %q", got.message, tt.wantMsg)
			}
			if seen := svc.Requests(); len(seen) != 1 || seen[0].ErrorCode != tt.wantCode {
				t.Errorf("Requests() = %+v, want one request with error %s", seen, tt.wantCode)
			}
		})
	}
}

// setBody replaces the body of a request that has been signed.
func setBody(r *http.Request, body string) {
	r.Body = io.NopCloser(strings.NewReader(body))
	r.ContentLength = int64(len(body))
}
