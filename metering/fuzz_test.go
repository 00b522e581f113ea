package metering

import "testing"

func FuzzParseHost(f *testing.F) {
	for _, s := range []string{"metering.marketplace.us-east-1.amazonaws.com", "metering-marketplace.us-east-1.api.aws:443", "x", "", "metering.marketplace..", "[::1]:443"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, host string) {
		region, ok := ParseHost(host)
		if ok && (region == "" || Host(region) == "") {
			t.Fatalf("ParseHost(%q) = %q, true with an empty region", host, region)
		}
		if ok {
			if r, ok2 := ParseHost(Host(region)); !ok2 || r != region {
				t.Fatalf("ParseHost(Host(%q)) = %q, %v", region, r, ok2)
			}
		}
	})
}

func FuzzParseAuthorization(f *testing.F) {
	for _, s := range []string{
		"AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261128/us-east-1/aws-marketplace/aws4_request, SignedHeaders=host;x-amz-date, Signature=ab",
		"AWS4-HMAC-SHA256 Credential=/ / / /aws4_request, SignedHeaders=, Signature=", "AWS4-HMAC-SHA256", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		scope, signed, sig, err := ParseAuthorization(v)
		if err != nil {
			return
		}
		if scope.AccessKeyID == "" || scope.Region == "" || len(signed) == 0 || sig == "" {
			t.Fatalf("ParseAuthorization(%q) accepted an incomplete value: %+v %v %q", v, scope, signed, sig)
		}
	})
}
