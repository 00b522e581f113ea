package proxy_test

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	mm "github.com/aws/aws-sdk-go-v2/service/marketplacemetering"

	"github.com/metervcr/metervcr/cassettes"
	"github.com/metervcr/metervcr/metering"
	"github.com/metervcr/metervcr/proxy"
)

// junitReport is the shape of a JUnit XML report as CI reporters read it.
type junitReport struct {
	XMLName  xml.Name `xml:"testsuites"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Suites   []struct {
		Name     string `xml:"name,attr"`
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Cases    []struct {
			Name      string `xml:"name,attr"`
			Classname string `xml:"classname,attr"`
			Failure   *struct {
				Message string `xml:"message,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

// junitCase is one parsed test case: its name and, when it fails, its
// failure message ("" when it passes).
type junitCase struct{ name, failure string }

// parseJUnit parses data as a JUnit report of one suite named suite, checks
// that its counts agree with its test cases, and returns them.
func parseJUnit(t *testing.T, data []byte, suite string) []junitCase {
	t.Helper()
	if !bytes.HasPrefix(data, []byte(xml.Header)) {
		t.Errorf("report starts %.40q, want the XML header", data)
	}
	var rep junitReport
	if err := xml.Unmarshal(data, &rep); err != nil {
		t.Fatalf("parsing the report: %v\n%s", err, data)
	}
	if len(rep.Suites) != 1 {
		t.Fatalf("%d test suites, want 1:\n%s", len(rep.Suites), data)
	}
	s := rep.Suites[0]
	if s.Name != suite {
		t.Errorf("suite name %q, want %q", s.Name, suite)
	}
	var cases []junitCase
	failures := 0
	for _, c := range s.Cases {
		jc := junitCase{name: c.Name}
		if c.Failure != nil {
			failures++
			jc.failure = c.Failure.Message
			if c.Failure.Message == "" || c.Failure.Text != c.Failure.Message {
				t.Errorf("failure of %q: message %q, text %q; want the same reason in both", c.Name, c.Failure.Message, c.Failure.Text)
			}
		}
		if c.Classname == "" {
			t.Errorf("test case %q has no classname", c.Name)
		}
		cases = append(cases, jc)
	}
	if s.Tests != len(s.Cases) || rep.Tests != len(s.Cases) {
		t.Errorf("tests = %d (suite) and %d (suites), want %d, the number of test cases", s.Tests, rep.Tests, len(s.Cases))
	}
	if s.Failures != failures || rep.Failures != failures {
		t.Errorf("failures = %d (suite) and %d (suites), want %d, the number of failing test cases", s.Failures, rep.Failures, failures)
	}
	return cases
}

func TestSummaryWriteJUnit(t *testing.T) {
	t.Parallel()
	miss := proxy.Problem{Operation: "MeterUsage", Code: metering.ErrNoRecordedInteraction, Count: 3,
		Reason: `no recorded interaction matches; closest is interaction 0 (MeterUsage), which differs in: UsageDimension (recorded "a", got "<b>&")`}
	refusal := proxy.Problem{Operation: "BatchMeterUsage", Refused: true, Code: "InvalidSignatureException", Count: 1,
		Reason: "Signature expired", Relax: "--aws-checks metering"}
	tests := []struct {
		name string
		sum  proxy.Summary
		want []junitCase
	}{
		{"clean", proxy.Summary{}, []junitCase{{"every request matched a recording and every recording was used", ""}}},
		{"miss", proxy.Summary{Misses: []string{"MeterUsage", "MeterUsage", "MeterUsage"}, Problems: []proxy.Problem{miss}},
			[]junitCase{{"MeterUsage: no recording matches (3 request(s))", miss.String()}}},
		{"refusal", proxy.Summary{Refused: []string{"BatchMeterUsage"}, Problems: []proxy.Problem{refusal}},
			[]junitCase{{"BatchMeterUsage: refused with InvalidSignatureException (1 request(s))", refusal.String()}}},
		{"unused", proxy.Summary{Unused: []proxy.Unused{{Index: 4, Operation: "BatchMeterUsage"}}},
			[]junitCase{{"interaction 4 BatchMeterUsage never used",
				"recorded interaction 4 (BatchMeterUsage) was never used: no request matched it; re-record the cassette or make the call"}}},
		{"unlisted", proxy.Summary{Misses: []string{"MeterUsage", "MeterUsage"}, Unlisted: 2},
			[]junitCase{{"2 request(s) for reasons not listed",
				"2 request(s) missed or were refused for reasons not listed: the run had more distinct reasons than the summary keeps"}}},
		{"all", proxy.Summary{Problems: []proxy.Problem{miss, refusal}, Unused: []proxy.Unused{{Index: 0, Operation: "MeterUsage"}}},
			[]junitCase{{"MeterUsage: no recording matches (3 request(s))", miss.String()},
				{"BatchMeterUsage: refused with InvalidSignatureException (1 request(s))", refusal.String()},
				{"interaction 0 MeterUsage never used",
					"recorded interaction 0 (MeterUsage) was never used: no request matched it; re-record the cassette or make the call"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var b bytes.Buffer
			if err := tt.sum.WriteJUnit(&b, "metervcr replay testdata/metering.yaml"); err != nil {
				t.Fatalf("WriteJUnit: %v", err)
			}
			got := parseJUnit(t, b.Bytes(), "metervcr replay testdata/metering.yaml")
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("test cases:\n%q\nwant\n%q\nreport:\n%s", got, tt.want, b.String())
			}
		})
	}
}

// failingWriter fails every write.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, io.ErrShortWrite }

func TestSummaryWriteJUnitReportsWriteErrors(t *testing.T) {
	t.Parallel()
	if err := (proxy.Summary{}).WriteJUnit(failingWriter{}, "suite"); err == nil {
		t.Fatal("WriteJUnit to a failing writer: nil error, want one")
	}
}

// TestTestServerSummaryAsJUnit replays the demo cassette in process with
// one call that misses: the report of the server's summary fails that
// miss, with the reason the summary prints, and every recording left
// unused.
func TestTestServerSummaryAsJUnit(t *testing.T) {
	t.Parallel()
	ts := demoServer(t, proxy.ChecksOff, slog.LevelError, io.Discard)
	c := mm.NewFromConfig(ts.AWSConfig(), func(o *mm.Options) { o.RetryMaxAttempts = 1 })
	if err := meterQ(c, cassettes.DemoDimension, cassettes.DemoQuantity+1, time.Now()); errorCode(err) != metering.ErrNoRecordedInteraction {
		t.Fatalf("MeterUsage of an unrecorded quantity: %v, want %s", err, metering.ErrNoRecordedInteraction)
	}
	sum := ts.Server.Summary()
	var b bytes.Buffer
	if err := sum.WriteJUnit(&b, "demo"); err != nil {
		t.Fatalf("WriteJUnit: %v", err)
	}
	got := parseJUnit(t, b.Bytes(), "demo")
	if len(sum.Problems) != 1 || len(got) != 1+len(sum.Unused) || len(sum.Unused) == 0 {
		t.Fatalf("%d test cases for %d problems and %d unused recordings, want 1 problem, some unused and a case for each:\n%s",
			len(got), len(sum.Problems), len(sum.Unused), b.String())
	}
	if want := "MeterUsage: no recording matches (1 request(s))"; got[0].name != want || got[0].failure != sum.Problems[0].String() {
		t.Errorf("first test case %+v, want %q failing with %q", got[0], want, sum.Problems[0].String())
	}
	if !strings.Contains(got[0].failure, "UsageQuantity (recorded 10, got 11)") {
		t.Errorf("failure %q lacks the differing field", got[0].failure)
	}
	for i, u := range sum.Unused {
		if want := fmt.Sprintf("interaction %d %s never used", u.Index, u.Operation); got[1+i].name != want || got[1+i].failure == "" {
			t.Errorf("test case %d: %+v, want %q failing", 1+i, got[1+i], want)
		}
	}
}
