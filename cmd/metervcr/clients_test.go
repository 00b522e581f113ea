package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sync"
	"testing"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	mm "github.com/aws/aws-sdk-go-v2/service/marketplacemetering"
	"github.com/aws/smithy-go"

	"github.com/metervcr/metervcr/cassettes"
	"github.com/metervcr/metervcr/metering"
	"github.com/metervcr/metervcr/proxy/fakeaws"
)

// This file drives the four clients that users test with (the Go SDK, the
// AWS CLI, the JavaScript SDK and boto3) through one list of calls given as data,
// and reduces what each client shows to one comparable form.

// call is one Metering call: the operation and its input as the API's JSON
// members, with usage timestamps as RFC 3339 strings.
type call struct {
	Op    string         `json:"op"`
	Input map[string]any `json:"input"`
	// WantError is the error code the call answers with, "" for success.
	WantError string `json:"-"`
}

// answer is what a client showed for one call.
type answer struct {
	Op string
	// Output is the call's output as canonical JSON: members that are null
	// or absent in one client's rendering, SDK metadata and usage
	// timestamps (rendered differently by each client, and echoed from the
	// request) are left out.
	Output string
	// Error is the error code as the client shows it: smithy's ErrorCode in
	// Go, the "An error occurred (Code)" of the CLI, error.name in
	// JavaScript, ClientError's Error.Code in Python.
	Error string
	// Status is the HTTP status the client reports, 0 when it shows none
	// (the CLI) or on success.
	Status int
}

func (a answer) String() string {
	if a.Error != "" {
		return fmt.Sprintf("%s: error %s (HTTP %d)", a.Op, a.Error, a.Status)
	}
	return a.Op + ": " + a.Output
}

// session is a seller's session covering the four operations, two recorded
// errors included, with usage timestamps taken at now.
func session(now time.Time) []call {
	ts := now.UTC().Format("2006-01-02T15:04:05.000Z07:00")
	customer := fakeaws.DefaultCustomers()[0]
	return []call{
		{Op: metering.MeterUsage, Input: map[string]any{"ProductCode": cassettes.DemoProduct, "UsageDimension": "requests",
			"UsageQuantity": 10, "Timestamp": ts}},
		{Op: metering.MeterUsage, Input: map[string]any{"ProductCode": fakeaws.ThrottledProduct, "UsageDimension": "requests",
			"UsageQuantity": 1, "Timestamp": ts}, WantError: metering.ErrThrottling},
		{Op: metering.BatchMeterUsage, Input: map[string]any{"ProductCode": customer.ProductCode, "UsageRecords": []any{
			map[string]any{"CustomerIdentifier": customer.CustomerIdentifier, "Dimension": "users", "Quantity": 3, "Timestamp": ts},
			map[string]any{"CustomerIdentifier": customer.CustomerIdentifier, "Dimension": "admins", "Quantity": 1, "Timestamp": ts},
		}}},
		{Op: metering.ResolveCustomer, Input: map[string]any{"RegistrationToken": customer.Token}},
		{Op: metering.ResolveCustomer, Input: map[string]any{"RegistrationToken": "not-a-real-token"}, WantError: metering.ErrInvalidToken},
		{Op: metering.RegisterUsage, Input: map[string]any{"ProductCode": cassettes.DemoProduct, "PublicKeyVersion": 1,
			"Nonce": "nonce-" + now.Format(time.RFC3339Nano)}},
	}
}

// missCall is a call no session records.
func missCall(now time.Time) call {
	return call{Op: metering.MeterUsage, Input: map[string]any{"ProductCode": cassettes.DemoProduct, "UsageDimension": "requests",
		"UsageQuantity": 11, "Timestamp": now.UTC().Format(time.RFC3339)}, WantError: metering.ErrNoRecordedInteraction}
}

// A client runs calls against a Metering endpoint and reports what it
// showed, one answer per call.
type client struct {
	name string
	run  func(t *testing.T, endpoint string, calls []call) []answer
}

var clients = []client{{"go", runGo}, {"cli", runCLI}, {"js", runJS}, {"python", runPython}}

// clientCreds is the key pair every client signs with: the proxy strips
// the signature when recording, and replay ignores it.
var clientCreds = fakeaws.Credential{AccessKeyID: "AKIAI44QH8DHBEXAMPLE", SecretAccessKey: "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY"}

// runGo makes the calls with the Go SDK, one attempt each.
func runGo(t *testing.T, endpoint string, calls []call) []answer {
	t.Helper()
	return runGoWith(t, sdk(endpoint), calls)
}

