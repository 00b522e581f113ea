package metering

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

func TestParseHost(t *testing.T) {
	t.Parallel()
	tests := []struct {
		host, region string
		ok           bool
	}{
		{"metering.marketplace.us-east-1.amazonaws.com", "us-east-1", true},
		{"metering.marketplace.us-east-1.amazonaws.com:443", "us-east-1", true},
		{"METERING.MARKETPLACE.EU-WEST-1.AMAZONAWS.COM.", "eu-west-1", true},
		{"metering.marketplace-fips.us-east-1.amazonaws.com", "us-east-1", true},
		{"metering-marketplace.us-east-1.api.aws", "us-east-1", true},
		{"metering.marketplace-fips.us-gov-west-1.api.aws", "us-gov-west-1", true},
		{"metering.marketplace.cn-northwest-1.amazonaws.com.cn", "cn-northwest-1", true},
		{"metering-marketplace.cn-northwest-1.api.amazonwebservices.com.cn", "cn-northwest-1", true},
		{"metering-marketplace.eusc-de-east-1.amazonaws.eu", "eusc-de-east-1", true},
		{"metering.marketplace.us-isob-east-1.sc2s.sgov.gov", "us-isob-east-1", true},
		{"metering.marketplace.us-iso-east-1.c2s.ic.gov", "us-iso-east-1", true},
		{"s3.us-east-1.amazonaws.com", "", false},
		{"metering.marketplace.us-east-1.evil.com", "", false},
		{"metering.marketplace.amazonaws.com", "", false},
		{"metering.marketplace..amazonaws.com", "", false},
		{"127.0.0.1:8089", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			region, ok := ParseHost(tt.host)
			if region != tt.region || ok != tt.ok {
				t.Fatalf("ParseHost(%q) = %q, %v, want %q, %v", tt.host, region, ok, tt.region, tt.ok)
			}
		})
	}
}

func TestHostRoundTrips(t *testing.T) {
	t.Parallel()
	for _, r := range []string{"us-east-1", "eu-central-1", "cn-north-1", "eusc-de-east-1", "us-isob-east-1", "us-iso-east-1", "eu-isoe-west-1", "us-isof-south-1", "xx-foo-1"} {
		h := Host(r)
		if got, ok := ParseHost(h); !ok || got != r {
			t.Errorf("ParseHost(Host(%q) = %q) = %q, %v", r, h, got, ok)
		}
	}
	if got := Host("us-east-1"); got != "metering.marketplace.us-east-1.amazonaws.com" {
		t.Errorf("Host(us-east-1) = %q", got)
	}
}

