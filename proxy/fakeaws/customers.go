package fakeaws

import (
	"bytes"
	"crypto/sha512"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// customerEntry is one entry of a customers file, spelled as the API
// spells the members.
type customerEntry struct {
	Token                string   `yaml:"token"`
	CustomerIdentifier   string   `yaml:"customerIdentifier"`
	CustomerAWSAccountID string   `yaml:"customerAWSAccountId"`
	ProductCode          string   `yaml:"productCode"`
	Dimensions           []string `yaml:"dimensions"`
}

// ParseCustomers reads a customers file and returns the Config fields it
// sets: Customers, Products and Dimensions. The file is a YAML list of
// entries such as
//
//	# customers.yaml
//	- token: FAKE-REGISTRATION-TOKEN-EXAMPLE
//	  customerIdentifier: cust-EXAMPLE123
//	  customerAWSAccountId: "111122223333"
//	  productCode: prodcode123example
//	  dimensions: [requests, users]
//
// Every entry names a productCode, and the products named are the only ones
// that exist. An entry with a token is a registration token that
// ResolveCustomer resolves, and it needs a customerIdentifier, a
// customerAWSAccountId or both; an entry with customer ids is a customer
// subscribed to the product, whom BatchMeterUsage meters; an entry with
// neither only makes its product exist (an AMI or container product).
// dimensions, when any entry of a product lists them, are the only
// dimensions that product accepts. Unknown keys are errors, so that a
// misspelt key is not silently ignored.
func ParseCustomers(data []byte) (Config, error) {
	var entries []customerEntry
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&entries); err != nil {
		if errors.Is(err, io.EOF) {
			return Config{}, errors.New("no entries; list at least one {token, customerIdentifier, customerAWSAccountId, productCode}")
		}
		return Config{}, fmt.Errorf("not a YAML list of customers: %w", err)
	}
	if len(entries) == 0 {
		return Config{}, errors.New("no entries; list at least one {token, customerIdentifier, customerAWSAccountId, productCode}")
	}
	cfg := Config{Customers: []Customer{}, Dimensions: make(map[string][]string)}
	tokens := make(map[string]int)
	for i, e := range entries {
		if err := e.check(); err != nil {
			return Config{}, fmt.Errorf("entry %d: %w", i+1, err)
		}
		if e.Token != "" {
			if first, dup := tokens[e.Token]; dup {
				return Config{}, fmt.Errorf("entry %d: token is already the token of entry %d; tokens must be unique", i+1, first)
			}
			tokens[e.Token] = i + 1
		}
		if !slices.Contains(cfg.Products, e.ProductCode) {
			cfg.Products = append(cfg.Products, e.ProductCode)
		}
		for _, d := range e.Dimensions {
			if !slices.Contains(cfg.Dimensions[e.ProductCode], d) {
				cfg.Dimensions[e.ProductCode] = append(cfg.Dimensions[e.ProductCode], d)
			}
		}
		if e.Token != "" || e.CustomerIdentifier != "" || e.CustomerAWSAccountID != "" {
			cfg.Customers = append(cfg.Customers, Customer{
				Token:                e.Token,
				CustomerIdentifier:   e.CustomerIdentifier,
				CustomerAWSAccountID: e.CustomerAWSAccountID,
				ProductCode:          e.ProductCode,
			})
		}
	}
	return cfg, nil
}

// check applies the API model's constraints to the values of an entry, so
// that what ResolveCustomer answers is what the real service could answer.
func (e customerEntry) check() error {
	switch {
	case e.ProductCode == "":
		return errors.New("productCode is required")
	case utf8.RuneCountInString(e.ProductCode) > maxStringLength || !productCodeRE.MatchString(e.ProductCode):
		return fmt.Errorf("productCode %q is not a product code (at most %d of A-Z a-z 0-9 - / = : _ . @)", e.ProductCode, maxStringLength)
	case e.Token != "" && !nonEmptyRE.MatchString(e.Token):
		return errors.New("token must not contain spaces")
	case e.Token != "" && e.CustomerIdentifier == "" && e.CustomerAWSAccountID == "":
		return errors.New("a token needs the customer it resolves to: set customerIdentifier, customerAWSAccountId or both")
	case e.ProductCode == NoSuchProduct:
		return fmt.Errorf("productCode %s is reserved: it never exists; choose another", NoSuchProduct)
	case e.Token == InvalidRegistrationToken || e.Token == ExpiredRegistrationToken:
		return fmt.Errorf("token %s is reserved for ResolveCustomer's errors; choose another", e.Token)
	case e.CustomerAWSAccountID == NotSubscribedAccountID:
		return fmt.Errorf("customerAWSAccountId %s is reserved: it is subscribed to nothing; choose another", NotSubscribedAccountID)
	case e.CustomerIdentifier == NotSubscribedCustomer:
		return fmt.Errorf("customerIdentifier %s is reserved: it is subscribed to nothing; choose another", NotSubscribedCustomer)
	case utf8.RuneCountInString(e.CustomerIdentifier) > maxStringLength:
		return fmt.Errorf("customerIdentifier is longer than %d characters", maxStringLength)
	case e.CustomerAWSAccountID != "" && (len(e.CustomerAWSAccountID) != 12 || !accountIDRE.MatchString(e.CustomerAWSAccountID)):
		return fmt.Errorf("customerAWSAccountId %q is not an AWS account id (12 digits)", e.CustomerAWSAccountID)
	}
	for _, d := range e.Dimensions {
		if n := utf8.RuneCountInString(d); n < 1 || n > maxStringLength {
			return fmt.Errorf("dimension %q must have 1 to %d characters", d, maxStringLength)
		}
	}
	return nil
}

