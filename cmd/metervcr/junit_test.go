package main

import (
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	mm "github.com/aws/aws-sdk-go-v2/service/marketplacemetering"
)

// junitFile is the shape of a JUnit XML report as CI reporters read it.
type junitFile struct {
	XMLName  xml.Name `xml:"testsuites"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Suites   []struct {
		Name     string `xml:"name,attr"`
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Cases    []struct {
			Name    string `xml:"name,attr"`
			Failure *struct {
				Message string `xml:"message,attr"`
			} `xml:"failure"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
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
			var rep junitFile
			if err := xml.Unmarshal(data, &rep); err != nil {
				t.Fatalf("parsing the report: %v\n%s", err, data)
			}
			if len(rep.Suites) != 1 || rep.Suites[0].Name != "metervcr replay "+path {
				t.Fatalf("suites %+v, want one named %q:\n%s", rep.Suites, "metervcr replay "+path, data)
			}
			s := rep.Suites[0]
			var got []string
			failures := 0
			for _, c := range s.Cases {
				msg := ""
				if c.Failure != nil {
					failures++
					msg = c.Failure.Message
				}
				got = append(got, c.Name, msg)
			}
			if s.Tests != len(s.Cases) || rep.Tests != len(s.Cases) || s.Failures != failures || rep.Failures != failures {
				t.Errorf("tests %d/%d, failures %d/%d (suite/suites); want %d tests, %d failures:\n%s",
					s.Tests, rep.Tests, s.Failures, rep.Failures, len(s.Cases), failures, data)
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
