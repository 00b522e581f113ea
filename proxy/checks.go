package proxy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/metervcr/metervcr/cassettes"
	"github.com/metervcr/metervcr/matcher"
	"github.com/metervcr/metervcr/metering"
)

// Checks selects the checks AWS would make that replay makes too, before
// matching, so an application that signs wrongly or meters outside the
// service's limits fails offline as it would online.
type Checks int

const (
	// ChecksOff checks nothing (the zero value).
	ChecksOff Checks = 0
	// ChecksSignature checks the SigV4 shape of every request: scheme,
	// service, region, credential-scope date, X-Amz-Date freshness and the
	// signed headers. The signature itself cannot be verified: replay
	// knows no secret.
	ChecksSignature Checks = 1 << iota
	// ChecksMetering checks the limits a cassette cannot know: at most 25
	// records per batch and usage timestamps within the service's windows
	// of now.
	ChecksMetering
	// ChecksAll is every check.
	ChecksAll = ChecksSignature | ChecksMetering
)

// ParseChecks parses all, signature, metering or off.
func ParseChecks(s string) (Checks, error) {
	switch strings.ToLower(s) {
	case "all":
		return ChecksAll, nil
	case "signature":
		return ChecksSignature, nil
	case "metering":
		return ChecksMetering, nil
	case "off", "none":
		return ChecksOff, nil
	}
	return 0, fmt.Errorf("unknown AWS checks %q: want all, signature, metering or off", s)
}

// goName is the name of c in Go code, for messages.
func (c Checks) goName() string {
	switch c {
	case ChecksAll:
		return "proxy.ChecksAll"
	case ChecksSignature:
		return "proxy.ChecksSignature"
	case ChecksMetering:
		return "proxy.ChecksMetering"
	}
	return "proxy.ChecksOff"
}

func (c Checks) String() string {
	switch c {
	case ChecksAll:
		return "all"
	case ChecksSignature:
		return "signature"
	case ChecksMetering:
		return "metering"
	case ChecksOff:
		return "off"
	}
	return fmt.Sprintf("Checks(%d)", int(c))
}

// checkAndMatch makes the configured checks on an exchange, then matches
// it. failed is a failed check: AWS refuses such a request before anything
// else, and no recording is taken for it. Otherwise err is matching's. The
// MeterUsage timestamp is read in the matcher's pass over the body, not in
// one of its own.
func (s *Server) checkAndMatch(ex *exchange, intercepted bool) (i int, failed, err error) {
	now := ex.start
	if s.checks != ChecksOff && !s.clockIsReal {
		now = s.now()
	}
	if s.checks&ChecksSignature != 0 {
		if err := checkSignature(ex.r, intercepted, s.regions, now); err != nil {
			return -1, err, nil
		}
	}
	req := matcher.Request{Method: ex.r.Method, Parsed: ex.r.URL, Header: ex.r.Header, Body: ex.body}
	if s.checks&ChecksMetering == 0 {
		i, err = s.index.Match(req)
		return i, nil, err
	}
	if ex.operation != metering.MeterUsage {
		if err := checkMetering(ex.operation, ex.body, now); err != nil {
			return -1, err, nil
		}
		i, err = s.index.Match(req)
		return i, nil, err
	}
	i, err = s.index.MatchChecked(req, "Timestamp", func(ts matcher.Field) error {
		switch {
		case !ts.Read:
			failed = checkMetering(ex.operation, ex.body, now)
		case ts.Found && !ts.IsString:
			failed = checkWindowText(ts.Text, now, metering.MeterUsageWindow)
		}
		return failed
	})
	if failed != nil {
		return -1, failed, nil
	}
	return i, nil, err
}

// checkRequest makes checks c on a request of operation op. regions, when
// not empty, are the regions a credential scope may name.
func checkRequest(c Checks, r *http.Request, op string, body []byte, intercepted bool, regions map[string]bool, now time.Time) error {
	if c&ChecksSignature != 0 {
		if err := checkSignature(r, intercepted, regions, now); err != nil {
			return err
		}
	}
	if c&ChecksMetering != 0 {
		return checkMetering(op, body, now)
	}
	return nil
}

