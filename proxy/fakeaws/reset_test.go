package fakeaws

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/marketplacemetering"
	"github.com/aws/aws-sdk-go-v2/service/marketplacemetering/types"
	"github.com/aws/smithy-go"

	"github.com/metervcr/metervcr/metering"
)

// pastHour is the start of the hour before the current one: usage in it is
// inside both usage windows, and stays in one hour whatever minute the
// test runs at.
func pastHour() time.Time { return time.Now().Truncate(time.Hour).Add(-time.Hour) }

// TestResetBetweenSubtests runs two subtests that meter the same product,
// dimension and hour with different quantities on one Service, as a suite
// sharing a server does: the second is a duplicate unless Reset runs
// between them.
func TestResetBetweenSubtests(t *testing.T) {
	t.Parallel()
	for _, suite := range []struct {
		name       string
		reset      bool
		secondCode string // error code of the second subtest, "" for a MeteringRecordId
	}{
		{"without Reset", false, metering.ErrDuplicateRequest},
		{"with Reset", true, ""},
	} {
		t.Run(suite.name, func(t *testing.T) {
			t.Parallel()
			svc, c := startSDK(t, plainKey)
			at := pastHour().Add(10 * time.Minute)
			for i, tt := range []struct {
				name     string
				quantity int32
				code     string
			}{
				{"first test, quantity 10", 10, ""},
				{"second test, quantity 11", 11, suite.secondCode},
			} {
				t.Run(tt.name, func(t *testing.T) {
					if suite.reset {
						t.Cleanup(svc.Reset)
					}
					out, err := c.MeterUsage(context.Background(), &marketplacemetering.MeterUsageInput{
						ProductCode: aws.String("prodcode123example"), UsageDimension: aws.String("requests"),
						UsageQuantity: aws.Int32(tt.quantity), Timestamp: aws.Time(at.Add(time.Duration(i) * time.Minute)),
					})
					if tt.code != "" {
						if code, _ := errCode(err); code != tt.code {
							t.Fatalf("MeterUsage(quantity %d) = %v, want %s", tt.quantity, err, tt.code)
						}
						return
					}
					if err != nil || !uuidRE.MatchString(aws.ToString(out.MeteringRecordId)) {
						t.Fatalf("MeterUsage(quantity %d) = %v, want a MeteringRecordId", tt.quantity, err)
					}
				})
			}
		})
	}
}

// errCode returns the API error code and message of err, "" when err is
// nil or not an API error.
func errCode(err error) (code, message string) {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode(), ae.ErrorMessage()
	}
	return "", ""
}

// TestResetForgetsEverything: after Reset, batch records, client tokens and
// the request log start afresh too; the configuration stays.
func TestResetForgetsEverything(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	svc, c := startSDK(t, plainKey)
	at := pastHour().Add(time.Minute)
	record := func(quantity int32) types.UsageRecord {
		return types.UsageRecord{CustomerIdentifier: aws.String("cust-EXAMPLE123"), Dimension: aws.String("users"),
			Quantity: aws.Int32(quantity), Timestamp: aws.Time(at)}
	}
	batchStatus := func(quantity int32) types.UsageRecordResultStatus {
		t.Helper()
		out, err := c.BatchMeterUsage(ctx, &marketplacemetering.BatchMeterUsageInput{
			ProductCode: aws.String("prodcode123example"), UsageRecords: []types.UsageRecord{record(quantity)}})
		if err != nil || len(out.Results) != 1 {
			t.Fatalf("BatchMeterUsage = %+v, %v; want one result", out, err)
		}
		return out.Results[0].Status
	}
	meter := func(quantity int32) error {
		_, err := c.MeterUsage(ctx, &marketplacemetering.MeterUsageInput{
			ProductCode: aws.String("prodcode123example"), UsageDimension: aws.String("requests"),
			UsageQuantity: aws.Int32(quantity), Timestamp: aws.Time(at), ClientToken: aws.String("token-0001"),
		})
		return err
	}
	if got := batchStatus(3); got != types.UsageRecordResultStatusSuccess {
		t.Fatalf("first batch record: %s, want Success", got)
	}
	if err := meter(1); err != nil {
		t.Fatalf("MeterUsage with a ClientToken: %v", err)
	}
	if got := batchStatus(4); got != types.UsageRecordResultStatusDuplicateRecord {
		t.Errorf("batch record with another quantity before Reset: %s, want DuplicateRecord", got)
	}
	if code, _ := errCode(meter(2)); code != metering.ErrIdempotencyConflict {
		t.Errorf("ClientToken reused with another quantity before Reset: %s, want %s", code, metering.ErrIdempotencyConflict)
	}

	svc.Reset()
	if got := svc.Requests(); len(got) != 0 {
		t.Errorf("Requests() after Reset = %+v, want none", got)
	}
	if got := batchStatus(4); got != types.UsageRecordResultStatusSuccess {
		t.Errorf("batch record with another quantity after Reset: %s, want Success", got)
	}
	if err := meter(2); err != nil {
		t.Errorf("ClientToken reused with another quantity after Reset: %v, want a MeteringRecordId", err)
	}
	if _, err := c.ResolveCustomer(ctx, &marketplacemetering.ResolveCustomerInput{RegistrationToken: aws.String(DefaultCustomers()[0].Token)}); err != nil {
		t.Errorf("ResolveCustomer(%s) after Reset: %v, want the configured customer", DefaultCustomers()[0].Token, err)
	}
	if got := svc.Requests(); len(got) != 3 {
		t.Errorf("Requests() after Reset and 3 calls = %+v, want 3", got)
	}
}

