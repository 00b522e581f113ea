package matcher

import (
	"encoding/json"
	"maps"
	"strings"
	"testing"

	"github.com/metervcr/metervcr/cassettes"
	"github.com/metervcr/metervcr/cassettes/redact"
)

// canonMatchers are the configurations the one-pass canonicaliser is
// checked under: defaults with redaction, timestamps to the hour, extra
// ignored fields, and no redaction at all.
// leaves is visitLeaves without a field: whether the one-pass reader read
// body, calling fn with each leaf.
func leaves(body []byte, fn func(path []string, v string, isString bool)) bool {
	return visitLeaves(body, "", fn).Read
}

func canonMatchers(t testing.TB) []*Matcher {
	t.Helper()
	r, err := redact.New([]byte("canonical test key 0123"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfgs := []Config{
		Default(r),
		{IgnoreBody: Default(nil).IgnoreBody, TimestampsToHour: true, Redactor: r},
		{IgnoreBody: append([]string{"*.Tags", "BatchMeterUsage.UsageRecords[].UsageAllocations"}, Default(nil).IgnoreBody...), Redactor: r},
		Default(nil),
	}
	var ms []*Matcher
	for _, c := range cfgs {
		m, err := New(c)
		if err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	return ms
}

var canonSeeds = []string{
	`{"ProductCode":"prodcode123example","Timestamp":1767323045,"UsageDimension":"requests","UsageQuantity":10,"ClientToken":"3f1c2d4e-aaaa-bbbb-cccc-0123456789ab"}`,
	`{"ProductCode":"p","UsageRecords":[{"CustomerIdentifier":"cust-1","Dimension":"users","Quantity":3,"Timestamp":1.7673E9},{"CustomerAWSAccountId":"123456789012","Dimension":"d","LicenseArn":"arn:aws:license-manager::123456789012:license:l-1","Quantity":1,"Timestamp":1767323045.5,"UsageAllocations":[{"AllocatedUsageQuantity":1,"Tags":[{"Key":"k","Value":"v"}]}]}]}`,
	`{"RegistrationToken":"tok-abcdefghijklmnopqrstuvwxyz0123456789"}`,
	`{"RegistrationToken":"REDACTED-0123456789abcdef"}`,
	`{"ProductCode":"p","PublicKeyVersion":1,"Nonce":"n-1"}`,
	`{"a":"AKIAIOSFODNN7EXAMPLE","b":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}`,
	`{"secretThing":"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY","n":123456789012,"m":-0,"x":1e400,"y":0.1e-7}`,
	`{"Authorization":"AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/us-east-1/aws-marketplace/aws4_request"}`,
	`{"z":true,"y":false,"x":null,"w":[],"v":{},"u":[[1,2],[3]],"t":{"s":{"r":"q"}}}`,
	`{"a":1,"a":2}`, `{"a":"\u0041"}`, `{"a":"é"}`, ` {"a" : [ 1 , 2 ] } `, `{"a":1}]`, `[]`, `{`, ``, "  \n", "\v{}",
	`{"Timestamp":"2026-01-01T00:00:00Z","ProductCode":"p"}`, `{"UsageQuantity":1.0,"Timestamp":1767323045.999}`,
}

// checkCanonical fails when the one-pass canonicaliser gives anything but
// what the general path gives.
func checkCanonical(t *testing.T, m *Matcher, op, body string) (fast bool) {
	t.Helper()
	got, ok := m.appendCanonical(nil, op, body)
	if !ok {
		return false
	}
	want, err := m.body(op, []byte(body))
	if err != nil {
		t.Fatalf("%s %q: one pass gave %q, the general path failed: %v", op, body, got, err)
	}
	if string(got) != want {
		t.Fatalf("%s %q:\none pass %q\ngeneral  %q", op, body, got, want)
	}
	return true
}

func TestCanonicalAgreesWithGeneralPath(t *testing.T) {
	fast := 0
	for _, m := range canonMatchers(t) {
		for _, op := range []string{"MeterUsage", "BatchMeterUsage", "ResolveCustomer", "RegisterUsage", ""} {
			for _, body := range canonSeeds {
				if checkCanonical(t, m, op, body) {
					fast++
				}
			}
		}
	}
	// Most seeds are what SDKs send: the fast path must take them, or it
	// is not a fast path.
	if fast < len(canonSeeds)*4*5/2 {
		t.Fatalf("one pass handled only %d of %d bodies", fast, len(canonSeeds)*4*5)
	}
}

func TestCanonicalTakesSDKBodies(t *testing.T) {
	m := canonMatchers(t)[0]
	for _, body := range canonSeeds[:5] {
		if !checkCanonical(t, m, "BatchMeterUsage", body) {
			t.Errorf("one pass gave up on %q", body)
		}
	}
	// A body holding an access key id needs the whole document.
	if _, ok := m.appendCanonical(nil, "MeterUsage", canonSeeds[5]); ok {
		t.Error("one pass took a body holding an access key id")
	}
}

func FuzzCanonical(f *testing.F) {
	for _, s := range canonSeeds {
		for _, op := range []string{"MeterUsage", "BatchMeterUsage", "ResolveCustomer"} {
			f.Add(op, s)
		}
	}
	ms := canonMatchers(f)
	f.Fuzz(func(t *testing.T, op, body string) {
		if strings.ContainsRune(op, '.') {
			return
		}
		for _, m := range ms {
			checkCanonical(t, m, op, body)
		}
	})
}

// leavesByDecoding is what leaves must give, from the decoded document:
// for each path, the text of the value that decoding keeps there, in the
// order FieldPath names paths.
func leavesByDecoding(t *testing.T, body string) map[string]string {
	t.Helper()
	doc, err := cassettes.DecodeJSON([]byte(body))
	if err != nil {
		t.Fatalf("%q: %v", body, err)
	}
	out := map[string]string{}
	var walk func(path []string, v any)
	walk = func(path []string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				walk(append(path[:len(path):len(path)], k), e)
			}
		case []any:
			inner := append(path[:len(path)-1:len(path)-1], path[len(path)-1]+"[]")
			for _, e := range v {
				walk(inner, e) // the last element is the last call
			}
		case string:
			out[strings.Join(path, ".")] = "s:" + v
		case json.Number:
			out[strings.Join(path, ".")] = "n:" + string(v)
		}
	}
	walk(nil, doc)
	return out
}

// checkLeaves fails when leaves, where it does not give up, visits a path
// last with a value other than decoding keeps there, or misses a path.
func checkLeaves(t *testing.T, body string) (took bool) {
	t.Helper()
	got := map[string]string{}
	ok := leaves([]byte(body), func(path []string, v string, isString bool) {
		kind := "n:"
		if isString {
			kind = "s:"
		}
		got[strings.Join(path, ".")] = kind + v
	})
	if !ok {
		return false
	}
	if strings.TrimSpace(body) == "" {
		return true
	}
	want := leavesByDecoding(t, body)
	if !maps.Equal(got, want) {
		t.Fatalf("leaves(%q) last values\n%v\nwant %v", body, got, want)
	}
	return true
}

// TestLeavesAgreeWithDecoding: where leaves reads a body, its values are
// those decoding gives; a repeated key is left to decoding.
func TestLeavesAgreeWithDecoding(t *testing.T) {
	took := 0
	for _, body := range canonSeeds {
		if checkLeaves(t, body) {
			took++
		}
	}
	if took < len(canonSeeds)/2 {
		t.Fatalf("leaves took only %d bodies", took)
	}
	for _, body := range []string{`{"Timestamp":1,"x":{"Timestamp":"a"},"Timestamp":2}`, `{"a":[{"b":1},{"b":2,"b":3}]}`, `{"a":[{"b":[{"c":0,"c":[]}]}]}`} {
		if leaves([]byte(body), func([]string, string, bool) {}) {
			t.Errorf("leaves read %s, whose repeated key only decoding settles", body)
		}
	}
}

func FuzzLeaves(f *testing.F) {
	for _, s := range canonSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		checkLeaves(t, body)
	})
}

