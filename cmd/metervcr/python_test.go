package main

import (
	"encoding/hex"
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/metervcr/metervcr/metering"
	"github.com/metervcr/metervcr/proxy"
	"github.com/metervcr/metervcr/proxy/fakeaws"
)

// TestBoto3ReplaysGoCassette: a cassette the Go SDK recorded replays all
// four operations for boto3 in both modes, on a CI runner that did not
// record: with endpoint_url, and unchanged behind HTTPS_PROXY trusting the
// proxy's CA through AWS_CA_BUNDLE. Recorded and unrecorded errors arrive
// as boto3 shows any AWS error: a ClientError with the code and the HTTP
// status.
func TestBoto3ReplaysGoCassette(t *testing.T) {
	t.Parallel()
	key := []byte("python test placeholder key")
	fake := httptest.NewServer(fakeaws.New(fakeaws.Config{}))
	path := filepath.Join(t.TempDir(), "go.yaml")
	rec := start(t, append(recordEnv(t), "METERVCR_REDACTION_KEY="+hex.EncodeToString(key)), "record", "--cassette", path, "--upstream", fake.URL)
	now := time.Now()
	calls := session(now)
	recorded := runGo(t, rec.URL, calls)
	checkAnswers(t, "Go SDK recording", calls, recorded)
	rec.stop(t)
	fake.Close()

	caDir := t.TempDir()
	rep := start(t, append(freshEnv(t), "METERVCR_CA_DIR="+caDir), "replay", "--cassette", path)
	later := now.Add(-time.Hour)
	replayCalls := append(session(later), missCall(later))
	want := redactAnswers(t, key, calls, recorded)
	modes := []struct {
		name string
		args []string
		env  []string
	}{
		{"endpoint_url", []string{rep.URL}, nil},
		{"HTTPS_PROXY", nil, []string{"HTTPS_PROXY=" + rep.URL, "AWS_CA_BUNDLE=" + filepath.Join(caDir, proxy.CACertFile), "NO_PROXY="}},
	}
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			got := runPythonWith(t, mode.args, mode.env, replayCalls)
			checkAnswers(t, "boto3 replay", replayCalls, got)
			for i, w := range want {
				// botocore 1.29's model predates LicenseArn.
				w.Output = withoutMembers(w.Output, "LicenseArn")
				if got[i] != w {
					t.Errorf("boto3 call %d:\n got %v\nwant %v", i, got[i], w)
				}
			}
			checkStatuses(t, "boto3 replay", got)
		})
	}
	if code := rep.stop(t); code != 0 {
		t.Errorf("replay exit %d, want 0; stderr:\n%s", code, rep.stderr)
	}
}

// TestBoto3AgainstMock: metervcr mock with no flags answers boto3 with a
// new user's own product, dimension and registration token: the token
// resolves to the customer derived from it, whose usage BatchMeterUsage
// then accepts.
func TestBoto3AgainstMock(t *testing.T) {
	t.Parallel()
	p := start(t, nil, "mock")
	ts := time.Now().UTC().Format(time.RFC3339)
	calls := []call{
		{Op: metering.MeterUsage, Input: map[string]any{"ProductCode": ownProduct, "UsageDimension": ownDimension, "UsageQuantity": 4, "Timestamp": ts}},
		{Op: metering.ResolveCustomer, Input: map[string]any{"RegistrationToken": ownToken}},
	}
	got := runPython(t, p.URL, calls)
	checkAnswers(t, "boto3 against mock", calls, got)
	var resolved struct{ CustomerIdentifier, CustomerAWSAccountId, ProductCode string }
	if err := json.Unmarshal([]byte(got[1].Output), &resolved); err != nil {
		t.Fatalf("ResolveCustomer output %q: %v", got[1].Output, err)
	}
	want := fakeaws.DeriveCustomer(ownToken)
	if resolved.CustomerIdentifier != want.CustomerIdentifier || resolved.CustomerAWSAccountId != want.CustomerAWSAccountID || resolved.ProductCode != want.ProductCode {
		t.Errorf("ResolveCustomer(%s) = %+v, want the derived %v", ownToken, resolved, want)
	}

	batch := []call{{Op: metering.BatchMeterUsage, Input: map[string]any{"ProductCode": resolved.ProductCode, "UsageRecords": []any{
		map[string]any{"CustomerIdentifier": resolved.CustomerIdentifier, "Dimension": ownDimension, "Quantity": 2, "Timestamp": ts},
	}}}}
	got = runPython(t, p.URL, batch)
	checkAnswers(t, "boto3 against mock", batch, got)
	var out struct {
		Results []struct{ Status, MeteringRecordId string }
	}
	if err := json.Unmarshal([]byte(got[0].Output), &out); err != nil {
		t.Fatalf("BatchMeterUsage output %q: %v", got[0].Output, err)
	}
	if len(out.Results) != 1 || out.Results[0].Status != "Success" || out.Results[0].MeteringRecordId == "" {
		t.Errorf("BatchMeterUsage for %s = %s, want one Success with a record id", resolved.CustomerIdentifier, got[0].Output)
	}
}
