package cassettes

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// awkwardStrings are strings that yaml.v3 writes in every scalar style it uses,
// or that read as something else than a string when written plain.
var awkwardStrings = []string{
	"", " ", "  ", "a", " a", "a ", " a ", "a  b", "a:b", "a: b", "a:", ":a", "::1", "a #b", "a#b", "#a",
	"-", "-a", "- a", "--", "---", "--- a", "...", "?", "?a", "? a", "[", "]", "{}", "[]", "{a}", "a,b", ",",
	"&a", "*a", "!a", "!!str", "|", ">", "%a", "@a", "`a", "a'b", "'a'", "''", `"a"`, `""`, `a"b`, `a\b`, `\`,
	"~", "null", "Null", "NULL", "nUll", "true", "True", "TRUE", "false", "y", "Y", "yes", "No", "on", "OFF",
	"0", "12", "-12", "+12", "012", "0x1F", "0o17", "0b101", "1_000", "1.5", ".5", "1e3", "-1e-3", ".inf",
	"-.Inf", ".nan", "1:20", "1:20:30.5", "2001-12-14", "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10",
	"20261128T031741Z", "200 OK", "404 Not Found", "3ms", "-1.5µs", "<<", "=", "<", "a\tb", "\t", "a\t",
	"\ta", "a\nb", "a\n", "a\n\n", "\n", "\n\n", "\na", "\n\na", "a\n\nb", " a\nb", "a\n b", "a \nb", "a\n\tb",
	"\tb\nc", "a\r\nb", "a\rb", "\x00", "a\x01b", "\x7f", "\x1b[0m", "é", "日本語", "ü\nß", "a\u0085b", "a\u00a0b",
	"\u00a0", "a\u2028b", "a\u2029b", "\ufeffa", "a\ufeff", "\U0001F600", "a\uFFFDb", "\xff", "a\xc3", "\x80",
	"#", "a #", "a#", "key: value", "- item", "a: b: c", "x\n  y: z\n", "%YAML 1.2", "@", "!", "*", "&",
	strings.Repeat("long words ", 30), strings.Repeat("x", 300), strings.Repeat("a b", 100) + " ",
	strings.Repeat("line\n", 20), `{"ClientToken":"ea96","Timestamp":1795835861.645,"UsageQuantity":10}`,
	"https://metering.marketplace.us-east-1.amazonaws.com/", "POST", "application/x-amz-json-1.1",
}

// decodeAndCompare encodes in as Writer does and decodes it with the
// item decoder and with yaml.v3. Where the item decoder accepts the item,
// its interaction must be deeply equal to yaml.v3's. It reports whether
// the item decoder accepted it.
func decodeAndCompare(t *testing.T, d *itemDecoder, in *Interaction) bool {
	t.Helper()
	item, err := encodeInteraction(in)
	if err != nil {
		t.Fatalf("encodeInteraction: %v", err)
	}
	return compareItem(t, d, item)
}

// compareItem decodes item with the item decoder and with yaml.v3, and
// fails when the item decoder accepts an item that yaml.v3 refuses or
// reads differently.
func compareItem(t *testing.T, d *itemDecoder, item []byte) bool {
	t.Helper()
	got, ok := d.decode(item)
	if !ok {
		return false
	}
	want, wok := decodeItemYAML(item)
	if !wok {
		t.Fatalf("item decoder accepted an item yaml.v3 refuses:\n%s\ngot %#v", item, got)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("item decoder and yaml.v3 differ on:\n%s\ngot  %#v\nwant %#v", item, got, want)
	}
	return true
}

// variants returns interactions holding s in every string place.
func variants(s string) []*Interaction {
	var out []*Interaction
	for place := range 10 {
		in := sample(1)
		switch place {
		case 0:
			in.Request.Body = s
		case 1:
			in.Response.Body = s
		case 2:
			in.Request.URL = s
		case 3:
			in.Request.Method = s
		case 4:
			in.Response.Status = s
		case 5:
			in.Request.Headers[s] = []string{"v"}
		case 6:
			in.Request.Headers.Set("X-Value", s)
			in.Request.Headers["X-Two"] = []string{s, s + "2"}
		case 7:
			in.Request.Form = map[string][]string{s: {s}}
		case 8:
			in.Response.Headers = http.Header{s: {}, "Empty": {}, "Nil": nil}
		case 9:
			in.Request.Headers = http.Header{s: {s, "", s}}
			in.Request.Form = nil
			in.Response.Headers = nil
		}
		out = append(out, in)
	}
	return out
}

// mustDecode lists strings whose items the decoder must take on itself
// (in every place): the styles yaml.v3 writes for them are all ones it
// knows.
var mustDecode = []string{
	"", " ", "a", " a ", "a:b", "a: b", "-a", "- a", "a #b", "'a'", `"a"`, `a\b`, "null", "~", "12", "1.5",
	"true", "y", "2001-12-14", "200 OK", "a\tb", "\x00", "a\x01b", "é", "日本語", "\U0001F600", "\ufeffa",
	"a\u0085b", "a\r\nb", "<<", "#", "{}", strings.Repeat("long words ", 30),
	`{"ClientToken":"ea96","Timestamp":1795835861.645,"UsageQuantity":10}`,
}

// mustDecodeBody lists strings that yaml.v3 writes as literal block
// scalars in a body, which the decoder must take on itself there.
var mustDecodeBody = []string{"a\nb", "a\n", "a\n\n", "\n", "\n\n", "\na", " a\nb", "a\n b", "a\n\nb", strings.Repeat("line\n", 20)}

func TestItemDecoderAgreesWithYAML(t *testing.T) {
	t.Parallel()
	var d itemDecoder
	for _, s := range awkwardStrings {
		for i, in := range variants(s) {
			accepted := decodeAndCompare(t, &d, in)
			if !accepted && (i <= 4 || i == 6) && slices.Contains(mustDecode, s) {
				t.Errorf("item decoder fell back to yaml.v3 for %q in place %d", s, i)
			}
			if !accepted && i <= 1 && slices.Contains(mustDecodeBody, s) {
				t.Errorf("item decoder fell back to yaml.v3 for body %q", s)
			}
		}
	}
	// Durations and codes as Writer writes them.
	for _, dur := range []time.Duration{0, 1, 999, time.Microsecond, 1500 * time.Microsecond, 4 * time.Millisecond,
		time.Second, 90 * time.Minute, -time.Millisecond, 1<<63 - 1, -1 << 63} {
		for _, code := range []int{0, 1, 200, 404, 599, -1, 1 << 40} {
			in := sample(2)
			in.Response.Duration, in.Response.Code = dur, code
			if !decodeAndCompare(t, &d, in) && code != 1<<40 {
				t.Errorf("item decoder fell back to yaml.v3 for duration %v, code %d", dur, code)
			}
		}
	}
}

// TestItemDecoderRandomStrings: interactions built from random pieces of
// the awkwardStrings strings.
func TestItemDecoderRandomStrings(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	pick := func() string {
		var b strings.Builder
		for range rng.IntN(4) {
			b.WriteString(awkwardStrings[rng.IntN(len(awkwardStrings))])
		}
		return b.String()
	}
	var d itemDecoder
	accepted := 0
	const n = 3000
	for range n {
		in := &Interaction{
			Request: Request{
				Body:    pick(),
				Form:    map[string][]string{},
				Headers: http.Header{},
				URL:     pick(),
				Method:  pick(),
			},
			Response: Response{Body: pick(), Headers: http.Header{}, Status: pick(), Code: rng.IntN(600), Duration: time.Duration(rng.Int64N(1 << 40))},
		}
		for range rng.IntN(4) {
			in.Request.Headers[pick()] = []string{pick()}
			in.Response.Headers[pick()] = []string{pick(), pick()}
		}
		if rng.IntN(3) == 0 {
			in.Request.Form[pick()] = []string{pick()}
		}
		if decodeAndCompare(t, &d, in) {
			accepted++
		}
	}
	if accepted < n/5 {
		t.Errorf("item decoder took on %d of %d items, want at least a fifth (the others hold strings yaml.v3 writes in forms left to it)", accepted, n)
	}
}

// TestItemDecoderDemo: every item of the demo cassette is decoded by hand,
// as yaml.v3 decodes it.
func TestItemDecoderDemo(t *testing.T) {
	t.Parallel()
	body, ok := bytes.CutPrefix(demoYAML, []byte(header))
	if !ok {
		t.Fatal("demo cassette is not in the canonical layout")
	}
	var d itemDecoder
	n := 0
	for rest := body; len(rest) > 0; n++ {
		item := rest
		if next := bytes.Index(rest[1:], []byte(itemStart)); next >= 0 {
			item = rest[:next+2]
		}
		rest = rest[len(item):]
		if !compareItem(t, &d, item) {
			t.Errorf("item decoder fell back to yaml.v3 for demo item %d:\n%s", n, item)
		}
	}
	c, err := Demo()
	if err != nil {
		t.Fatal(err)
	}
	if n != len(c.Interactions) || n == 0 {
		t.Fatalf("decoded %d demo items, want %d", n, len(c.Interactions))
	}
}

// TestItemDecoderRefuses: items that are not what yaml.v3 writes, or that
// yaml.v3 reads in ways the decoder does not follow, are left to yaml.v3.
func TestItemDecoderRefuses(t *testing.T) {
	t.Parallel()
	good, err := encodeInteraction(sample(3))
	if err != nil {
		t.Fatal(err)
	}
	var d itemDecoder
	if !compareItem(t, &d, good) {
		t.Fatalf("item decoder refused a plain item:\n%s", good)
	}
	edits := []struct{ name, old, new string }{
		{"comment", "method: POST", "method: POST # comment"},
		{"null method", "method: POST", "method: null"},
		{"tilde method", "method: POST", "method: ~"},
		{"empty method", "method: POST", "method:"},
		{"trailing space", "method: POST", "method: POST "},
		{"two spaces", "method: POST", "method:  POST"},
		{"anchor", "method: POST", "method: &m POST"},
		{"tag", "method: POST", "method: !!str POST"},
		{"flow map", "form: {}", "form: {a: [b]}"},
		{"null form", "form: {}", "form:"},
		{"null form word", "form: {}", "form: null"},
		{"flow list", "                - application/x-amz-json-1.1", "                - [a, b]"},
		{"null list", "X-Amz-Target:\n                - AWSMPMeteringService.MeterUsage\n", "X-Amz-Target:\n"},
		{"other indent", "        url:", "         url:"},
		{"tab", "        url: ", "        url:\t"},
		{"reordered", "        url: https://metering.marketplace.us-east-1.amazonaws.com/\n        method: POST", "        method: POST\n        url: https://metering.marketplace.us-east-1.amazonaws.com/"},
		{"hex code", "code: 200", "code: 0xC8"},
		{"octal code", "code: 200", "code: 0310"},
		{"underscore code", "code: 200", "code: 2_00"},
		{"float code", "code: 200", "code: 200.0"},
		{"quoted code", "code: 200", `code: "200"`},
		{"plus code", "code: 200", "code: +200"},
		{"int duration", "duration: 12ms", "duration: 12"},
		{"quoted duration", "duration: 12ms", `duration: "12ms"`},
		{"unknown escape", "method: POST", `method: "PO\qST"`},
		{"surrogate escape", "method: POST", `method: "\uD800"`},
		{"escaped newline", "method: POST", "method: \"PO\\\n            ST\""},
		{"continued plain", "method: POST", "method: PO\n            ST"},
		{"unclosed single", "method: POST", "method: 'POST"},
		{"single then text", "method: POST", "method: 'PO'ST"},
		{"merge key", "Content-Type:", "<<:"},
		{"null key", "X-Amz-Target:", "~:"},
		{"duplicate key", "X-Amz-Target:", "Content-Type:"},
		{"complex key", "X-Amz-Target:", "? X-Amz-Target\n            :"},
		{"literal with comment", "method: POST", "method: |- # c\n            POST"},
		{"folded", "method: POST", "method: >-\n            POST"},
		{"literal deeper", "method: POST", "method: |-\n              POST"},
		{"literal list indicator", "                - application/x-amz-json-1.1", "                - |4-\n                    a"},
		{"extra field", "        method: POST\n", "        method: POST\n        extra: x\n"},
		{"crlf", "method: POST\n", "method: POST\r\n"},
		{"bom", "method: POST", "method: \ufeffPOST"},
		{"nel", "method: POST", "method: PO\u0085ST"},
		{"control", "method: POST", "method: PO\x01ST"},
		{"invalid utf-8", "method: POST", "method: PO\xffST"},
	}
	for _, e := range edits {
		if !bytes.Contains(good, []byte(e.old)) {
			t.Fatalf("%s: %q is not in the item", e.name, e.old)
		}
		item := bytes.Replace(good, []byte(e.old), []byte(e.new), 1)
		if compareItem(t, &d, item) {
			t.Errorf("%s: item decoder took on\n%s", e.name, item)
		}
	}
	for _, cut := range []int{1, 2, len(good) / 2, len(good) - 1} {
		if compareItem(t, &d, good[:len(good)-cut]) {
			t.Errorf("item decoder took on an item cut %d bytes short", cut)
		}
	}
}

// TestItemDecoderHandWritten: scalars that yaml.v3 does not write this
// way but reads into strings all the same are taken on, as yaml.v3 reads
// them.
func TestItemDecoderHandWritten(t *testing.T) {
	t.Parallel()
	good, err := encodeInteraction(sample(3))
	if err != nil {
		t.Fatal(err)
	}
	const respBody = `body: '{"MeteringRecordId":"r"}'`
	var d itemDecoder
	for _, e := range []struct{ old, new string }{
		{"method: POST", "method: <<"},
		{"method: POST", "method: 12"},
		{"method: POST", "method: 0x1F"},
		{"method: POST", "method: 1.5e3"},
		{"method: POST", "method: true"},
		{"method: POST", "method: 2001-12-14"},
		{"method: POST", "method: :a"},
		{"method: POST", "method: ?a"},
		{"method: POST", "method: a:b#c"},
		{"method: POST", "method: 'it''s'"},
		{"method: POST", `method: "\x41\u00e9\U0001F600\N\_\L\P\0\a\b\t\n\v\f\r\e\ \"\'\\"`},
		{"X-Amz-Target:", "12:"},
		{"X-Amz-Target:", "true:"},
		{"X-Amz-Target:", "'a: b':"},
		{"X-Amz-Target:", `"\tx":`},
		{"code: 200", "code: -7"},
		{"duration: 12ms", "duration: 1h2m3.5s"},
		{"duration: 12ms", "duration: -.5µs"},
		{"duration: 12ms", "duration: +3s"},
		{respBody, "body: |+\n            a\n\n              b\n\n"},
		{respBody, "body: |4-\n\n             a\n            b"},
		{respBody, "body: |\n            a\n\n"},
	} {
		if !bytes.Contains(good, []byte(e.old)) {
			t.Fatalf("%q is not in the item", e.old)
		}
		item := bytes.Replace(good, []byte(e.old), []byte(e.new), 1)
		if !compareItem(t, &d, item) {
			t.Errorf("item decoder fell back to yaml.v3 for %q", e.new)
		}
	}
}

// FuzzItemDecode puts fuzzed strings in every place of an interaction,
// encodes it as Writer does, and checks that the item decoder reads it as
// yaml.v3 does. It also decodes the fuzzed text itself as an item.
func FuzzItemDecode(f *testing.F) {
	for i, s := range awkwardStrings {
		f.Add(s, awkwardStrings[(i+7)%len(awkwardStrings)], int64(i)*int64(time.Millisecond), 200)
	}
	f.Fuzz(func(t *testing.T, a, b string, dur int64, code int) {
		var d itemDecoder
		in := sample(0)
		in.Request.Body, in.Response.Body = a, b
		in.Request.URL, in.Request.Method, in.Response.Status = b, a, a+b
		in.Request.Headers[a] = []string{b, a}
		in.Request.Headers.Set("X-B", b)
		in.Response.Headers[b] = nil
		in.Request.Form = map[string][]string{b: {a}}
		in.Response.Code, in.Response.Duration = code, time.Duration(dur)
		decodeAndCompare(t, &d, in)
		for _, s := range []string{a, b} {
			item, _ := encodeInteraction(sample(1))
			compareItem(t, &d, []byte(s))
			// The fuzzed text in place of each line of a good item.
			lines := bytes.SplitAfter(item, []byte("\n"))
			for i := range lines {
				edited := bytes.Join(append(append(append([][]byte{}, lines[:i]...), []byte(s)), lines[i+1:]...), nil)
				compareItem(t, &d, edited)
			}
		}
	})
}

// refParse is Parse with every document decoded whole by yaml.v3: the
// reference for the item decoder and the streaming loader.
func refParse(data []byte) (*Cassette, error) {
	f, err := parseWhole(data)
	if err != nil {
		return nil, err
	}
	if f.Version != FormatVersion {
		return nil, fmt.Errorf("cassette format version %d is not supported: metervcr reads go-vcr v2 cassettes (version: %d)", f.Version, FormatVersion)
	}
	for i, in := range f.Interactions {
		if err := checkInteraction(i, in); err != nil {
			return nil, err
		}
	}
	return &Cassette{Interactions: f.Interactions}, nil
}

// refRecovering is parseRecovering over refParse.
func refRecovering(data []byte) (*Cassette, error) {
	if cut, ok := tornCut(data); ok {
		if c, err := refParse(data[:cut]); err == nil {
			c.Torn = &Torn{Interaction: len(c.Interactions), Offset: int64(cut), Data: data[cut:]}
			return c, nil
		}
	}
	return refParse(data)
}

// compareStream loads data with the streaming loader, with Parse and with
// parseRecovering, and checks each against the whole-document reference.
func compareStream(t *testing.T, data []byte) {
	t.Helper()
	want, wantErr := refRecovering(data)
	var got []*Interaction
	torn, err := stream(bytes.NewReader(data), func(in *Interaction) error {
		got = append(got, in)
		return nil
	})
	if (err != nil) != (wantErr != nil) || err != nil && err.Error() != wantErr.Error() {
		t.Fatalf("stream error = %v, want %v\n%q", err, wantErr, data)
	}
	if err == nil {
		if len(got) != len(want.Interactions) || len(got) > 0 && !reflect.DeepEqual(got, want.Interactions) || !reflect.DeepEqual(torn, want.Torn) {
			t.Fatalf("stream = %d interactions, torn %+v; want %d, %+v\n%q", len(got), torn, len(want.Interactions), want.Torn, data)
		}
	}
	c, err := parseRecovering(data)
	if (err != nil) != (wantErr != nil) || err != nil && err.Error() != wantErr.Error() {
		t.Fatalf("parseRecovering error = %v, want %v\n%q", err, wantErr, data)
	}
	if err == nil && (!reflect.DeepEqual(c.Interactions, want.Interactions) || !reflect.DeepEqual(c.Torn, want.Torn)) {
		t.Fatalf("parseRecovering differs from the reference on\n%q", data)
	}
	pc, perr := Parse(data)
	rc, rerr := refParse(data)
	if (perr != nil) != (rerr != nil) || perr != nil && perr.Error() != rerr.Error() {
		t.Fatalf("Parse error = %v, want %v\n%q", perr, rerr, data)
	}
	if perr == nil && !reflect.DeepEqual(pc.Interactions, rc.Interactions) {
		t.Fatalf("Parse differs from the reference on\n%q", data)
	}
}

// awkwardCassette returns a cassette of interactions holding awkwardStrings
// strings, with literal block scalars among them.
func awkwardCassette(t testing.TB) []byte {
	var ins []*Interaction
	for i, s := range []string{"a\nb", "", "a: b", "null", "x\n\n", "é\tz"} {
		in := sample(i)
		in.Request.Body = s
		in.Response.Headers.Set("X-S", s)
		ins = append(ins, in)
	}
	data, err := Encode(ins)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// nearLineEnd reports whether cut is next to a line's end in data, where
// the loader's decisions change.
func nearLineEnd(data []byte, cut int) bool {
	for i := max(cut-2, 0); i < min(cut+2, len(data)); i++ {
		if data[i] == '\n' {
			return true
		}
	}
	return false
}

// TestStreamAgreesWithWholeDecode cuts cassettes at every byte next to a
// line's end and at every ninth byte elsewhere, and edits them: the streaming loader gives what decoding the whole file gives,
// torn tails, errors and their messages included.
func TestStreamAgreesWithWholeDecode(t *testing.T) {
	t.Parallel()
	three, err := Encode([]*Interaction{sample(0), sample(1), sample(2)})
	if err != nil {
		t.Fatal(err)
	}
	for _, data := range [][]byte{three, awkwardCassette(t)} {
		for cut := 0; cut <= len(data); cut++ {
			if nearLineEnd(data, cut) || cut%9 == 0 {
				compareStream(t, data[:cut])
			}
		}
	}
	noMethod := bytes.Replace(three, []byte("method: POST"), []byte("method: \"\""), 1)
	noCode := bytes.Replace(three, []byte("code: 200"), []byte("code: 0"), 2)
	for _, data := range []string{
		"",
		"version: 1\ninteractions: []\n",
		"---\nversion: 2\ninteractions:\n",
		"---\nversion: 1\ninteractions:\n",
		string(three) + "version: 2\n",
		string(three) + "    - null\n",
		string(three) + "    # a comment\n",
		string(three) + "\n\n",
		string(three) + "          \n",
		strings.Replace(string(three), "---\n", "", 1),
		strings.Replace(string(three), "version: 1", "version: 2", 1),
		strings.ReplaceAll(string(three), "    ", "  "),
		string(noMethod),
		string(noMethod) + string(three[len(header):len(header)+40]),
		string(noCode),
		string(noCode) + "    - request: [\n",
		string(three) + "    - request: [\n",
		string(three) + "    - request:\n        body: 'x\n",
		// Tails that are not the start of an item as Writer writes it.
		string(three) + "    - request:\n        form: {}\n",
		string(three) + "    - request:\n        body: \"x\n        form: {}\n",
		string(three) + "    - request:\n            x\n",
		string(three) + "    - request:\n        body: x\n     y: z\n",
		string(three) + "    - request:\n\x00\x00",
		string(three) + "\x00\x00",
		string(three) + "      ",
		string(three) + "    ",
		string(three) + "     ",
		// An alias across items: only the whole document decodes it.
		strings.Replace(strings.Replace(string(three), "- application/x-amz-json-1.1", "- &ct application/x-amz-json-1.1", 1),
			"- application/x-amz-json-1.1\n        status", "- *ct\n        status", 3),
		// A duration line inside an item moves where a torn file is cut.
		strings.Replace(string(three), "        url:", "        duration: 1s\n        url:", 1) + "    - request:\n",
		strings.Replace(string(three), "        url:", "        duration: 1s\n        url:", 3) + "    - request:\n",
	} {
		compareStream(t, []byte(data))
	}
}

// FuzzStream: the streaming loader agrees with decoding the whole file.
func FuzzStream(f *testing.F) {
	three, _ := Encode([]*Interaction{sample(0), sample(1), sample(2)})
	f.Add(three)
	f.Add(three[:len(three)-10])
	f.Add(awkwardCassette(f))
	f.Add([]byte("---\nversion: 1\ninteractions:\n    - request:\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		compareStream(t, data)
	})
}

// TestStreamFallsBackAfterHandingOver: when a file leaves the canonical
// layout after some interactions were handed over, the rest come from
// decoding the whole file, each interaction exactly once and in order.
func TestStreamFallsBackAfterHandingOver(t *testing.T) {
	t.Parallel()
	var ins []*Interaction
	for i := range 5 {
		ins = append(ins, sample(i))
	}
	data, err := Encode(ins)
	if err != nil {
		t.Fatal(err)
	}
	// Item 3 uses an anchor from item 0, which it cannot be decoded without.
	s := strings.Replace(string(data), "- AWSMPMeteringService.MeterUsage", "- &target AWSMPMeteringService.MeterUsage", 1)
	i := strings.Index(s, "    - request:\n        body: '{\"ProductCode\":\"p\",\"UsageDimension\":\"d\",\"UsageQuantity\":3}'")
	s = s[:i] + strings.Replace(s[i:], "- AWSMPMeteringService.MeterUsage", "- *target", 1)
	path := filepath.Join(t.TempDir(), "alias.yaml")
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	var got []*Interaction
	c, err := Stream(path, func(in *Interaction) error {
		got = append(got, in)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, ins) || c.Interactions != nil || c.Path != path {
		t.Fatalf("Stream handed over %d interactions (%+v), want the 5 written", len(got), c)
	}
}

func TestStreamErrorsAndWarnings(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	three, err := Encode([]*Interaction{sample(0), sample(1), sample(2)})
	if err != nil {
		t.Fatal(err)
	}
	collect := func(path string) ([]*Interaction, *Cassette, error) {
		var ins []*Interaction
		c, err := Stream(path, func(in *Interaction) error {
			ins = append(ins, in)
			return nil
		})
		return ins, c, err
	}

	// Missing: ErrNotFound, with ".yaml" appended.
	if _, _, err := collect(filepath.Join(dir, "nope")); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "nope.yaml") {
		t.Errorf("Stream(missing) = %v, want ErrNotFound naming nope.yaml", err)
	}

	// Over the size limit: refused before reading (the file is sparse).
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, three, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(big, MaxFileBytes+1); err != nil {
		t.Fatal(err)
	}
	if _, _, err := collect(big); err == nil || !strings.Contains(err.Error(), "byte limit for a cassette") || !strings.HasPrefix(err.Error(), big+": ") {
		t.Errorf("Stream(over the limit) = %v, want the size error naming the file", err)
	}
	if _, err := Load(big); err == nil || !strings.Contains(err.Error(), "byte limit for a cassette") {
		t.Errorf("Load(over the limit) = %v, want the size error", err)
	}

	// A torn tail: the complete interactions and a warning.
	torn := write("torn.yaml", three[:len(three)-20])
	ins, c, err := collect(torn)
	if err != nil || len(ins) != 2 || len(c.Warnings) != 1 || !strings.Contains(c.Warnings[0], "interaction 2 was cut off") || c.Path != torn {
		t.Errorf("Stream(torn) = %d interactions, %+v, %v; want 2 and one warning", len(ins), c, err)
	}

	// Errors name the file, as Load's do.
	for name, data := range map[string]string{
		"version.yaml": "---\nversion: 2\ninteractions:\n",
		"nocode.yaml":  strings.Replace(string(three), "code: 200", "code: 0", 1),
		"bad.yaml":     string(three) + "    - request: [\n        body: x\n        duration: 1s\n",
	} {
		path := write(name, []byte(data))
		_, _, err := collect(path)
		_, lerr := Load(path)
		if err == nil || !strings.HasPrefix(err.Error(), path+": ") || lerr == nil || lerr.Error() != err.Error() {
			t.Errorf("Stream(%s) = %v, Load = %v; want the same error naming the file", name, err, lerr)
		}
	}

	// An error from fn stops the reading and is returned as it is.
	stop := errors.New("stop")
	calls := 0
	if _, err := Stream(write("three.yaml", three), func(*Interaction) error {
		calls++
		if calls == 2 {
			return stop
		}
		return nil
	}); err != stop || calls != 2 {
		t.Errorf("Stream with fn failing at the second = %v after %d calls, want stop after 2", err, calls)
	}
}

// TestStreamLongLines: lines longer than the read buffer.
func TestStreamLongLines(t *testing.T) {
	t.Parallel()
	in := sample(0)
	in.Request.Body = strings.Repeat("x", 200_000)
	in.Response.Body = strings.Repeat("y\n", 100_000)
	data, err := Encode([]*Interaction{in, sample(1)})
	if err != nil {
		t.Fatal(err)
	}
	compareStream(t, data)
	compareStream(t, data[:len(data)-5])
}

// benchInteraction is interaction i of a synthetic MeterUsage cassette,
// shaped as a sealed recording is.
func benchInteraction(i int, at time.Time) *Interaction {
	id := func(seed string) string {
		h := fmt.Sprintf("%032x", uint64(i)*0x9e3779b97f4a7c15^uint64(len(seed))*0xbf58476d1ce4e5b9)
		h = (h + h)[:32]
		return h[:8] + "-" + h[8:12] + "-4" + h[13:16] + "-8" + h[17:20] + "-" + h[20:32]
	}
	body := `{"MeteringRecordId":"` + id("record") + `"}`
	return &Interaction{
		Request: Request{
			Body: fmt.Sprintf(`{"ClientToken":"%s","ProductCode":"prodcode123example","Timestamp":%d.%03d,"UsageDimension":"dimension-%06d","UsageQuantity":%d}`,
				id("token"), at.Unix(), at.Nanosecond()/1e6, i, 1+i%100),
			Form: map[string][]string{},
			Headers: http.Header{
				"Amz-Sdk-Invocation-Id": {id("invocation")},
				"Amz-Sdk-Request":       {"attempt=1; max=3"},
				"Authorization":         {fmt.Sprintf("REDACTED-%016x", uint64(i)*0x94d049bb133111eb)},
				"Content-Type":          {"application/x-amz-json-1.1"},
				"User-Agent":            {"aws-sdk-go-v2/1.48.0 ua/2.1 os/linux lang/go#1.26 md/GOOS#linux md/GOARCH#amd64 api/marketplacemetering#1.45.0 m/E"},
				"X-Amz-Date":            {at.UTC().Format("20060102T150405Z")},
				"X-Amz-Target":          {"AWSMPMeteringService.MeterUsage"},
			},
			URL:    "https://metering.marketplace.us-east-1.amazonaws.com/",
			Method: http.MethodPost,
		},
		Response: Response{
			Body: body,
			Headers: http.Header{
				"Content-Length":   {fmt.Sprint(len(body))},
				"Content-Type":     {"application/x-amz-json-1.1"},
				"Date":             {at.UTC().Format(http.TimeFormat)},
				"X-Amzn-Requestid": {id("request")},
			},
			Status:   "200 OK",
			Code:     http.StatusOK,
			Duration: time.Duration(3+i%5) * time.Millisecond,
		},
	}
}

// writeBenchCassette writes a cassette of n synthetic interactions to a
// file in dir, encoding them on every core.
func writeBenchCassette(tb testing.TB, dir string, n int) string {
	tb.Helper()
	at := time.Date(2026, 11, 28, 4, 27, 31, 919e6, time.UTC)
	workers := runtime.GOMAXPROCS(0)
	parts := make([][]byte, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			var buf []byte
			for i := w * n / workers; i < (w+1)*n/workers; i++ {
				b, err := encodeInteraction(benchInteraction(i, at))
				if err != nil {
					panic(err)
				}
				buf = append(buf, b...)
			}
			parts[w] = buf
		})
	}
	wg.Wait()
	path := filepath.Join(dir, fmt.Sprintf("bench-%d.yaml", n))
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	if _, err := io.WriteString(f, header); err != nil {
		tb.Fatal(err)
	}
	for _, p := range parts {
		if _, err := f.Write(p); err != nil {
			tb.Fatal(err)
		}
	}
	return path
}

// BenchmarkLoad100k loads a cassette of 100,000 synthetic MeterUsage
// interactions (about 130 MiB) with Load, reporting the heap the loaded
// cassette keeps, and streams it keeping nothing.
func BenchmarkLoad100k(b *testing.B) {
	path := writeBenchCassette(b, b.TempDir(), 100_000)
	b.Run("Load", func(b *testing.B) {
		b.ReportAllocs()
		var c *Cassette
		for b.Loop() {
			c = nil
			var err error
			if c, err = Load(path); err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "kept-MiB")
		runtime.KeepAlive(c)
	})
	b.Run("Stream", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			n := 0
			if _, err := Stream(path, func(*Interaction) error { n++; return nil }); err != nil || n != 100_000 {
				b.Fatal(n, err)
			}
		}
	})
}

// BenchmarkItemDecode decodes one item by hand and with yaml.v3.
func BenchmarkItemDecode(b *testing.B) {
	item, err := encodeInteraction(benchInteraction(1, time.Now()))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("hand", func(b *testing.B) {
		var d itemDecoder
		b.ReportAllocs()
		b.SetBytes(int64(len(item)))
		for b.Loop() {
			if _, ok := d.decode(item); !ok {
				b.Fatal("refused")
			}
		}
	})
	b.Run("yaml.v3", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(item)))
		for b.Loop() {
			var one struct {
				Interactions []*Interaction `yaml:"interactions"`
			}
			if err := yaml.Unmarshal(append([]byte("interactions:\n"), item...), &one); err != nil {
				b.Fatal(err)
			}
		}
	})
}
