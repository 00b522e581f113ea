package fakeaws

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/metervcr/metervcr/metering"
)

// Statuses of a BatchMeterUsage result.
const (
	statusSuccess               = "Success"
	statusCustomerNotSubscribed = "CustomerNotSubscribed"
	statusDuplicateRecord       = "DuplicateRecord"
)

type meterUsageOutput struct {
	MeteringRecordID string `json:"MeteringRecordId"`
}

type usageRecordResult struct {
	MeteringRecordID string `json:"MeteringRecordId,omitempty"`
	Status           string
	UsageRecord      usageRecord
}

type batchMeterUsageOutput struct {
	Results            []usageRecordResult
	UnprocessedRecords []usageRecord
}

type resolveCustomerOutput struct {
	CustomerAWSAccountID string `json:"CustomerAWSAccountId,omitempty"`
	CustomerIdentifier   string `json:",omitempty"`
	LicenseArn           string `json:",omitempty"`
	ProductCode          string
}

type registerUsageOutput struct {
	Signature string
}

// meterUsage meters one usage record. An identical request in the same hour
// gets the first one's record id back; a different quantity for the same
// product, dimension and hour is a DuplicateRequestException; a ClientToken
// reused with other parameters is an IdempotencyConflictException. Usage is
// keyed by access key, the fake's stand-in for the EC2 instance, ECS task or
// EKS pod that AWS keys it by.
func (s *Service) meterUsage(accessKeyID string, m members) (any, error) {
	in, err := decodeMeterUsage(m)
	if err != nil {
		return nil, err
	}
	if !s.productExists(*in.ProductCode) {
		return nil, s.errUnknownProduct(*in.ProductCode)
	}
	if err := s.checkDimension(*in.ProductCode, *in.UsageDimension); err != nil {
		return nil, err
	}
	quantity := valueOr(in.UsageQuantity, 0)
	if err := checkAllocations(in.UsageAllocations, in.hasAllocations, quantity); err != nil {
		return nil, err
	}
	if err := s.checkTimestamp(*in.Timestamp, metering.MeterUsageWindow); err != nil {
		return nil, err
	}
	if valueOr(in.DryRun, false) {
		return nil, badRequest(errDryRun, "Request would have succeeded, but DryRun flag is set.")
	}
	usage := usageFingerprint(quantity, in.UsageAllocations)
	key := fmt.Sprintf("%s|%s|%s|%d", accessKeyID, *in.ProductCode, *in.UsageDimension, in.Timestamp.Hour())
	// A client token stands for the whole request, exact timestamp included.
	params := fmt.Sprintf("%s|%s|%v", key, usage, in.Timestamp.Seconds)
	var token string
	if in.ClientToken != nil {
		token = accessKeyID + "|" + *in.ClientToken
	}
	id, err := s.recordMeterUsage(token, params, key, usage)
	if err != nil {
		return nil, err
	}
	return meterUsageOutput{MeteringRecordID: id}, nil
}

// recordMeterUsage applies MeterUsage's idempotency and de-duplication
// rules under the service's lock and returns the record id.
func (s *Service) recordMeterUsage(token, params, key, usage string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := &s.state
	if token != "" {
		if e, ok := st.clientTokens[token]; ok {
			if e.usage != params {
				return "", newError(http.StatusConflict, metering.ErrIdempotencyConflict,
					"The ClientToken was already used with different request parameters.")
			}
			return e.id, nil
		}
	}
	e, ok := st.meterUsage[key]
	if ok && e.usage != usage {
		return "", badRequest(metering.ErrDuplicateRequest,
			"A metering record has already been emitted for the given usageDimension and timestamp with a different usageQuantity.")
	}
	if !ok {
		e = record{id: metering.NewID(), usage: usage}
		st.meterUsage[key] = e
	}
	if token != "" {
		st.clientTokens[token] = record{id: e.id, usage: params}
	}
	return e.id, nil
}

