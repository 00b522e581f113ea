// Package audit reports what a set of cassettes metered, as a table, JSON
// or CSV.
package audit

import (
	"cmp"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/metervcr/metervcr/cassettes"
	"github.com/metervcr/metervcr/metering"
)

// Report answers an auditor's question "what exactly did we meter?": per
// cassette and interaction, the operation, its outcome and its usage
// records, then totals of the usage AWS accepted. Its JSON form is what
// inspect --format json prints: cassettes, totals and hours.
type Report struct {
	Cassettes []CassetteReport `json:"cassettes"`
	// Totals sum accepted usage per product, dimension and customer.
	Totals []Total `json:"totals"`
	// Hours sum accepted usage per hour, product and dimension: the unit
	// in which the service de-duplicates MeterUsage.
	Hours []HourTotal `json:"hours"`
}

// CassetteReport is the part of a Report about one cassette.
type CassetteReport struct {
	Path         string              `json:"path"`
	Interactions []InteractionReport `json:"interactions"`
}

// InteractionReport describes one interaction: its index (from 0), its
// operation, its HTTP status and error code ("" on success), and the
// usage records it carried. ResolveCustomer and RegisterUsage carry none.
type InteractionReport struct {
	Index     int           `json:"index"`
	Operation string        `json:"operation"`
	Status    int           `json:"status"`
	Error     string        `json:"error"`
	Records   []UsageRecord `json:"records"`

	detail string // what a ResolveCustomer or RegisterUsage answered, for the table
}

// UsageRecord is one usage record as sent and as answered. Customer is
// the CustomerIdentifier, or the (pseudonymised) CustomerAWSAccountId of
// newer integrations, and "" for MeterUsage, which meters the caller's own
// account. Result is the BatchMeterUsage status (Success,
// CustomerNotSubscribed, DuplicateRecord), Unprocessed for a record AWS
// returned to be sent again, Success for an answered MeterUsage, or the
// error code of a failed call. Only Success is metered.
type UsageRecord struct {
	ProductCode        string `json:"productCode"`
	CustomerIdentifier string `json:"customerIdentifier"`
	Dimension          string `json:"dimension"`
	Quantity           int64  `json:"quantity"`
	Timestamp          string `json:"timestamp"` // RFC 3339, UTC, milliseconds
	Result             string `json:"result"`
	MeteringRecordID   string `json:"meteringRecordId"`

	hour string
}

// Total is the accepted quantity of one product, dimension and customer.
type Total struct {
	ProductCode        string `json:"productCode"`
	Dimension          string `json:"dimension"`
	CustomerIdentifier string `json:"customerIdentifier"`
	Quantity           int64  `json:"quantity"`
}

// HourTotal is the accepted quantity of one product and dimension within
// one hour (RFC 3339, UTC).
type HourTotal struct {
	Hour        string `json:"hour"`
	ProductCode string `json:"productCode"`
	Dimension   string `json:"dimension"`
	Quantity    int64  `json:"quantity"`
}

// ResultSuccess is the result of metered usage.
const ResultSuccess = metering.StatusSuccess

// ResultUnprocessed marks a record that BatchMeterUsage returned in
// UnprocessedRecords.
const ResultUnprocessed = "Unprocessed"