// TestResetEndpoint: only POST resets, and the endpoint is no Metering
// operation: it needs no signature, whatever headers it carries, and is
// not logged as a request.
func TestResetEndpoint(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		method     string
		target     string // X-Amz-Target, to show it is not read
		wantStatus int
		wantReset  bool
	}{
		{"POST", http.MethodPost, "", http.StatusNoContent, true},
		{"POST with a Metering target", http.MethodPost, metering.Target(metering.MeterUsage), http.StatusNoContent, true},
		{"GET", http.MethodGet, "", http.StatusMethodNotAllowed, false},
		{"PUT", http.MethodPut, "", http.StatusMethodNotAllowed, false},
		{"DELETE", http.MethodDelete, "", http.StatusMethodNotAllowed, false},
		{"HEAD", http.MethodHead, "", http.StatusMethodNotAllowed, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			svc := New(Config{Now: func() time.Time { return testNow }})
			srv := httptest.NewServer(svc.WithReset(svc))
			t.Cleanup(srv.Close)
			if a := send(t, srv, rawRequest{}.build(t, srv)); a.status != http.StatusOK {
				t.Fatalf("MeterUsage: %d %s, want 200", a.status, a.code)
			}
			req, err := http.NewRequest(tt.method, srv.URL+ResetPath, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.target != "" {
				req.Header.Set(metering.HeaderTarget, tt.target)
				req.Header.Set("Content-Type", metering.ContentType)
			}
			a := send(t, srv, req)
			if a.status != tt.wantStatus {
				t.Errorf("%s %s: status %d, want %d", tt.method, ResetPath, a.status, tt.wantStatus)
			}
			if allow := a.header.Get("Allow"); tt.wantStatus == http.StatusMethodNotAllowed && allow != http.MethodPost {
				t.Errorf("%s %s: Allow %q, want POST", tt.method, ResetPath, allow)
			}
			if a.code != "" {
				t.Errorf("%s %s: error type %s, want none: the path is not a Metering operation", tt.method, ResetPath, a.code)
			}
			wantSeen := 1
			if tt.wantReset {
				wantSeen = 0
			}
			if got := svc.Requests(); len(got) != wantSeen {
				t.Errorf("Requests() after %s %s = %+v, want %d", tt.method, ResetPath, got, wantSeen)
			}
		})
	}
}

// TestResetPassesOtherPaths: WithReset leaves every other path to the
// handler it wraps.
func TestResetPassesOtherPaths(t *testing.T) {
	t.Parallel()
	svc := New(Config{Now: func() time.Time { return testNow }})
	srv := httptest.NewServer(svc.WithReset(svc))
	t.Cleanup(srv.Close)
	for _, path := range []string{"/", ResetPath + "/", "/_metervcr/resets"} {
		a := send(t, srv, rawRequest{path: path}.build(t, srv))
		want := http.StatusNotFound
		if path == "/" {
			want = http.StatusOK
		}
		if a.status != want {
			t.Errorf("MeterUsage at %s: status %d, want %d from the Service", path, a.status, want)
		}
	}
	if got := len(svc.Requests()); got != 3 {
		t.Errorf("Requests() holds %d requests, want the 3 passed on", got)
	}
}

// TestResetWhileRequestsInFlight resets over HTTP while clients meter the
// same usage with several quantities; the race detector checks the
// locking, and every answer is one the service can give.
func TestResetWhileRequestsInFlight(t *testing.T) {
	t.Parallel()
	svc := New(Config{})
	srv := httptest.NewServer(svc.WithReset(svc))
	t.Cleanup(srv.Close)
	c := clientFor(srv, plainKey)
	at := pastHour().Add(time.Minute)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := range 4 {
		wg.Go(func() {
			for i := range 25 {
				_, err := c.MeterUsage(context.Background(), &marketplacemetering.MeterUsageInput{
					ProductCode: aws.String("prodcode123example"), UsageDimension: aws.String("requests"),
					UsageQuantity: aws.Int32(int32(w)), Timestamp: aws.Time(at.Add(time.Duration(i) * time.Second)),
				})
				if code, _ := errCode(err); err != nil && code != metering.ErrDuplicateRequest {
					errs <- err
					return
				}
			}
		})
		wg.Go(func() {
			for range 25 {
				_, err := c.BatchMeterUsage(context.Background(), &marketplacemetering.BatchMeterUsageInput{
					ProductCode: aws.String("prodcode123example"), UsageRecords: []types.UsageRecord{{
						CustomerIdentifier: aws.String("cust-EXAMPLE123"), Dimension: aws.String("users"),
						Quantity: aws.Int32(int32(w)), Timestamp: aws.Time(at)}},
				})
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Go(func() {
		for range 50 {
			resp, err := srv.Client().Post(srv.URL+ResetPath, "", nil)
			if err != nil {
				errs <- err
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusNoContent {
				errs <- errors.New("POST " + ResetPath + ": " + resp.Status + ", want 204")
				return
			}
			svc.Requests()
		}
	})
	wg.Wait()
	close(errs)
	var msgs []string
	for err := range errs {
		msgs = append(msgs, err.Error())
	}
	if len(msgs) > 0 {
		t.Errorf("calls during resets failed, want only MeteringRecordIds, DuplicateRequestException and batch results:\n%s", strings.Join(msgs, "\n"))
	}
	for _, s := range svc.Requests() {
		if s.Status != http.StatusOK && s.ErrorCode != metering.ErrDuplicateRequest {
			t.Errorf("Requests() holds %+v, want 200 or %s", s, metering.ErrDuplicateRequest)
		}
	}
}
