package proxy

import (
	"encoding/xml"
	"fmt"
	"io"
)

// The JUnit XML report: the element and attribute names that Jenkins,
// GitLab and GitHub Actions reporters read (testsuites, testsuite,
// testcase, failure), and nothing they would not.
type (
	junitSuites struct {
		XMLName  xml.Name     `xml:"testsuites"`
		Tests    int          `xml:"tests,attr"`
		Failures int          `xml:"failures,attr"`
		Errors   int          `xml:"errors,attr"`
		Suites   []junitSuite `xml:"testsuite"`
	}
	junitSuite struct {
		Name     string      `xml:"name,attr"`
		Tests    int         `xml:"tests,attr"`
		Failures int         `xml:"failures,attr"`
		Errors   int         `xml:"errors,attr"`
		Skipped  int         `xml:"skipped,attr"`
		Cases    []junitCase `xml:"testcase"`
	}
	junitCase struct {
		Name      string        `xml:"name,attr"`
		Classname string        `xml:"classname,attr"`
		Failure   *junitFailure `xml:"failure,omitempty"`
	}
	junitFailure struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr,omitempty"`
		Text    string `xml:",chardata"`
	}
)

// junitClean names the one test case of a run in which every request
// matched a recording and every recording was used.
const junitClean = "every request matched a recording and every recording was used"

// WriteJUnit writes the summary to w as a JUnit XML report: one test suite
// named suite, with a failing test case per distinct miss, per distinct
// refusal and per recording never used, one for the requests left out of
// Problems when there are any, and a single passing test case when there
// is nothing to report. Each failure carries the text String prints, so
// the report holds no more than the summary does: reasons are redacted.
func (sum Summary) WriteJUnit(w io.Writer, suite string) error {
	s := junitSuite{Name: suite}
	for _, p := range sum.Problems {
		text := p.String()
		name := fmt.Sprintf("%s: no recording matches (%d request(s))", p.Operation, p.Count)
		if p.Refused {
			name = fmt.Sprintf("%s: refused with %s (%d request(s))", p.Operation, p.Code, p.Count)
		}
		s.Cases = append(s.Cases, junitCase{Name: name, Classname: p.Operation,
			Failure: &junitFailure{Message: text, Type: p.Code, Text: text}})
	}
	if sum.Unlisted > 0 {
		text := fmt.Sprintf("%d request(s) missed or were refused for reasons not listed: the run had more distinct reasons than the summary keeps", sum.Unlisted)
		s.Cases = append(s.Cases, junitCase{Name: fmt.Sprintf("%d request(s) for reasons not listed", sum.Unlisted), Classname: "metervcr",
			Failure: &junitFailure{Message: text, Text: text}})
	}
	for _, u := range sum.Unused {
		text := fmt.Sprintf("recorded interaction %d (%s) was never used: no request matched it; re-record the cassette or make the call", u.Index, u.Operation)
		s.Cases = append(s.Cases, junitCase{Name: fmt.Sprintf("interaction %d %s never used", u.Index, u.Operation), Classname: u.Operation,
			Failure: &junitFailure{Message: text, Text: text}})
	}
	if len(s.Cases) == 0 {
		s.Cases = []junitCase{{Name: junitClean, Classname: "metervcr"}}
	}
	s.Tests = len(s.Cases)
	for _, c := range s.Cases {
		if c.Failure != nil {
			s.Failures++
		}
	}
	doc := junitSuites{Tests: s.Tests, Failures: s.Failures, Suites: []junitSuite{s}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("writing JUnit report: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("writing JUnit report: %w", err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("writing JUnit report: %w", err)
	}
	return nil
}
