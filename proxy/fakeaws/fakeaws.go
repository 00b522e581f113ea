// Package fakeaws is a test double of the AWS Marketplace Metering service.
//
// A Service is an http.Handler meant for httptest servers. It behaves like
// AWS wherever a client or a recording proxy can tell the difference, in the
// order AWS checks things:
//
//  1. Routing: only POST / exists (405 or 404 otherwise), and bodies are
//     limited to 1 MiB (413).
//  2. Authentication: the SigV4 signature is verified against known key
//     pairs with an implementation of its own, not the SDK's, so that the
//     SDK's signer can serve as the independent reference in tests (403),
//     unless Config.SkipSignatures turns the check off.
//  3. Protocol: the JSON 1.1 content type, an X-Amz-Target naming one of the
//     four operations and a body that is a JSON object (400).
//  4. Throttling: any request naming ThrottledProduct is refused (400).
//  5. Validation of the input against the API model's constraints (400).
//  6. The operation itself, with the service's business errors, its
//     de-duplication of usage and realistic answers.
//
// Every response carries a fresh X-Amzn-Requestid; errors carry
// X-Amzn-Errortype and the JSON 1.1 error body, as AWS sends them.
//
// In Go tests, serve a Service with httptest.NewServer and point the SDK's
// BaseEndpoint at the server's URL; Reset makes it forget metered usage
// between tests, and WithReset serves the same over HTTP at ResetPath.
package fakeaws

import (
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/metervcr/metervcr/metering"
)

// Credential is a key pair the fake accepts. SessionToken, when set, must be
// sent as the X-Amz-Security-Token header, as temporary credentials are.
type Credential struct{ AccessKeyID, SecretAccessKey, SessionToken string }

// Customer is what a registration token resolves to. CustomerIdentifier and
// CustomerAWSAccountID are also what BatchMeterUsage accepts as subscribed
// customers of ProductCode.
type Customer struct{ Token, CustomerIdentifier, CustomerAWSAccountID, ProductCode string }

// Config configures a Service. The zero Config gives the defaults below.
type Config struct {
	// Credentials are the accepted keys; nil means DefaultCredentials.
	Credentials []Credential
	// Customers are the registration tokens ResolveCustomer knows and the
	// subscribed customers of BatchMeterUsage; nil means DefaultCustomers.
	Customers []Customer
	// Products are the product codes that exist; nil means DefaultProducts.
	Products []string
	// CustomersFile names the customers file that Customers, Products and
	// Dimensions were read from (see ParseCustomers), as the error
	// messages should name it, such as "--customers customers.yaml". A
	// Service that is not Open answers a product code or registration
	// token it does not list with the service's error code and status,
	// and a message that tells how to add the value: an entry for this
	// file, or when it is empty, the Config field to set.
	CustomersFile string
	// Open makes the service accept whatever the API model accepts, not
	// only what Customers and Products list: every well-formed product
	// code exists, a registration token that Customers does not list
	// resolves to DeriveCustomer(token), and BatchMeterUsage meters any
	// customer. Customers still resolve as listed, Dimensions still
	// applies, and the Reserved values still reach their errors. The zero
	// value accepts only what is listed.
	Open bool
	// Dimensions are the usage dimensions of products, by product code.
	// MeterUsage and BatchMeterUsage answer a dimension not listed for its
	// product with InvalidUsageDimensionException; a product absent from
	// the map, or a nil map, accepts any dimension.
	Dimensions map[string][]string
	// SkipSignatures turns off the verification of SigV4 signatures, for
	// clients that cannot sign with the test key pairs; requests then need
	// no Authorization header at all. The zero value verifies them.
	SkipSignatures bool
	// Now is the service's clock, for signature expiry and usage
	// timestamps; nil means time.Now.
	Now func() time.Time
	// Log receives one line per request answered: operation, status, error
	// code and latency. Nil means no log.
	Log *slog.Logger
}