// TestBodyField reads top-level members as MatchChecked reports them, and
// leaves to decoding what the one-pass reader leaves.
func TestBodyField(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, body string
		want       Field
	}{
		{"number", `{"ProductCode":"p","Timestamp":1767323045}`, Field{Text: "1767323045", Found: true, Read: true}},
		{"string", `{"Timestamp":"soon","x":{"Timestamp":1}}`, Field{Text: "soon", IsString: true, Found: true, Read: true}},
		{"nested only", `{"x":{"Timestamp":1},"y":[{"Timestamp":2}]}`, Field{Read: true}},
		{"list", `{"Timestamp":[1]}`, Field{Read: true}},
		{"object", `{"Timestamp":{"a":2}}`, Field{Read: true}},
		{"empty body", ` `, Field{Read: true}},
		{"escapes", `{"Product\u0043ode":"p","Timestamp":1}`, Field{}},
		{"repeated", `{"Timestamp":1,"Timestamp":2}`, Field{}},
		{"not an object", `[1]`, Field{}},
		{"malformed", `{"Timestamp":1`, Field{}},
	} {
		if got := BodyField([]byte(c.body), "Timestamp"); got != c.want {
			t.Errorf("%s: BodyField(%s) = %+v, want %+v", c.name, c.body, got, c.want)
		}
	}
}

// TestBodyFieldAgreesWithMatchChecked: where both read a body, BodyField
// gives the member MatchChecked gives its check.
func TestBodyFieldAgreesWithMatchChecked(t *testing.T) {
	t.Parallel()
	ms := canonMatchers(t)
	both := 0
	for _, body := range canonSeeds {
		for _, m := range ms {
			ix := NewEmptyIndex(m)
			for _, field := range []string{"Timestamp", "ProductCode", "UsageRecords"} {
				var checked Field
				ix.MatchChecked(req("MeterUsage", body), field, func(f Field) error {
					checked = f
					return nil
				})
				got := BodyField([]byte(body), field)
				if !got.Read || !checked.Read {
					continue
				}
				both++
				if got != checked {
					t.Fatalf("BodyField(%s, %q) = %+v, want %+v as MatchChecked reports", body, field, got, checked)
				}
			}
		}
	}
	if both < len(canonSeeds) {
		t.Fatalf("both read only %d of %d bodies", both, 3*len(ms)*len(canonSeeds))
	}
}
