package proxy

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// TestResignKnownAnswer fixes credentials and clock, as the SDK's own
// v4_test.go does, and checks the exact signature the proxy produces.
func TestResignKnownAnswer(t *testing.T) {
	t.Parallel()
	base, _ := url.Parse("http://127.0.0.1:9000")
	u := &upstream{
		base:        base,
		credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "proxy-session-token"),
		signer:      v4.NewSigner(),
		now:         func() time.Time { return time.Date(2026, 1, 2, 3, 4, 6, 0, time.UTC) },
	}
	body := []byte(`{"ProductCode":"prodcode123example","PublicKeyVersion":1}`)
	client := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:8089/", nil)
	client.Header.Set("Content-Type", "application/x-amz-json-1.1")
	client.Header.Set("X-Amz-Target", "AWSMPMeteringService.RegisterUsage")
	client.Header.Set("X-Amz-Date", "20991231T000000Z")
	client.Header.Set("X-Amz-Security-Token", "client-session-token")
	client.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIACLIENT/20991231/eu-west-1/aws-marketplace/aws4_request, SignedHeaders=host, Signature=00")
	client.Header.Set("Accept-Encoding", "gzip")

	out, err := u.request(context.Background(), client, "eu-west-1", body)
	if err != nil {
		t.Fatal(err)
	}
	if out.URL.String() != "http://127.0.0.1:9000/" || out.Host != "metering.marketplace.eu-west-1.amazonaws.com" {
		t.Fatalf("dial %s with Host %s, want the upstream address with the real host", out.URL, out.Host)
	}
	const want = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260102/eu-west-1/aws-marketplace/aws4_request, " +
		"SignedHeaders=content-length;content-type;host;x-amz-date;x-amz-security-token;x-amz-target, " +
		"Signature=" + knownSignature
	if got := out.Header.Get("Authorization"); got != want {
		t.Fatalf("Authorization =\n%s\nwant\n%s", got, want)
	}
	if got := out.Header.Get("X-Amz-Security-Token"); got != "proxy-session-token" {
		t.Errorf("X-Amz-Security-Token = %q, want the proxy's own", got)
	}
	if got := out.Header.Get("X-Amz-Date"); got != "20260102T030406Z" {
		t.Errorf("X-Amz-Date = %q, want the proxy's clock", got)
	}
	if strings.Contains(strings.Join(out.Header.Values("Authorization"), ""), "AKIACLIENT") || out.Header.Get("Accept-Encoding") != "" {
		t.Errorf("client headers leaked upstream: %v", out.Header)
	}
}

const knownSignature = "5561a4b2e3ad5efcd382e539de97fba853a59a0c2dc8b9e08f76f65e87e8e084"