// DeriveCustomer returns the customer an open Service resolves token to
// when no listed customer has it. Every field comes from a SHA-512 of the
// token alone, with no key, state or randomness, so that every process
// resolves a token to the same customer, each field in the shape AWS gives
// it: a CustomerIdentifier like the built-in ones (cust- and 12 of A-Z
// 0-9), a twelve-digit CustomerAWSAccountID, and a ProductCode of 25 of
// a-z 0-9 as AWS Marketplace assigns them. The account id never starts
// with 0, so that it cannot pass for a redaction placeholder (0000 and
// eight digits). ResolveCustomer answers with the LicenseArn of the
// customer, which is derived from these fields.
func DeriveCustomer(token string) Customer {
	sum := sha512.Sum512([]byte("metervcr derived customer\x00" + token))
	n := binary.BigEndian.Uint64(sum[:8])
	return Customer{
		Token:                token,
		CustomerIdentifier:   "cust-" + pick(sum[8:20], upperDigits),
		CustomerAWSAccountID: fmt.Sprintf("%d%011d", 1+n%9, n/9%100_000_000_000),
		ProductCode:          pick(sum[20:45], lowerDigits),
	}
}

const (
	upperDigits = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	lowerDigits = "abcdefghijklmnopqrstuvwxyz0123456789"
)

// pick maps each byte of b to a character of alphabet.
func pick(b []byte, alphabet string) string {
	out := make([]byte, len(b))
	for i, c := range b {
		out[i] = alphabet[int(c)%len(alphabet)]
	}
	return string(out)
}

// errUnknownProduct is the answer to a product code that does not exist:
// AWS's InvalidProductCodeException, whose message then tells how to make
// the code exist, unless the Service is open (where only NoSuchProduct
// gets here) or code is NoSuchProduct, which never exists.
func (s *Service) errUnknownProduct(code string) error {
	e := errInvalidProductCode()
	switch {
	case s.open || code == NoSuchProduct:
	case s.file != "":
		e.message += fmt.Sprintf(" metervcr: product code %s is not in %s; add an entry to the file: - {productCode: %s}",
			code, s.file, yamlScalar(code))
	default:
		e.message += fmt.Sprintf(" metervcr: product code %s is not in Config.Products (DefaultProducts when nil); "+
			"add it there, or set Config.Open to accept any product code", code)
	}
	return e
}

// errUnknownToken is the answer to a registration token that a Service
// that is not open does not list: AWS's InvalidTokenException, whose
// message then tells how to add the token. The message does not repeat
// the token, which may be a real one.
func (s *Service) errUnknownToken() error {
	e := errInvalidToken()
	product := s.example
	if product == "" {
		product = defaultProducts[0]
	}
	if s.file != "" {
		e.message += fmt.Sprintf(" metervcr: this registration token is not in %s; add an entry to the file, with the token you sent as TOKEN: "+
			"- {token: TOKEN, customerIdentifier: cust-example, productCode: %s}", s.file, yamlScalar(product))
	} else {
		e.message += fmt.Sprintf(" metervcr: this registration token is not in Config.Customers (DefaultCustomers when nil); "+
			`add it there, with the token you sent as TOKEN: fakeaws.Customer{Token: "TOKEN", CustomerIdentifier: "cust-example", ProductCode: %q}; `+
			"or set Config.Open to resolve any token", product)
	}
	return e
}

// yamlScalar writes a product code as a YAML flow scalar: plain when it
// starts with a letter or digit, quoted otherwise (a leading @ is reserved
// in YAML, a leading - or : can start other syntax).
func yamlScalar(code string) string {
	if code != "" && isAlnum(code[0]) {
		return code
	}
	return fmt.Sprintf("%q", code)
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}
