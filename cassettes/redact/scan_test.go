package redact

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/metervcr/metervcr/cassettes"
	"github.com/metervcr/metervcr/metering"
)

// Values planted by hand. Each has the shape of the real thing; none is
// one.
const (
	plantKeyID    = "AKIAI44QH8DHBEXAMPLE"
	plantSecret   = "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY"
	plantSession  = "FwoGZXIvYXdzEXAMPLESESSIONTOKENfromaplantedcopy"
	plantAuth     = "AWS4-HMAC-SHA256 Credential=" + plantKeyID + "/20260102/us-east-1/aws-marketplace/aws4_request, SignedHeaders=host;x-amz-date, Signature=0123456789abcdef"
	plantToken    = "FAKE-REGISTRATION-TOKEN-PLANTED"
	plantAccount  = "111122223333"
	plantARN      = "arn:aws:license-manager::" + plantAccount + ":license:l-0123456789abcdef"
	demoRC        = 5 // ResolveCustomer that succeeds
	demoRCBad     = 6 // ResolveCustomer with a bad token
	demoBMU       = 4
	demoMU        = 0
	demoMUAllocOK = 1
)

// demoCopy returns a deep copy of interaction i of the demo cassette.
func demoCopy(t testing.TB, i int) *cassettes.Interaction {
	t.Helper()
	c, err := cassettes.Demo()
	if err != nil {
		t.Fatal(err)
	}
	data, err := cassettes.Encode(c.Interactions[i : i+1])
	if err != nil {
		t.Fatal(err)
	}
	cp, err := cassettes.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	return cp.Interactions[0]
}