func TestParseAuthorization(t *testing.T) {
	t.Parallel()
	good := "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261128/eu-west-1/aws-marketplace/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=abcd"
	scope, signed, sig, err := ParseAuthorization(good)
	if err != nil {
		t.Fatal(err)
	}
	want := CredentialScope{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", Date: "20261128", Region: "eu-west-1", Service: "aws-marketplace"}
	if scope != want || len(signed) != 3 || sig != "abcd" {
		t.Fatalf("ParseAuthorization = %+v %v %q, want %+v", scope, signed, sig, want)
	}
	bad := []string{
		"",
		"Bearer xyz",
		"AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261128/aws4_request, SignedHeaders=host, Signature=a",
		"AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261128/us-east-1/aws-marketplace/aws4_request, Signature=a",
	}
	for _, b := range bad {
		_, _, _, err := ParseAuthorization(b)
		if err == nil {
			t.Errorf("ParseAuthorization(%q) succeeded, want an error", b)
		} else if strings.Contains(err.Error(), "AKIAIOSFODNN7EXAMPLE") {
			t.Errorf("error %q echoes the access key id", err)
		}
	}
	noRegion := "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261128//aws-marketplace/aws4_request, SignedHeaders=host, Signature=a"
	if _, _, _, err := ParseAuthorization(noRegion); !errors.Is(err, ErrNoRegion) || strings.Contains(err.Error(), "AKIAIOSFODNN7EXAMPLE") {
		t.Errorf("ParseAuthorization(%q) error = %v, want ErrNoRegion without the access key id", noRegion, err)
	}
	if r := RegionFromAuthorization(good); r != "eu-west-1" {
		t.Errorf("RegionFromAuthorization = %q", r)
	}
}

func TestOperationFromTarget(t *testing.T) {
	t.Parallel()
	for _, op := range Operations() {
		if got, ok := OperationFromTarget(Target(op)); !ok || got != op {
			t.Errorf("OperationFromTarget(%q) = %q, %v", Target(op), got, ok)
		}
	}
	for _, bad := range []string{"", "MeterUsage", "AWSMPMeteringService.DeleteEverything", "Other.MeterUsage"} {
		if _, ok := OperationFromTarget(bad); ok {
			t.Errorf("OperationFromTarget(%q) ok, want not", bad)
		}
	}
}

func TestErrorShape(t *testing.T) {
	t.Parallel()
	if got := string(ErrorJSON(ErrThrottling, "Rate exceeded")); got != `{"__type":"com.amazonaws.marketplacemetering#ThrottlingException","message":"Rate exceeded"}` {
		t.Errorf("ErrorJSON = %s", got)
	}
	if got := string(ErrorJSON(ErrNoRecordedInteraction, "m")); got != `{"__type":"NoRecordedInteraction","message":"m"}` {
		t.Errorf("ErrorJSON = %s", got)
	}
	for in, want := range map[string]string{
		"ThrottlingException:http://internal.amazon.com/coral/com.amazonaws.marketplacemetering/": "ThrottlingException",
		"com.amazonaws.marketplacemetering#InvalidTokenException":                                 "InvalidTokenException",
		"NoRecordedInteraction": "NoRecordedInteraction",
	} {
		if got := ErrorCode(in); got != want {
			t.Errorf("ErrorCode(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestHeaderValueIsGet: for the header names of this package, canonical as
// they are, HeaderValue gives what http.Header.Get gives.
func TestHeaderValueIsGet(t *testing.T) {
	names := []string{HeaderTarget, HeaderDate, HeaderSecurityToken, HeaderContentSHA256, HeaderAuthorization,
		HeaderErrorType, HeaderRequestID, "Content-Type"}
	h := http.Header{}
	h.Add("x-amz-target", "AWSMPMeteringService.MeterUsage")
	h.Add("authorization", "first")
	h.Add("Authorization", "second")
	h["X-Amz-Date"] = []string{}
	h.Add("content-type", ContentType)
	for _, name := range names {
		if c := http.CanonicalHeaderKey(name); c != name {
			t.Errorf("%q is not canonical (%q): HeaderValue would miss it", name, c)
		}
		if got, want := HeaderValue(h, name), h.Get(name); got != want {
			t.Errorf("HeaderValue(%q) = %q, Get gives %q", name, got, want)
		}
	}
	if HeaderValue(h, HeaderAuthorization) != "first" {
		t.Errorf("HeaderValue must give the first value")
	}
}

// TestParseAuthorizationTextAgrees: the text form gives what the list form
// gives, and SignsHeader finds exactly the listed names.
func TestParseAuthorizationTextAgrees(t *testing.T) {
	v := "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/us-east-1/aws-marketplace/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=abc"
	scope, list, sig, err := ParseAuthorization(v)
	tscope, text, tsig, terr := ParseAuthorizationText(v)
	if err != nil || terr != nil || scope != tscope || sig != tsig || strings.Join(list, ";") != text {
		t.Fatalf("list form %v %q %q %v; text form %v %q %q %v", scope, list, sig, err, tscope, text, tsig, terr)
	}
	for name, want := range map[string]bool{"host": true, "x-amz-date": true, "content-type": true, "x-amz": false, "date": false, "": false} {
		if got := SignsHeader(text, name); got != want {
			t.Errorf("SignsHeader(%q, %q) = %v, want %v", text, name, got, want)
		}
	}
	if _, text, _, err := ParseAuthorizationText("Bearer x"); err == nil || text != "" {
		t.Fatalf("not SigV4: %q %v, want an error", text, err)
	}
}

func TestResponseErrorCode(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		status int
		header map[string][]string
		body   string
		want   string
	}{
		{"success", 200, nil, `{"MeteringRecordId":"r"}`, ""},
		{"success with an error header", 200, map[string][]string{HeaderErrorType: {ErrorType(ErrThrottling)}}, "", ""},
		{"header first", 400, map[string][]string{HeaderErrorType: {ErrorType(ErrThrottling)}}, string(ErrorJSON(ErrValidation, "m")), ErrThrottling},
		{"namespaced __type", 400, nil, string(ErrorJSON(ErrInvalidProductCode, "m")), ErrInvalidProductCode},
		{"no code", 500, nil, "<html>oops</html>", ""},
		{"__type of another type", 500, nil, `{"__type":1}`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := ResponseErrorCode(tc.status, tc.header, tc.body); got != tc.want {
				t.Errorf("ResponseErrorCode(%d, %v, %q) = %q, want %q", tc.status, tc.header, tc.body, got, tc.want)
			}
		})
	}
}