// runGoWith makes the calls with the Go SDK client c.
func runGoWith(t *testing.T, c *mm.Client, calls []call) []answer {
	t.Helper()
	ctx := context.Background()
	out := make([]answer, len(calls))
	for i, cl := range calls {
		b, err := json.Marshal(cl.Input)
		if err != nil {
			t.Fatal(err)
		}
		var v any
		switch cl.Op {
		case metering.MeterUsage:
			in := &mm.MeterUsageInput{}
			if err = json.Unmarshal(b, in); err == nil {
				v, err = c.MeterUsage(ctx, in)
			}
		case metering.BatchMeterUsage:
			in := &mm.BatchMeterUsageInput{}
			if err = json.Unmarshal(b, in); err == nil {
				v, err = c.BatchMeterUsage(ctx, in)
			}
		case metering.ResolveCustomer:
			in := &mm.ResolveCustomerInput{}
			if err = json.Unmarshal(b, in); err == nil {
				v, err = c.ResolveCustomer(ctx, in)
			}
		default:
			in := &mm.RegisterUsageInput{}
			if err = json.Unmarshal(b, in); err == nil {
				v, err = c.RegisterUsage(ctx, in)
			}
		}
		out[i] = answer{Op: cl.Op}
		var api smithy.APIError
		var resp *awshttp.ResponseError
		switch {
		case errors.As(err, &api):
			out[i].Error = api.ErrorCode()
			if errors.As(err, &resp) {
				out[i].Status = resp.HTTPStatusCode()
			}
		case err != nil:
			t.Fatalf("Go SDK %s: %v", cl.Op, err)
		default:
			if out[i].Output, err = canonicalOutput(mustJSON(t, v)); err != nil {
				t.Fatalf("Go SDK %s: %v", cl.Op, err)
			}
		}
	}
	return out
}

var cliError = regexp.MustCompile(`An error occurred \(([^)]+)\)`)

// cliCommands are the AWS CLI commands of the operations.
var cliCommands = map[string]string{
	metering.MeterUsage: "meter-usage", metering.BatchMeterUsage: "batch-meter-usage",
	metering.ResolveCustomer: "resolve-customer", metering.RegisterUsage: "register-usage",
}

// runCLI makes the calls with Debian's AWS CLI, one process per call, as
// a shell script would, with the input as --cli-input-json. The processes
// run side by side: the CLI spends half a second of CPU starting up.
func runCLI(t *testing.T, endpoint string, calls []call) []answer {
	t.Helper()
	home := t.TempDir()
	out := make([]answer, len(calls))
	errs := make([]error, len(calls))
	sem := make(chan struct{}, runtime.NumCPU())
	var wg sync.WaitGroup
	for i, cl := range calls {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			out[i], errs[i] = cliCall(home, endpoint, cl)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	return out
}

// cliCall runs one call with the AWS CLI, in a clean environment.
func cliCall(home, endpoint string, cl call) (answer, error) {
	input, err := json.Marshal(cl.Input)
	if err != nil {
		return answer{}, err
	}
	command := cliCommands[cl.Op]
	cmd := exec.Command(debianAWS, "--endpoint-url", endpoint, "--region", "us-east-1", "--output", "json",
		"meteringmarketplace", command, "--cli-input-json", string(input))
	cmd.Env = []string{
		"HOME=" + home, "PATH=/usr/bin:/bin",
		"AWS_ACCESS_KEY_ID=" + clientCreds.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + clientCreds.SecretAccessKey,
		"AWS_CONFIG_FILE=" + filepath.Join(home, "none"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "none"),
		"AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER=", "AWS_MAX_ATTEMPTS=1",
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	a := answer{Op: cl.Op}
	var exit *exec.ExitError
	switch {
	case err == nil:
		if a.Output, err = canonicalOutput(stdout.Bytes()); err != nil {
			return a, fmt.Errorf("aws meteringmarketplace %s: %w", command, err)
		}
	case errors.As(err, &exit):
		// The CLI reports a service error on stderr and exits 254.
		m := cliError.FindStringSubmatch(stderr.String())
		if m == nil || exit.ExitCode() != 254 {
			return a, fmt.Errorf("aws meteringmarketplace %s: exit %d, want 254 and an AWS error:\n%s", command, exit.ExitCode(), stderr.String())
		}
		a.Error = m[1]
	default:
		return a, fmt.Errorf("running %s: %w (is Debian's awscli installed? .ci/run installs it)", debianAWS, err)
	}
	return a, nil
}

// jsDir holds the JavaScript tests and their node_modules (make test runs
// npm ci there).
const jsDir = "../../tests/js"

// scriptResult is one result of tests/js/metering.mjs or
// tests/python/metering.py, which print the same shape.
type scriptResult struct {
	Op     string          `json:"op"`
	Output json.RawMessage `json:"output"`
	Error  *struct {
		Name   string `json:"name"`
		Status int    `json:"status"`
	} `json:"error"`
}

// runJS makes the calls with the JavaScript SDK v3 in one node process.
func runJS(t *testing.T, endpoint string, calls []call) []answer {
	t.Helper()
	return runJSWith(t, []string{endpoint}, nil, calls)
}

// runJSWith runs tests/js/metering.mjs with args and extra environment.
func runJSWith(t *testing.T, args, env []string, calls []call) []answer {
	t.Helper()
	if _, err := os.Stat(filepath.Join(jsDir, "node_modules", "@aws-sdk", "client-marketplace-metering")); err != nil {
		t.Fatalf("the JavaScript SDK is not installed (%v); run: npm ci --prefix tests/js (make test does)", err)
	}
	cmd := exec.Command("node", append([]string{filepath.Join(jsDir, "metering.mjs")}, args...)...)
	return runScript(t, "JavaScript SDK", cmd, append([]string{"PATH=" + os.Getenv("PATH")}, env...), calls)
}

// runScript runs cmd, a client script, in a clean environment with the
// client key pair, us-east-1 and env, gives it the calls on stdin, and
// reads its results.
func runScript(t *testing.T, who string, cmd *exec.Cmd, env []string, calls []call) []answer {
	t.Helper()
	home := t.TempDir()
	cmd.Env = append([]string{
		"HOME=" + home, "AWS_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=" + clientCreds.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + clientCreds.SecretAccessKey,
		"AWS_CONFIG_FILE=" + filepath.Join(home, "none"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "none"),
		"AWS_EC2_METADATA_DISABLED=true",
	}, env...)
	cmd.Stdin = bytes.NewReader(mustJSON(t, calls))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, stderr.String())
	}
	var results []scriptResult
	if err := json.Unmarshal(stdout.Bytes(), &results); err != nil || len(results) != len(calls) {
		t.Fatalf("%s printed %q (%v), want %d results; stderr:\n%s", cmd, stdout.String(), err, len(calls), stderr.String())
	}
	out := make([]answer, len(results))
	for i, r := range results {
		out[i] = answer{Op: r.Op}
		if r.Error != nil {
			out[i].Error, out[i].Status = r.Error.Name, r.Error.Status
			continue
		}
		var err error
		if out[i].Output, err = canonicalOutput(r.Output); err != nil {
			t.Fatalf("%s %s: %v", who, r.Op, err)
		}
	}
	return out
}

