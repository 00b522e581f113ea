package redact

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/metervcr/metervcr/cassettes"
)

// FuzzScanner plants arbitrary text in every place of an interaction. The
// scanner must not panic, and what the Redactor leaves must scan clean and
// survive a second redaction unchanged: whatever verify can flag, redact
// can fix, which is what makes recording fail closed.
func FuzzScanner(f *testing.F) {
	for _, s := range []string{
		"", plantKeyID, plantSecret, plantSession, plantAuth, plantToken, plantAccount, plantARN,
		"aws_access_key_id=" + plantKeyID + " aws_secret_access_key=" + plantSecret,
		`{"CustomerAWSAccountId":"` + plantAccount + `"}`, "REDACTED-0123456789abcdef", "000081725078",
		"arn:aws:iam::" + plantAccount + ":role/x arn:aws:iam::000011112222:role/y", "1.111122223333", "x-111122223333",
		"\xff\xfe", "AKIA" + plantKeyID + plantKeyID, "FwoG" + plantSecret,
	} {
		f.Add(s, s)
	}
	r := testRedactor(f, "fuzzing placeholder key")
	scanner := NewScanner()
	f.Fuzz(func(t *testing.T, a, b string) {
		in := &cassettes.Interaction{
			Request: cassettes.Request{
				Method: "POST",
				URL:    "https://metering.marketplace.us-east-1.amazonaws.com/?q=" + a,
				Headers: http.Header{
					"X-Amz-Target":  {"AWSMPMeteringService.BatchMeterUsage"},
					"X-Custom":      {a},
					"Authorization": {b},
				},
				Form: map[string][]string{"f": {b}},
				Body: `{"UsageRecords":[{"CustomerAWSAccountId":` + quote(a) + `,"Dimension":` + quote(b) + `}],"Raw":` + quote(a+b) + `}`,
			},
			Response: cassettes.Response{
				Code:    400,
				Headers: http.Header{"X-Echo": {b}},
				Body:    `{"__type":"X","message":` + quote(a+" "+b) + `}`,
			},
		}
		scanner.Interaction(0, in)
		r.Redact(in)
		if left := secretFindings(scanner.Interaction(0, in)); len(left) != 0 {
			t.Fatalf("after Redact, findings %v in %+v", left, in)
		}
		if again := r.Redact(in); len(again) != 0 {
			t.Fatalf("second Redact changed %v", again)
		}
		// A text body is scanned as text.
		text := &cassettes.Interaction{Request: cassettes.Request{Body: a}, Response: cassettes.Response{Body: b}}
		r.Redact(text)
		if left := secretFindings(scanner.Interaction(0, text)); len(left) != 0 {
			t.Fatalf("after Redact of text bodies, findings %v", left)
		}
	})
}

// secretFindings drops the findings about what an interaction is (not a
// Metering call), which redaction does not change.
func secretFindings(found []Finding) []Finding {
	var out []Finding
	for _, f := range found {
		if f.Where != "request header X-Amz-Target" && f.Where != "request url" {
			out = append(out, f)
		}
	}
	return out
}

// quote returns s as a JSON string without relying on the code under test.
func quote(s string) string {
	b := []byte{'"'}
	for _, c := range []byte(s) {
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, []byte(`\u00`)...)
			b = append(b, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&15])
		default:
			b = append(b, c)
		}
	}
	return string(append(b, '"'))
}

// FuzzVerifyFile feeds arbitrary bytes to the file scanner and to the
// file redactor: no panic, and a file that redacts verifies without
// secrets.
func FuzzVerifyFile(f *testing.F) {
	demo, err := cassettes.Encode(func() []*cassettes.Interaction { c, _ := cassettes.Demo(); return c.Interactions }())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(demo)
	f.Add([]byte("version: 1\ninteractions: [\n" + plantKeyID))
	f.Add([]byte("version: 1\ninteractions:\n- request: {method: POST, url: 'https://x/?X-Amz-Signature=abc', headers: {Authorization: [" + plantKeyID + "]}}\n  response: {code: 200, body: '" + plantAccount + "'}\n"))
	f.Add([]byte{})
	r := testRedactor(f, "fuzzing placeholder key")
	scanner := NewScanner()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "c.yaml")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, _, err := scanner.File(path); err != nil {
			t.Fatalf("File on a readable file: %v", err)
		}
		if _, _, err := r.File(path); err != nil {
			return // not a cassette: redact refuses it, verify reported it
		}
		found, _, err := scanner.File(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range secretFindings(found) {
			// Load recovers a torn last interaction, which verify reports.
			if f.Where != "file" {
				t.Fatalf("after redact, finding %v", f)
			}
		}
	})
}
