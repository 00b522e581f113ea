package fakeaws

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/metervcr/metervcr/metering"
)

// FuzzOperations feeds arbitrary bodies to every operation past the
// signature check: the fake must answer each with a status and, for
// errors, a code, and never panic.
func FuzzOperations(f *testing.F) {
	for _, seed := range []string{
		meterUsageBody,
		`{"UsageRecords":[{"CustomerIdentifier":"cust-EXAMPLE123","Dimension":"d","Timestamp":1767323046,"UsageAllocations":[{"AllocatedUsageQuantity":0,"Tags":[{"Key":"k","Value":"v"}]}]}]}`,
		`{"RegistrationToken":"FAKE-REGISTRATION-TOKEN-EXAMPLE"}`,
		`{"ProductCode":"prodcode123example","PublicKeyVersion":1,"Nonce":"n"}`,
		`{"UsageAllocations":[null,{"Tags":[1]}],"Timestamp":1e999}`,
		`{"UsageRecords":[{},[]]}`,
	} {
		f.Add(seed)
	}
	svc := New(Config{Now: func() time.Time { return testNow }})
	f.Fuzz(func(t *testing.T, body string) {
		for _, op := range metering.Operations() {
			in, err := decodeBody(body)
			if err != nil {
				continue
			}
			w := httptest.NewRecorder()
			var out any
			switch op {
			case metering.MeterUsage:
				out, err = svc.meterUsage(plainKey.AccessKeyID, in)
			case metering.BatchMeterUsage:
				out, err = svc.batchMeterUsage(in)
			case metering.ResolveCustomer:
				out, err = svc.resolveCustomer(in)
			default:
				out, err = svc.registerUsage(in)
			}
			status, code := respond(w, out, err)
			if status != w.Code || (status == http.StatusOK) != (code == "") {
				t.Fatalf("%s(%s): respond = %d %q, recorder %d", op, body, status, code, w.Code)
			}
			if status == http.StatusInternalServerError {
				t.Fatalf("%s(%s): internal error %v", op, body, err)
			}
		}
	})
}

// decodeBody parses body as parseProtocol does.
func decodeBody(body string) (members, error) {
	req := httptest.NewRequest(http.MethodPost, "/", nil)
	req.Header.Set("Content-Type", metering.ContentType)
	req.Header.Set(metering.HeaderTarget, metering.Target(metering.MeterUsage))
	_, in, err := parseProtocol(req, []byte(body))
	return in, err
}
