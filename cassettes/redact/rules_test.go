package redact

import (
	"strings"
	"testing"

	"github.com/metervcr/metervcr/metering"
)

func TestParseFieldRule(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want FieldRule
		err  string
	}{
		{"MeterUsage.UsageAllocations[].Tags[].Value", FieldRule{"MeterUsage.UsageAllocations[].Tags[].Value", metering.KindSecret}, ""},
		{"*.Foo=account-id", FieldRule{"*.Foo", metering.KindAccountID}, ""},
		{"Nonce", FieldRule{"Nonce", metering.KindSecret}, ""},
		{" *.Arn=arn ", FieldRule{"*.Arn", metering.KindARN}, ""},
		{"*.Foo=email", FieldRule{}, `unknown redaction kind "email"`},
		{"MeterUsage.", FieldRule{}, "empty segment"},
		{"Tags[]", FieldRule{}, "bare field name"},
		{"=secret", FieldRule{}, "empty field rule"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseFieldRule(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ParseFieldRule(%q) error = %v, want one mentioning %q", tt.in, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseFieldRule(%q) = %+v, %v, want %+v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestParseConfig(t *testing.T) {
	t.Parallel()
	cfg, err := ParseConfig([]byte(`
redaction:
  headers: [x-amzn-trace-id]
  fields:
    - MeterUsage.UsageAllocations[].Tags[].Value
    - Nonce=secret
    - {path: "*.CustomerIdentifier", kind: secret}
  keep: [LicenseArn]
`))
	if err != nil {
		t.Fatal(err)
	}
	want := Rules{
		Headers: []string{"x-amzn-trace-id"},
		Fields:  []FieldRule{{"MeterUsage.UsageAllocations[].Tags[].Value", "secret"}, {"Nonce", "secret"}, {"*.CustomerIdentifier", "secret"}},
		Keep:    []string{"LicenseArn"},
	}
	if got := cfg.Redaction; strings.Join(got.Headers, ",") != strings.Join(want.Headers, ",") || len(got.Fields) != 3 ||
		got.Fields[0] != want.Fields[0] || got.Fields[1] != want.Fields[1] || got.Fields[2] != want.Fields[2] || got.Keep[0] != "LicenseArn" {
		t.Fatalf("ParseConfig = %+v, want %+v", got, want)
	}
	if cfg, err := ParseConfig(nil); err != nil || len(cfg.Redaction.Fields) != 0 {
		t.Fatalf("ParseConfig(empty) = %+v, %v, want the zero Config", cfg, err)
	}
	for _, bad := range []string{"redaction:\n  field: [X.Y]\n", "redactions: {}\n", "redaction:\n  fields: [{path: X.Y, kind: nope}]\n", "redaction:\n  keep: [Signature]\n"} {
		if _, err := ParseConfig([]byte(bad)); err == nil {
			t.Errorf("ParseConfig(%q) succeeded, want an error", bad)
		}
	}
}

// TestRulesApply checks the user rules end to end: an extra header, a
// path, a field name anywhere, and a kept buyer identifier, in the
// Redactor and the Scanner alike.
func TestRulesApply(t *testing.T) {
	t.Parallel()
	rules := Rules{Headers: []string{"x-amzn-trace-id"}, Keep: []string{"*.LicenseArn"}}.Merge(Rules{
		Fields: []FieldRule{{Path: "MeterUsage.UsageAllocations[].Tags[].Value", Kind: "secret"}, {Path: "Nonce", Kind: "secret"}},
	})
	r, err := rules.Redactor([]byte("0123456789abcdef0123"))
	if err != nil {
		t.Fatal(err)
	}
	scanner, err := rules.Scanner()
	if err != nil {
		t.Fatal(err)
	}
	in := demoCopy(t, demoMUAllocOK)
	in.Request.Headers.Set("X-Amzn-Trace-Id", "Root=1-5759e988-bd862e3fe1be46a994272793")
	in.Response.Body = `{"LicenseArn":"arn:aws:license-manager::111122223333:license:l-1","Nested":{"Nonce":"n-1"}}`
	var wheres []string
	for _, f := range scanner.Interaction(0, in) {
		wheres = append(wheres, f.Where)
	}
	want := "request header X-Amzn-Trace-Id|request body UsageAllocations[0].Tags[0].Value|response body Nested.Nonce"
	if got := strings.Join(wheres, "|"); got != want {
		t.Fatalf("findings at %s, want %s (the kept LicenseArn is not one)", got, want)
	}
	r.Redact(in)
	if left := scanner.Interaction(0, in); len(left) != 0 {
		t.Fatalf("after Redact: %v", left)
	}
	if !strings.Contains(in.Response.Body, "::111122223333:") {
		t.Fatalf("kept LicenseArn was redacted: %s", in.Response.Body)
	}
	if _, err := (Rules{Keep: []string{"RegistrationToken"}}).Scanner(); err == nil || !strings.Contains(err.Error(), "cannot be kept") {
		t.Fatalf("keeping RegistrationToken: %v, want refused", err)
	}
	if _, err := (Rules{Headers: []string{"Bad Header:"}}).Scanner(); err == nil {
		t.Fatal("a header name with a space and colon was accepted")
	}
}
