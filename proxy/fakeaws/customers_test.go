package fakeaws

import (
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/metervcr/metervcr/metering"
)

func TestParseCustomers(t *testing.T) {
	t.Parallel()
	const file = `
- token: TOKEN-A
  customerIdentifier: cust-a
  customerAWSAccountId: 012345678901
  productCode: saas-product
  dimensions: [requests, users]
- customerIdentifier: cust-b
  productCode: saas-product
  dimensions: [users, storage]
- token: TOKEN-C
  customerAWSAccountId: "222233334444"
  productCode: other-product
- productCode: ami-product
`
	got, err := ParseCustomers([]byte(file))
	if err != nil {
		t.Fatalf("ParseCustomers: %v", err)
	}
	want := Config{
		Customers: []Customer{
			{Token: "TOKEN-A", CustomerIdentifier: "cust-a", CustomerAWSAccountID: "012345678901", ProductCode: "saas-product"},
			{CustomerIdentifier: "cust-b", ProductCode: "saas-product"},
			{Token: "TOKEN-C", CustomerAWSAccountID: "222233334444", ProductCode: "other-product"},
		},
		Products:   []string{"saas-product", "other-product", "ami-product"},
		Dimensions: map[string][]string{"saas-product": {"requests", "users", "storage"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseCustomers =\n%+v\nwant\n%+v", got, want)
	}
}

func TestParseCustomersErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, file, want string }{
		{"empty", "", "no entries"},
		{"empty list", "[]", "no entries"},
		{"not a list", "token: x", "not a YAML list"},
		{"unknown key", "- productCode: p\n  customerId: x", "customerId"},
		{"no product", "- token: T\n  customerIdentifier: c", "entry 1: productCode is required"},
		{"bad product", "- productCode: p\n- productCode: 'no spaces'", "entry 2: productCode \"no spaces\""},
		{"token without customer", "- token: T\n  productCode: p", "entry 1: a token needs the customer"},
		{"token with space", "- token: 'a b'\n  customerIdentifier: c\n  productCode: p", "token must not contain spaces"},
		{"bad account", "- customerAWSAccountId: '1234'\n  productCode: p", "\"1234\" is not an AWS account id"},
		{"duplicate token", "- {token: T, customerIdentifier: a, productCode: p}\n- {token: T, customerIdentifier: b, productCode: p}",
			"entry 2: token is already the token of entry 1"},
		{"empty dimension", "- productCode: p\n  dimensions: ['']", "dimension \"\""},
		{"reserved product", "- productCode: " + NoSuchProduct, "productCode no-such-product is reserved"},
		{"reserved invalid token", "- {token: " + InvalidRegistrationToken + ", customerIdentifier: c, productCode: p}", "token not-a-real-token is reserved"},
		{"reserved expired token", "- {token: " + ExpiredRegistrationToken + ", customerIdentifier: c, productCode: p}", "token expired-registration-token is reserved"},
		{"reserved account", "- {customerAWSAccountId: '" + NotSubscribedAccountID + "', productCode: p}", "customerAWSAccountId 999988887777 is reserved"},
		{"reserved identifier", "- {customerIdentifier: " + NotSubscribedCustomer + ", productCode: p}", "customerIdentifier cust-NOT-SUBSCRIBED is reserved"},
	}
	for _, tt := range tests {
		_, err := ParseCustomers([]byte(tt.file))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: ParseCustomers error %v, want one containing %q", tt.name, err, tt.want)
		}
	}
}

// TestSkipSignatures serves unsigned and wrongly signed requests when
// signatures are skipped, and still validates them.
func TestSkipSignatures(t *testing.T) {
	t.Parallel()
	fake := New(Config{SkipSignatures: true, Now: func() time.Time { return testNow }})
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	tests := []struct {
		name   string
		req    rawRequest
		status int
		code   string
	}{
		{"unsigned", rawRequest{unsigned: true}, http.StatusOK, ""},
		{"unknown key", rawRequest{cred: Credential{AccessKeyID: "AKIAUNKNOWNEXAMPLE", SecretAccessKey: "x"}}, http.StatusOK, ""},
		{"stale signature", rawRequest{at: testNow.Add(-time.Hour)}, http.StatusOK, ""},
		{"still validated", rawRequest{unsigned: true, body: `{"ProductCode":"prodcode123example"}`}, http.StatusBadRequest, metering.ErrValidation},
		{"still routed", rawRequest{unsigned: true, target: "AWSMPMeteringService.Nope"}, http.StatusBadRequest, metering.ErrUnknownOperation},
	}
	for _, tt := range tests {
		a := send(t, srv, tt.req.build(t, srv))
		if a.status != tt.status || a.code != tt.code {
			t.Errorf("%s: %d %s (%s), want %d %q", tt.name, a.status, a.code, a.message, tt.status, tt.code)
		}
	}
	seen := fake.Requests()
	if got := seen[1].AccessKeyID; got != "AKIAUNKNOWNEXAMPLE" {
		t.Errorf("Requests()[1].AccessKeyID = %q, want the key of the credential scope", got)
	}
}

// TestDimensions refuses dimensions a product does not define, in both
// metering operations, and accepts any for products without a list.
func TestDimensions(t *testing.T) {
	t.Parallel()
	fake := New(Config{
		SkipSignatures: true,
		Now:            func() time.Time { return testNow },
		Dimensions:     map[string][]string{"prodcode123example": {"requests"}},
	})
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	mu := func(product, dim string) rawRequest {
		return rawRequest{unsigned: true, body: `{"ProductCode":"` + product + `","Timestamp":1767323046,"UsageDimension":"` + dim + `"}`}
	}
	bmu := func(dim string) rawRequest {
		return rawRequest{unsigned: true, target: metering.Target(metering.BatchMeterUsage),
			body: `{"UsageRecords":[{"CustomerIdentifier":"cust-EXAMPLE123","Dimension":"` + dim + `","Timestamp":1767323046}]}`}
	}
	tests := []struct {
		name string
		req  rawRequest
		code string
	}{
		{"listed", mu("prodcode123example", "requests"), ""},
		{"not listed", mu("prodcode123example", "users"), metering.ErrInvalidUsageDimension},
		{"product without a list", mu("demo-product-2", "anything"), ""},
		{"batch listed", bmu("requests"), ""},
		{"batch not listed", bmu("users"), metering.ErrInvalidUsageDimension},
	}
	for _, tt := range tests {
		if a := send(t, srv, tt.req.build(t, srv)); a.code != tt.code {
			t.Errorf("%s: %d %q (%s), want %q", tt.name, a.status, a.code, a.message, tt.code)
		}
	}
}

// TestExampleCustomersFile: the example file that the README shows parses
// into what its comments say.
func TestExampleCustomersFile(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("testdata/customers.yaml")
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseCustomers(data)
	if err != nil {
		t.Fatalf("ParseCustomers(testdata/customers.yaml): %v", err)
	}
	want := Config{
		Customers: []Customer{
			{Token: "TOKEN-ACME", CustomerIdentifier: "cust-acme", CustomerAWSAccountID: "123456789012", ProductCode: "acme-saas"},
			{CustomerIdentifier: "cust-globex", ProductCode: "acme-saas"},
		},
		Products:   []string{"acme-saas", "acme-ami"},
		Dimensions: map[string][]string{"acme-saas": {"seats", "storage"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseCustomers(testdata/customers.yaml) =\n%+v\nwant\n%+v", got, want)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "```yaml\n"+string(data)+"```\n") {
		t.Errorf("README does not show testdata/customers.yaml as it is:\n%s", data)
	}
}
