package fakeaws

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/metervcr/metervcr/metering"
)

// apiError is an error answer: an HTTP status, the short error code and
// the message of the JSON 1.1 error body.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func newError(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

// badRequest is a client fault of the service or of the front end (400).
func badRequest(code, format string, args ...any) *apiError {
	return newError(http.StatusBadRequest, code, format, args...)
}

// forbidden is an authentication failure (403).
func forbidden(code, format string, args ...any) *apiError {
	return newError(http.StatusForbidden, code, format, args...)
}

// errThrottled is what ThrottledProduct gets, as AWS sends it: a 400, not
// a 429.
func errThrottled() *apiError {
	return badRequest(metering.ErrThrottling, "Rate exceeded")
}

// errDryRun is MeterUsage's answer to DryRun=true. The error is not in the
// API model, so SDKs surface it as a generic API error with this code.
const errDryRun = "DryRunOperation"

// respond writes out (marshalled as JSON) with status 200, or err as an AWS
// error, and returns the status and error code it sent.
func respond(w http.ResponseWriter, out any, err error) (status int, code string) {
	h := w.Header()
	h.Set("Content-Type", metering.ContentType)
	h.Set(metering.HeaderRequestID, metering.NewID())
	if err != nil {
		var e *apiError
		if !errors.As(err, &e) {
			e = newError(http.StatusInternalServerError, metering.ErrInternalServiceError, "%v", err)
		}
		if e.status == http.StatusMethodNotAllowed {
			h.Set("Allow", http.MethodPost)
		}
		h.Set(metering.HeaderErrorType, metering.ErrorType(e.code))
		w.WriteHeader(e.status)
		// A write error means the client has gone; there is no one to tell.
		_, _ = w.Write(metering.ErrorJSON(e.code, e.message))
		return e.status, e.code
	}
	b, err := json.Marshal(out)
	if err != nil {
		// Outputs are plain structs of strings and numbers: a programmer error.
		panic(fmt.Sprintf("fakeaws: marshalling %T: %v", out, err))
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
	return http.StatusOK, ""
}

// randomBytes returns n bytes from crypto/rand, which never fails.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // documented to never return an error
	return b
}
