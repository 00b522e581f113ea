package redact

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/metervcr/metervcr/cassettes"
	"github.com/metervcr/metervcr/metering"
)

func testRedactor(t testing.TB, key string) *Redactor {
	t.Helper()
	r, err := New([]byte(key), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRedactorValue(t *testing.T) {
	t.Parallel()
	r := testRedactor(t, "0123456789abcdef0123")
	other := testRedactor(t, "another key of 16+ bytes")
	tests := []struct {
		name, kind, in string
		shape          *regexp.Regexp
	}{
		{"secret", metering.KindSecret, "FAKE-REGISTRATION-TOKEN-EXAMPLE", regexp.MustCompile(`^REDACTED-[0-9a-f]{16}$`)},
		{"account", metering.KindAccountID, "111122223333", regexp.MustCompile(`^0000[0-9]{8}$`)},
		{"arn", metering.KindARN, "arn:aws:license-manager::111122223333:license:l-0123", regexp.MustCompile(`^arn:aws:license-manager::0000[0-9]{8}:license:l-0123$`)},
		{"not an arn", metering.KindARN, "garbage", regexp.MustCompile(`^REDACTED-[0-9a-f]{16}$`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := r.Value(tt.kind, tt.in)
			if !tt.shape.MatchString(got) {
				t.Fatalf("Value(%s, %q) = %q, want shape %v", tt.kind, tt.in, got, tt.shape)
			}
			if again := r.Value(tt.kind, tt.in); again != got {
				t.Fatalf("Value not stable: %q then %q", got, again)
			}
			if fixed := r.Value(tt.kind, got); fixed != got {
				t.Fatalf("Value(placeholder %q) = %q, want the placeholder unchanged", got, fixed)
			}
			if o := other.Value(tt.kind, tt.in); o == got {
				t.Fatalf("two keys gave the same placeholder %q: the hash is not keyed", o)
			}
			if strings.Contains(got, "111122223333") || strings.Contains(got, "TOKEN") {
				t.Fatalf("placeholder %q still holds the secret", got)
			}
		})
	}
}

// TestKeylessPlaceholders: tokens get the placeholder the README documents,
// which anyone computes from the value alone, e.g.
//
//	printf 'metervcr keyless placeholder\0%s' "$TOKEN" | sha256sum | cut -c1-16
//
// whatever the key, or with none; placeholders of both forms are fixed
// points.
func TestKeylessPlaceholders(t *testing.T) {
	t.Parallel()
	const token, want = "FAKE-REGISTRATION-TOKEN-EXAMPLE", "REDACTED-sha256-7ca36e30c3e10ca0"
	sum := sha256.Sum256([]byte("metervcr keyless placeholder\x00" + token))
	if got := "REDACTED-sha256-" + hex.EncodeToString(sum[:8]); got != want {
		t.Fatalf("documented formula gives %s, want %s", got, want)
	}
	none, err := New(nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]*Redactor{"one key": testRedactor(t, "0123456789abcdef0123"), "another key": testRedactor(t, "another key of 16+ bytes"), "no key": none} {
		if got := r.Value(metering.KindToken, token); got != want {
			t.Errorf("%s: Value(token, %q) = %q, want %q", name, token, got, want)
		}
		for _, p := range []string{want, "REDACTED-0123456789abcdef"} {
			if got := r.Value(metering.KindToken, p); got != p {
				t.Errorf("%s: Value(token, placeholder %q) = %q, want it unchanged", name, p, got)
			}
		}
	}
	if got := KeylessPlaceholder(token); got != want {
		t.Errorf("KeylessPlaceholder(%q) = %q, want %q", token, got, want)
	}
}

// TestRedactorWithoutKey: a Redactor without a key replaces what needs
// the key with markers that are fixed points, never look like a
// pseudonym, and say what they stand for.
func TestRedactorWithoutKey(t *testing.T) {
	t.Parallel()
	r, err := New(nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Keyed() || (*Redactor)(nil).Keyed() || !testRedactor(t, "0123456789abcdef0123").Keyed() {
		t.Fatal("Keyed reports a key where there is none, or none where there is one")
	}
	tests := []struct {
		kind, in, want, what string
	}{
		{metering.KindAccountID, "111122223333", "UNKEYED-3333", "a real buyer account id (ending 3333)"},
		{metering.KindARN, "arn:aws:license-manager::111122223333:license:l-1", "arn:aws:license-manager::UNKEYED-3333:license:l-1", "a real buyer account id (ending 3333)"},
		{metering.KindSecret, "hunter2", "UNKEYED-secret", "a value that redaction rules name as a secret"},
	}
	for _, tt := range tests {
		got := r.Value(tt.kind, tt.in)
		if got != tt.want {
			t.Errorf("Value(%s, %q) = %q, want %q", tt.kind, tt.in, got, tt.want)
		}
		if again := r.Value(tt.kind, got); again != got {
			t.Errorf("Value(%s, marker %q) = %q, want it unchanged", tt.kind, got, again)
		}
		if what, ok := Unkeyed(got); !ok || what != tt.what {
			t.Errorf("Unkeyed(%q) = %q, %v; want %q, true", got, what, ok, tt.what)
		}
	}
	for _, pseudonym := range []string{"000012345678", "arn:aws:license-manager::000012345678:license:l-1"} {
		if _, ok := Unkeyed(pseudonym); ok {
			t.Errorf("Unkeyed(%q) = true, want false", pseudonym)
		}
	}
	if err := r.Unkey([]string{"tok"}); err == nil {
		t.Error("Unkey without a key: no error")
	}
	if err := testRedactor(t, "0123456789abcdef0123").Unkey([]string{"REDACTED-0123456789abcdef"}); err == nil {
		t.Error("Unkey of a placeholder: no error")
	}
}

func TestRedactInteraction(t *testing.T) {
	t.Parallel()
	r := testRedactor(t, "0123456789abcdef0123")
	in := &cassettes.Interaction{
		Request: cassettes.Request{
			Headers: http.Header{
				"Authorization":        {"AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260102/us-east-1/aws-marketplace/aws4_request, SignedHeaders=host, Signature=abc"},
				"X-Amz-Security-Token": {"FwoGZXIvYXdzEXAMPLETOKEN"},
				"X-Amz-Target":         {"AWSMPMeteringService.ResolveCustomer"},
			},
			Body: `{"RegistrationToken": "FAKE-REGISTRATION-TOKEN-EXAMPLE"}`,
		},
		Response: cassettes.Response{Body: `{"CustomerAWSAccountId":"111122223333","CustomerIdentifier":"cust-1","LicenseArn":"arn:aws:license-manager::111122223333:license:l-1","ProductCode":"p"}`},
	}
	if n := len(r.Redact(in)); n != 5 {
		t.Errorf("Interaction changed %d values, want 5", n)
	}
	all := in.Request.Headers.Get("Authorization") + in.Request.Headers.Get("X-Amz-Security-Token") + in.Request.Body + in.Response.Body
	for _, secret := range []string{"AKIAIOSFODNN7EXAMPLE", "AWS4-HMAC-SHA256", "EXAMPLETOKEN", "FAKE-REGISTRATION", "111122223333"} {
		if strings.Contains(all, secret) {
			t.Errorf("redacted interaction still holds %q: %s", secret, all)
		}
	}
	if !strings.Contains(in.Response.Body, `"CustomerIdentifier":"cust-1"`) {
		t.Errorf("CustomerIdentifier must be kept by default: %s", in.Response.Body)
	}
	if n := len(r.Redact(in)); n != 0 {
		t.Errorf("redacting twice changed %d values, want 0 (idempotent)", n)
	}
}