// CheckHandler makes checks c on every Metering request before next sees
// it, answering a failed check as AWS would. mock uses it in front of the
// service model; a nil now means time.Now.
func CheckHandler(c Checks, now func() time.Time, next http.Handler) http.Handler {
	if now == nil {
		now = time.Now
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op, ok := metering.OperationFromTarget(r.Header.Get(metering.HeaderTarget))
		if !ok || c == ChecksOff {
			next.ServeHTTP(w, r) // the model answers unknown operations itself
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, metering.MaxBodyBytes))
		if err != nil {
			writeError(w, http.StatusRequestEntityTooLarge, metering.ErrRequestEntityTooLarge, err.Error())
			return
		}
		if err := checkRequest(c, r, op, body, false, nil, now()); err != nil {
			status, code, msg, _ := refusal(op, c, err)
			writeError(w, status, code, msg)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}

// refuse answers a request that a check refused, as AWS would, and says
// in the answer and the log that metervcr refused it and which setting
// lets it through.
func (s *Server) refuse(w http.ResponseWriter, op string, err error) outcome {
	status, code, msg, p := refusal(op, s.checks, err)
	writeError(w, status, code, msg)
	return outcome{action: "refused", status: status, index: -1, problem: p}
}

// refusal returns the status, code and client message of a request of
// operation op that checks c refused with err, and the problem to log and
// count. The message keeps AWS's words and adds metervcr's: that metervcr
// refused it, what to fix, and the setting that relaxes the check.
func refusal(op string, c Checks, err error) (status int, code, msg string, p *problem) {
	status, code, msg = statusOf(err)
	p = &problem{code: code, reason: msg, closest: -1}
	var se *statusError
	if !errors.As(err, &se) || se.check == 0 {
		return status, code, msg, p
	}
	relaxed := c &^ se.check
	p.detail = se.detail
	if se.fix != "" {
		p.detail += "; " + se.fix
	}
	p.relax = fmt.Sprintf("--aws-checks %s (in Go, Config.Checks = %s)", relaxed, relaxed.goName())
	var b strings.Builder
	fmt.Fprintf(&b, "metervcr refused this %s call as AWS would, before matching it: %s%s", op, msg, se.detail)
	if se.fix != "" {
		b.WriteString("; " + se.fix)
	}
	fmt.Fprintf(&b, "; metervcr makes AWS's %s checks (--aws-checks %s), and lets such calls through with %s", se.check, c, p.relax)
	return status, code, b.String(), p
}

func signatureError(code, format string, args ...any) *statusError {
	return &statusError{status: http.StatusForbidden, code: code, msg: fmt.Sprintf(format, args...), check: ChecksSignature}
}

// checkSignature checks what AWS checks of a SigV4 request before it
// compares signatures, with the errors AWS answers.
func checkSignature(r *http.Request, intercepted bool, regions map[string]bool, now time.Time) error {
	auth := metering.HeaderValue(r.Header, metering.HeaderAuthorization)
	if auth == "" {
		return signatureError(metering.ErrMissingAuthenticationToken, "Missing Authentication Token")
	}
	scope, signed, _, err := metering.ParseAuthorizationText(auth)
	if errors.Is(err, metering.ErrNoRegion) {
		e := signatureError(metering.ErrIncompleteSignature, "the request was signed for no region: its credential scope names none, as SDKs sign when no region is configured")
		e.fix = "configure a region in the client: AWS_REGION=" + metering.DefaultRegion + " in its environment, --region for the AWS CLI, or the SDK's Region option"
		return e
	}
	if err != nil {
		return signatureError(metering.ErrIncompleteSignature, "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters: %v", err)
	}
	if scope.Service != metering.SigningName {
		return signatureError(metering.ErrInvalidSignature, "Credential should be scoped to correct service: '%s'.", metering.SigningName)
	}
	if !regionServed(r, scope.Region, intercepted, regions) {
		return signatureError(metering.ErrInvalidSignature, "Credential should be scoped to a valid region, not '%s'.", scope.Region)
	}
	for _, h := range []string{"host", "x-amz-date"} {
		if !metering.SignsHeader(signed, h) {
			return signatureError(metering.ErrInvalidSignature, "'%s' must be a 'SignedHeader' in the AWS Authorization.", h)
		}
	}
	amzDate := metering.HeaderValue(r.Header, metering.HeaderDate)
	t, err := parseAmzDate(amzDate)
	if err != nil {
		return signatureError(metering.ErrIncompleteSignature, "Authorization header requires existence of a valid 'X-Amz-Date' header, got '%s'.", amzDate)
	}
	if scope.Date != amzDate[:8] {
		return signatureError(metering.ErrInvalidSignature,
			"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.", scope.Date, amzDate[:8], amzDate)
	}
	if err := clockError(t, now); err != nil {
		return err
	}
	return nil
}

// span writes a whole number of hours or minutes as words: "6 hours",
// "15 minutes".
func span(d time.Duration) string {
	if d%time.Hour == 0 {
		return fmt.Sprintf("%d hours", d/time.Hour)
	}
	return fmt.Sprintf("%d minutes", d/time.Minute)
}

// clockError refuses a signature made more than metering.SignatureSkew
// from now, as AWS does, in RFC 3339 times.
func clockError(date, now time.Time) error {
	var e *statusError
	switch skew := now.Sub(date); {
	case skew > metering.SignatureSkew:
		e = signatureError(metering.ErrInvalidSignature, "Signature expired: X-Amz-Date %s is more than %s in the past",
			date.UTC().Format(time.RFC3339), span(metering.SignatureSkew))
	case skew < -metering.SignatureSkew:
		e = signatureError(metering.ErrInvalidSignature, "Signature not yet current: X-Amz-Date %s is more than %s in the future",
			date.UTC().Format(time.RFC3339), span(metering.SignatureSkew))
	default:
		return nil
	}
	e.detail = " (now " + now.UTC().Format(time.RFC3339) + ")"
	e.fix = "sign with the current time; a client with a fixed test clock needs the signature check relaxed"
	return e
}

// parseAmzDate parses an X-Amz-Date value (20060102T150405Z) as
// time.Parse does, without its general layout machinery for the well
// formed values every request carries; anything else goes to time.Parse,
// and its error.
func parseAmzDate(v string) (time.Time, error) {
	const layout = metering.AmzDateFormat
	if len(v) != len(layout) || v[8] != 'T' || v[15] != 'Z' {
		return time.Parse(layout, v)
	}
	num := func(from, to int) int {
		n := 0
		for i := from; i < to; i++ {
			if v[i] < '0' || v[i] > '9' {
				return -1
			}
			n = n*10 + int(v[i]-'0')
		}
		return n
	}
	y, mo, d, h, mi, sec := num(0, 4), num(4, 6), num(6, 8), num(9, 11), num(11, 13), num(13, 15)
	t := time.Date(y, time.Month(mo), d, h, mi, sec, 0, time.UTC)
	if y < 0 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59 || t.Day() != d {
		return time.Parse(layout, v)
	}
	return t, nil
}

// regionServed reports whether a credential scope's region fits the
// request: the host's region when intercepted, else a region the cassette
// was recorded in.
func regionServed(r *http.Request, region string, intercepted bool, regions map[string]bool) bool {
	if intercepted {
		hostRegion, ok := metering.ParseHost(r.Host)
		return !ok || hostRegion == region
	}
	return len(regions) == 0 || regions[region]
}

// checkMetering applies the limits that depend on when a request is sent.
func checkMetering(op string, body []byte, now time.Time) error {
	if op != metering.MeterUsage && op != metering.BatchMeterUsage {
		return nil
	}
	if op == metering.MeterUsage {
		// The common case, read without decoding the body.
		if ts := matcher.BodyField(body, "Timestamp"); ts.Read {
			if !ts.Found || ts.IsString {
				return nil
			}
			return checkWindowText(ts.Text, now, metering.MeterUsageWindow)
		}
	}
	doc, err := cassettes.DecodeJSON(body)
	if err != nil {
		return nil // the matcher answers malformed bodies
	}
	obj, _ := doc.(map[string]any)
	switch op {
	case metering.MeterUsage:
		return checkWindow(obj["Timestamp"], now, metering.MeterUsageWindow)
	default:
		records, _ := obj["UsageRecords"].([]any)
		if len(records) > metering.MaxUsageRecords {
			return &statusError{status: http.StatusBadRequest, code: metering.ErrValidation, check: ChecksMetering,
				fix: fmt.Sprintf("send at most %d records per BatchMeterUsage call", metering.MaxUsageRecords),
				msg: fmt.Sprintf("1 validation error detected: Value at 'usageRecords' failed to satisfy constraint: Member must have length less than or equal to %d", metering.MaxUsageRecords)}
		}
		for _, rec := range records {
			r, _ := rec.(map[string]any)
			if err := checkWindow(r["Timestamp"], now, metering.BatchMeterUsageWindow); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkWindow refuses a numeric epoch-seconds timestamp older than window
// or from the future. Absent or non-numeric values are left to matching.
func checkWindow(v any, now time.Time, window time.Duration) error {
	n, ok := v.(json.Number)
	if !ok {
		return nil
	}
	return checkWindowText(string(n), now, window)
}

// checkWindowText is checkWindow for the text of a JSON number.
func checkWindowText(v string, now time.Time, window time.Duration) error {
	secs, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return nil
	}
	if !metering.InWindow(secs, now, window) {
		return &statusError{status: http.StatusBadRequest, code: metering.ErrTimestampOutOfBounds, check: ChecksMetering,
			msg: metering.TimestampOutOfBoundsMessage(secs),
			detail: fmt.Sprintf(" The service takes usage from up to %s before its clock to %s after; now is %s",
				span(window), span(metering.FutureSlack), metering.FormatTimestamp(float64(now.UnixMilli())/1000)),
			fix: "send usage timestamps near the current time; tests with fixed timestamps need the metering check relaxed"}
	}
	return nil
}
