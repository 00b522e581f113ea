package fakeaws_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/marketplacemetering"
	"github.com/aws/smithy-go"

	"github.com/metervcr/metervcr/proxy/fakeaws"
)

// A Service served by httptest is an in-process Metering service for Go
// tests: point the SDK's BaseEndpoint at it and sign with a test key pair.
// Reset lets the tests of a suite share it: usage metered by one test is
// no duplicate of the next test's.
func Example() {
	svc := fakeaws.New(fakeaws.Config{
		Products:  []string{"my-product"},
		Customers: []fakeaws.Customer{{Token: "MY-TOKEN", CustomerIdentifier: "cust-mine", ProductCode: "my-product"}},
	})
	srv := httptest.NewServer(svc)
	defer srv.Close()

	key := fakeaws.DefaultCredentials()[0]
	client := marketplacemetering.New(marketplacemetering.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider(key.AccessKeyID, key.SecretAccessKey, ""),
	})
	ctx := context.Background()
	customer, err := client.ResolveCustomer(ctx, &marketplacemetering.ResolveCustomerInput{RegistrationToken: aws.String("MY-TOKEN")})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(aws.ToString(customer.CustomerIdentifier), aws.ToString(customer.ProductCode))

	hour := time.Now().Truncate(time.Hour)
	meter := func(product string, quantity int32) string {
		_, err := client.MeterUsage(ctx, &marketplacemetering.MeterUsageInput{
			ProductCode: aws.String(product), UsageDimension: aws.String("requests"),
			UsageQuantity: aws.Int32(quantity), Timestamp: aws.Time(hour),
		})
		var apiErr smithy.APIError
		switch {
		case errors.As(err, &apiErr):
			return apiErr.ErrorCode()
		case err != nil:
			return err.Error()
		}
		return "metered"
	}
	fmt.Println(meter("my-product", 10))
	fmt.Println(meter("my-product", 11))
	svc.Reset()
	fmt.Println(meter("my-product", 11))
	fmt.Println(meter("other-product", 1))
	// Output:
	// cust-mine my-product
	// metered
	// DuplicateRequestException
	// metered
	// InvalidProductCodeException
}