// plantings lists every protected value in every place it can appear:
// headers, URL query, form, request and response bodies, nested JSON and
// error messages.
var plantings = []struct {
	name        string
	base        int
	plant       func(in *cassettes.Interaction)
	where, what string
}{
	{"authorization header", demoMU, func(in *cassettes.Interaction) { in.Request.Headers.Set("Authorization", plantAuth) },
		"request header Authorization", "Authorization value in clear"},
	{"bearer authorization", demoMU, func(in *cassettes.Interaction) { in.Request.Headers.Set("Authorization", "Bearer abc.def.ghi") },
		"request header Authorization", "Authorization value in clear"},
	{"security token header", demoMU, func(in *cassettes.Interaction) { in.Request.Headers.Set("X-Amz-Security-Token", "anything-at-all") },
		"request header X-Amz-Security-Token", "session token in clear"},
	{"key id in another header", demoMU, func(in *cassettes.Interaction) { in.Request.Headers.Set("X-Debug", "signed by "+plantKeyID) },
		"request header X-Debug", "AWS access key id AKIA…MPLE in clear"},
	{"authorization in a response header", demoMU, func(in *cassettes.Interaction) { in.Response.Headers.Set("X-Echo", plantAuth) },
		"response header X-Echo", "SigV4 Authorization value in clear"},
	{"account id in a header", demoMU, func(in *cassettes.Interaction) { in.Response.Headers.Set("X-Account", plantAccount) },
		"response header X-Account", "AWS account id ********3333 not pseudonymised"},
	{"presigned credential in query", demoMU, func(in *cassettes.Interaction) {
		in.Request.URL += "?X-Amz-Credential=" + plantKeyID + "%2F20260102%2Fus-east-1%2Faws-marketplace%2Faws4_request"
	}, "request url query X-Amz-Credential", "presigned URL credential in clear"},
	{"signature in query", demoMU, func(in *cassettes.Interaction) { in.Request.URL += "?X-Amz-Signature=0123abcd" },
		"request url query X-Amz-Signature", "presigned URL signature in clear"},
	{"session token in query", demoMU, func(in *cassettes.Interaction) { in.Request.URL += "?debug=" + plantSession },
		"request url query debug", "session token (47 characters) in clear"},
	{"account id in query", demoMU, func(in *cassettes.Interaction) { in.Request.URL += "?account=" + plantAccount },
		"request url query account", "AWS account id ********3333 not pseudonymised"},
	{"marketplace token in form", demoRC, func(in *cassettes.Interaction) {
		in.Request.Form = map[string][]string{"x-amzn-marketplace-token": {plantToken}}
	},
		"request form x-amzn-marketplace-token", "registration token in clear"},
	{"registration token in request body", demoRC, func(in *cassettes.Interaction) { in.Request.Body = `{"RegistrationToken":"` + plantToken + `"}` },
		"request body RegistrationToken", "registration token in clear"},
	{"account id in response body", demoRC, func(in *cassettes.Interaction) {
		in.Response.Body = strings.Replace(in.Response.Body, `"CustomerAWSAccountId":"000081725078"`, `"CustomerAWSAccountId":"`+plantAccount+`"`, 1)
	}, "response body CustomerAWSAccountId", "buyer AWS account id ********3333 not pseudonymised"},
	{"license ARN in response body", demoRC, func(in *cassettes.Interaction) {
		in.Response.Body = strings.Replace(in.Response.Body, `::000081725078:`, `::`+plantAccount+`:`, 1)
	}, "response body LicenseArn", "ARN not pseudonymised"},
	{"account id in request records", demoBMU, func(in *cassettes.Interaction) {
		in.Request.Body = strings.Replace(in.Request.Body, `"CustomerIdentifier":"cust-EXAMPLE123"`, `"CustomerAWSAccountId":"`+plantAccount+`"`, 1)
	}, "request body UsageRecords[0].CustomerAWSAccountId", "buyer AWS account id ********3333 not pseudonymised"},
	{"nested account id in results", demoBMU, func(in *cassettes.Interaction) {
		in.Response.Body = strings.Replace(in.Response.Body, `"CustomerIdentifier":"cust-EXAMPLE123"`, `"CustomerAWSAccountId":"`+plantAccount+`"`, 1)
	}, "response body Results[0].UsageRecord.CustomerAWSAccountId", "buyer AWS account id ********3333 not pseudonymised"},
	{"nested license ARN in results", demoBMU, func(in *cassettes.Interaction) {
		in.Response.Body = strings.Replace(in.Response.Body, `"CustomerIdentifier":"cust-EXAMPLE123"`, `"LicenseArn":"`+plantARN+`"`, 1)
	}, "response body Results[0].UsageRecord.LicenseArn", "ARN not pseudonymised"},
	{"key id in a nested tag", demoMUAllocOK, func(in *cassettes.Interaction) {
		in.Request.Body = strings.Replace(in.Request.Body, `"blue"`, `"`+plantKeyID+`"`, 1)
	},
		"request body UsageAllocations[0].Tags[0].Value", "AWS access key id AKIA…MPLE in clear"},
	{"account id in an error message", demoRCBad, func(in *cassettes.Interaction) {
		in.Response.Body = `{"__type":"InvalidTokenException","message":"Token belongs to account ` + plantAccount + `."}`
	}, "response body message", "AWS account id ********3333 not pseudonymised"},
	{"ARN in an error message", demoRCBad, func(in *cassettes.Interaction) {
		in.Response.Body = `{"__type":"AccessDeniedException","message":"User: arn:aws:sts::` + plantAccount + `:assumed-role/r/s is not authorized"}`
	}, "response body message", "ARN names buyer AWS account id ********3333, not pseudonymised"},
	{"session token in an error message", demoRCBad, func(in *cassettes.Interaction) {
		in.Response.Body = `{"__type":"InvalidSignatureException","message":"x-amz-security-token:` + plantSession + `"}`
	}, "response body message", "session token (47 characters) in clear"},
	{"secret key next to a key id in an error message", demoRCBad, func(in *cassettes.Interaction) {
		in.Response.Body = `{"__type":"X","message":"aws_access_key_id=AKIAIOSFODNN7PLANTED aws_secret_access_key=` + plantSecret + `"}`
	}, "response body message", "secret access key (40 characters) in clear"},
	{"secret key in a secret field", demoRCBad, func(in *cassettes.Interaction) {
		in.Response.Body = `{"Credentials":{"SecretAccessKey":"` + plantSecret + `"}}`
	}, "response body Credentials.SecretAccessKey", "secret access key in clear"},
	{"registration token echoed in an error message", demoRCBad, func(in *cassettes.Interaction) {
		in.Request.Body = `{"RegistrationToken":"` + plantToken + `"}`
		in.Response.Body = `{"__type":"InvalidTokenException","message":"Registration token ` + plantToken + ` is invalid."}`
	}, "response body message", "echoes the request's RegistrationToken"},
	{"key id in a text body", demoMU, func(in *cassettes.Interaction) { in.Response.Body = "<html>" + plantKeyID + "</html>" },
		"response body", "AWS access key id AKIA…MPLE in clear"},
}

