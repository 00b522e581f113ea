package redact

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/metervcr/metervcr/cassettes"
	"github.com/metervcr/metervcr/metering"
)

// The tests below cover the shortcuts that keep the secret scan of
// recording cheap (Seal scans again only the parts redaction found
// something in; cleanJSON reads a body without decoding it). They compare
// each shortcut with the plain walk it stands for.

// sealReference is Seal without its shortcut: redact, then scan every part
// again.
func sealReference(r *Redactor, in *cassettes.Interaction) ([]Finding, error) {
	var caught []Finding
	for _, f := range r.Redact(in) {
		if !f.ruled {
			caught = append(caught, f)
		}
	}
	if left := r.leftOver(in, allParts); len(left) > 0 {
		return caught, fmt.Errorf("%w: %s", ErrUnredacted, strings.Join(left, "; "))
	}
	return caught, nil
}

// planted returns an interaction with a and b in every part, the
// operation named by target.
func planted(target, a, b string) *cassettes.Interaction {
	return &cassettes.Interaction{
		Request: cassettes.Request{
			Method: "POST",
			URL:    "https://metering.marketplace.us-east-1.amazonaws.com/?q=" + url.QueryEscape(a),
			Headers: http.Header{
				"X-Amz-Target":  {target},
				"X-Custom":      {a, "plain"},
				"Authorization": {b},
				"User-Agent":    {"aws-sdk-go-v2/1.48.0 ua/2.1 os/linux lang/go#1.26.8"},
			},
			Form: map[string][]string{"f": {b}},
			Body: `{"RegistrationToken":` + quote(b) + `,"UsageRecords":[{"CustomerAWSAccountId":` + quote(a) +
				`,"Quantity":3,"Tags":[{"Value":` + quote(b) + `}]}],"Raw":` + quote(a+b) + `}`,
		},
		Response: cassettes.Response{
			Code:    400,
			Headers: http.Header{"X-Echo": {b}, "Content-Type": {"application/x-amz-json-1.1"}},
			Body:    `{"__type":"X","message":` + quote(a+" "+b) + `,"LicenseArn":` + quote(a) + `}`,
		},
	}
}

var sealSeeds = []string{
	"", "plain", plantKeyID, plantSecret, plantSession, plantAuth, plantToken, plantAccount, plantARN,
	"REDACTED-0123456789abcdef", "000081725078", "aws_secret_access_key=" + plantSecret + " " + plantKeyID,
	"AWSMPMeteringService.MeterUsage", "AWSMPMeteringService.ResolveCustomer", `{"a":"b"}`, "\\u0041KIA", "é",
}

// checkSeal compares Seal with sealReference on the interaction that build
// returns, and returns Seal's error.
func checkSeal(t *testing.T, r *Redactor, build func() *cassettes.Interaction) error {
	t.Helper()
	got, want := build(), build()
	gotCaught, gotErr := r.Seal(got)
	wantCaught, wantErr := sealReference(r, want)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Seal left\n%+v\nredaction leaves\n%+v", got, want)
	}
	if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
		t.Fatalf("Seal error = %v, want %v", gotErr, wantErr)
	}
	if !reflect.DeepEqual(gotCaught, wantCaught) {
		t.Fatalf("Seal caught %v, want %v", gotCaught, wantCaught)
	}
	return gotErr
}

// TestSealScansWhatChanged: Seal redacts, reports and refuses exactly as
// redacting and then scanning everything again does.
func TestSealScansWhatChanged(t *testing.T) {
	t.Parallel()
	r := testRedactor(t, "0123456789abcdef0123")
	for _, target := range []string{"AWSMPMeteringService.MeterUsage", "AWSMPMeteringService.BatchMeterUsage", "x-" + plantAccount} {
		for _, a := range sealSeeds {
			for _, b := range sealSeeds {
				checkSeal(t, r, func() *cassettes.Interaction { return planted(target, a, b) })
			}
		}
	}
	// Re-encoding the body after redacting the account id writes the
	// escaped key id as text, which makes the secret key next to it one:
	// the second scan must see it.
	body := `{"\u0041KIAI44QH8DHBEXAMPLE":"` + plantSecret + `","CustomerAWSAccountId":"` + plantAccount + `"}`
	err := checkSeal(t, r, func() *cassettes.Interaction {
		in := planted("AWSMPMeteringService.MeterUsage", "", "")
		in.Request.Body = body
		return in
	})
	if !errors.Is(err, ErrUnredacted) {
		t.Fatalf("Seal of %s: error %v, want ErrUnredacted", body, err)
	}
}

// FuzzSeal is TestSealScansWhatChanged on any strings.
func FuzzSeal(f *testing.F) {
	for _, s := range sealSeeds {
		f.Add("AWSMPMeteringService.BatchMeterUsage", s, plantAuth)
	}
	r := testRedactor(f, "fuzzing placeholder key")
	f.Fuzz(func(t *testing.T, target, a, b string) {
		checkSeal(t, r, func() *cassettes.Interaction { return planted(target, a, b) })
	})
}