// defaultCredentials holds the keys DefaultCredentials returns.
var defaultCredentials = [...]Credential{
	{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
	{
		AccessKeyID:     "ASIAIOSFODNN7EXAMPLE",
		SecretAccessKey: "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY",
		SessionToken:    "FakeSessionTokenEXAMPLE0123456789abcdefghijklmnopqrstuvwxyz/+=",
	},
}

// DefaultCredentials returns, in a fresh slice, the keys a Service accepts
// when Config.Credentials is nil: a long-term pair (the AWS documentation's
// example) and a temporary one with a session token. Every id contains
// EXAMPLE so that secret scanners can tell them from real keys.
func DefaultCredentials() []Credential { return slices.Clone(defaultCredentials[:]) }

// defaultProducts holds the product codes DefaultProducts returns.
var defaultProducts = [...]string{"prodcode123example", "demo-product-2"}

// DefaultProducts returns, in a fresh slice, the product codes that exist
// when Config.Products is nil.
func DefaultProducts() []string { return slices.Clone(defaultProducts[:]) }

// defaultCustomers holds the customers DefaultCustomers returns.
var defaultCustomers = [...]Customer{
	{
		Token:                "FAKE-REGISTRATION-TOKEN-EXAMPLE",
		CustomerIdentifier:   "cust-EXAMPLE123",
		CustomerAWSAccountID: "111122223333",
		ProductCode:          "prodcode123example",
	},
	{
		Token:                "FAKE-REGISTRATION-TOKEN-EXAMPLE-2",
		CustomerIdentifier:   "cust-EXAMPLE456",
		CustomerAWSAccountID: "444455556666",
		ProductCode:          "demo-product-2",
	},
}

// DefaultCustomers returns, in a fresh slice, the customers a Service knows
// when Config.Customers is nil, one per default product.
func DefaultCustomers() []Customer { return slices.Clone(defaultCustomers[:]) }

// Seen describes one request the fake has answered.
type Seen struct {
	Operation   string // "" when the target was unknown
	AccessKeyID string // from the credential scope, "" when unsigned
	Region      string // from the credential scope, "" when unsigned
	Status      int    // HTTP status of the answer; 0 while in flight
	ErrorCode   string // "" on success
}

// Service is a fake Metering service. It is safe for concurrent use.
type Service struct {
	credentials map[string]Credential
	customers   []Customer
	products    map[string]bool
	example     string // a listed product code, for the messages
	file        string // Config.CustomersFile
	open        bool
	dimensions  map[string][]string
	skipSigs    bool
	now         func() time.Time
	log         *slog.Logger
	jwtKey      []byte // signs RegisterUsage answers

	mu     sync.Mutex
	seen   []Seen
	resets int // how many times Reset has run, so that a request that spans one is not logged after it
	state  usageState
}

// New returns a Service configured by cfg.
func New(cfg Config) *Service {
	s := &Service{
		credentials: make(map[string]Credential),
		products:    make(map[string]bool),
		open:        cfg.Open,
		file:        cfg.CustomersFile,
		dimensions:  make(map[string][]string, len(cfg.Dimensions)),
		skipSigs:    cfg.SkipSignatures,
		now:         cfg.Now,
		log:         cfg.Log,
		jwtKey:      randomBytes(32),
		state:       newUsageState(),
	}
	creds := cfg.Credentials
	if creds == nil {
		creds = DefaultCredentials()
	}
	for _, c := range creds {
		s.credentials[c.AccessKeyID] = c
	}
	s.customers = slices.Clone(cfg.Customers)
	if cfg.Customers == nil {
		s.customers = DefaultCustomers()
	}
	products := cfg.Products
	if products == nil {
		products = DefaultProducts()
	}
	for _, p := range products {
		s.products[p] = true
	}
	if len(products) > 0 {
		s.example = products[0]
	}
	for p, dims := range cfg.Dimensions {
		s.dimensions[p] = slices.Clone(dims)
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// ServeHTTP answers one Metering request as AWS would.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	op, _ := metering.OperationFromTarget(r.Header.Get(metering.HeaderTarget))
	resets, i := s.arrive(Seen{Operation: op})
	seen := Seen{Operation: op}
	out, err := s.serve(r, &seen)
	seen.Status, seen.ErrorCode = respond(w, out, err)
	s.finish(resets, i, seen)
	if s.log != nil {
		s.logRequest(r, seen, time.Since(start))
	}
}

// logRequest writes the log line of one answered request. Client faults
// and server faults are warnings, so a log at warn level shows only what
// went wrong.
func (s *Service) logRequest(r *http.Request, seen Seen, latency time.Duration) {
	op := seen.Operation
	if op == "" {
		op = "-"
	}
	attrs := []any{"op", op, "status", seen.Status}
	level := slog.LevelInfo
	if seen.ErrorCode != "" {
		attrs = append(attrs, "error", seen.ErrorCode)
		level = slog.LevelWarn
	}
	attrs = append(attrs, "latency", latency.Round(time.Microsecond))
	s.log.Log(r.Context(), level, "request", attrs...)
}

// serve runs the steps listed in the package comment and returns the
// operation's output or the error to answer with.
func (s *Service) serve(r *http.Request, seen *Seen) (any, error) {
	body, err := readRequest(r)
	if err != nil {
		return nil, err
	}
	var scope metering.CredentialScope
	if s.skipSigs {
		// The scope still names the caller, which MeterUsage keys usage
		// by; an unsigned or malformed request is a caller without a name.
		scope, _, _, _ = metering.ParseAuthorization(r.Header.Get(metering.HeaderAuthorization))
	} else {
		scope, err = s.authenticate(r, body)
	}
	seen.AccessKeyID, seen.Region = scope.AccessKeyID, scope.Region
	if err != nil {
		return nil, err
	}
	op, in, err := parseProtocol(r, body)
	if err != nil {
		return nil, err
	}
	if code, _ := in["ProductCode"].(string); code == ThrottledProduct {
		return nil, errThrottled()
	}
	switch op {
	case metering.MeterUsage:
		return s.meterUsage(scope.AccessKeyID, in)
	case metering.BatchMeterUsage:
		return s.batchMeterUsage(in)
	case metering.ResolveCustomer:
		return s.resolveCustomer(in)
	default:
		return s.registerUsage(in)
	}
}

// arrive reserves the request's place in arrival order, and returns it
// with the number of resets so far.
func (s *Service) arrive(seen Seen) (resets, i int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seen = append(s.seen, seen)
	return s.resets, len(s.seen) - 1
}

// finish records what became of request i, unless a Reset has forgotten
// it since it arrived.
func (s *Service) finish(resets, i int, seen Seen) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if resets == s.resets {
		s.seen[i] = seen
	}
}

// Requests returns what the fake has seen since it was made or last
// Reset, in arrival order. A request still in flight has Status 0.
func (s *Service) Requests() []Seen {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.seen)
}
