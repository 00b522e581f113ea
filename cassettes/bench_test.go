package cassettes

import (
	"path/filepath"
	"testing"
)

// BenchmarkAppend measures one durable append (encode, write, fsync,
// rename) to a cassette that already holds 100 interactions.
func BenchmarkAppend(b *testing.B) {
	w, err := OpenWriter(filepath.Join(b.TempDir(), "bench"), true)
	if err != nil {
		b.Fatal(err)
	}
	for i := range 100 {
		if _, err := w.Append(sample(i % 10)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := w.Append(sample(1)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRedactInteraction(b *testing.B) {
	r, err := NewRedactor([]byte("bench key 0123456789"), nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		in := sample(1)
		in.Request.Headers.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260102/us-east-1/aws-marketplace/aws4_request, SignedHeaders=host, Signature=abc")
		in.Response.Body = `{"CustomerAWSAccountId":"111122223333","LicenseArn":"arn:aws:license-manager::111122223333:license:l-1"}`
		r.Interaction(in)
	}
}