func TestScannerFindsEveryPlanting(t *testing.T) {
	t.Parallel()
	scanner := NewScanner()
	r := testRedactor(t, "0123456789abcdef0123")
	for _, tt := range plantings {
		t.Run(tt.name, func(t *testing.T) {
			in := demoCopy(t, tt.base)
			tt.plant(in)
			found := scanner.Interaction(3, in)
			want := "interaction 3: " + tt.where + ": " + tt.what
			if !hasFinding(found, want) {
				t.Fatalf("Interaction = %v, want a finding %q", found, want)
			}
			for _, f := range found {
				for _, secret := range []string{plantKeyID, plantSecret, plantSession, plantToken, plantAccount} {
					if strings.Contains(f.String(), secret) {
						t.Errorf("finding %q repeats a secret in full", f)
					}
				}
			}
			done := r.Redact(in)
			if len(done) == 0 {
				t.Fatal("Redact changed nothing, want the planted value replaced")
			}
			if left := scanner.Interaction(3, in); len(left) != 0 {
				t.Fatalf("after Redact, Interaction = %v, want no findings", left)
			}
			if again := r.Redact(in); len(again) != 0 {
				t.Fatalf("second Redact changed %v, want nothing (idempotent)", again)
			}
		})
	}
}

func hasFinding(found []Finding, want string) bool {
	for _, f := range found {
		if f.String() == want {
			return true
		}
	}
	return false
}

// TestScannerCleanValues guards against false positives: a gate that
// cries wolf gets removed from CI.
func TestScannerCleanValues(t *testing.T) {
	t.Parallel()
	clean := []struct{ name, body string }{
		{"placeholders", `{"CustomerAWSAccountId":"000081725078","LicenseArn":"arn:aws:license-manager::000081725078:license:l-1","RegistrationToken":"REDACTED-0123456789abcdef"}`},
		{"uuid ending in digits", `{"MeteringRecordId":"ee4d6217-b54c-4c9e-96a1-862703791234"}`},
		{"string to sign in an error message", `{"__type":"InvalidSignatureException","message":"The String-to-Sign should have been\n'AWS4-HMAC-SHA256\n20260102T030406Z\n20260102/us-east-1/aws-marketplace/aws4_request\n8c3b5ec8d8e4b6e1c0e4e0d1b0a4c3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6'"}`},
		{"long digit runs", `{"Nonce":"nonce-1795835861645532837","Big":"1234567890123","Small":"12345678901","When":"2026-11-28T03:17:41.645532837Z","Version":"1.111122223333"}`},
		{"jwt", `{"Signature":"eyJhbGciOiJQUzI1NiIsInR5cCI6IkpXVCJ9.eyJwcm9kdWN0Q29kZSI6InByb2Rjb2RlMTIzZXhhbXBsZSJ9.92hxeDndMNsSBjjg6IWS1lGdFpc9TiW-kDuGHrCdUoo"}`},
		{"base64 without a key id", `{"Digest":"` + plantSecret + `"}`},
		{"timestamps as numbers", `{"Timestamp":1795835861.645,"Quantity":2147483647}`},
	}
	scanner := NewScanner()
	for _, tt := range clean {
		t.Run(tt.name, func(t *testing.T) {
			in := demoCopy(t, demoRC)
			in.Response.Body = tt.body
			if found := scanner.Interaction(0, in); len(found) != 0 {
				t.Fatalf("Interaction(%s) = %v, want no findings", tt.body, found)
			}
		})
	}
}

func TestDemoCassetteVerifiesClean(t *testing.T) {
	t.Parallel()
	c, err := cassettes.Demo()
	if err != nil {
		t.Fatal(err)
	}
	if found := NewScanner().Cassette(c); len(found) != 0 {
		t.Fatalf("demo cassette findings = %v, want none", found)
	}
}

