package fakeaws

import (
	"fmt"

	"github.com/metervcr/metervcr/metering"
)

// This file reads each operation's input from the request body and checks
// it against the API model, as the service's front end does before the
// operation runs: type mismatches are SerializationExceptions, constraint
// failures one ValidationException listing them all.

// meterUsageInput is the input of MeterUsage.
type meterUsageInput struct {
	ProductCode, UsageDimension, ClientToken *string
	Timestamp                                *epoch
	UsageQuantity                            *int64
	UsageAllocations                         []allocation
	hasAllocations                           bool
	DryRun                                   *bool
}

func decodeMeterUsage(m members) (meterUsageInput, error) {
	var d decoder
	in := meterUsageInput{
		ProductCode:    d.str(m, "ProductCode"),
		UsageDimension: d.str(m, "UsageDimension"),
		ClientToken:    d.str(m, "ClientToken"),
		Timestamp:      d.timestamp(m, "Timestamp"),
		UsageQuantity:  d.integer(m, "UsageQuantity"),
		DryRun:         d.boolean(m, "DryRun"),
	}
	in.UsageAllocations, in.hasAllocations = decodeAllocations(&d, m, "UsageAllocations")
	if d.err != nil {
		return in, d.err
	}
	var v violations
	if v.required("productCode", in.ProductCode != nil) {
		v.text("productCode", in.ProductCode, 1, maxStringLength, productCodeRE.MatchString, productCodePattern)
	}
	v.required("timestamp", in.Timestamp != nil)
	if v.required("usageDimension", in.UsageDimension != nil) {
		v.text("usageDimension", in.UsageDimension, 1, maxStringLength, nil, "")
	}
	v.number("usageQuantity", in.UsageQuantity, 0, maxInt32)
	v.allocations("usageAllocations", in.UsageAllocations, in.hasAllocations)
	v.text("clientToken", in.ClientToken, 1, maxClientToken, nil, "")
	return in, v.err()
}

// usageRecord is a BatchMeterUsage UsageRecord. It marshals as the service
// echoes it in results: as sent, the timestamp still a number.
type usageRecord struct {
	CustomerAWSAccountID *string      `json:"CustomerAWSAccountId,omitempty"`
	CustomerIdentifier   *string      `json:",omitempty"`
	Dimension            *string      `json:",omitempty"`
	LicenseArn           *string      `json:",omitempty"`
	Quantity             *int64       `json:",omitempty"`
	Timestamp            *epoch       `json:",omitempty"`
	UsageAllocations     []allocation `json:",omitempty"`
	hasAllocations       bool
}

// batchMeterUsageInput is the input of BatchMeterUsage.
type batchMeterUsageInput struct {
	ProductCode     *string
	UsageRecords    []usageRecord
	hasUsageRecords bool
}

func decodeBatchMeterUsage(m members) (batchMeterUsageInput, error) {
	var d decoder
	in := batchMeterUsageInput{ProductCode: d.str(m, "ProductCode")}
	items, present := d.list(m, "UsageRecords")
	in.hasUsageRecords = present
	for _, item := range items {
		rm := d.object(item, "UsageRecords")
		rec := usageRecord{
			CustomerAWSAccountID: d.str(rm, "CustomerAWSAccountId"),
			CustomerIdentifier:   d.str(rm, "CustomerIdentifier"),
			Dimension:            d.str(rm, "Dimension"),
			LicenseArn:           d.str(rm, "LicenseArn"),
			Quantity:             d.integer(rm, "Quantity"),
			Timestamp:            d.timestamp(rm, "Timestamp"),
		}
		rec.UsageAllocations, rec.hasAllocations = decodeAllocations(&d, rm, "UsageAllocations")
		in.UsageRecords = append(in.UsageRecords, rec)
	}
	if d.err != nil {
		return in, d.err
	}
	var v violations
	v.text("productCode", in.ProductCode, 1, maxStringLength, productCodeRE.MatchString, productCodePattern)
	if v.required("usageRecords", present) {
		v.count("usageRecords", len(in.UsageRecords), present, 0, maxUsageRecords)
	}
	for i, rec := range in.UsageRecords {
		p := fmt.Sprintf("usageRecords.%d.member", i+1)
		v.required(p+".timestamp", rec.Timestamp != nil)
		if v.required(p+".dimension", rec.Dimension != nil) {
			v.text(p+".dimension", rec.Dimension, 1, maxStringLength, nil, "")
		}
		v.number(p+".quantity", rec.Quantity, 0, maxInt32)
		v.text(p+".customerIdentifier", rec.CustomerIdentifier, 0, maxStringLength, nil, "")
		v.text(p+".customerAWSAccountId", rec.CustomerAWSAccountID, 1, maxStringLength, accountIDRE.MatchString, accountIDPattern)
		v.text(p+".licenseArn", rec.LicenseArn, 1, 2048, validLicenseArn, licenseArnPattern)
		v.allocations(p+".usageAllocations", rec.UsageAllocations, rec.hasAllocations)
	}
	if err := v.err(); err != nil {
		return in, err
	}
	// Not a model constraint but the service's rule: a record names its
	// customer one way only.
	for i, rec := range in.UsageRecords {
		hasID := rec.CustomerIdentifier != nil && *rec.CustomerIdentifier != ""
		if hasID == (rec.CustomerAWSAccountID != nil) {
			return in, badRequest(metering.ErrValidation,
				"Usage record %d must specify exactly one of CustomerIdentifier and CustomerAWSAccountId.", i+1)
		}
	}
	return in, nil
}

// resolveCustomerInput is the input of ResolveCustomer.
type resolveCustomerInput struct{ RegistrationToken *string }

func decodeResolveCustomer(m members) (resolveCustomerInput, error) {
	var d decoder
	in := resolveCustomerInput{RegistrationToken: d.str(m, "RegistrationToken")}
	if d.err != nil {
		return in, d.err
	}
	var v violations
	if v.required("registrationToken", in.RegistrationToken != nil) {
		// The message must not echo a bearer token; AWS's does not either.
		if !nonEmptyRE.MatchString(*in.RegistrationToken) {
			v.add("registrationToken", "'***'", "satisfy regular expression pattern: "+nonEmptyPattern)
		}
	}
	return in, v.err()
}

// registerUsageInput is the input of RegisterUsage.
type registerUsageInput struct {
	ProductCode, Nonce *string
	PublicKeyVersion   *int64
}

func decodeRegisterUsage(m members) (registerUsageInput, error) {
	var d decoder
	in := registerUsageInput{
		ProductCode:      d.str(m, "ProductCode"),
		Nonce:            d.str(m, "Nonce"),
		PublicKeyVersion: d.integer(m, "PublicKeyVersion"),
	}
	if d.err != nil {
		return in, d.err
	}
	var v violations
	if v.required("productCode", in.ProductCode != nil) {
		v.text("productCode", in.ProductCode, 1, maxStringLength, productCodeRE.MatchString, productCodePattern)
	}
	if v.required("publicKeyVersion", in.PublicKeyVersion != nil) {
		v.number("publicKeyVersion", in.PublicKeyVersion, 1, maxInt32)
	}
	v.text("nonce", in.Nonce, 0, maxStringLength, nil, "")
	return in, v.err()
}

// MarshalJSON writes the timestamp as the number it was sent as.
func (e epoch) MarshalJSON() ([]byte, error) { return []byte(e.Raw), nil }