// Inspect reports what the cassettes metered.
func Inspect(cs ...*cassettes.Cassette) *Report {
	rep := &Report{Cassettes: []CassetteReport{}, Totals: []Total{}, Hours: []HourTotal{}}
	totals := make(map[Total]int64)
	hours := make(map[HourTotal]int64)
	licenses := licenseProducts(cs)
	for _, c := range cs {
		cr := CassetteReport{Path: c.Path, Interactions: make([]InteractionReport, len(c.Interactions))}
		for i, in := range c.Interactions {
			ir := inspectInteraction(i, in, licenses)
			for _, r := range ir.Records {
				if r.Result != ResultSuccess {
					continue
				}
				totals[Total{r.ProductCode, r.Dimension, r.CustomerIdentifier, 0}] += r.Quantity
				hours[HourTotal{r.hour, r.ProductCode, r.Dimension, 0}] += r.Quantity
			}
			cr.Interactions[i] = ir
		}
		rep.Cassettes = append(rep.Cassettes, cr)
	}
	for t, q := range totals {
		t.Quantity = q
		rep.Totals = append(rep.Totals, t)
	}
	sort.Slice(rep.Totals, func(i, j int) bool {
		a, b := rep.Totals[i], rep.Totals[j]
		return a.ProductCode+"\x00"+a.Dimension+"\x00"+a.CustomerIdentifier < b.ProductCode+"\x00"+b.Dimension+"\x00"+b.CustomerIdentifier
	})
	for h, q := range hours {
		h.Quantity = q
		rep.Hours = append(rep.Hours, h)
	}
	sort.Slice(rep.Hours, func(i, j int) bool {
		a, b := rep.Hours[i], rep.Hours[j]
		return a.Hour+"\x00"+a.ProductCode+"\x00"+a.Dimension < b.Hour+"\x00"+b.ProductCode+"\x00"+b.Dimension
	})
	return rep
}

// licenseProducts maps the license ARNs that ResolveCustomer answered to
// their product: BatchMeterUsage records of newer integrations name a
// license and no product.
func licenseProducts(cs []*cassettes.Cassette) map[string]string {
	m := make(map[string]string)
	for _, c := range cs {
		for _, in := range c.Interactions {
			op, _ := metering.OperationFromTarget(in.Request.Headers.Get(metering.HeaderTarget))
			if op != metering.ResolveCustomer || in.Response.Code >= 300 {
				continue
			}
			var out metering.ResolveCustomerOutput
			decode(in.Response.Body, &out)
			if out.LicenseArn != "" && out.ProductCode != "" {
				m[out.LicenseArn] = out.ProductCode
			}
		}
	}
	return m
}

func inspectInteraction(i int, in *cassettes.Interaction, licenses map[string]string) InteractionReport {
	ir := InteractionReport{Index: i, Status: in.Response.Code, Records: []UsageRecord{}}
	target := in.Request.Headers.Get(metering.HeaderTarget)
	op, ok := metering.OperationFromTarget(target)
	ir.Operation = op
	if !ok {
		ir.Operation = target
	}
	if in.Response.Code >= 300 { // an error that names no code is shown as its status
		ir.Error = cmp.Or(metering.ResponseErrorCode(in.Response.Code, in.Response.Headers, in.Response.Body), strconv.Itoa(in.Response.Code))
	}
	switch op {
	case metering.MeterUsage:
		ir.Records = append(ir.Records, meterUsageRecord(in, ir.Error))
	case metering.BatchMeterUsage:
		ir.Records = batchRecords(in, ir.Error, licenses)
	case metering.ResolveCustomer:
		if ir.Error == "" {
			var out metering.ResolveCustomerOutput
			decode(in.Response.Body, &out)
			ir.detail = fmt.Sprintf("customer %s, account %s, product %s",
				cmp.Or(out.CustomerIdentifier, "-"), cmp.Or(out.CustomerAWSAccountID, "-"), cmp.Or(out.ProductCode, "-"))
		}
	case metering.RegisterUsage:
		var req metering.RegisterUsageInput
		decode(in.Request.Body, &req)
		ir.detail = fmt.Sprintf("product %s, public key version %s", cmp.Or(req.ProductCode, "-"), cmp.Or(string(req.PublicKeyVersion), "-"))
	}
	return ir
}

// decode reads a JSON body into a shape as far as it can: a field of
// another type than the API's is left empty, and what cannot be read at
// all shows as empty fields, which is what inspect should print for it.
func decode(body string, v any) {
	json.Unmarshal([]byte(body), v) // see above: partial results are the point
}

