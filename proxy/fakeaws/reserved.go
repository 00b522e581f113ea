package fakeaws

import (
	"fmt"
	"slices"

	"github.com/metervcr/metervcr/metering"
)

// Reserved values reach the service's error cases whatever a Service
// knows, so that an open Service, which accepts every well-formed value,
// can still answer each of them. ParseCustomers refuses a customers file
// that uses one of them for something else.
const (
	// NoSuchProduct is a product code that never exists: MeterUsage,
	// BatchMeterUsage and RegisterUsage answer it with
	// InvalidProductCodeException.
	NoSuchProduct = "no-such-product"
	// ThrottledProduct is a product code that makes any request naming it
	// fail with ThrottlingException (HTTP 400, "Rate exceeded") once its
	// signature has been verified, on every attempt. A ResolveCustomer
	// whose token resolves to a customer of this product is throttled too.
	// It need not be listed in Config.Products, and a customers file may
	// list it.
	ThrottledProduct = "throttled-product-example"
	// InvalidRegistrationToken is a registration token that
	// ResolveCustomer answers with InvalidTokenException.
	InvalidRegistrationToken = "not-a-real-token"
	// ExpiredRegistrationToken is a registration token that
	// ResolveCustomer answers with ExpiredTokenException.
	ExpiredRegistrationToken = "expired-registration-token"
	// NotSubscribedAccountID is a buyer's AWS account id that is
	// subscribed to no product: BatchMeterUsage answers its records with
	// the result status CustomerNotSubscribed.
	NotSubscribedAccountID = "999988887777"
	// NotSubscribedCustomer is the same for a CustomerIdentifier.
	NotSubscribedCustomer = "cust-NOT-SUBSCRIBED"
)

// ReservedValue describes a reserved value for people.
type ReservedValue struct {
	Member     string // the request member that carries it, as the API spells it
	Value      string
	Operations string // the operations that answer it
	Answer     string // an error code, or a BatchMeterUsage result status
}

// String is the value in one line: "ProductCode no-such-product ->
// InvalidProductCodeException (MeterUsage, BatchMeterUsage,
// RegisterUsage)".
func (r ReservedValue) String() string {
	return fmt.Sprintf("%s %s -> %s (%s)", r.Member, r.Value, r.Answer, r.Operations)
}

// reserved holds the values Reserved returns.
var reserved = [...]ReservedValue{
	{"ProductCode", NoSuchProduct, "MeterUsage, BatchMeterUsage, RegisterUsage", metering.ErrInvalidProductCode},
	{"ProductCode", ThrottledProduct, "MeterUsage, BatchMeterUsage, RegisterUsage; every attempt", metering.ErrThrottling},
	{"RegistrationToken", InvalidRegistrationToken, "ResolveCustomer", metering.ErrInvalidToken},
	{"RegistrationToken", ExpiredRegistrationToken, "ResolveCustomer", metering.ErrExpiredToken},
	{"CustomerAWSAccountId", NotSubscribedAccountID, "BatchMeterUsage result", statusCustomerNotSubscribed},
	{"CustomerIdentifier", NotSubscribedCustomer, "BatchMeterUsage result", statusCustomerNotSubscribed},
}

// Reserved returns, in a fresh slice, the reserved values in the order
// people read them.
func Reserved() []ReservedValue { return slices.Clone(reserved[:]) }

// notSubscribed reports whether a usage record names a reserved customer
// who is subscribed to nothing.
func notSubscribed(rec usageRecord) bool {
	return valueOr(rec.CustomerAWSAccountID, "") == NotSubscribedAccountID ||
		valueOr(rec.CustomerIdentifier, "") == NotSubscribedCustomer
}
