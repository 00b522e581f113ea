package cassettes

import (
	"bytes"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// yamlItem is the reference for appendItem: the item as yaml.v3 writes it
// inside a whole document.
func yamlItem(t testing.TB, in *Interaction) []byte {
	t.Helper()
	b, err := yaml.Marshal(file{Interactions: []*Interaction{in}})
	if err != nil {
		t.Fatalf("yaml.Marshal: %v", err)
	}
	_, item, ok := bytes.Cut(b, []byte("interactions:\n"))
	if !ok {
		t.Fatalf("yaml.Marshal wrote no interactions key:\n%s", b)
	}
	return item
}

// checkItem compares appendItem and encodeInteraction with yaml.v3 and
// reports whether appendItem wrote in itself rather than leaving it to
// yaml.v3.
func checkItem(t testing.TB, in *Interaction) bool {
	t.Helper()
	want := yamlItem(t, in)
	got, ok := appendItem(nil, in)
	if ok && !bytes.Equal(got, want) {
		t.Fatalf("appendItem wrote\n%s\nyaml.v3 writes\n%s", got, want)
	}
	enc, err := encodeInteraction(in)
	if err != nil {
		t.Fatalf("encodeInteraction: %v", err)
	}
	if !bytes.Equal(enc, want) {
		t.Fatalf("encodeInteraction wrote\n%s\nyaml.v3 writes\n%s", enc, want)
	}
	return ok
}

// recorded returns an interaction shaped as recording writes it.
func recorded() *Interaction {
	return &Interaction{
		Request: Request{
			Body: `{"ClientToken":"ea96337b-ea86-4e5a-9aae-1853c56b0060","ProductCode":"prodcode123example","Timestamp":1795835861.645,"UsageDimension":"requests","UsageQuantity":10}`,
			Form: map[string][]string{},
			Headers: http.Header{
				"Amz-Sdk-Invocation-Id": {"3ad044c8-ce94-4f0b-8b1b-ef60082d51ce"},
				"Amz-Sdk-Request":       {"attempt=1; max=1"},
				"Authorization":         {"REDACTED-fbb9c0db9538e300"},
				"Content-Type":          {"application/x-amz-json-1.1"},
				"User-Agent":            {"aws-sdk-go-v2/1.48.0 ua/2.1 os/linux lang/go#1.26.8 md/GOOS#linux md/GOARCH#amd64 api/marketplacemetering#1.45.0 m/e"},
				"X-Amz-Date":            {"20261128T044709Z"},
				"X-Amz-Target":          {"AWSMPMeteringService.MeterUsage"},
			},
			URL:    "https://metering.marketplace.us-east-1.amazonaws.com/",
			Method: "POST",
		},
		Response: Response{
			Body: `{"MeteringRecordId":"ee4d6217-b54c-4c9e-96a1-86270379d18e"}`,
			Headers: http.Header{
				"Content-Length":   {"59"},
				"Content-Type":     {"application/x-amz-json-1.1"},
				"Date":             {"Sat, 28 Nov 2026 04:47:09 GMT"},
				"X-Amzn-Requestid": {"42f8c8f3-8d10-4531-8e48-3923e7a92e1c"},
			},
			Status:   "200 OK",
			Code:     200,
			Duration: 4 * time.Millisecond,
		},
	}
}

// TestItemEncodeDemo: the demo cassette, the samples and a recorded
// exchange are written by appendItem itself, byte for byte as yaml.v3.
func TestItemEncodeDemo(t *testing.T) {
	t.Parallel()
	demo, err := Demo()
	if err != nil {
		t.Fatal(err)
	}
	ins := append([]*Interaction{recorded(), sample(0), sample(7)}, demo.Interactions...)
	for i, in := range ins {
		if !checkItem(t, in) {
			t.Errorf("interaction %d was left to yaml.v3; appendItem should write it", i)
		}
	}
	var items []byte
	for _, in := range demo.Interactions {
		b, _ := appendItem(nil, in)
		items = append(items, b...)
	}
	whole, err := yaml.Marshal(file{Version: FormatVersion, Interactions: demo.Interactions})
	if err != nil {
		t.Fatal(err)
	}
	if want := "---\n" + string(whole); header+string(items) != want {
		t.Fatalf("items concatenated:\n%s%s\nyaml.v3 writes the whole cassette:\n%s", header, items, want)
	}
}

// awkward are strings that yaml.v3 quotes in every way it has, or reads
// as something other than a string.
var awkward = []string{
	"", " ", "a", "a ", " a", "a  b", "~", "null", "Null", "NULL", "nul", "true", "True", "TRUE", "tRUE",
	"false", "y", "Y", "yes", "no", "No", "on", "ON", "off", "Off", "n", "t", "f", "o", "<<", "<",
	"0", "1", "-1", "+1", "59", "007", "08", "0x1F", "0X1f", "0xg", "0o17", "0O17", "0o8", "0b101", "0B101",
	"0b-1", "0b+1", "0o-7", "-0b1", "-0o7", "-0b-1", "+0b1", "1_000", "1__0", "_1", "0_b1", "1_0.5",
	"1.5", "1.", ".5", ".", "..", "...", "....", ".nan", ".NaN", ".inf", "-.inf", "+.Inf", ".e1", "1e5",
	"1e-5", "1E+5", "-1.5e-3", "1e", "e1", "0x1p-2", "inf", "-inf", "NaN", "1.45.0", "9223372036854775807",
	"9223372036854775808", "18446744073709551615", "18446744073709551616", "-9223372036854775809",
	"1:20", "1:20:30.5", "-1:30", "1:60", "190:20:30", "1:2:3_4", "1_0:20", "2001-12-14", "2001-12-14t21:59:43.10-05:00",
	"2001-12-14T21:59:43.10Z", "2001-12-14 21:59:43.10", "2001-12-14 21:59:43.10 -5", "2001-13-14",
	"2001-1-2", "20261128T044709Z", "2026-11-28T04:47:09Z", "3ad044c8-ce94-4f0b-8b1b-ef60082d51ce",
	"42f8c8f3-8d10-4531-8e48-3923e7a92e1c", "4ms", "0s", "1h2m3.5s", "-4ms", "200 OK", "Sat, 28 Nov 2026 04:47:09 GMT",
	"-", "--", "---", "---a", "- a", "-a", "a-", "?", "? a", "?a", ":", ": a", ":a", "a:", "a: b", "a:b", "a :b",
	"#", "#a", "a#b", "a #b", "a# b", ",", ",a", "a,b", "[", "[a]", "a[b]", "]", "{", "{}", `{"a":1}`, "a{b}", "}",
	"&", "&a", "a&b", "*", "*a", "!", "!a", "|", "|a", "a|b", ">", ">a", "'", "'a'", "a'b", "''", `"`, `"a"`, `a"b`,
	`\`, `a\b`, `\"`, "%", "%a", "@", "@a", "`", "`a", "a`", "a b c", "a  ", "  a",
	"a\tb", "\t", "a\nb", "a\n", "\n", "\na", "a\r\nb", "a\rb", "\x00", "a\x7fb", "\x1b", "é", "naïve", "\u00a0",
	"\u0085", "\u2028", "\ufeffa", "\xff", "a\xc3", "日本",
	"REDACTED-fbb9c0db9538e300", "AWSMPMeteringService.MeterUsage", "application/x-amz-json-1.1",
	"https://metering.marketplace.us-east-1.amazonaws.com/", "attempt=1; max=1",
	strings.Repeat("a ", 100), strings.Repeat("x", 200), strings.Repeat("'", 90) + " " + strings.Repeat(`"`, 90),
}

// inAllPlaces returns copies of the recorded interaction with s in each
// place that holds a string.
func inAllPlaces(s string) []*Interaction {
	edits := []func(in *Interaction){
		func(in *Interaction) { in.Request.Body = s },
		func(in *Interaction) { in.Request.URL = s },
		func(in *Interaction) { in.Request.Method = s },
		func(in *Interaction) { in.Request.Headers["User-Agent"] = []string{s} },
		func(in *Interaction) { in.Request.Headers[s] = []string{"v"} },
		func(in *Interaction) { in.Request.Form = map[string][]string{s: {s, "x"}} },
		func(in *Interaction) { in.Response.Body = s },
		func(in *Interaction) { in.Response.Headers["Content-Length"] = []string{s} },
		func(in *Interaction) { in.Response.Status = s },
	}
	var out []*Interaction
	for _, edit := range edits {
		in := recorded()
		edit(in)
		out = append(out, in)
	}
	return out
}

// TestItemEncodeAwkwardStrings compares appendItem with yaml.v3 on strings
// that yaml.v3 quotes, and checks that the fast path takes every one-line
// printable ASCII string (nothing awkward is merely left to yaml.v3).
func TestItemEncodeAwkwardStrings(t *testing.T) {
	t.Parallel()
	for _, s := range awkward {
		for i, in := range inAllPlaces(s) {
			handled := checkItem(t, in)
			simple := !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r > 0x7e })
			if key := i == 4 || i == 5; key {
				simple = simple && s != "" && len(s) <= maxKeyLen
			}
			if handled != simple {
				t.Errorf("%q in place %d: written by appendItem = %v, want %v", s, i, handled, simple)
			}
		}
	}
}