func meterUsageRecord(in *cassettes.Interaction, errCode string) UsageRecord {
	var req metering.MeterUsageInput
	decode(in.Request.Body, &req)
	r := UsageRecord{
		ProductCode: req.ProductCode,
		Dimension:   req.UsageDimension,
		Quantity:    metering.Quantity(req.UsageQuantity),
		Result:      cmp.Or(errCode, ResultSuccess),
	}
	r.Timestamp, r.hour = timestamp(req.Timestamp)
	if errCode == "" {
		var out metering.MeterUsageOutput
		decode(in.Response.Body, &out)
		r.MeteringRecordID = out.MeteringRecordID
	}
	return r
}

// batchRecords pairs the request's usage records with the response's
// results and unprocessed records, each of which echoes the record it
// answers; the API does not promise the same order.
func batchRecords(in *cassettes.Interaction, errCode string, licenses map[string]string) []UsageRecord {
	var req metering.BatchMeterUsageInput
	var resp metering.BatchMeterUsageOutput
	decode(in.Request.Body, &req)
	decode(in.Response.Body, &resp)
	usedResult := make([]bool, len(resp.Results))
	usedUnprocessed := make([]bool, len(resp.UnprocessedRecords))
	out := []UsageRecord{}
	for _, sent := range req.UsageRecords {
		r := usageRecord(req.ProductCode, sent, licenses)
		switch {
		case errCode != "":
			r.Result = errCode
		default:
			if k := pair(sent, len(resp.Results), usedResult, func(k int) *metering.UsageRecord { return resp.Results[k].UsageRecord }); k >= 0 {
				r.Result, r.MeteringRecordID = cmp.Or(resp.Results[k].Status, "NoStatus"), resp.Results[k].MeteringRecordID
			} else if k := pair(sent, len(resp.UnprocessedRecords), usedUnprocessed, func(k int) *metering.UsageRecord { return &resp.UnprocessedRecords[k] }); k >= 0 {
				r.Result = ResultUnprocessed
			} else {
				r.Result = "NoResult"
			}
		}
		out = append(out, r)
	}
	// Results that answer no record of the request (a cassette edited by
	// hand): report them as the response gives them.
	for k, res := range resp.Results {
		if !usedResult[k] {
			var echoed metering.UsageRecord
			if res.UsageRecord != nil {
				echoed = *res.UsageRecord
			}
			r := usageRecord(req.ProductCode, echoed, licenses)
			r.Result, r.MeteringRecordID = cmp.Or(res.Status, "NoStatus"), res.MeteringRecordID
			out = append(out, r)
		}
	}
	return out
}

func usageRecord(product string, rec metering.UsageRecord, licenses map[string]string) UsageRecord {
	r := UsageRecord{
		ProductCode:        cmp.Or(product, licenses[rec.LicenseArn]),
		CustomerIdentifier: rec.Customer(),
		Dimension:          rec.Dimension,
		Quantity:           metering.Quantity(rec.Quantity),
	}
	r.Timestamp, r.hour = timestamp(rec.Timestamp)
	return r
}

// pair returns the index of the first unused one of n candidates that
// echoes sent, else of the first unused one that echoes nothing at all,
// and marks it used; -1 when none.
func pair(sent metering.UsageRecord, n int, used []bool, echoed func(int) *metering.UsageRecord) int {
	blank := -1
	for k := range n {
		if used[k] {
			continue
		}
		e := echoed(k)
		if e != nil && sent.Same(*e) {
			used[k] = true
			return k
		}
		if e == nil && blank < 0 {
			blank = k
		}
	}
	if blank >= 0 {
		used[blank] = true
	}
	return blank
}

// timestamp formats an epoch-seconds timestamp as RFC 3339 in UTC with
// milliseconds, and returns the start of its hour too. Text that is no
// timestamp is shown as it is.
func timestamp(n json.Number) (ts, hour string) {
	t, ok := metering.ParseTimestamp(n)
	if !ok {
		return string(n), ""
	}
	return t.Format("2006-01-02T15:04:05.999Z07:00"), t.Truncate(time.Hour).Format("2006-01-02T15:04Z07:00")
}