// bodyFinds reports whether the decoding walk of eachBody finds anything
// in body.
func bodyFinds(p *policy, op, body string, find func(place, string) []hit) bool {
	near := metering.HasAccessKeyID(body)
	doc, _ := cassettes.DecodeJSON([]byte(body))
	switch doc.(type) {
	case map[string]any, []any:
	default:
		return len(find(place{name: "body", near: near}, body)) > 0
	}
	found := false
	p.eachDoc(op, doc, "body", near, func(pl place, v string) string {
		found = found || len(find(pl, v)) > 0
		return v
	})
	return found
}

// checkCleanJSON fails when cleanJSON calls body clean and decoding it
// finds something, and reports what cleanJSON said.
func checkCleanJSON(t *testing.T, p *policy, op, body string) bool {
	t.Helper()
	echoes := []echo{{value: plantToken, kind: metering.KindSecret, what: "RegistrationToken"}}
	finds := []func(place, string) []hit{
		p.hits,
		func(pl place, v string) []hit { return echoHits(v, echoes, p.hits(pl, v)) },
	}
	clean := true
	for _, find := range finds {
		c := p.cleanJSON(op, body, metering.HasAccessKeyID(body), find)
		if c && bodyFinds(p, op, body, find) {
			t.Fatalf("cleanJSON(%s, %q) = true, but decoding it finds something", op, body)
		}
		clean = clean && c
	}
	return clean
}

var jsonBodies = []string{
	`{}`, `[]`, ` {"a":1} `, `{"ProductCode":"p","UsageQuantity":10,"Timestamp":1795835861.645}`,
	`{"a":[1,2,[3,"x"]],"b":{"c":null,"d":true,"e":false},"f":-1.5e+3}`, `[{"a":"b"},["c"]]`,
	`{"CustomerAWSAccountId":"111122223333"}`, `{"CustomerAWSAccountId":"000011112222"}`,
	`{"x":111122223333}`, `{"x":"a 111122223333 b"}`, `{"LicenseArn":"arn:aws:license-manager::111122223333:license:l-1"}`,
	`{"UsageRecords":[{"CustomerAWSAccountId":"111122223333"}]}`, `{"RegistrationToken":"t"}`,
	`{"a":"` + plantKeyID + `","b":"` + plantSecret + `"}`, `{"b":"` + plantSecret + `"}`, `{"SecretKey":"` + plantSecret + `"}`,
	`{"a":"` + plantSession + `"}`, `{"a":"` + plantAuth + `"}`, `{"message":"bad token ` + plantToken + `"}`,
	`{"a":"x","a":"111122223333"}`, `{"a":"111122223333","a":"x"}`, `{"a":"\u0031\u0031\u0031122223333"}`,
	`{"\u0041":"b"}`, `{"a":"é111122223333"}`, `{"a":1}}`, `{"a":1}]`, `{"a":1} {"b":2}`, `{"a":`, `"111122223333"`,
	`111122223333`, `not json 111122223333`, `{"a":"b"} x`, `{"a":"x"} 111122223333`, `{"a":01}`, `{"UsageRecords":[{"Dimension":"d"}]}`,
	`{"UsageRecords":[[{"Dimension":"d"}]]}`, `[{"Dimension":"d"}]`, `{"a":"\t"}`, "{\"a\":\"\x01\"}",
}

// TestCleanJSON: cleanJSON never calls clean a body in which decoding finds
// something, and reads the usual clean bodies without decoding them.
func TestCleanJSON(t *testing.T) {
	t.Parallel()
	p := &testRedactor(t, "0123456789abcdef0123").policy
	// A rule on a field inside a list tells whether paths are named as
	// eachDoc names them.
	ruled, err := Rules{Fields: []FieldRule{{Path: "BatchMeterUsage.UsageRecords[].Dimension"}}}.Redactor([]byte("0123456789abcdef0123"))
	if err != nil {
		t.Fatal(err)
	}
	for _, body := range jsonBodies {
		for _, op := range []string{"MeterUsage", "BatchMeterUsage", "ResolveCustomer"} {
			checkCleanJSON(t, p, op, body)
			checkCleanJSON(t, &ruled.policy, op, body)
		}
	}
	demo, err := cassettes.Demo()
	if err != nil {
		t.Fatal(err)
	}
	for i, in := range demo.Interactions {
		op, _ := metering.OperationFromTarget(in.Request.Headers.Get(metering.HeaderTarget))
		for _, body := range []string{in.Request.Body, in.Response.Body} {
			if !bodyFinds(p, op, body, p.hits) && !checkCleanJSON(t, p, op, body) {
				t.Errorf("demo interaction %d: cleanJSON(%q) = false, want true", i, body)
			}
		}
	}
}

// FuzzCleanJSON is TestCleanJSON on any body.
func FuzzCleanJSON(f *testing.F) {
	for _, body := range jsonBodies {
		f.Add(body)
	}
	p := &testRedactor(f, "fuzzing placeholder key").policy
	f.Fuzz(func(t *testing.T, body string) {
		checkCleanJSON(t, p, "BatchMeterUsage", body)
	})
}
