package fakeaws

import (
	"context"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/marketplacemetering"
	"github.com/aws/aws-sdk-go-v2/service/marketplacemetering/types"

	"github.com/metervcr/metervcr/metering"
)

// The messages AWS sends with the two errors, which a Service's messages
// start with.
const (
	awsProductMessage = "The product code passed does not match the product code used for publishing the product."
	awsTokenMessage   = "Registration token is invalid."
)

// TestUnknownValueMessages: a Service that lists its products and tokens
// answers an unknown one with AWS's error code and status, and a message
// that says where to add it; reserved values and open Services keep AWS's
// message.
func TestUnknownValueMessages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fromFile := Config{CustomersFile: "--customers testdata/customers.yaml",
		Customers: []Customer{{Token: "TOKEN-ACME", CustomerIdentifier: "cust-acme", ProductCode: "acme-saas"}},
		Products:  []string{"acme-saas"}}
	meter := func(product string) func(*marketplacemetering.Client) error {
		return func(c *marketplacemetering.Client) error {
			_, err := c.MeterUsage(ctx, &marketplacemetering.MeterUsageInput{ProductCode: aws.String(product),
				UsageDimension: aws.String("requests"), UsageQuantity: aws.Int32(1), Timestamp: aws.Time(time.Now())})
			return err
		}
	}
	batch := func(product string) func(*marketplacemetering.Client) error {
		return func(c *marketplacemetering.Client) error {
			_, err := c.BatchMeterUsage(ctx, &marketplacemetering.BatchMeterUsageInput{ProductCode: aws.String(product),
				UsageRecords: []types.UsageRecord{{CustomerIdentifier: aws.String("cust-acme"), Dimension: aws.String("requests"),
					Quantity: aws.Int32(1), Timestamp: aws.Time(time.Now())}}})
			return err
		}
	}
	register := func(product string) func(*marketplacemetering.Client) error {
		return func(c *marketplacemetering.Client) error {
			_, err := c.RegisterUsage(ctx, &marketplacemetering.RegisterUsageInput{ProductCode: aws.String(product), PublicKeyVersion: aws.Int32(1)})
			return err
		}
	}
	resolve := func(token string) func(*marketplacemetering.Client) error {
		return func(c *marketplacemetering.Client) error {
			_, err := c.ResolveCustomer(ctx, &marketplacemetering.ResolveCustomerInput{RegistrationToken: aws.String(token)})
			return err
		}
	}
	tests := []struct {
		name string
		cfg  Config
		call func(*marketplacemetering.Client) error
		code string
		want []string // in the message after AWS's; none: AWS's message alone
		// entry is the example the message gives for the customers file,
		// which must parse and make the value exist.
		entry, product string
	}{
		{name: "file, MeterUsage", cfg: fromFile, call: meter("acme-other"), code: metering.ErrInvalidProductCode,
			want:  []string{"product code acme-other is not in --customers testdata/customers.yaml", "add an entry to the file"},
			entry: "- {productCode: acme-other}", product: "acme-other"},
		{name: "file, BatchMeterUsage", cfg: fromFile, call: batch("acme-other"), code: metering.ErrInvalidProductCode,
			want: []string{"--customers testdata/customers.yaml", "- {productCode: acme-other}"}},
		{name: "file, RegisterUsage", cfg: fromFile, call: register("acme-other"), code: metering.ErrInvalidProductCode,
			want: []string{"--customers testdata/customers.yaml", "- {productCode: acme-other}"}},
		{name: "file, product code that YAML must quote", cfg: fromFile, call: meter("@acme"), code: metering.ErrInvalidProductCode,
			want: []string{`- {productCode: "@acme"}`}, entry: `- {productCode: "@acme"}`, product: "@acme"},
		{name: "file, ResolveCustomer", cfg: fromFile, call: resolve("TOKEN-NOT-LISTED"), code: metering.ErrInvalidToken,
			want:  []string{"registration token is not in --customers testdata/customers.yaml", "with the token you sent as TOKEN"},
			entry: "- {token: TOKEN, customerIdentifier: cust-example, productCode: acme-saas}", product: "acme-saas"},
		{name: "Go, MeterUsage", cfg: Config{}, call: meter("acme-other"), code: metering.ErrInvalidProductCode,
			want: []string{"product code acme-other is not in Config.Products", "set Config.Open"}},
		{name: "Go, ResolveCustomer", cfg: Config{Products: []string{"acme-saas"}}, call: resolve("TOKEN-NOT-LISTED"), code: metering.ErrInvalidToken,
			want: []string{"not in Config.Customers", `fakeaws.Customer{Token: "TOKEN", CustomerIdentifier: "cust-example", ProductCode: "acme-saas"}`, "set Config.Open"}},
		{name: "file, reserved product", cfg: fromFile, call: meter(NoSuchProduct), code: metering.ErrInvalidProductCode},
		{name: "Go, reserved token", cfg: Config{}, call: resolve(InvalidRegistrationToken), code: metering.ErrInvalidToken},
		{name: "open, reserved product", cfg: Config{Open: true, CustomersFile: "--customers x.yaml"}, call: meter(NoSuchProduct), code: metering.ErrInvalidProductCode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(New(tt.cfg))
			t.Cleanup(srv.Close)
			err := tt.call(clientFor(srv, plainKey))
			if err == nil {
				t.Fatalf("call succeeded, want %s", tt.code)
			}
			code, status := apiErr(t, err)
			if code != tt.code || status != 400 {
				t.Errorf("error %s (HTTP %d), want %s (HTTP 400), as AWS answers", code, status, tt.code)
			}
			_, msg := errCode(err)
			awsMessage := awsProductMessage
			if tt.code == metering.ErrInvalidToken {
				awsMessage = awsTokenMessage
			}
			if len(tt.want) == 0 && msg != awsMessage {
				t.Errorf("message %q, want AWS's %q alone", msg, awsMessage)
			}
			if !strings.HasPrefix(msg, awsMessage) {
				t.Errorf("message %q, want it to start with AWS's %q", msg, awsMessage)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q lacks %q", msg, w)
				}
			}
			if strings.Contains(msg, "TOKEN-NOT-LISTED") {
				t.Errorf("message %q repeats the token sent", msg)
			}
			if tt.entry == "" {
				return
			}
			if !strings.HasSuffix(msg, ": "+tt.entry) {
				t.Errorf("message %q, want it to end with the entry %q", msg, tt.entry)
			}
			parsed, err := ParseCustomers([]byte(tt.entry))
			if err != nil || !slices.Contains(parsed.Products, tt.product) {
				t.Errorf("ParseCustomers(%q) = %+v, %v; want product %s", tt.entry, parsed, err, tt.product)
			}
		})
	}
}