// TestItemEncodeGenerated compares appendItem with yaml.v3 on short
// strings drawn from the characters that decide quoting.
func TestItemEncodeGenerated(t *testing.T) {
	t.Parallel()
	const alphabet = "0123456789+-._:eExXoObBaAfFnNyYtT~ #'\"\\?,[]{}&*!|>%@`/=;\t\n"
	rng := rand.New(rand.NewPCG(1, 2))
	handled := 0
	for range 6000 {
		b := make([]byte, 1+rng.IntN(7))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		s := string(b)
		in := recorded()
		in.Request.Body = s
		in.Response.Headers["Content-Length"] = []string{s, s + s}
		if len(s) <= maxKeyLen {
			in.Request.Headers[s] = []string{s}
		}
		if checkItem(t, in) {
			handled++
		}
	}
	if handled < 1500 {
		t.Fatalf("appendItem wrote only %d of 6000 interactions itself; the comparison says little", handled)
	}
}

// TestItemEncodeKeyOrder: header names sort as yaml.v3 sorts them,
// numbers within names included, and empty maps and lists are written as
// yaml.v3 writes them.
func TestItemEncodeKeyOrder(t *testing.T) {
	t.Parallel()
	sets := [][]string{
		{"X-Amz-Content-Sha256", "X-Amz-Content-Sha3", "X-Amz-Content", "X-Amz-Date"},
		{"a1", "a10", "a2", "a01", "a001", "a0", "a00", "a-1", "a_1", "a", "A1", "a1b", "a12", "ab"},
		{"x9y", "x10y", "x09", "x9", "x-", "x_", "x~", "xa", "xZ", "x0a", "x00a"},
		{"Z", "_", "a", "~", "-", "0", "9", "10", "A"},
	}
	for _, keys := range sets {
		in := recorded()
		for i, k := range keys {
			in.Request.Headers[k] = []string{k}
			if i%3 == 0 {
				in.Response.Headers[k] = nil
			}
			if i%3 == 1 {
				in.Response.Headers[k] = []string{}
			}
		}
		checkItem(t, in)
	}
	in := recorded()
	in.Request.Form, in.Request.Headers, in.Response.Headers = nil, http.Header{}, nil
	if !checkItem(t, in) {
		t.Errorf("empty maps were left to yaml.v3")
	}
	for _, d := range []time.Duration{0, 1, -1, 1500 * time.Millisecond, 90 * time.Minute, -time.Hour} {
		in := recorded()
		in.Response.Duration, in.Response.Code = d, int(d)
		if !checkItem(t, in) {
			t.Errorf("duration %v was left to yaml.v3", d)
		}
	}
}

