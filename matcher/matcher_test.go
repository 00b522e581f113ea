package matcher

import (
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/metervcr/metervcr/cassettes"
	"github.com/metervcr/metervcr/cassettes/redact"
	"github.com/metervcr/metervcr/metering"
)

func newMatcher(t testing.TB, cfg Config) *Matcher {
	t.Helper()
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func req(op, body string) Request {
	return Request{
		Method: "POST",
		URL:    "/",
		Header: http.Header{"X-Amz-Target": {metering.Target(op)}},
		Body:   []byte(body),
	}
}

func testRedactor(t testing.TB) *redact.Redactor {
	t.Helper()
	r, err := redact.New([]byte("matcher test key 0123"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestNormalizeEquivalence(t *testing.T) {
	t.Parallel()
	m := newMatcher(t, Default(testRedactor(t)))
	redacted := testRedactor(t).Value(metering.KindToken, "tok-1")
	tests := []struct {
		name  string
		a, b  Request
		equal bool
	}{
		{"key order and spacing",
			req("MeterUsage", `{"ProductCode":"p","UsageDimension":"d","UsageQuantity":10}`),
			req("MeterUsage", `{ "UsageQuantity": 10, "UsageDimension": "d", "ProductCode": "p" }`), true},
		{"number notation",
			req("RegisterUsage", `{"ProductCode":"p","PublicKeyVersion":1}`),
			req("RegisterUsage", `{"ProductCode":"p","PublicKeyVersion":1.0}`), true},
		{"timestamp and client token ignored",
			req("MeterUsage", `{"ClientToken":"a","ProductCode":"p","Timestamp":1767323045.123,"UsageDimension":"d"}`),
			req("MeterUsage", `{"ProductCode":"p","Timestamp":1767300000,"UsageDimension":"d"}`), true},
		{"nonce ignored",
			req("RegisterUsage", `{"Nonce":"a","ProductCode":"p","PublicKeyVersion":1}`),
			req("RegisterUsage", `{"Nonce":"b","ProductCode":"p","PublicKeyVersion":1}`), true},
		{"batch timestamps ignored",
			req("BatchMeterUsage", `{"UsageRecords":[{"CustomerIdentifier":"c","Dimension":"d","Quantity":1,"Timestamp":1}]}`),
			req("BatchMeterUsage", `{"UsageRecords":[{"CustomerIdentifier":"c","Dimension":"d","Quantity":1,"Timestamp":1.7E9}]}`), true},
		{"quantity differs",
			req("MeterUsage", `{"ProductCode":"p","UsageDimension":"d","UsageQuantity":10}`),
			req("MeterUsage", `{"ProductCode":"p","UsageDimension":"d","UsageQuantity":11}`), false},
		{"batch order is meaningful",
			req("BatchMeterUsage", `{"UsageRecords":[{"CustomerIdentifier":"a","Dimension":"d"},{"CustomerIdentifier":"b","Dimension":"d"}]}`),
			req("BatchMeterUsage", `{"UsageRecords":[{"CustomerIdentifier":"b","Dimension":"d"},{"CustomerIdentifier":"a","Dimension":"d"}]}`), false},
		{"operation differs",
			req("MeterUsage", `{"ProductCode":"p"}`),
			req("RegisterUsage", `{"ProductCode":"p"}`), false},
		{"timestamp is not ignored for other operations",
			req("ResolveCustomer", `{"RegistrationToken":"x","Timestamp":1}`),
			req("ResolveCustomer", `{"RegistrationToken":"x","Timestamp":2}`), false},
		{"secret matches its placeholder",
			req("ResolveCustomer", `{"RegistrationToken":"tok-1"}`),
			req("ResolveCustomer", `{"RegistrationToken":"`+redacted+`"}`), true},
		{"account id matches its pseudonym",
			req("BatchMeterUsage", `{"UsageRecords":[{"CustomerAWSAccountId":"111122223333","Dimension":"d"}]}`),
			req("BatchMeterUsage", `{"UsageRecords":[{"CustomerAWSAccountId":"`+testRedactor(t).Value(metering.KindAccountID, "111122223333")+`","Dimension":"d"}]}`), true},
		{"other secrets differ",
			req("ResolveCustomer", `{"RegistrationToken":"tok-1"}`),
			req("ResolveCustomer", `{"RegistrationToken":"tok-2"}`), false},
		{"query matters",
			Request{Method: "POST", URL: "/?a=1", Header: req("MeterUsage", "").Header},
			Request{Method: "POST", URL: "/?a=2", Header: req("MeterUsage", "").Header}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := m.Normalize(tt.a)
			if err != nil {
				t.Fatal(err)
			}
			b, err := m.Normalize(tt.b)
			if err != nil {
				t.Fatal(err)
			}
			if (a.Key == b.Key) != tt.equal {
				t.Fatalf("keys equal = %v, want %v\n a: %q\n b: %q", a.Key == b.Key, tt.equal, a.Key, b.Key)
			}
		})
	}
}

func TestTimestampsToHour(t *testing.T) {
	t.Parallel()
	m := newMatcher(t, Config{IgnoreBody: metering.IgnoredBodyFields(), TimestampsToHour: true})
	key := func(ts string) string {
		n, err := m.Normalize(req("MeterUsage", `{"ProductCode":"p","Timestamp":`+ts+`}`))
		if err != nil {
			t.Fatal(err)
		}
		return n.Key
	}
	if key("1767322800") != key("1767326399.999") {
		t.Error("timestamps in the same hour differ")
	}
	if key("1767322800") == key("1767326400") {
		t.Error("timestamps in different hours match")
	}
}

func TestNormalizeRejectsNonObjects(t *testing.T) {
	t.Parallel()
	m := newMatcher(t, Default(nil))
	for _, body := range []string{`{"a":`, `[1,2]`, `"s"`, `{} {}`} {
		if _, err := m.Normalize(req("MeterUsage", body)); !errors.Is(err, ErrBody) {
			t.Errorf("Normalize(%q) error = %v, want ErrBody", body, err)
		}
	}
}

func interaction(op, body string) *cassettes.Interaction {
	return &cassettes.Interaction{
		Request: cassettes.Request{
			Method:  "POST",
			URL:     "https://metering.marketplace.us-east-1.amazonaws.com/",
			Headers: http.Header{"X-Amz-Target": {metering.Target(op)}},
			Body:    body,
		},
		Response: cassettes.Response{Code: 200},
	}
}

func TestIndexOrderAndRepeat(t *testing.T) {
	t.Parallel()
	m := newMatcher(t, Default(nil))
	ix, err := NewIndex(m, []*cassettes.Interaction{
		interaction("MeterUsage", `{"ProductCode":"p","UsageDimension":"d"}`),
		interaction("RegisterUsage", `{"ProductCode":"p","PublicKeyVersion":1}`),
		interaction("MeterUsage", `{"ProductCode":"p","UsageDimension":"d"}`),
		interaction("MeterUsage", `{"ProductCode":"p","UsageDimension":"other"}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	n, _ := m.Normalize(req("MeterUsage", `{"ProductCode":"p","UsageDimension":"d","ClientToken":"x"}`))
	var got []int
	for range 4 {
		i, err := ix.Lookup(n)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, i)
	}
	if want := []int{0, 2, 2, 2}; !equalInts(got, want) {
		t.Fatalf("Lookup order = %v, want %v (recorded order, last repeats)", got, want)
	}
	if u := ix.Unused(); !equalInts(u, []int{1, 3}) {
		t.Fatalf("Unused = %v, want [1 3]", u)
	}
}

func TestIndexConcurrentLookupsServeEachOnce(t *testing.T) {
	t.Parallel()
	m := newMatcher(t, Default(nil))
	var recs []*cassettes.Interaction
	for range 50 {
		recs = append(recs, interaction("MeterUsage", `{"ProductCode":"p"}`))
	}
	ix, err := NewIndex(m, recs)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := m.Normalize(req("MeterUsage", `{"ProductCode":"p"}`))
	var mu sync.Mutex
	seen := map[int]int{}
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			i, err := ix.Lookup(n)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			seen[i]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if len(seen) != 50 {
		t.Fatalf("50 concurrent lookups were served %d distinct recordings, want 50", len(seen))
	}
}

func TestMissNamesClosestAndDiffs(t *testing.T) {
	t.Parallel()
	m := newMatcher(t, Default(nil))
	ix, err := NewIndex(m, []*cassettes.Interaction{
		interaction("RegisterUsage", `{"ProductCode":"p","PublicKeyVersion":1}`),
		interaction("MeterUsage", `{"ProductCode":"p","UsageDimension":"d","UsageQuantity":10}`),
		interaction("MeterUsage", `{"ProductCode":"q","UsageDimension":"e","UsageQuantity":1}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	n, _ := m.Normalize(req("MeterUsage", `{"ProductCode":"p","UsageDimension":"d","UsageQuantity":11}`))
	_, err = ix.Lookup(n)
	var miss *Miss
	if !errors.As(err, &miss) {
		t.Fatalf("Lookup error = %v, want *Miss", err)
	}
	if miss.Closest != 1 || len(miss.Diffs) != 1 || miss.Diffs[0].Field != "UsageQuantity" {
		t.Fatalf("Miss = %+v, want closest 1 differing in UsageQuantity", miss)
	}
	msg := miss.Error()
	for _, want := range []string{"MeterUsage", "interaction 1", "UsageQuantity (recorded 10, got 11)"} {
		if !strings.Contains(msg, want) {
			t.Errorf("miss message %q lacks %q", msg, want)
		}
	}
	empty, _ := NewIndex(m, nil)
	if _, err := empty.Lookup(n); err == nil || !strings.Contains(err.Error(), "no interactions") {
		t.Errorf("empty cassette miss = %v", err)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestMatchHTTPTokens: a live request with the real token matches its
// keyless placeholder with or without a key, and the keyed placeholder an
// earlier metervcr recorded only with that key.
func TestMatchHTTPTokens(t *testing.T) {
	t.Parallel()
	keyed := testRedactor(t)
	none, err := redact.New(nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	live := func() *http.Request {
		r, _ := http.NewRequest("POST", "https://metering.marketplace.us-east-1.amazonaws.com/", strings.NewReader(`{"RegistrationToken":"tok-1"}`))
		r.Header.Set("X-Amz-Target", metering.Target("ResolveCustomer"))
		return r
	}
	keyless := req("ResolveCustomer", `{"RegistrationToken":"`+redact.KeylessPlaceholder("tok-1")+`"}`)
	old := req("ResolveCustomer", `{"RegistrationToken":"`+keyed.Legacy().Value(metering.KindToken, "tok-1")+`"}`)
	tests := []struct {
		name     string
		redactor *redact.Redactor
		rec      Request
		want     bool
	}{
		{"keyless placeholder, key", keyed, keyless, true},
		{"keyless placeholder, no key", none, keyless, true},
		{"keyed placeholder, key", keyed, old, true},
		{"keyed placeholder, no key", none, old, false},
		{"keyed placeholder, another key", testRedactorKey(t, "another matcher key"), old, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMatcher(t, Default(tt.redactor))
			if got := m.MatchHTTP(live(), tt.rec); got != tt.want {
				t.Errorf("MatchHTTP = %v, want %v", got, tt.want)
			}
		})
	}
}

func testRedactorKey(t testing.TB, key string) *redact.Redactor {
	t.Helper()
	r, err := redact.New([]byte(key), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
