package main

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	mm "github.com/aws/aws-sdk-go-v2/service/marketplacemetering"
)

// junitShape walks a JUnit XML report element by element: testsuites
// holds only testsuite elements, a testsuite only testcase elements, a
// testcase at most a failure. It returns the attributes of testsuites and
// of its one testsuite, and the name and failure message ("" when it
// passes) of each test case, in order.
func junitShape(t *testing.T, data []byte) (suites, suite map[string]string, cases []string) {
	t.Helper()
	parent := map[string]string{"testsuites": "", "testsuite": "testsuites", "testcase": "testsuite", "failure": "testcase"}
	var open []string // the elements enclosing the decoder's position
	dec := xml.NewDecoder(bytes.NewReader(data))
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("parsing the report: %v\n%s", err, data)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			in := ""
			if len(open) > 0 {
				in = open[len(open)-1]
			}
			if want, ok := parent[el.Name.Local]; !ok || want != in {
				t.Fatalf("element %s inside %q, want testsuites > testsuite > testcase > failure:\n%s", el.Name.Local, in, data)
			}
			attrs := map[string]string{}
			for _, a := range el.Attr {
				attrs[a.Name.Local] = a.Value
			}
			switch el.Name.Local {
			case "testsuites":
				suites = attrs
			case "testsuite":
				if suite != nil {
					t.Fatalf("more than one testsuite:\n%s", data)
				}
				suite = attrs
			case "testcase":
				cases = append(cases, attrs["name"], "")
			case "failure":
				cases[len(cases)-1] = attrs["message"]
			}
			open = append(open, el.Name.Local)
		case xml.EndElement:
			open = open[:len(open)-1]
		}
	}
	if suites == nil || suite == nil {
		t.Fatalf("no testsuites or no testsuite:\n%s", data)
	}
	return suites, suite, cases
}

// TestReplayJUnit records two calls, then replays them with --strict and
// --junit, stopped by SIGTERM: the report holds one suite named after the
// cassette whose counts agree with its test cases, a failing test case per
// miss, refusal and unused recording with the reason the summary prints,
// and one passing test case for a clean run. It is written whether the
// run exits 0 or 1.
func TestReplayJUnit(t *testing.T) {
	t.Parallel()
	path, stateDir := recordCalls(t, "one", "two")

	tests := []struct {
		name  string
		calls func(url string) // a miss or refusal is an expected error here
		exit  int
		cases []string // name, then failure message ("" when it passes), of each test case
	}{
		{"clean", func(u string) { meter(sdk(u), "one", 1); meter(sdk(u), "two", 1) }, 0,
			[]string{"every request matched a recording and every recording was used", ""}},
		{"miss", func(u string) {
			meter(sdk(u), "one", 1)
			meter(sdk(u), "two", 1)
			for range 3 {
				meter(sdk(u), "two", 2)
			}
		}, 1, []string{"MeterUsage: no recording matches (3 request(s))",
			"MeterUsage missed 3 time(s): no recorded interaction matches this MeterUsage request; closest is interaction 1 (MeterUsage), which differs in: UsageQuantity (recorded 1, got 2)"}},
		{"refusal", func(u string) {
			meter(sdk(u), "one", 1)
			meter(sdk(u), "two", 1)
			meter(sdk(u, func(o *mm.Options) { o.Region = "" }), "one", 1)
		}, 1, []string{"MeterUsage: refused with IncompleteSignatureException (1 request(s))",
			"MeterUsage refused 1 time(s): IncompleteSignatureException: the request was signed for no region: its credential scope names none," +
				" as SDKs sign when no region is configured; configure a region in the client: AWS_REGION=us-east-1 in its environment," +
				" --region for the AWS CLI, or the SDK's Region option; to let such calls through: --aws-checks metering (in Go, Config.Checks = proxy.ChecksMetering)"}},
		{"unused", func(u string) { meter(sdk(u), "one", 1) }, 1,
			[]string{"interaction 1 MeterUsage never used",
				"recorded interaction 1 (MeterUsage) was never used: no request matched it; re-record the cassette or make the call"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			report := filepath.Join(t.TempDir(), "reports", "metervcr.xml")
			p := start(t, []string{"METERVCR_CA_DIR=" + stateDir}, "replay", "--cassette", path, "--strict", "--junit", report)
			tt.calls(p.URL)
			if code := p.stop(t); code != tt.exit {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.exit, p.stderr)
			}
			data, err := os.ReadFile(report)
			if err != nil {
				t.Fatalf("reading the report: %v; stderr:\n%s", err, p.stderr)
			}
			suites, suite, got := junitShape(t, data)
			if want := "metervcr replay " + path; suite["name"] != want {
				t.Errorf("testsuite name %q, want %q", suite["name"], want)
			}
			failures := 0
			for i := 1; i < len(got); i += 2 {
				if got[i] != "" {
					failures++
				}
			}
			for _, attrs := range []map[string]string{suites, suite} {
				if attrs["tests"] != strconv.Itoa(len(got)/2) || attrs["failures"] != strconv.Itoa(failures) {
					t.Errorf("tests=%q failures=%q, want %d and %d, the test cases and the failing ones:\n%s",
						attrs["tests"], attrs["failures"], len(got)/2, failures, data)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.cases) {
				t.Errorf("test cases:\n%q\nwant\n%q\n%s", got, tt.cases, data)
			}
			if msg := tt.cases[1]; strings.Contains(msg, " time(s): ") && !strings.Contains(p.stderr.String(), "\n  "+msg) {
				t.Errorf("the summary lacks the failure message %q:\n%s", msg, p.stderr)
			}
			if tmp, _ := filepath.Glob(filepath.Join(filepath.Dir(report), ".*.tmp")); len(tmp) != 0 {
				t.Errorf("temporary files left beside the report: %q", tmp)
			}
		})
	}
}

// TestReplayJUnitNotWrittenWithoutServing starts replay on an address it
// cannot listen on: it exits 2 and writes no report.
func TestReplayJUnitNotWrittenWithoutServing(t *testing.T) {
	t.Parallel()
	report := filepath.Join(t.TempDir(), "metervcr.xml")
	cmd := exec.Command(binary, "replay", "--listen", "256.0.0.1:1", "--ca-dir", t.TempDir(), "--junit", report)
	out, _ := cmd.CombinedOutput() // the exit code below says how it ended
	if code := cmd.ProcessState.ExitCode(); code != exitUsage || !strings.Contains(string(out), "cannot listen") {
		t.Errorf("exit %d, want %d with \"cannot listen\"; output:\n%s", code, exitUsage, out)
	}
	if _, err := os.Stat(report); !os.IsNotExist(err) {
		t.Errorf("report after a server that never started: stat error %v, want none written", err)
	}
}
