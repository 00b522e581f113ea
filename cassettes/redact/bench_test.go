package redact

import (
	"net/http"
	"testing"
	"time"

	"github.com/metervcr/metervcr/cassettes"
)

func BenchmarkRedactInteraction(b *testing.B) {
	r, err := New([]byte("bench key 0123456789"), nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		in := &cassettes.Interaction{
			Request: cassettes.Request{
				Body:    `{"ProductCode":"p","UsageDimension":"d","UsageQuantity":1}`,
				Form:    map[string][]string{},
				Headers: http.Header{"X-Amz-Target": {"AWSMPMeteringService.MeterUsage"}, "Content-Type": {"application/x-amz-json-1.1"}},
				URL:     "https://metering.marketplace.us-east-1.amazonaws.com/",
				Method:  "POST",
			},
			Response: cassettes.Response{
				Body:     `{"CustomerAWSAccountId":"111122223333","LicenseArn":"arn:aws:license-manager::111122223333:license:l-1"}`,
				Headers:  http.Header{"Content-Type": {"application/x-amz-json-1.1"}},
				Status:   "200 OK",
				Code:     200,
				Duration: 12 * time.Millisecond,
			},
		}
		in.Request.Headers.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260102/us-east-1/aws-marketplace/aws4_request, SignedHeaders=host, Signature=abc")
		r.Redact(in)
	}
}