// batchMeterUsage meters up to 25 records for subscribed customers. The
// whole batch fails on a bad product code, dimension, allocation or
// timestamp; per
// record, an unknown customer is CustomerNotSubscribed, a repeat of an
// earlier record (same product, customer, dimension and hour, same usage)
// is a Success with the earlier record id, and a different usage for the
// same key is a DuplicateRecord naming the earlier record id, as the API
// reference describes UsageRecordResult.Status.
func (s *Service) batchMeterUsage(m members) (any, error) {
	in, err := decodeBatchMeterUsage(m)
	if err != nil {
		return nil, err
	}
	if in.ProductCode != nil && !s.productExists(*in.ProductCode) {
		return nil, s.errUnknownProduct(*in.ProductCode)
	}
	for _, rec := range in.UsageRecords {
		if err := checkAllocations(rec.UsageAllocations, rec.hasAllocations, valueOr(rec.Quantity, 0)); err != nil {
			return nil, err
		}
	}
	for _, rec := range in.UsageRecords {
		if err := s.checkTimestamp(*rec.Timestamp, metering.BatchMeterUsageWindow); err != nil {
			return nil, err
		}
	}
	out := batchMeterUsageOutput{
		Results:            make([]usageRecordResult, 0, len(in.UsageRecords)),
		UnprocessedRecords: []usageRecord{},
	}
	subscribers := make([]*Customer, len(in.UsageRecords))
	for i, rec := range in.UsageRecords {
		c, ok := s.subscriber(in.ProductCode, rec)
		product := in.ProductCode
		if ok {
			subscribers[i], product = &c, &c.ProductCode
		}
		if product != nil {
			if err := s.checkDimension(*product, *rec.Dimension); err != nil {
				return nil, err
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, rec := range in.UsageRecords {
		result := usageRecordResult{Status: statusCustomerNotSubscribed, UsageRecord: rec}
		if c := subscribers[i]; c != nil {
			key := fmt.Sprintf("%s|%s|%s|%s|%d", c.ProductCode, c.CustomerIdentifier, c.CustomerAWSAccountID,
				*rec.Dimension, rec.Timestamp.Hour())
			usage := usageFingerprint(valueOr(rec.Quantity, 0), rec.UsageAllocations)
			e, seen := s.state.batchMeterUsage[key]
			if !seen {
				e = record{id: metering.NewID(), usage: usage}
				s.state.batchMeterUsage[key] = e
			}
			result.MeteringRecordID, result.Status = e.id, statusSuccess
			if e.usage != usage {
				result.Status = statusDuplicateRecord
			}
		}
		out.Results = append(out.Results, result)
	}
	return out, nil
}

// subscriber returns the customer a usage record names, if that customer
// is subscribed to product (any product when nil) and holds the license the
// record names, if any. An open Service subscribes any customer it does
// not list to product, apart from the reserved ones.
func (s *Service) subscriber(product *string, rec usageRecord) (Customer, bool) {
	if notSubscribed(rec) {
		return Customer{}, false
	}
	for _, c := range s.customers {
		switch {
		case product != nil && c.ProductCode != *product:
		case rec.CustomerAWSAccountID != nil && c.CustomerAWSAccountID != *rec.CustomerAWSAccountID:
		case rec.CustomerAWSAccountID == nil && c.CustomerIdentifier != *rec.CustomerIdentifier:
		case rec.LicenseArn != nil && licenseArn(c) != *rec.LicenseArn:
		default:
			return c, true
		}
	}
	if !s.open {
		return Customer{}, false
	}
	c := Customer{ProductCode: valueOr(product, "")}
	if rec.CustomerAWSAccountID != nil {
		c.CustomerAWSAccountID = *rec.CustomerAWSAccountID
	} else {
		c.CustomerIdentifier = *rec.CustomerIdentifier
	}
	return c, true
}

// resolveCustomer resolves a registration token: a reserved one to its
// error, a listed one to its customer, and any other to the customer
// derived from it when the Service is open. Tokens may be resolved more
// than once, unlike AWS's, so that tests can repeat themselves.
func (s *Service) resolveCustomer(m members) (any, error) {
	in, err := decodeResolveCustomer(m)
	if err != nil {
		return nil, err
	}
	token := *in.RegistrationToken
	switch token {
	case InvalidRegistrationToken:
		return nil, errInvalidToken()
	case ExpiredRegistrationToken:
		return nil, badRequest(metering.ErrExpiredToken, "Registration token has expired.")
	}
	i := slices.IndexFunc(s.customers, func(c Customer) bool { return c.Token == token })
	var c Customer
	switch {
	case i >= 0:
		c = s.customers[i]
	case s.open:
		c = DeriveCustomer(token)
	default:
		return nil, s.errUnknownToken()
	}
	if c.ProductCode == ThrottledProduct {
		return nil, errThrottled()
	}
	return resolveCustomerOutput{
		CustomerAWSAccountID: c.CustomerAWSAccountID,
		CustomerIdentifier:   c.CustomerIdentifier,
		LicenseArn:           licenseArn(c),
		ProductCode:          c.ProductCode,
	}, nil
}

// registerUsage answers a container product's start-up check with a
// JWT-shaped Signature. Only public key version 1 exists.
func (s *Service) registerUsage(m members) (any, error) {
	in, err := decodeRegisterUsage(m)
	if err != nil {
		return nil, err
	}
	if !s.productExists(*in.ProductCode) {
		return nil, s.errUnknownProduct(*in.ProductCode)
	}
	if *in.PublicKeyVersion != 1 {
		return nil, badRequest(metering.ErrInvalidPublicKeyVersion,
			"Public key version %d is invalid; the current version is 1.", *in.PublicKeyVersion)
	}
	return registerUsageOutput{Signature: s.signature(*in.ProductCode, valueOr(in.Nonce, ""), *in.PublicKeyVersion)}, nil
}

// signature returns a JWT shaped like RegisterUsage's: a PS256 header, a
// payload naming the product, nonce, key version and issue time, and a
// signature part. The signature is an HMAC with a key of this Service, so
// no AWS public key verifies it; applications under test must not either.
func (s *Service) signature(productCode, nonce string, keyVersion int64) string {
	enc := base64.RawURLEncoding
	header := enc.EncodeToString([]byte(`{"alg":"PS256","typ":"JWT"}`))
	payload, err := json.Marshal(struct {
		ProductCode      string `json:"productCode"`
		PublicKeyVersion int64  `json:"publicKeyVersion"`
		IssuedAt         string `json:"issuedAt"`
		Nonce            string `json:"nonce,omitempty"`
	}{productCode, keyVersion, s.now().UTC().Format("2006-01-02T15:04:05.000Z"), nonce})
	if err != nil {
		panic(err) // strings and a number always marshal
	}
	signingInput := header + "." + enc.EncodeToString(payload)
	mac := hmac.New(sha256.New, s.jwtKey)
	mac.Write([]byte(signingInput))
	return signingInput + "." + enc.EncodeToString(mac.Sum(nil))
}

// checkTimestamp refuses usage older than window or further in the future
// than metering.FutureSlack.
func (s *Service) checkTimestamp(ts epoch, window time.Duration) error {
	if !metering.InWindow(ts.Seconds, s.now(), window) {
		return badRequest(metering.ErrTimestampOutOfBounds, "%s", metering.TimestampOutOfBoundsMessage(ts.Seconds))
	}
	return nil
}

// checkDimension refuses a dimension that product does not define, when
// its dimensions are known.
func (s *Service) checkDimension(product, dimension string) error {
	dims, known := s.dimensions[product]
	if !known || slices.Contains(dims, dimension) {
		return nil
	}
	return badRequest(metering.ErrInvalidUsageDimension,
		"The usageDimension %s is not one of the dimensions of product %s.", dimension, product)
}

// productExists reports whether product code exists: NoSuchProduct never
// does, any other does in an open Service, and a listed one always does.
func (s *Service) productExists(code string) bool {
	return code != NoSuchProduct && (s.open || s.products[code])
}

func errInvalidToken() *apiError {
	return badRequest(metering.ErrInvalidToken, "Registration token is invalid.")
}

func errInvalidProductCode() *apiError {
	return badRequest(metering.ErrInvalidProductCode,
		"The product code passed does not match the product code used for publishing the product.")
}

// licenseArn is the license a customer holds: stable, so that a license
// ARN from ResolveCustomer is accepted by BatchMeterUsage.
func licenseArn(c Customer) string {
	sum := sha256.Sum256([]byte(c.ProductCode + "\x00" + c.CustomerAWSAccountID + "\x00" + c.CustomerIdentifier))
	return fmt.Sprintf("arn:aws:license-manager::%s:license:l-%x", c.CustomerAWSAccountID, sum[:16])
}

// record is metered usage as the service remembers it: its record id and
// a fingerprint of what was metered (for client tokens, of the whole
// request).
type record struct{ id, usage string }

// usageState is what the service remembers of metered usage, keyed as the
// operations describe.
type usageState struct {
	meterUsage      map[string]record
	clientTokens    map[string]record
	batchMeterUsage map[string]record
}

func newUsageState() usageState {
	return usageState{
		meterUsage:      make(map[string]record),
		clientTokens:    make(map[string]record),
		batchMeterUsage: make(map[string]record),
	}
}

// usageFingerprint identifies a quantity and its allocations, in the order
// they were sent.
func usageFingerprint(quantity int64, allocs []allocation) string {
	b, err := json.Marshal(allocs)
	if err != nil {
		panic(err) // numbers and strings always marshal
	}
	return fmt.Sprintf("%d|%s", quantity, b)
}

func valueOr[T any](p *T, zero T) T {
	if p == nil {
		return zero
	}
	return *p
}