// FuzzItemEncode: whatever the strings, encodeInteraction writes what
// yaml.v3 writes, and appendItem either does too or declines.
func FuzzItemEncode(f *testing.F) {
	for _, s := range awkward {
		f.Add(s, "X-Custom", s, "200 OK", 200, int64(0))
	}
	f.Add(`{"a":"b"}`, "Content-Length", "59", "400 Bad Request", 400, int64(time.Millisecond))
	f.Fuzz(func(t *testing.T, body, key, value, status string, code int, dur int64) {
		in := recorded()
		in.Request.Body = body
		in.Request.Headers[key] = []string{value, body}
		in.Request.Form = map[string][]string{value: {key}}
		in.Response.Headers["Content-Length"] = []string{value}
		in.Response.Status = status
		in.Response.Code = code
		in.Response.Duration = time.Duration(dur)
		checkItem(t, in)
	})
}

// BenchmarkItemEncode encodes a recorded exchange as Writer does.
func BenchmarkItemEncode(b *testing.B) {
	in := recorded()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := encodeInteraction(in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkItemEncodeYAML is BenchmarkItemEncode through yaml.v3, for
// comparison.
func BenchmarkItemEncodeYAML(b *testing.B) {
	in := recorded()
	b.ReportAllocs()
	for b.Loop() {
		yamlItem(b, in)
	}
}