func TestScannerFlagsNonMeteringInteractions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, where, what string
		edit              func(in *cassettes.Interaction)
	}{
		{"other target", "request header X-Amz-Target", `"DynamoDB_20120810.GetItem" is not a Marketplace Metering operation`,
			func(in *cassettes.Interaction) {
				in.Request.Headers.Set(metering.HeaderTarget, "DynamoDB_20120810.GetItem")
			}},
		{"no target", "request header X-Amz-Target", "missing: not a Marketplace Metering call",
			func(in *cassettes.Interaction) { in.Request.Headers.Del(metering.HeaderTarget) }},
		{"other host", "request url", `host "s3.us-east-1.amazonaws.com" is not a Marketplace Metering host`,
			func(in *cassettes.Interaction) { in.Request.URL = "https://s3.us-east-1.amazonaws.com/" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := demoCopy(t, demoMU)
			tt.edit(in)
			found := NewScanner().Interaction(0, in)
			if len(found) != 1 || found[0].Where != tt.where || !strings.HasPrefix(found[0].What, tt.what) {
				t.Fatalf("Interaction = %v, want one finding at %s: %s", found, tt.where, tt.what)
			}
		})
	}
}

func TestSealLogsWhatPatternsCaught(t *testing.T) {
	t.Parallel()
	r := testRedactor(t, "0123456789abcdef0123")
	in := demoCopy(t, demoRCBad)
	in.Request.Headers.Set("Authorization", plantAuth)
	in.Response.Body = `{"__type":"InvalidTokenException","message":"Token of account ` + plantAccount + ` is invalid."}`
	caught, err := r.Seal(in)
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	if len(caught) != 1 || caught[0].Where != "response body message" {
		t.Fatalf("Seal caught %v, want only the error message (the Authorization header has a rule)", caught)
	}
	if strings.Contains(in.Response.Body, plantAccount) || in.Request.Headers.Get("Authorization") == plantAuth {
		t.Fatalf("Seal left a secret: %s %v", in.Response.Body, in.Request.Headers)
	}
	want := r.Value(metering.KindAccountID, plantAccount)
	if !strings.Contains(in.Response.Body, "account "+want+" is invalid") {
		t.Fatalf("message = %s, want the account's placeholder %s in place", in.Response.Body, want)
	}
}

func TestRedactKeepsHeadersCanonical(t *testing.T) {
	t.Parallel()
	in := demoCopy(t, demoMU)
	in.Request.Headers = http.Header{"authorization": {plantAuth}, metering.HeaderTarget: {metering.Target(metering.MeterUsage)}}
	testRedactor(t, "0123456789abcdef0123").Redact(in)
	if v := in.Request.Headers["authorization"][0]; !strings.HasPrefix(v, "REDACTED-") {
		t.Fatalf("lower-case authorization header = %q, want a placeholder", v)
	}
}

// TestScannerFile reports a file that does not parse as a finding, masks
// what its YAML error quotes, and still searches its text.
func TestScannerFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(path, []byte("version: "+plantKeyID+"\ninteractions: []\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	found, n, err := NewScanner().File(path)
	if err != nil || n != 0 || len(found) != 2 {
		t.Fatalf("File = %v, %d, %v; want a parse finding and a line finding", found, n, err)
	}
	if found[0].Where != "file" || strings.Contains(found[0].What, plantKeyID) || strings.Contains(found[0].What, "\n") {
		t.Errorf("parse finding %q, want one line without the key id", found[0])
	}
	if got := NewScanner().policy.mask("account 111122223333 key " + plantKeyID); got != "account **** key ****" {
		t.Errorf("mask = %q, want every hit masked", got)
	}
	if found[1].String() != "line 1: AWS access key id AKIA…MPLE in clear" {
		t.Errorf("line finding %q", found[1])
	}
	if _, _, err := NewScanner().File(filepath.Join(t.TempDir(), "none")); !errors.Is(err, cassettes.ErrNotFound) {
		t.Errorf("File(missing) error = %v, want ErrNotFound", err)
	}
}
