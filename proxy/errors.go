package proxy

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/metervcr/metervcr/metering"
)

// statusError is an error answered to the client as an AWS JSON 1.1 error,
// so that SDKs surface it with its code.
type statusError struct {
	status int
	code   string
	msg    string
	// detail follows msg in the client's message, but varies between
	// requests that fail alike (the clock, for instance).
	detail string
	// check is the AWS check that failed, 0 for other errors.
	check Checks
	// fix says what to change in the client, "" when relaxing the check
	// is the only way.
	fix string
}

func (e *statusError) Error() string { return e.code + ": " + e.msg }

func errTooLarge(limit int64) error {
	return &statusError{status: http.StatusRequestEntityTooLarge, code: metering.ErrRequestEntityTooLarge,
		msg: fmt.Sprintf("request body exceeds %d bytes, the service's limit", limit)}
}

func errUnknownOperation(target string) error {
	known := metering.Operations()
	for i, op := range known {
		known[i] = metering.Target(op)
	}
	if target == "" {
		return &statusError{status: http.StatusBadRequest, code: metering.ErrUnknownOperation,
			msg: "missing X-Amz-Target header; a Marketplace Metering call names one of " + strings.Join(known, ", ")}
	}
	return &statusError{status: http.StatusBadRequest, code: metering.ErrUnknownOperation,
		msg: fmt.Sprintf("X-Amz-Target %q is not a Marketplace Metering operation; expected one of %s", target, strings.Join(known, ", "))}
}

// statusOf maps any error of the proxy to the HTTP status, AWS error code
// and message the client receives. Errors that are not a *statusError are
// metervcr's own failures: 500 InternalFailure.
func statusOf(err error) (status int, code, msg string) {
	var se *statusError
	if errors.As(err, &se) {
		return se.status, se.code, se.msg
	}
	return http.StatusInternalServerError, "InternalFailure", "metervcr: " + err.Error()
}

// fail answers err to the client.
func (s *Server) fail(w http.ResponseWriter, err error) outcome {
	status, code, msg := statusOf(err)
	writeError(w, status, code, msg)
	return outcome{action: "error", status: status, index: -1}
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	h := w.Header()
	h.Set("Content-Type", metering.ContentType)
	h.Set(metering.HeaderErrorType, code)
	w.WriteHeader(status)
	w.Write(metering.ErrorJSON(code, msg)) // a failed write means the client left; nothing to do
}
