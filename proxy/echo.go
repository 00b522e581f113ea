package proxy

import (
	"fmt"

	"github.com/metervcr/metervcr/cassettes"
	"github.com/metervcr/metervcr/metering"
)

// A rewrite adapts a recorded response to the live request it answers,
// for responses that echo what the request sent. prepare runs once per
// interaction at load and returns nil when the interaction needs nothing;
// apply runs per request on a private copy of the recorded response.
type rewrite interface {
	prepare(in *cassettes.Interaction) any
	apply(plan any, live, recorded map[string]any)
}

// rewrites holds the rule of each operation whose responses echo the
// request.
var rewrites = map[string]rewrite{
	metering.BatchMeterUsage: batchEcho{},
}

// batchEcho makes a replayed BatchMeterUsage answer carry the live
// request's records in Results[].UsageRecord and UnprocessedRecords, while
// keeping the recorded statuses and record ids, so applications that
// reconcile results against what they sent (timestamps included) work in
// replay.
type batchEcho struct{}

// batchPlan maps each echoed record of the recorded response to the index
// of the recorded request record it echoes (-1 when none).
type batchPlan struct {
	results, unprocessed []int
}

func (batchEcho) prepare(in *cassettes.Interaction) any {
	req, err1 := cassettes.DecodeJSON([]byte(in.Request.Body))
	resp, err2 := cassettes.DecodeJSON([]byte(in.Response.Body))
	if err1 != nil || err2 != nil {
		return nil
	}
	sent := list(req, "UsageRecords")
	plan := &batchPlan{}
	for _, r := range list(resp, "Results") {
		rec, _ := r.(map[string]any)
		plan.results = append(plan.results, indexOfRecord(sent, rec["UsageRecord"]))
	}
	for _, u := range list(resp, "UnprocessedRecords") {
		plan.unprocessed = append(plan.unprocessed, indexOfRecord(sent, u))
	}
	if len(plan.results)+len(plan.unprocessed) == 0 {
		return nil
	}
	return plan
}

func (batchEcho) apply(p any, live, recorded map[string]any) {
	plan := p.(*batchPlan)
	sent := list(live, "UsageRecords")
	echo := func(j int) (any, bool) {
		if j < 0 || j >= len(sent) {
			return nil, false
		}
		return sent[j], true
	}
	for i, r := range list(recorded, "Results") {
		res, ok := r.(map[string]any)
		if !ok || i >= len(plan.results) {
			continue
		}
		if rec, ok := echo(plan.results[i]); ok {
			res["UsageRecord"] = rec
		}
	}
	unprocessed := list(recorded, "UnprocessedRecords")
	for i := range unprocessed {
		if i < len(plan.unprocessed) {
			if rec, ok := echo(plan.unprocessed[i]); ok {
				unprocessed[i] = rec
			}
		}
	}
}

func list(doc any, field string) []any {
	obj, _ := doc.(map[string]any)
	l, _ := obj[field].([]any)
	return l
}

// echoKey identifies a usage record by what the service echoes unchanged,
// leaving out the timestamp, whose notation the service may change.
func echoKey(rec any) string {
	r, _ := rec.(map[string]any)
	return fmt.Sprint(r["Dimension"], "|", r["Quantity"], "|", r["CustomerIdentifier"], "|",
		r["CustomerAWSAccountId"], "|", r["LicenseArn"], "|", fmt.Sprint(r["UsageAllocations"]))
}

func indexOfRecord(sent []any, rec any) int {
	if rec == nil {
		return -1
	}
	k := echoKey(rec)
	for j, s := range sent {
		if echoKey(s) == k {
			return j
		}
	}
	return -1
}

// echo returns the recorded body of interaction i adapted to the live
// request body, or the recorded body when no rewrite applies.
func (s *Server) echo(i int, op string, liveBody []byte) []byte {
	resp := &s.responses[i]
	rw := rewrites[op]
	if rw == nil {
		return resp.body
	}
	plan := s.plans[i]
	if plan == nil {
		return resp.body
	}
	live, err1 := cassettes.DecodeJSON(liveBody)
	recorded, err2 := cassettes.DecodeJSON(resp.body) // a private copy per request
	lm, ok1 := live.(map[string]any)
	rm, ok2 := recorded.(map[string]any)
	if err1 != nil || err2 != nil || !ok1 || !ok2 {
		return resp.body
	}
	rw.apply(plan, lm, rm)
	out, err := cassettes.EncodeJSON(rm)
	if err != nil {
		return resp.body
	}
	return out
}