// canonicalOutput reduces a client's rendering of an output to canonical
// JSON (see answer.Output).
func canonicalOutput(rendered []byte) (string, error) {
	doc, err := cassettes.DecodeJSON(rendered)
	if err != nil {
		return "", fmt.Errorf("output is not JSON: %w\n%s", err, rendered)
	}
	out, err := cassettes.EncodeJSON(prune(doc))
	return string(out), err
}

// withoutMembers returns canonical output JSON without the named members
// at any depth.
func withoutMembers(output string, names ...string) string {
	doc, err := cassettes.DecodeJSON([]byte(output))
	if err != nil {
		return output
	}
	var drop func(any)
	drop = func(v any) {
		switch t := v.(type) {
		case map[string]any:
			for _, n := range names {
				delete(t, n)
			}
			for _, el := range t {
				drop(el)
			}
		case []any:
			for _, el := range t {
				drop(el)
			}
		}
	}
	drop(doc)
	out, _ := cassettes.EncodeJSON(doc)
	return string(out)
}

// prune drops nulls, metadata and timestamps from a decoded document.
func prune(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, el := range t {
			switch {
			case el == nil, k == "ResultMetadata", k == "Timestamp", k == "PublicKeyRotationTimestamp":
				delete(t, k)
			default:
				t[k] = prune(el)
			}
		}
	case []any:
		for i, el := range t {
			t[i] = prune(el)
		}
	}
	return v
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkAnswers fails t unless each answer has the error its call wants,
// and no other.
func checkAnswers(t *testing.T, who string, calls []call, got []answer) {
	t.Helper()
	for i, cl := range calls {
		if got[i].Op != cl.Op || got[i].Error != cl.WantError {
			t.Errorf("%s, call %d: %v; want %s with error %q", who, i, got[i], cl.Op, cl.WantError)
		}
	}
}

// checkStatuses fails t unless each error answer carries the HTTP status
// its code is answered with: 400 for the recorded errors, 404 for a miss.
func checkStatuses(t *testing.T, who string, got []answer) {
	t.Helper()
	statuses := map[string]int{metering.ErrThrottling: 400, metering.ErrInvalidToken: 400, metering.ErrNoRecordedInteraction: 404}
	for _, a := range got {
		if a.Error != "" && a.Status != statuses[a.Error] {
			t.Errorf("%s: %s surfaced with HTTP status %d, want %d", who, a.Error, a.Status, statuses[a.Error])
		}
	}
}
